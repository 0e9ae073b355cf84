"""`comptoir kiosk [--tour DIR] [--windowed]`: the touchscreen, or a screenshot of every screen."""

from __future__ import annotations

import argparse
from pathlib import Path

from appliance.commands._common import load_config


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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
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
