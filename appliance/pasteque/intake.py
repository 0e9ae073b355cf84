"""From the outbox to the Pastèque queue: each sale, refund, handed-out order and box closing,
once.

Events come in the outbox's order (destination `pasteque`); each is made into a frozen,
numbered ticket (or marks the sessions a box closing ends) in the transaction that moves the
cursor, so a crash anywhere loses nothing and doubles nothing. A ticket joins the session of
its business day (the box's local date), so a sale made before the box's closing of the day
before is sent after that closing. An event the mapping cannot express (a VAT rate Pastèque
lacks) stops the intake there, in order, until the server has it. Training sales (`[shop]
mode = "training"`) never reach the outbox (store/sales.py), so never the till.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.config import Config
from appliance.core.fiscal import RecordType
from appliance.pasteque import tickets
from appliance.pasteque.mapping import Mapping, MappingError, Paid
from appliance.store import fiscal, orders, outbox, pasteque, sales
from appliance.store.db import transaction

log = logging.getLogger(__name__)

DESTINATION = "pasteque"
SALE, REFUND, ORDER_COLLECTED, CLOSING = "sale", "refund", "order_collected", "closing"
TYPES = (SALE, REFUND, ORDER_COLLECTED, CLOSING)
BATCH = 200


def take(config: Config, db: sqlite3.Connection, mapping: Mapping) -> int:
    """Everything new in the outbox; returns how many events were taken. Raises the first
    MappingError after keeping what came before it."""
    taken = 0
    while events := outbox.pending(db, DESTINATION, BATCH, TYPES):
        problem: MappingError | None = None
        with transaction(db):
            done = 0
            for event in events:
                db.execute("SAVEPOINT event")
                try:
                    _take_one(config, db, mapping, event)
                except MappingError as exc:
                    db.execute("ROLLBACK TO event")
                    problem = exc
                    break
                db.execute("RELEASE event")
                done = event.id
                taken += 1
            if done:
                outbox.acknowledge(db, DESTINATION, done)
        if problem is not None:
            raise problem
    return taken


def waiting(db: sqlite3.Connection) -> int:
    """Outbox events not taken yet (the box sold while Pastèque could not be mapped)."""
    row = db.execute(
        f"SELECT count(*) FROM outbox WHERE id > ? AND type IN ({','.join('?' * len(TYPES))})",
        (outbox.cursor_of(db, DESTINATION), *TYPES),
    ).fetchone()
    return int(row[0])


def business_day(config: Config, moment: datetime) -> date:
    """The day a sale counts in for the box's daily closing: its local date."""
    return moment.astimezone(ZoneInfo(config.device.timezone)).date()


def _take_one(
    config: Config, db: sqlite3.Connection, mapping: Mapping, event: outbox.Event
) -> None:
    if event.type == SALE:
        _take_sale(config, db, mapping, event)
    elif event.type == REFUND:
        _take_refund(config, db, mapping, event)
    elif event.type == ORDER_COLLECTED:
        _take_order(config, db, mapping, event)
    elif event.type == CLOSING:
        _take_closing(db, event)


def _take_sale(config: Config, db: sqlite3.Connection, mapping: Mapping, event: outbox.Event):
    receipt = event.payload.get("receipt")
    sale = sales.sale_by_receipt(db, config.device.id, receipt) if receipt else None
    if sale is None:
        log.error("outbox event %s: no sale with receipt %r; not sent", event.event_id, receipt)
        return
    source = f"sale:{config.device.id}:{sale.receipt_number}"
    if pasteque.has_source(db, source):
        return
    lines = tickets.sale_lines(sale, _categories(db))
    moment = datetime.fromisoformat(sale.created_at)
    _freeze(config, db, mapping, source, "sale", lines, Paid.CARD, moment)


