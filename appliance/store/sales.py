"""Recorded sales: the approved payment becomes a numbered sale in one transaction.

`complete_sale(db, attempt_id, result, device_id)` is the only way a sale appears. In ONE
transaction it writes the terminal's answer on the attempt and, when approved, the sale and its
lines, the next receipt number of this kiosk (max + 1, read under the write lock: no gaps), the
stock change, the `sale` journal entry and the `sale` outbox event. So an approved result without
its sale, or a sale without its approved result, cannot be on disk. Completing the same attempt
again returns the sale already recorded (or None) and writes nothing. `resolve_unknown` is the
other way: staff found that an UNKNOWN payment did charge the customer.

In training mode (`[shop] mode = "training"`) the same path writes a training sale instead: to
its own tables with its own receipt numbers, a `training_sale` journal entry and a ticket of the
`training` chain, with no stock change and no outbox event, so no real figure, report, marketplace
stock or till ever sees it (docs/fiscal.md).

`sale_by_token` finds a sale for the receipt link (the token is random; receipt numbers are not).
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from appliance import clock
from appliance.core.catalogue import SoldBy
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine
from appliance.store import journal, outbox, payments, tickets
from appliance.store.db import insert_row, transaction
from appliance.store.payments import Attempt, AttemptState, AttemptStateError

_LINE_FIELDS = (
    "sku",
    "name",
    "sold_by",
    "unit_price_cents",
    "price_cents",
    "vat_rate_bp",
    "weight_g",
    "quantity",
    "tare_g",
    "barcode",
    "scale_computed",
)
_LINE_COLUMNS = ", ".join(_LINE_FIELDS)
_SALE_COLUMNS = (
    "id, receipt_number, device_id, token, attempt_id, created_at, payment_reference, "
    "card_application, masked_pan"
)


@dataclass(frozen=True)
class _Book:
    """Where one kind of sale is written: real sales, or training sales apart from them."""

    sales: str
    lines: str
    journal_kind: str
    training: bool


_REAL = _Book("sales", "sale_lines", "sale", training=False)
_TRAINING = _Book("training_sales", "training_sale_lines", "training_sale", training=True)


def _book(training: bool) -> _Book:
    return _TRAINING if training else _REAL


def complete_sale(
    db: sqlite3.Connection, attempt_id: str, result: PaymentResult, device_id: str
) -> Sale | None:
    """Record the terminal's `result` for a PENDING attempt; the Sale when approved."""
    with transaction(db):
        attempt = payments.get_attempt(db, attempt_id)
        if attempt.state is not AttemptState.PENDING:
            if attempt.state.value != result.outcome.value:
                raise AttemptStateError(
                    f"payment {attempt_id} is already {attempt.state}; it cannot become "
                    f"{result.outcome} (resolve unknown payments from the admin)"
                )
            return sale_for_attempt(db, attempt_id)
        if result.amount_cents != attempt.amount_cents:
            raise ValueError(
                f"payment {attempt_id}: the result is for {result.amount_cents} cents, "
                f"the attempt for {attempt.amount_cents}"
            )
        payments.record_outcome(db, attempt, result)
        if result.outcome is not PaymentOutcome.APPROVED:
            return None
        return record_sale(db, payments.get_attempt(db, attempt_id), device_id)


def resolve_unknown(
    db: sqlite3.Connection, attempt_id: str, charged: bool, by: str, *, device_id: str
) -> Sale | None:
    """Staff's answer for an UNKNOWN attempt: `charged` records its sale now (returned), else
    the attempt is closed. Resolving again the same way changes nothing."""
    with transaction(db):
        if payments.settle_unknown(db, attempt_id, charged, by) and charged:
            return record_sale(db, payments.get_attempt(db, attempt_id), device_id)
        return sale_for_attempt(db, attempt_id)


def record_sale(db: sqlite3.Connection, attempt: Attempt, device_id: str) -> Sale:
    """Write the sale paid by `attempt`; inside the caller's transaction, which also holds the
    attempt's approved (or staff-confirmed) state. A training box writes a training sale."""
    book = _book(tickets.in_training(db))
    receipt = db.execute(
        f"SELECT coalesce(max(receipt_number), 0) + 1 FROM {book.sales} WHERE device_id = ?",
        (device_id,),
    ).fetchone()[0]
    payment = CardPayment(
        attempt.authorisation or attempt.id, attempt.card_application, attempt.masked_pan
    )
    sale = Sale(
        receipt_number=receipt,
        device_id=device_id,
        token=secrets.token_urlsafe(16),
        attempt_id=attempt.id,
        created_at=clock.now_iso(),
        basket=attempt.basket,
        payment=payment,
        training=book.training,
    )
    sale_id = insert_row(
        db,
        f"INSERT INTO {book.sales} (device_id, receipt_number, token, attempt_id, total_cents, "
        "payment_reference, card_application, masked_pan, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            device_id,
            receipt,
            sale.token,
            attempt.id,
            sale.total_cents,
            payment.reference,
            payment.card_application,
            payment.masked_pan,
            sale.created_at,
        ),
    )
    for line_no, line in enumerate(sale.basket.lines, start=1):
        row = line.to_dict()
        db.execute(
            f"INSERT INTO {book.lines} (sale_id, line_no, {_LINE_COLUMNS}) "
            f"VALUES (?, ?, {', '.join('?' * len(_LINE_FIELDS))})",
            (sale_id, line_no, *(row[name] for name in _LINE_FIELDS)),
        )
        if not book.training:
            db.execute(
                "UPDATE products SET stock = stock - ? WHERE sku = ? AND stock IS NOT NULL",
                (line.stock_change, line.sku),
            )
    entry = journal.append(db, book.journal_kind, _journal_data(sale), ts=sale.created_at)
    tickets.record_sale_ticket(db, sale, entry.seq)
    if not book.training:
        outbox.emit(db, "sale", _event_payload(sale), event_id=f"sale-{attempt.id}")
    return sale


