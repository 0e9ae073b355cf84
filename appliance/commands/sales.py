"""`comptoir sales simulate|refund`: simulated sales for demos and audits, refund tickets.

`simulate` records realistic baskets (weighed and unit products at the catalogue's VAT rates)
through the kiosk's own checkout code (`kiosk.checkout.Checkout`: write-ahead attempt, Caisse-AP
request, sale, signed ticket) against the card terminal simulator on 127.0.0.1. It refuses to run
in live mode. With `--date D` the sales are stamped as if made that day between 09:00 and 19:00
local time, so that closings of past days can be shown and tested.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from contextlib import closing, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.config import Config
from appliance.core.catalogue import Product
from appliance.core.money import format_euros, piece_price_cents, price_cents
from appliance.core.weighing import Weighing
from appliance.errors import ComptoirError, UsageError
from appliance.kiosk.flows.values import BasketLine

DAY_OPENS, DAY_CLOSES = time(9), time(19)
MAX_COUNT = 100_000


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sales", help="simulate sales (demo and training boxes), refunds")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    simulate = actions.add_parser(
        "simulate", help="record realistic simulated sales (refused in live mode)"
    )
    simulate.add_argument("--count", type=int, required=True, metavar="N")
    simulate.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="record them as made that past day, 09:00 to 19:00 local time (default: now)",
    )
    simulate.add_argument("--seed", type=int, metavar="S", help="same seed, same baskets")
    simulate.add_argument(
        "--card-outcomes",
        default="approved",
        metavar="LIST",
        help="what the simulated terminal answers, in turn: approved, declined, abandoned, "
        "timeout, not_completed (outcome unknown) ... (default: approved)",
    )
    add_json_flag(simulate)
    simulate.set_defaults(func=run_simulate)
    refund = actions.add_parser("refund", help="record a refund ticket for a ticket's lines")
    refund.add_argument("ticket", type=int, metavar="TICKET", help="the signed ticket's number")
    refund.add_argument(
        "--line", type=int, action="append", default=[], metavar="K", help="line K only (1 ...)"
    )
    refund.add_argument("--reason", required=True, help="why (kept in the record)")
    refund.add_argument("--by", default="cli", help="who decided it (kept in the record)")
    add_json_flag(refund)
    refund.set_defaults(func=run_refund)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: use YYYY-MM-DD") from None


@dataclass(frozen=True)
class Outcome:
    sales: int
    declined: int
    unknown: int
    total_cents: int
    receipts: tuple[int, ...]


def run_simulate(args: argparse.Namespace) -> int:
    config = load_config(args)
    if config.shop.mode == "live":
        raise UsageError(
            "sales simulate refuses to run in live mode: it would record sales nobody made. "
            'Set [shop] mode = "demo" or "training" first'
        )
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"--count must be from 1 to {MAX_COUNT}")
    outcome = simulate(
        config, args.count, day=args.date, seed=args.seed, outcomes=_outcomes(args.card_outcomes)
    )
    if args.json:
        print_json(
            {
                "sales": outcome.sales,
                "declined": outcome.declined,
                "unknown": outcome.unknown,
                "total_cents": outcome.total_cents,
                "receipts": list(outcome.receipts),
            }
        )
    else:
        print(
            f"{outcome.sales} simulated sales recorded ({format_euros(outcome.total_cents)}), "
            f"{outcome.declined} not paid, {outcome.unknown} with an unknown outcome"
        )
    return 0


def _outcomes(text: str) -> list[str]:
    from appliance.devices.payment.simulator import Scenario

    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {s.value for s in Scenario} - {Scenario.REFUSED.value}
    wrong = [name for name in names if name not in known]
    if wrong or not names:
        unknown = ", ".join(wrong) or "empty"
        raise UsageError(f"--card-outcomes: {unknown} unknown; use {', '.join(sorted(known))}")
    return names


def simulate(
    config: Config, count: int, *, day: date | None, seed: int | None, outcomes: list[str]
) -> Outcome:
    """Record `count` simulated baskets; `day` stamps them as made that past day."""
    from appliance.devices.payment.caisse_ap import CaisseApTerminal
    from appliance.devices.payment.simulator import Scenario, TerminalSimulator
    from appliance.kiosk.checkout import Checkout
    from appliance.kiosk.flows.intentions import Charge
    from appliance.store import catalogue, technical_events
    from appliance.store.db import open_database

    rng = random.Random(seed)
    db = open_database(config.database_path)
    try:
        products = [
            p for p in catalogue.list_products(db, active_only=True) if p.unit_price_cents > 0
        ]
        technical_events.sync_mode(db, config.shop.mode, by="sales-simulate")
        stamps = _stamps(db, config, day, count, rng) if day else None
    finally:
        db.close()
    if not products:
        raise ComptoirError(
            "the catalogue has no active product: import one first "
            "(comptoir catalogue import config/demo-catalogue.csv)"
        )
    planned = _Planned()
    sales = declined = unknown = total = 0
    receipts: list[int] = []
    db = open_database(config.database_path)
    with (
        TerminalSimulator() as terminal,
        clock.simulated(planned) if stamps else nullcontext(),
        closing(db),
    ):
        checkout = Checkout(
            CaisseApTerminal(terminal.host, terminal.port, timeout_s=30).pay, config.device.id
        )
        for index in range(count):
            terminal.scenario = Scenario(outcomes[index % len(outcomes)])
            if stamps:
                planned.at = stamps[index]
            lines = _basket(products, rng, config.scale.interval_g)
            answer = checkout.charge(db, Charge(sum(line.price_cents for line in lines), lines))
            if answer.receipt_number:
                sales += 1
                total += answer.amount_cents
                receipts.append(int(answer.receipt_number))
            elif answer.outcome.value == "unknown":
                unknown += 1
            else:
                declined += 1
    return Outcome(sales, declined, unknown, total, tuple(receipts))


class _Planned:
    """Each reading a microsecond after the last, from the planned time of the sale."""

    def __init__(self) -> None:
        self.at = clock.now()

    def __call__(self) -> datetime:
        self.at += timedelta(microseconds=1)
        return self.at


def _stamps(
    db: sqlite3.Connection, config: Config, day: date, count: int, rng: random.Random
) -> list[datetime]:
    """`count` moments of `day` between opening and closing, in order; refused for a day that
    is not past, already closed (training sales are in no closing), or before sales already
    recorded (the tickets of a chain stay in time order)."""
    from appliance.core.fiscal import RecordType
    from appliance.store import closings, fiscal

    zone = ZoneInfo(config.device.timezone)
    today = clock.now().astimezone(zone).date()
    if day >= today:
        raise UsageError(f"--date {day} is not a past day: leave --date out to record sales now")
    training = config.shop.mode == "training"
    closed = None if training else closings.closed_until(db)
    if closed is not None and day <= closed:
        raise UsageError(f"{day} is closed already (closings up to {closed}): pick a later day")
    latest = fiscal.latest_ts(db, RecordType.TRAINING if training else RecordType.TICKET)
    if latest and datetime.fromisoformat(latest).astimezone(zone).date() > day:
        raise UsageError(f"tickets after {day} are recorded already: simulate days in time order")
    opens = datetime.combine(day, DAY_OPENS, zone)
    seconds = int((datetime.combine(day, DAY_CLOSES, zone) - opens).total_seconds())
    return [
        opens + timedelta(seconds=s) for s in sorted(rng.randrange(seconds) for _ in range(count))
    ]


def _basket(products: list[Product], rng: random.Random, interval_g: int) -> tuple[BasketLine, ...]:
    """One to five lines: loose produce weighed (100 g to 2.5 kg) and pieces (1 to 4)."""
    lines = []
    for product in rng.sample(products, k=min(len(products), rng.randint(1, 5))):
        if product.by_weight:
            grams = rng.randrange(100, 2500) // interval_g * interval_g
            price = price_cents(grams, product.unit_price_cents)
            weighing = Weighing(grams, 0, False, product.unit_price_cents, price, False)
            lines.append(BasketLine(product, 1, price, weighing))
        else:
            quantity = rng.randint(1, 4)
            price = piece_price_cents(quantity, product.unit_price_cents)
            lines.append(BasketLine(product, quantity, price))
    return tuple(lines)


def run_refund(args: argparse.Namespace) -> int:
    from appliance.store import tickets
    from appliance.store.db import open_database

    config = load_config(args)
    db = open_database(config.database_path, must_exist=True)
    try:
        record = tickets.record_refund(db, args.ticket, args.line, reason=args.reason, by=args.by)
    finally:
        db.close()
    if args.json:
        print_json({"ticket": record.number, "refund_of": args.ticket, **record.data})
    else:
        amount = format_euros(record.data["total_cents"])
        print(f"refund ticket {record.number} recorded for ticket {args.ticket}: {amount}")
    return 0
