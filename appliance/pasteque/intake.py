"""From the outbox to the Pastèque queue: each sale, handed-out order and box closing, once.

Events come in the outbox's order (destination `pasteque`); each is made into a frozen,
numbered ticket (or marks the sessions a box closing ends) in the transaction that moves the
cursor, so a crash anywhere loses nothing and doubles nothing. A ticket joins the session of
its business day (the box's local date), so a sale made before the box's closing of the day
before is sent after that closing. An event the mapping cannot express (a VAT rate Pastèque
lacks) stops the intake there, in order, until the server has it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.pasteque import tickets
from appliance.pasteque.mapping import Mapping, MappingError, Paid
from appliance.store import orders, outbox, pasteque, sales
from appliance.store.db import transaction, utc_now

log = logging.getLogger(__name__)

DESTINATION = "pasteque"
SALE, ORDER_COLLECTED, CLOSING = "sale", "order_collected", "closing"
TYPES = (SALE, ORDER_COLLECTED, CLOSING)
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
    rows = db.execute("SELECT sku, category FROM products").fetchall()
    lines = tickets.sale_lines(sale, dict(rows))
    moment = datetime.fromisoformat(sale.created_at)
    _freeze(config, db, mapping, source, "sale", lines, Paid.CARD, moment)


def _take_order(config: Config, db: sqlite3.Connection, mapping: Mapping, event: outbox.Event):
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
    """A daily closing of the box ends the sessions of its day and any earlier one."""
    payload = event.payload
    if payload.get("period", "day") != "day":
        return
    day = str(payload.get("day") or "")
    if not day:
        log.error("outbox event %s: closing without a day; ignored", event.event_id)
        return
    closing = json.dumps(
        {
            "number": payload.get("number"),
            "day": day,
            "date_s": int(_when(payload.get("closed_at") or event.ts).timestamp()),
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
    now = utc_now()
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


def _variant_vat(db: sqlite3.Connection) -> dict[int, tuple[str, int, str]]:
    """Variant id -> (sku, VAT rate, category) of the local product it became."""
    rows = db.execute(
        "SELECT v.variant_id, p.sku, p.vat_rate_bp, p.category FROM marketplace_variants v "
        "JOIN products p ON p.sku = v.sku"
    )
    return {variant: (sku, rate, category) for variant, sku, rate, category in rows}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(str(text))
