"""`comptoir closing run|list|show`: daily, monthly and yearly closings (Z), see docs/fiscal.md.

The agent closes by itself at `[shop] closing_hour`; `run` is for a box whose agent does not
run, for catching up by hand and for tests. `show N --json` prints the same figures as the
printed and downloadable closing, under keys an accountant's tool reads.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.core.closing import Period
from appliance.core.fiscal import RecordType
from appliance.core.money import format_euros
from appliance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("closing", help="daily, monthly and yearly closings (Z)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="close a finished period (and any earlier still open)")
    run.add_argument("--period", choices=[p.value for p in Period], default="day")
    run.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="a day of the period to close (default: the last finished one)",
    )
    add_json_flag(run)
    run.set_defaults(func=run_close)
    listing = actions.add_parser("list", help="every closing, oldest first")
    listing.add_argument("--period", choices=[p.value for p in Period])
    add_json_flag(listing)
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", help="one closing's figures")
    show.add_argument("number", type=int, metavar="N")
    add_json_flag(show)
    show.set_defaults(func=run_show)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: use YYYY-MM-DD") from None


def run_close(args: argparse.Namespace) -> int:
    from appliance.store import closings
    from appliance.store.db import open_database

    config = load_config(args)
    settings = closings.ClosingSettings.of(config)
    period = Period(args.period)
    today = clock.now().astimezone(ZoneInfo(config.device.timezone)).date()
    day = args.date or settings.span(period, today).first - timedelta(days=1)
    db = open_database(config.database_path)
    try:
        made = closings.close(db, settings, period, day, by="cli")
    finally:
        db.close()
    documents = [closings.as_document(record) for record in made]
    if args.json:
        print_json(documents)
    elif not made:
        print(
            f"nothing to close: the {period} holding {day} is closed already or before this "
            f"box's first record (comptoir closing list)"
        )
    else:
        for document in documents:
            print(_line(document))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from appliance.store import closings
    from appliance.store.db import open_database

    db = open_database(load_config(args).database_path, must_exist=True)
    try:
        period = Period(args.period) if args.period else None
        documents = [closings.as_document(r) for r in closings.closings(db, period)]
    finally:
        db.close()
    if args.json:
        print_json(documents)
    else:
        for document in documents:
            print(_line(document))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from appliance.store import closings, fiscal
    from appliance.store.db import open_database

    db = open_database(load_config(args).database_path, must_exist=True)
    try:
        record = fiscal.get(db, RecordType.CLOSING, args.number)
    finally:
        db.close()
    if record is None:
        raise UsageError(f"there is no closing {args.number}: comptoir closing list shows them")
    document = closings.as_document(record)
    if args.json:
        print_json(document)
        return 0
    print(_line(document))
    for vat in document["by_vat"]:
        rate = f"{vat['rate_bp'] / 100:g} %"
        total, tax = format_euros(vat["total_cents"]), format_euros(vat["vat_cents"])
        print(f"  VAT {rate:>7}: {total} incl. {tax} VAT")
    for payment in document["by_payment"]:
        print(f"  {payment['method']:>11}: {format_euros(payment['total_cents'])}")
    print(f"  excl. VAT  : {format_euros(document['total_excl_vat_cents'])}")
    print(f"  period     : {format_euros(document['period_total_cents'])}")
    print(f"  fiscal year: {format_euros(document['year_total_cents'])}")
    print(f"  perpetual  : {format_euros(document['perpetual_total_cents'])}")
    print(f"  perpetual |x|: {format_euros(document['perpetual_abs_total_cents'])}")
    print(f"  signature  : {document['signature']}")
    return 0


def _line(document: dict[str, Any]) -> str:
    return (
        f"Z{document['number']:>5} {document['period']:<5} {document['label']:<10} "
        f"{document['tickets']:>5} tickets {format_euros(document['total_cents']):>12}  "
        f"perpetual {format_euros(document['perpetual_total_cents'])}"
    )
