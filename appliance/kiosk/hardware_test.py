"""The installer's hardware test, as the kiosk runs it: a real small card payment, recorded as
what it is, and each thermometer read once.

An approved test payment is money on the shop's account: it is recorded like any sale (the
write-ahead attempt, the sale with the next receipt number, its signed ticket, the journal and
the fleet), with one line that says what it was and no VAT, since nothing was sold. Giving the
money back is a refund on the terminal recorded with `comptoir sales refund` (docs/admin.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from appliance.config import Haccp
from appliance.core.catalogue import Product, SoldBy
from appliance.core.payment import PaymentOutcome
from appliance.devices.sensors.ds18b20 import read_sensor
from appliance.errors import ComptoirError
from appliance.kiosk.checkout import Checkout
from appliance.kiosk.flows.intentions import Charge
from appliance.kiosk.flows.values import BasketLine
from appliance.store import tickets
from appliance.store.device_commands import TEST_PAYMENT_CENTS, TEST_PAYMENT_MOST_CENTS

#: The test line of the ticket (never in the catalogue).
TEST_SKU = "ESSAI-TPE"
TEST_NAME = "Essai du terminal de paiement"


class PaymentTestFailed(ComptoirError):
    """The terminal did not approve the test payment; the message says what it answered."""


@dataclass(frozen=True)
class ChargedTest:
    amount_cents: int
    receipt_number: int
    ticket: int  # the signed ticket's number, which `comptoir sales refund` takes


def amount_of(args: dict[str, Any]) -> int:
    """The amount a test payment command asks for; a ComptoirError when it is out of bounds."""
    amount = args.get("amount_cents", TEST_PAYMENT_CENTS)
    most = TEST_PAYMENT_MOST_CENTS
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= most:
        raise ComptoirError(
            f"a test payment is 1 to {most} cents (asked: {amount!r}); 10 is enough"
        )
    return amount


def charge_test_payment(
    db: sqlite3.Connection, checkout: Checkout, amount_cents: int
) -> ChargedTest:
    """In the till's thread: charge `amount_cents` through the terminal and record it."""
    line = Product(TEST_SKU, TEST_NAME, SoldBy.PIECE, amount_cents, vat_rate_bp=0)
    answered = checkout.charge(
        db, Charge(amount_cents, (BasketLine(line, quantity=1, price_cents=amount_cents),))
    )
    if answered.outcome is not PaymentOutcome.APPROVED:
        said = f": {answered.message}" if answered.message else ""
        unknown = (
            " (nobody knows whether the card was charged: settle it on the Alerts page)"
            if answered.outcome is PaymentOutcome.UNKNOWN
            else ""
        )
        raise PaymentTestFailed(f"the terminal answered {answered.outcome.value}{said}{unknown}")
    receipt = int(answered.receipt_number)
    ticket = tickets.ticket_of_sale(
        db, checkout.device_id, receipt, training=tickets.in_training(db)
    )
    return ChargedTest(answered.amount_cents, receipt, ticket.number if ticket else 0)


def read_thermometers(haccp: Haccp) -> list[dict[str, Any]]:
    """Each configured sensor read once: zone, sensor, and millidegrees or the problem."""
    if not haccp.zones:
        raise ComptoirError("no thermometer is configured here ([[haccp.zones]] sensors)")
    found: list[dict[str, Any]] = []
    for zone in haccp.zones:
        for sensor in zone.sensors:
            reading = read_sensor(haccp.w1_root, sensor)
            found.append(
                {"zone": zone.name, "sensor": sensor, "temp_mc": reading.temp_mc}
                if reading.temp_mc is not None
                else {"zone": zone.name, "sensor": sensor, "problem": reading.problem}
            )
    return found
