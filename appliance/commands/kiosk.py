"""`comptoir kiosk [--tour DIR] [--windowed]`: the touchscreen, or a screenshot of every screen."""

from __future__ import annotations

import argparse
from pathlib import Path

from appliance import config as config_module
from appliance.commands._common import load_config
from appliance.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("kiosk", help="run the self-service touchscreen")
    parser.add_argument(
        "--tour",
        metavar="DIR",
        type=Path,
        help="walk every screen in French and English, save a PNG of each in DIR, and exit",
    )
    parser.add_argument(
        "--windowed", action="store_true", help="a window instead of full screen (for a desk)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=config_module.Device.data_dir,
        metavar="DIR",
        help="while there is no config: the data directory whose provisioning status the "
        "screen shows (default %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args)
    except ConfigError as exc:
        if args.tour:
            raise
        return _unprovisioned(args, str(exc))
    from appliance.kiosk import window  # Kivy is configured before it is imported

    window.prepare(config.kiosk, fullscreen=False if args.tour or args.windowed else None)
    if args.tour:
        from appliance.kiosk.tour import run_tour

        return run_tour(config, args.tour)
    from appliance.devices.payment.factory import open_terminal
    from appliance.devices.printers.factory import open_printer
    from appliance.kiosk.app import KioskApp
    from appliance.kiosk.effects import Effects

    printer = open_printer(config.printer)
    terminal = open_terminal(config.payment, training=config.shop.mode == "training")
    KioskApp(config, lambda post: Effects(config, printer, terminal, post)).run()
    return 0


def _unprovisioned(args: argparse.Namespace, problem: str) -> int:
    """No usable config (a box just flashed, a card refused on its first boot): the screen shows
    the installer how provisioning goes, and the kiosk ends once it has written a config, for
    systemd to start it again on it."""
    from appliance.kiosk import window

    defaults = config_module.from_dict({"device": {"data_dir": str(args.data)}})
    window.prepare(defaults.kiosk, fullscreen=False if args.windowed else None)
    from appliance.kiosk.app import KioskApp

    KioskApp(defaults, problem=problem).run()
    return 0
