"""`comptoir version [--legal] [--json]`."""

from __future__ import annotations

import argparse
import dataclasses

from appliance import __version__
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.errors import ComptoirError
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
    key = _public_key(args)
    if args.json:
        print_json({**dataclasses.asdict(identity), "fiscal_public_key": key})
        return 0
    print(f"comptoir {identity.version}")
    print(f"legally relevant code: sha256 {identity.sha256}")
    print(f"over {len(identity.files)} files: {', '.join(identity.files)}")
    print(f"fiscal records public key (Ed25519): {key or 'none yet'}")
    return 0


def _public_key(args: argparse.Namespace) -> str:
    """The key that verifies this box's fiscal records (docs/fiscal.md); "" without one."""
    from appliance.store.fiscal_key import public_key

    try:
        return public_key(load_config(args).device.data_dir)
    except ComptoirError:
        return ""
