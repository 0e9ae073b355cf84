"""Taking the customer's money: write-ahead attempt, one request to the terminal, recorded sale.

Runs in the hardware layer's payment thread, never on the UI thread. The order is the one that
makes a kill at any instant harmless (payments-fiscal.md §2): the attempt is PENDING in the
database before a byte goes to the terminal, and the sale is written from the terminal's answer
in one transaction; `recover` at start settles what a crash left in between.
"""

from __future__ import annotations

import logging
from pathlib import Path

from appliance.core.receipt import receipt_url
from appliance.core.sale import Basket, SaleLine
from appliance.devices.payment.base import PaymentOutcome, PaymentResult, Terminal
from appliance.kiosk.flows.events import BasketLine, Charge, PaymentAnswered
from appliance.store import payments, sales
from appliance.store.db import open_database

log = logging.getLogger(__name__)


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
    """Charges baskets on one terminal and records the sales, one payment at a time."""

    def __init__(
        self, database_path: Path, terminal: Terminal, device_id: str, receipt_base_url: str = ""
    ) -> None:
        self.database_path = database_path
        self.terminal = terminal
        self.device_id = device_id
        self.receipt_base_url = receipt_base_url

    def recover(self) -> list[str]:
        """Attempts a crash left PENDING become UNKNOWN (with a staff alert) before any new one."""
        db = open_database(self.database_path)
        try:
            return payments.recover(db)
        finally:
            db.close()

    def charge(self, charge: Charge) -> PaymentAnswered:
        basket = Basket(tuple(sale_line(line) for line in charge.lines))
        db = open_database(self.database_path)
        try:
            attempt_id = payments.begin_attempt(db, basket.total_cents, basket)
            try:
                result = self.terminal.pay(basket.total_cents, attempt_id)
            except Exception as exc:  # a driver bug must not lose the attempt: it stays unknown
                log.exception("payment %s: the terminal driver failed", attempt_id)
                result = PaymentResult(PaymentOutcome.UNKNOWN, basket.total_cents, message=str(exc))
            sale = sales.complete_sale(db, attempt_id, result, self.device_id)
        finally:
            db.close()
        if sale is None:
            return PaymentAnswered(result.outcome, result.amount_cents, "", result.message)
        return PaymentAnswered(
            result.outcome,
            result.amount_cents,
            str(sale.receipt_number),
            result.message,
            receipt_url(self.receipt_base_url, sale),
        )
