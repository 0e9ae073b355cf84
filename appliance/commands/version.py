"""`comptoir version [--legal] [--json]`."""

from __future__ import annotations

import argparse
import dataclasses

from appliance import __version__
from appliance.commands._common import add_json_flag, print_json
from appliance.legal import legal_identity


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("version", help="print the software version")
    parser.add_argument(
        "--legal",
        action="store_true",
        help="also identify the legally relevant code (version and SHA-256 over its files)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.legal:
        if args.json:
            print_json({"version": __version__})
        else:
            print(f"comptoir {__version__}")
        return 0
    identity = legal_identity()
    if args.json:
        print_json(dataclasses.asdict(identity))
        return 0
    print(f"comptoir {identity.version}")
    print(f"legally relevant code: sha256 {identity.sha256}")
    print(f"over {len(identity.files)} files: {', '.join(identity.files)}")
    return 0
