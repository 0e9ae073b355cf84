"""Taking the customer's money: write-ahead attempt, one request to the terminal, recorded sale.

Runs in the till's own thread (`shop_actions.Till`), never on the UI thread. The order is the
one that makes a kill at any instant harmless (payments-fiscal.md §2): the attempt is PENDING in
the database before a byte goes to the terminal, and the sale is written from the terminal's
answer in one transaction; `recover` at start settles what a crash left in between.

A full disk must not cost a customer money: no card is charged unless the attempt is written and
there is room left for the sale (`RESERVE_BYTES`); a sale that still cannot be written after the
terminal approved is told to the customer as an unknown outcome and alerted before the next one.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.receipt import receipt_url
from appliance.core.sale import Basket, SaleLine
from appliance.kiosk.flows.events import PaymentAnswered
from appliance.kiosk.flows.intentions import Charge
from appliance.kiosk.flows.values import BasketLine
from appliance.store import payments, sales

log = logging.getLogger(__name__)

#: Charges once and answers what the terminal said: (amount in cents, attempt id) -> result.
Pay = Callable[[int, str], PaymentResult]
#: Free space under which no card is charged. A sale with its journal, fiscal record, till ticket
#: and outbox event takes a few kilobytes; the rest is room for the agent's writes meanwhile.
RESERVE_BYTES = 2 * 1024 * 1024


def sale_line(line: BasketLine) -> SaleLine:
    """The recorded form of a basket line; a price-computing scale's price is kept as sent."""
    weighing = line.weighing
    if weighing is None:
        return SaleLine.pieces(line.product, line.quantity)
    return SaleLine.weighed(
        line.product,
        weighing.weight_g,
        tare_g=weighing.tare_g,
        scale_price_cents=weighing.price_cents if weighing.scale_computed else None,
    )


class Checkout:
    """Charges baskets through `pay` and records the sales, one payment at a time."""

    def __init__(self, pay: Pay, device_id: str, receipt_base_url: str = "") -> None:
        self.pay = pay
        self.device_id = device_id
        self.receipt_base_url = receipt_base_url
        self._unrecorded = False  # an answer the database refused: recover before the next

    def recover(self, db: sqlite3.Connection) -> list[str]:
        """Attempts a crash left PENDING become UNKNOWN (with a staff alert) before any new one."""
        return payments.recover(db)

    def charge(self, db: sqlite3.Connection, charge: Charge) -> PaymentAnswered:
        basket = Basket(tuple(sale_line(line) for line in charge.lines))
        try:
            short = _short_of_room(db)
            if short:
                raise sqlite3.OperationalError(short)
            if self._unrecorded:  # the last answer could not be written: unknown, for staff
                payments.recover(db)
                self._unrecorded = False
            attempt_id = payments.begin_attempt(db, basket.total_cents, basket)
        except sqlite3.Error as exc:
            log.error("no card charged: the payment cannot be recorded (%s)", exc)
            return PaymentAnswered(
                PaymentOutcome.ERROR, basket.total_cents, message=str(exc), cannot_record=True
            )
        try:
            result = self.pay(basket.total_cents, attempt_id)
        except Exception as exc:  # a driver bug or no answer: the attempt stays, staff settle it
            log.exception("payment %s: the terminal gave no usable answer", attempt_id)
            result = PaymentResult(PaymentOutcome.UNKNOWN, basket.total_cents, message=str(exc))
        try:
            sale = sales.complete_sale(db, attempt_id, result, self.device_id)
        except sqlite3.Error as exc:
            self._unrecorded = True
            log.error(
                "payment %s: the terminal answered %s but it cannot be recorded (%s): unknown "
                "outcome for staff",
                attempt_id,
                result.outcome.value,
                exc,
            )
            approved = result.outcome is PaymentOutcome.APPROVED
            outcome = PaymentOutcome.UNKNOWN if approved else result.outcome
            return PaymentAnswered(outcome, result.amount_cents, "", str(exc))
        if sale is None:
            return PaymentAnswered(result.outcome, result.amount_cents, "", result.message)
        return PaymentAnswered(
            result.outcome,
            result.amount_cents,
            str(sale.receipt_number),
            result.message,
            receipt_url(self.receipt_base_url, sale),
        )


def _short_of_room(db: sqlite3.Connection) -> str:
    """Why there is no room to record a sale where the database lives, or ""."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        return ""  # in memory
    free = shutil.disk_usage(Path(path).parent).free
    if free >= RESERVE_BYTES:
        return ""
    return f"database or disk is full: {free // 1024} KB free beside {Path(path).name}"