def _take_refund(config: Config, db: sqlite3.Connection, mapping: Mapping, event: outbox.Event):
    """A refund is a negative ticket of the box (its lines given back): the same in the till."""
    number = event.payload.get("ticket")
    record = fiscal.get(db, RecordType.TICKET, number) if isinstance(number, int) else None
    if record is None:
        log.error("outbox event %s: no refund ticket %r; not sent", event.event_id, number)
        return
    source = f"refund:{config.device.id}:{record.number}"
    if pasteque.has_source(db, source):
        return
    categories = _categories(db)
    lines = [
        tickets.TillLine(
            label=line["name"],
            sku=line["sku"],
            category=categories.get(line["sku"], ""),
            quantity_milli=-(
                line["weight_g"] if line.get("weight_g") is not None else line["quantity"] * 1000
            ),
            unit_price_cents=line["unit_price_cents"],
            price_cents=line["price_cents"],
            vat_rate_bp=line["vat_rate_bp"],
        )
        for line in record.data["lines"]
    ]
    moment = datetime.fromisoformat(record.ts)
    _freeze(config, db, mapping, source, "refund", lines, Paid.REFUND, moment)


def _take_order(config: Config, db: sqlite3.Connection, mapping: Mapping, event: outbox.Event):
    if not config.pasteque.online_orders:
        return
    number = event.payload.get("number")
    order = orders.get(db, number) if isinstance(number, str) else None
    if order is None:
        log.error("outbox event %s: no order %r; not sent", event.event_id, number)
        return
    if not order.paid:
        log.warning("order %s was handed out unpaid online: not a prepaid ticket", order.number)
        return
    source = f"order:{order.number}"
    if pasteque.has_source(db, source):
        return
    lines = tickets.order_lines(order, _variant_vat(db), config.marketplace.vat_rate_bp)
    collected = event.payload.get("collected_at") or event.ts
    _freeze(config, db, mapping, source, "order", lines, Paid.ONLINE, _when(collected))


def _take_closing(db: sqlite3.Connection, event: outbox.Event) -> None:
    """A daily closing of the box ends the sessions of its day and any earlier one; its figures
    are kept to compare with what the till's Z will say."""
    payload = event.payload
    if payload.get("period") != "day":
        return  # months and years: Pastèque's period totals follow the days (sessions.py)
    day = str(payload.get("label") or "")
    if not day:
        log.error("outbox event %s: closing without a day; ignored", event.event_id)
        return
    closing = json.dumps(
        {
            "number": payload.get("number"),
            "day": day,
            "date_s": int(_when(payload.get("ts") or event.ts).timestamp()),
            "tickets": payload.get("tickets"),
            "by_vat": payload.get("by_vat") or [],
            "by_payment": payload.get("by_payment") or [],
        },
        sort_keys=True,
    )
    for s in pasteque.sessions(db, open_only=True):
        if s.closing is None and s.day <= day:
            pasteque.set_closing(db, s.id, closing)


def _freeze(
    config: Config,
    db: sqlite3.Connection,
    mapping: Mapping,
    source: str,
    kind: str,
    lines: list[tickets.TillLine],
    paid: Paid,
    moment: datetime,
) -> None:
    number = pasteque.take_number(db, mapping.next_ticket_id)
    date_s = int(moment.timestamp())
    content, figures = tickets.build(mapping, lines, paid, number=number, date_s=date_s)
    now = clock.now_iso()
    session = pasteque.session_for(db, business_day(config, moment).isoformat(), now)
    pasteque.add_ticket(
        db,
        number=number,
        session_id=session.id,
        source=source,
        kind=kind,
        date_s=date_s,
        content=json.dumps(content, ensure_ascii=False, sort_keys=True),
        figures=figures.to_json(),
        now=now,
    )


def _categories(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT sku, category FROM products").fetchall())


def _variant_vat(db: sqlite3.Connection) -> dict[int, tuple[str, int, str]]:
    """Variant id -> (sku, VAT rate, category) of the local product it became."""
    rows = db.execute(
        "SELECT v.variant_id, p.sku, p.vat_rate_bp, p.category FROM marketplace_variants v "
        "JOIN products p ON p.sku = v.sku"
    )
    return {variant: (sku, rate, category) for variant, sku, rate, category in rows}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(str(text))
