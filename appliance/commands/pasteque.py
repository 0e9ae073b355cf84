"""`comptoir pasteque sync --once | status | z | check | fake`: the till gateway by hand.

The agent runs the same rounds on its own (see docs/pasteque.md); these are for the installer,
the shop manager and support.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance import clock
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.config import Config
from appliance.core.money import format_euros
from appliance.errors import ComptoirError, UsageError
from appliance.store.db import open_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("pasteque", help="the Pastèque till gateway: sync, status, Z, check")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    syncing = actions.add_parser("sync", help="send what waits for Pastèque now")
    syncing.add_argument("--once", action="store_true", help="one round, then exit")
    add_json_flag(syncing)
    syncing.set_defaults(func=run_sync)
    status = actions.add_parser("status", help="what waits, the last success and failure")
    add_json_flag(status)
    status.set_defaults(func=run_status)
    z = actions.add_parser("z", help="the register's Z closings as Pastèque has them")
    z.add_argument("--days", type=int, default=7, help="closings of the last N days (7)")
    add_json_flag(z)
    z.set_defaults(func=run_z)
    checking = actions.add_parser("check", help="check [pasteque] against the server")
    add_json_flag(checking)
    checking.set_defaults(func=run_check)
    fake = actions.add_parser("fake", help="run a fake Pastèque server on this machine")
    fake.add_argument("--port", type=int, required=True, metavar="N")
    fake.add_argument("--host", default="127.0.0.1")
    fake.set_defaults(func=run_fake)


def _enabled(args: argparse.Namespace) -> Config:
    config = load_config(args)
    if not config.pasteque.enabled:
        raise UsageError(
            "the Pastèque gateway is off here: set [pasteque] enabled = true (see docs/pasteque.md)"
        )
    return config


def run_sync(args: argparse.Namespace) -> int:
    if not args.once:
        raise UsageError("say what to do: comptoir pasteque sync --once")
    from appliance.pasteque import status
    from appliance.pasteque.gateway import Gateway

    config = _enabled(args)
    db = open_database(config.database_path)
    report = Gateway(config, db).round()
    after = status.report(config, db)
    empty = not after["tickets_queued"] and not after["events_not_taken"]
    if args.json:
        print_json({**report.as_dict(), "queue_empty": empty, "status": after})
    else:
        print(
            f"taken {report.taken}, sessions opened {report.opened}, tickets sent {report.sent}, "
            f"refused {report.refused}, sessions closed {report.closed}"
        )
        if report.error:
            print(f"stopped: {report.error}")
        if not empty:
            print(_waiting_line(after))
    return 0 if empty and report.ok else 1


def run_status(args: argparse.Namespace) -> int:
    from appliance.pasteque import status

    config = load_config(args)
    db = open_database(config.database_path, must_exist=True)
    body = status.report(config, db)
    if args.json:
        print_json(body)
        return 0
    if not body["enabled"]:
        print("Pastèque gateway: off ([pasteque] enabled = false)")
        return 0
    server = body["server"] or "(no [pasteque] url in this config; make demo sets one as it starts)"
    print(f"Pastèque gateway: {body['state']}, register {body['register']} at {server}")
    print(f"last success: {body['last_success_at'] or 'never'}")
    if body["last_failure_at"]:
        print(f"last failure: {body['last_failure_at']}: {body['last_failure']}")
    if body["retry_at"]:
        print(f"next try: {body['retry_at']}")
    if body["stopped"]:
        print(f"STOPPED: {body['stopped']}")
    print(_waiting_line(body))
    current = body["current_session"]
    if current:
        opened = f"session {current['sequence']}" if current["opened"] else "not opened yet"
        print(
            f"day {current['day']} ({opened}): {current['tickets_sent']} tickets sent, "
            f"{current['tickets_queued']} waiting, {format_euros(current['total_cents'])}"
        )
    for refused in body["refused"]:
        print(f"REFUSED ticket {refused['number']} ({refused['source']}): {refused['error']}")
    return 0


def _waiting_line(body: dict[str, Any]) -> str:
    line = (
        f"waiting: {body['tickets_queued']} tickets "
        f"({format_euros(body['queued_total_cents'])}), {body['events_not_taken']} events not "
        f"taken yet, {body['sessions_to_close']} sessions to close"
    )
    if body.get("waiting_for_closing_of"):
        line += f"; later days wait for the box's closing of {body['waiting_for_closing_of']}"
    return line


def run_z(args: argparse.Namespace) -> int:
    from appliance.pasteque.gateway import Gateway
    from appliance.pasteque.sessions import read_z

    config = _enabled(args)
    db = open_database(config.database_path)
    gateway = Gateway(config, db)
    mapping = gateway.map_now()
    since = clock.now() - timedelta(days=args.days)
    closed = gateway.client.closed_sessions(mapping.register_id, int(since.timestamp()))
    zs = [read_z(s, mapping) for s in closed]
    if args.json:
        print_json([z.as_dict() for z in zs])
        return 0
    if not zs:
        print(f"no Z of register {mapping.register_reference} in the last {args.days} days")
    for z in zs:
        when = datetime.fromtimestamp(z.close_date_s, UTC).astimezone()
        print(
            f"Z session {z.sequence} closed {when:%Y-%m-%d %H:%M}: {z.tickets} tickets, "
            f"{format_euros(z.total_cents)} incl. VAT, {format_euros(z.net_cents)} excl. VAT"
        )
        for mode, cents in sorted(z.by_payment.items()):
            print(f"  {mode:<12} {format_euros(cents)}")
        for rate, (base, vat) in sorted(z.by_vat.items()):
            print(
                f"  VAT {rate / 100:g} %: {format_euros(base + vat)} incl. VAT, "
                f"VAT {format_euros(vat)}, base {format_euros(base)}"
            )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from appliance.pasteque.gateway import Gateway

    config = _enabled(args)
    db = open_database(config.database_path)
    try:
        mapping = Gateway(config, db).map_now()
    except ComptoirError as exc:
        if args.json:
            print_json({"ok": False, "problem": str(exc)})
            return exc.exit_code
        raise
    found = json.loads(mapping.to_json())
    if args.json:
        print_json({"ok": True, "mapping": found})
        return 0
    print(
        f"ok: Pastèque {mapping.server_version}, register {mapping.register_reference} "
        f"(id {mapping.register_id}, label {mapping.register_label!r}), next ticket "
        f"{mapping.next_ticket_id}"
    )
    for rate, tax in sorted(mapping.taxes.items()):
        print(f"  VAT {rate / 100:g} % -> tax {tax}")
    for paid, mode in sorted(mapping.modes.items()):
        print(f"  {paid} -> payment mode {mapping.mode_references.get(mode, '?')} ({mode})")
    print(f"  cashier {config.pasteque.cashier!r} -> user {mapping.cashier_id}")
    return 0


def run_fake(args: argparse.Namespace) -> int:
    from waitress import serve

    from appliance.pasteque.fake import create_app, seed

    print(
        f"fake Pastèque on http://{args.host}:{args.port} (account {seed.DEMO_USER} / "
        f"{seed.DEMO_PASSWORD}, register {seed.DEMO_REGISTER}); its Z: "
        f"http://{args.host}:{args.port}/fake/z",
        flush=True,
    )
    serve(create_app(seed.demo()), host=args.host, port=args.port, threads=4)
    return 0
