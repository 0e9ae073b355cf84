"""A box whose disk is full never takes money it cannot record (found by the soak's disk fault).

The kiosk's checkout with a real store and the simulated terminal: no room, or a database that
refuses the write, means no card is charged; a sale refused after the terminal approved is told
to the customer as an unknown outcome and alerted to staff before the next payment.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.devices.payment.caisse_ap import CaisseApTerminal
from appliance.devices.payment.simulator import TerminalSimulator
from appliance.kiosk.checkout import RESERVE_BYTES, Checkout
from appliance.kiosk.flows.intentions import Charge
from appliance.kiosk.flows.values import BasketLine
from appliance.store import alerts, catalogue, payments
from appliance.store.alerts import Alarm
from appliance.store.db import open_database, transaction
from tests.disk_support import small_disk

EGGS = Product("oeufs-6", "6 œufs", SoldBy.PIECE, 320, 550)
CHARGE = Charge(640, (BasketLine(EGGS, 2, 640),))


@pytest.fixture
def terminal() -> Iterator[tuple[TerminalSimulator, CaisseApTerminal]]:
    with TerminalSimulator() as sim:
        yield sim, CaisseApTerminal(sim.host, sim.port, timeout_s=30)


def _stocked(db: sqlite3.Connection) -> sqlite3.Connection:
    with transaction(db):
        catalogue.save(db, EGGS)
    return db


def test_a_database_that_refuses_the_attempt_charges_no_card(db, terminal) -> None:
    sim, card = terminal
    _stocked(db)
    db.execute("PRAGMA query_only = ON")  # every write refused, as SQLITE_FULL would
    answer = Checkout(card.pay, "box").charge(db, CHARGE)
    assert answer.outcome is PaymentOutcome.ERROR  # "you have not been charged"
    assert sim.ledger == []
    db.execute("PRAGMA query_only = OFF")
    assert db.execute("SELECT count(*) FROM payment_attempts").fetchone()[0] == 0


def test_an_approved_sale_the_database_refuses_is_unknown_and_alerted_before_the_next(
    db, terminal
) -> None:
    sim, card = terminal
    _stocked(db)

    def pay_then_full(amount_cents: int, attempt_id: str) -> PaymentResult:
        result = card.pay(amount_cents, attempt_id)
        db.execute("PRAGMA query_only = ON")  # the disk filled while the card was read
        return result

    checkout = Checkout(pay_then_full, "box")
    answer = checkout.charge(db, CHARGE)
    assert [r.charged for r in sim.ledger] == [True]
    # The customer is told the payment may have gone through, never asked to pay again.
    assert answer.outcome is PaymentOutcome.UNKNOWN and answer.receipt_number == ""
    db.execute("PRAGMA query_only = OFF")
    checkout.pay = card.pay
    again = checkout.charge(db, CHARGE)  # room again: the next customer pays normally
    assert again.outcome is PaymentOutcome.APPROVED and again.receipt_number
    unknown = payments.attempts_in(db, payments.AttemptState.UNKNOWN)
    assert len(unknown) == 1  # the first, for staff to settle
    assert [a.kind for a in alerts.open_alerts(db)] == [Alarm.PAYMENT_UNKNOWN.value]


def test_a_nearly_full_disk_refuses_the_sale_before_the_terminal(tmp_path, terminal) -> None:
    sim, card = terminal
    with small_disk(tmp_path / "small", 8192) as disk:
        db = _stocked(open_database(disk / "comptoir.db"))
        try:
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            (disk / "filler").write_bytes(b"\0" * (free - RESERVE_BYTES // 2))
            answer = Checkout(card.pay, "box").charge(db, CHARGE)
            assert answer.outcome is PaymentOutcome.ERROR and "full" in answer.message
            assert answer.cannot_record  # the kiosk says out of order, not "terminal"
            assert sim.ledger == []
            (disk / "filler").unlink()  # space is back: the next customer pays
            assert Checkout(card.pay, "box").charge(db, CHARGE).outcome is PaymentOutcome.APPROVED
        finally:
            db.close()