def sale_for_attempt(db: sqlite3.Connection, attempt_id: str) -> Sale | None:
    return _sale_where(db, _REAL, "attempt_id = ?", attempt_id) or _sale_where(
        db, _TRAINING, "attempt_id = ?", attempt_id
    )


def sale_by_token(db: sqlite3.Connection, token: str) -> Sale | None:
    return _sale_where(db, _REAL, "token = ?", token) or _sale_where(
        db, _TRAINING, "token = ?", token
    )


def sale_by_receipt(
    db: sqlite3.Connection, device_id: str, receipt: int, *, training: bool = False
) -> Sale | None:
    """Real receipt `receipt`, or with `training` the training receipt of that number."""
    where = "device_id = ? AND receipt_number = ?"
    return _sale_where(db, _book(training), where, device_id, receipt)


def sales_between(
    db: sqlite3.Connection,
    device_id: str,
    since: str,
    until: str,
    *,
    limit: int = -1,
    offset: int = 0,
    training: bool = False,
) -> list[Sale]:
    """This device's sales recorded in [since, until) (`clock.iso` times), by receipt number;
    `limit` and `offset` pick one page of them (all by default); `training` its training sales
    instead of the real ones."""
    book = _book(training)
    rows = db.execute(
        f"SELECT receipt_number FROM {book.sales} WHERE device_id = ? AND created_at >= ? "
        "AND created_at < ? ORDER BY receipt_number LIMIT ? OFFSET ?",
        (device_id, since, until, limit, offset),
    ).fetchall()
    found = (sale_by_receipt(db, device_id, receipt, training=training) for (receipt,) in rows)
    return [sale for sale in found if sale is not None]


def _sale_where(db: sqlite3.Connection, book: _Book, where: str, *params: Any) -> Sale | None:
    row = db.execute(f"SELECT {_SALE_COLUMNS} FROM {book.sales} WHERE {where}", params).fetchone()
    if row is None:
        return None
    sale_id, receipt, device_id, token, attempt_id, created_at, reference, app, pan = row
    lines = db.execute(
        f"SELECT {_LINE_COLUMNS} FROM {book.lines} WHERE sale_id = ? ORDER BY line_no", (sale_id,)
    )
    basket = Basket(tuple(_line(r) for r in lines))
    return Sale(
        receipt,
        device_id,
        token,
        attempt_id,
        created_at,
        basket,
        CardPayment(reference, app, pan),
        training=book.training,
    )


def _line(row: tuple[Any, ...]) -> SaleLine:
    values = dict(zip(_LINE_FIELDS, row, strict=True))
    values["sold_by"] = SoldBy(values["sold_by"])
    values["scale_computed"] = bool(values["scale_computed"])
    return SaleLine(**values)


def _journal_data(sale: Sale) -> dict[str, Any]:
    """Every line in full, the VAT per rate and the payment reference (no card number)."""
    return {
        "receipt": sale.receipt_number,
        "device_id": sale.device_id,
        "attempt": sale.attempt_id,
        "lines": [line.to_dict() for line in sale.basket.lines],
        "total_cents": sale.total_cents,
        "vat": [
            {"rate_bp": v.rate_bp, "total_cents": v.total_cents, "vat_cents": v.vat_cents}
            for v in sale.basket.vat_breakdown()
        ],
        "payment_reference": sale.payment.reference,
        "card_application": sale.payment.card_application,
    }


def _event_payload(sale: Sale) -> dict[str, Any]:
    return {
        "receipt": sale.receipt_number,
        "lines": [
            {
                "sku": line.sku,
                "variant_id": None,
                "quantity": line.quantity,
                "weight_g": line.weight_g,
                "price_cents": line.price_cents,
            }
            for line in sale.basket.lines
        ],
        "total_cents": sale.total_cents,
        "payment_reference": sale.payment.reference,
    }
