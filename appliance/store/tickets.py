"""Sale tickets, receipt copies and refunds as signed fiscal records.

`record_sale_ticket` runs inside the transaction that records the sale (store/sales.py), so a
sale and its signed ticket are on disk together or not at all. In training mode the ticket goes
to the `training` chain, which no closing counts. The mode is what the last process start
recorded (`technical_events.process_started`), so every process agrees on it.
"""

from __future__ import annotations

import sqlite3

from appliance import __version__
from appliance.core.fiscal import FiscalRecord, RecordType
from appliance.core.fiscal_ticket import refund_ticket, sale_ticket
from appliance.core.sale import Sale
from appliance.errors import ComptoirError
from appliance.store import fiscal, outbox, technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind

LIVE = "live"
TRAINING = "training"


class TicketError(ComptoirError):
    """A reprint or refund names a ticket that is not there or cannot be refunded."""


def current_mode(db: sqlite3.Connection) -> str:
    """live, training or demo, as the last process start recorded it."""
    return fiscal.state(db, "mode") or LIVE


def in_training(db: sqlite3.Connection) -> bool:
    """Whether sales made now are training sales (their own numbers, in no real figure)."""
    return current_mode(db) == TRAINING


def chain_for(training: bool) -> RecordType:
    return RecordType.TRAINING if training else RecordType.TICKET


def record_sale_ticket(db: sqlite3.Connection, sale: Sale, journal_seq: int) -> FiscalRecord:
    """The signed ticket of `sale`, inside the caller's transaction; a training sale's goes to
    the training chain."""
    mode = TRAINING if sale.training else current_mode(db)
    data = sale_ticket(sale, mode=mode, journal_seq=journal_seq, software=__version__)
    return fiscal.append(db, chain_for(sale.training), data, ts=sale.created_at)


def ticket_of_sale(
    db: sqlite3.Connection, device_id: str, receipt: int, *, training: bool = False
) -> FiscalRecord | None:
    """The signed ticket of real receipt `receipt` (with `training`, of that training receipt)."""
    chain = chain_for(training)
    row = db.execute(
        "SELECT number FROM fiscal_records WHERE type = ? "
        "AND json_extract(body, '$.data.receipt') = ? "
        "AND json_extract(body, '$.data.box') = ?",
        (chain.value, receipt, device_id),
    ).fetchone()
    return fiscal.get(db, chain, row[0]) if row else None


def record_duplicate(
    db: sqlite3.Connection, ticket: FiscalRecord, *, by: str, reason: str = ""
) -> FiscalRecord:
    """A receipt copy: its own signed record (copy number, original ticket) and a reprint
    event, in one transaction. The paper says DUPLICATA and the copy number."""
    with transaction(db):
        copies = db.execute(
            "SELECT count(*) FROM fiscal_records WHERE type = 'duplicate' "
            "AND json_extract(body, '$.data.ticket_type') = ? "
            "AND json_extract(body, '$.data.ticket') = ?",
            (ticket.type.value, ticket.number),
        ).fetchone()[0]
        data = {
            "ticket_type": ticket.type.value,
            "ticket": ticket.number,
            "ticket_hash": ticket.hash,
            "receipt": ticket.data.get("receipt"),
            "copy": copies + 1,
            "by": by,
            "reason": reason,
        }
        record = fiscal.append(db, RecordType.DUPLICATE, data)
        technical_events.record(
            db, EventKind.REPRINT, {"ticket": ticket.number, "copy": copies + 1}, by=by
        )
    return record


def record_refund(
    db: sqlite3.Connection, number: int, lines: list[int], *, reason: str, by: str
) -> FiscalRecord:
    """A negative ticket for lines of ticket `number` (all when `lines` is empty). The money
    goes back on the card terminal (a card refund, CD=1) by the shop; this is its record."""
    if not reason.strip():
        raise TicketError("say why the ticket is refunded (--reason): the record keeps it")
    if in_training(db):
        raise TicketError(
            "the box is in training mode, and a refund would be a real fiscal record: "
            'set [shop] mode = "live" again (or "demo") to refund a real ticket'
        )
    with transaction(db):
        original = fiscal.get(db, RecordType.TICKET, number)
        if original is None:
            raise TicketError(f"there is no ticket {number} on this box")
        if original.data.get("refund_of") is not None:
            raise TicketError(f"ticket {number} is itself a refund: refund the original")
        already = _refunded_lines(db, number)
        asked = lines or list(range(1, len(original.data["lines"]) + 1))
        again = sorted(set(asked) & already)
        if again:
            raise TicketError(
                f"line(s) {', '.join(map(str, again))} of ticket {number} were refunded already"
            )
        try:
            data = refund_ticket(
                original.data,
                number,
                lines,
                mode=current_mode(db),
                reason=reason,
                by=by,
                software=__version__,
            )
        except ValueError as exc:
            raise TicketError(str(exc)) from None
        record = fiscal.append(db, RecordType.TICKET, data)
        technical_events.record(
            db, EventKind.REFUND, {"ticket": record.number, "refund_of": number}, by=by
        )
        outbox.emit(
            db,
            "refund",
            {"ticket": record.number, "refund_of": number, "total_cents": data["total_cents"]},
            event_id=f"refund-{record.number}",
        )
    return record


def _refunded_lines(db: sqlite3.Connection, number: int) -> set[int]:
    done: set[int] = set()
    rows = db.execute(
        "SELECT json_extract(body, '$.data.refund_of.lines') FROM fiscal_records "
        "WHERE type = 'ticket' AND json_extract(body, '$.data.refund_of.number') = ?",
        (number,),
    )
    for (lines,) in rows:
        done.update(int(n) for n in lines.strip("[]").split(",") if n)
    return done
