"""`comptoir marketplace fake|check|weighed`: the fake OFN, the installer's check, and how a
weighed product is sold here."""

from __future__ import annotations

import argparse
import logging

from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.errors import UsageError
from appliance.marketplace import check, sync
from appliance.marketplace.mapping import WeighedProduce
from appliance.store import sync_state
from appliance.store.db import transaction

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("marketplace", help="the Open Food Network link: fake, check, weighed")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fake = actions.add_parser("fake", help="run a fake Open Food Network on this machine")
    fake.add_argument("--port", type=int, required=True, metavar="N")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--seed", choices=["demo", "empty"], default="demo")
    fake.set_defaults(func=run_fake)
    checking = actions.add_parser("check", help="check the [marketplace] settings against it")
    add_json_flag(checking)
    checking.set_defaults(func=run_check)
    weighed = actions.add_parser("weighed", help="how one weight variant is sold here")
    weighed.add_argument("variant_id", type=int, metavar="VARIANT_ID")
    weighed.add_argument(
        "mode", choices=[*(m.value for m in WeighedProduce), "default"], metavar="MODE"
    )
    weighed.set_defaults(func=run_weighed)


def run_fake(args: argparse.Namespace) -> int:
    from waitress import serve

    from appliance.marketplace.fake import FakeState, create_app, seed

    state = seed.demo() if args.seed == "demo" else FakeState()
    print(
        f"fake Open Food Network on http://{args.host}:{args.port} (hub {seed.HUB_ID}, "
        f"locker shipping method {seed.LOCKER_METHOD_ID}, API key {seed.DEMO_KEY})",
        flush=True,
    )
    serve(create_app(state), host=args.host, port=args.port, threads=4)
    return 0


def run_check(args: argparse.Namespace) -> int:
    config = load_config(args)
    findings = check.check(config, sync.client_for(config))
    if args.json:
        print_json([{"ok": f.ok, "text": f.text} for f in findings])
    else:
        for f in findings:
            print(f"{'ok     ' if f.ok else 'PROBLEM'} {f.text}")
    return 0 if all(f.ok for f in findings) else 1


def run_weighed(args: argparse.Namespace) -> int:
    db = open_store(args)
    mode = None if args.mode == "default" else args.mode
    with transaction(db):
        known = sync_state.variants.set_weighed(db, args.variant_id, mode)
    if not known:
        raise UsageError(
            f"variant {args.variant_id} is not in the catalogue yet: run comptoir sync --once first"
        )
    print(f"variant {args.variant_id}: {args.mode}; the next sync updates the product")
    return 0
