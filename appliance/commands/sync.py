"""`comptoir sync --once [--json]`, `comptoir sync status [--json]`: the marketplace sync by hand.

The agent runs the same sync on a timer; these are for the installer and for support.
"""

from __future__ import annotations

import argparse
import dataclasses

from appliance import clock
from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.errors import UsageError
from appliance.marketplace import sync
from appliance.store import sync_state
from appliance.store.db import open_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sync", help="sync with the marketplace once, or show how it went")
    parser.add_argument("action", nargs="?", choices=["status"], help="show the sync's state")
    parser.add_argument("--once", action="store_true", help="run every direction once now")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "status":
        return _status(args)
    if not args.once:
        raise UsageError("say what to do: comptoir sync --once, or comptoir sync status")
    config = load_config(args)
    db = open_database(config.database_path)
    report = sync.sync_once(config, db, clock.now())
    if args.json:
        print_json(report.as_dict())
    else:
        for d in report.directions:
            outcome = f"ok, {d.changed} changed, {d.skipped} skipped" if d.ok else d.error
            print(f"{d.direction:<10} {outcome}")
        print(f"{report.requests} requests to the marketplace")
    return 0 if report.ok else 1


def _status(args: argparse.Namespace) -> int:
    db = open_store(args)
    directions = sync_state.directions.states(db)
    waiting = sync_state.directions.waiting(db)
    refused = [
        {"number": p.number, "error": p.last_error}
        for p in sync_state.pickups.listed(db, "refused")
    ]
    if args.json:
        print_json(
            {
                "directions": [dataclasses.asdict(d) for d in directions],
                **waiting,
                "refused_pickups": refused,
                "order_cycles_seen": sync_state.orders_read.order_cycles_seen(db),
            }
        )
        return 0
    for d in directions:
        line = f"{d.direction:<10} last success {d.last_success_at or 'never'}"
        if d.last_error:
            line += f"; last error {d.last_error_at}: {d.last_error}"
        print(line)
    for key, value in waiting.items():
        print(f"{key.replace('_', ' ')}: {value}")
    for p in refused:
        print(f"pickup of {p['number']} refused by the marketplace: {p['error']}")
    return 0
