"""`comptoir supervise --root DIR`: run the three units as systemd would (docs/updates.md).

For machines where systemd is not PID 1 (a laptop, CI, the soak test): the real unit files,
each process restarted when it exits, its own NOTIFY_SOCKET and watchdog, a control socket the
updater uses. Set `[updates] services = "supervisor"` in the config the processes read.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from appliance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("supervise", help="run kiosk, agent and web like systemd would")
    parser.add_argument(
        "--root",
        type=Path,
        required=True,
        metavar="DIR",
        help="the release root ([updates] root) holding current/",
    )
    parser.add_argument(
        "--units",
        type=Path,
        metavar="DIR",
        help="folder of comptoir-*.service (default: this checkout's systemd/)",
    )
    parser.add_argument(
        "--only",
        default="kiosk,agent,web",
        metavar="NAMES",
        help="comma-separated units to run (default kiosk,agent,web)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set for every process, over the units' Environment= (repeat)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from appliance import config as config_module
    from appliance.release.bundle import source_root
    from appliance.release.services import UNITS
    from appliance.release.supervisor import Supervisor, read_units

    names = tuple(n for n in args.only.split(",") if n)
    unknown = set(names) - set(UNITS)
    if unknown:
        raise UsageError(
            f"--only: unknown unit(s) {', '.join(sorted(unknown))}; known: " + ", ".join(UNITS)
        )
    environment = {}
    for pair in args.env:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r} is not KEY=VALUE")
        environment[key] = value
    units = args.units or source_root() / "systemd"
    config = config_module.config_path(args.config).resolve()
    logging.getLogger("appliance.release").setLevel(logging.INFO)
    Supervisor(
        args.root.resolve(), read_units(units, names), config=config, environment=environment
    ).run()
    return 0
