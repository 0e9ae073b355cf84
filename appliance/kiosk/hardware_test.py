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
from appliance.said import Said, said
from appliance.store import tickets
from appliance.store.device_commands import TEST_PAYMENT_CENTS, TEST_PAYMENT_MOST_CENTS

#: The test line of the ticket (never in the catalogue).
TEST_SKU = "ESSAI-TPE"
TEST_NAME = "Essai du terminal de paiement"


#: What the terminal's answer means, its own words (`message`, maybe empty) after.
_NOT_APPROVED = {
    PaymentOutcome.DECLINED: said("the terminal declined the payment %(message)s"),
    PaymentOutcome.ABANDONED: said("the payment was abandoned on the terminal %(message)s"),
    PaymentOutcome.TIMEOUT: said("the terminal did not answer in time %(message)s"),
    PaymentOutcome.ERROR: said("the terminal refused to start, nothing charged %(message)s"),
    PaymentOutcome.UNKNOWN: said(
        "nobody knows whether the card was charged: settle it on the Alerts page %(message)s"
    ),
}


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
            said(
                "a test payment is 1 to %(most_cents)s (asked: %(asked)s); 0.10 is enough",
                most_cents=most,
                asked=repr(amount),
            )
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
        meaning = _NOT_APPROVED[answered.outcome]
        raise PaymentTestFailed(Said(meaning.template, {"message": answered.message}))
    receipt = int(answered.receipt_number)
    ticket = tickets.ticket_of_sale(
        db, checkout.device_id, receipt, training=tickets.in_training(db)
    )
    return ChargedTest(answered.amount_cents, receipt, ticket.number if ticket else 0)


def _problem(problem: str | Said) -> dict[str, Any]:
    """A sensor's problem in English, and as said for the reader's language on the web."""
    said_json = {"problem_said": problem.to_json()} if isinstance(problem, Said) else {}
    return {"problem": str(problem), **said_json}


def read_thermometers(haccp: Haccp) -> list[dict[str, Any]]:
    """Each configured sensor read once: zone, sensor, and millidegrees or the problem."""
    if not haccp.zones:
        raise ComptoirError(said("no thermometer is configured here ([[haccp.zones]] sensors)"))
    found: list[dict[str, Any]] = []
    for zone in haccp.zones:
        for sensor in zone.sensors:
            reading = read_sensor(haccp.w1_root, sensor)
            found.append(
                {"zone": zone.name, "sensor": sensor, "temp_mc": reading.temp_mc}
                if reading.temp_mc is not None
                else {"zone": zone.name, "sensor": sensor, **_problem(reading.problem)}
            )
    return found
