"""Write-ahead payments and recorded sales in a real SQLite store, paid on the simulated
terminal."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from escpos.printer import Network

from appliance.core.catalogue import Product, SoldBy
from appliance.core.receipt import ReceiptHeader, receipt_lines, receipt_url
from appliance.core.sale import Basket, Sale, SaleLine
from appliance.devices.payment.base import PaymentOutcome, PaymentResult
from appliance.devices.payment.caisse_ap import CaisseApTerminal
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.devices.printers.receipt import write_receipt
from appliance.devices.printers.simulator import CUT, PrinterSimulator
from appliance.store import alerts, catalogue, journal, outbox, payments, sales
from appliance.store.db import transaction
from tests.found import found

Card = tuple[TerminalSimulator, CaisseApTerminal]
DEVICE = "ferme-test-1"
TOMATOES = Product("tomates", "Tomates", SoldBy.WEIGHT, 450, 550, stock=5000)
EGGS = Product("oeufs-6", "6 œufs", SoldBy.PIECE, 320, 550, stock=10)
JAM = Product("confiture", "Confiture", SoldBy.PIECE, 500, 550)  # stock not tracked


@pytest.fixture
def shop(db: sqlite3.Connection) -> sqlite3.Connection:
    with transaction(db):
        for product in (TOMATOES, EGGS, JAM):
            catalogue.save(db, product)
    return db


@pytest.fixture
def terminal() -> Iterator[Card]:
    with TerminalSimulator() as sim:
        yield sim, CaisseApTerminal(sim.host, sim.port, timeout_s=30)


def basket() -> Basket:
    return Basket(
        (SaleLine.weighed(TOMATOES, 1234, tare_g=100), SaleLine.pieces(EGGS, 2))
    )  # 555 + 640


def pay(db: sqlite3.Connection, card: CaisseApTerminal, items: Basket) -> Sale | None:
    attempt = payments.begin_attempt(db, items.total_cents, items)
    return sales.complete_sale(db, attempt, card.pay(items.total_cents, attempt), DEVICE)


def test_an_approved_payment_records_the_whole_sale_at_once(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    sim, card = terminal
    sale = pay(shop, card, basket())
    assert sale is not None
    assert sale.receipt_number == 1 and sale.total_cents == 1195
    assert sale.payment.reference == sim.ledger[-1].authorisation
    assert sales.sale_by_token(shop, sale.token) == sale
    assert found(catalogue.get(shop, "tomates")).stock == 5000 - 1234
    assert found(catalogue.get(shop, "oeufs-6")).stock == 10 - 2
    (entry,) = journal.entries(shop, "sale")
    assert entry.data["receipt"] == 1 and len(entry.data["lines"]) == 2
    assert entry.data["lines"][0]["weight_g"] == 1234
    (event,) = [e for e in outbox.pending(shop, "mqtt") if e.type == "sale"]
    assert event.payload == {
        "receipt": 1,
        "lines": [
            {
                "sku": "tomates",
                "variant_id": None,
                "quantity": 1,
                "weight_g": 1234,
                "price_cents": 555,
            },
            {
                "sku": "oeufs-6",
                "variant_id": None,
                "quantity": 2,
                "weight_g": None,
                "price_cents": 640,
            },
        ],
        "total_cents": 1195,
        "payment_reference": sale.payment.reference,
    }
    assert payments.get_attempt(shop, sale.attempt_id).state is payments.AttemptState.APPROVED


def test_receipt_numbers_follow_each_other_without_gaps_across_declines(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    sim, card = terminal
    numbers = []
    for scenario in [
        Scenario.APPROVED,
        Scenario.DECLINED,
        Scenario.APPROVED,
        Scenario.ABANDONED,
        Scenario.APPROVED,
    ]:
        sim.scenario = scenario
        sale = pay(shop, card, Basket((SaleLine.pieces(JAM, 1),)))
        if sale:
            numbers.append(sale.receipt_number)
    assert numbers == [1, 2, 3]


def test_completing_the_same_attempt_twice_records_one_sale(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    _, card = terminal
    items = basket()
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    result = card.pay(items.total_cents, attempt)
    first = sales.complete_sale(shop, attempt, result, DEVICE)
    again = sales.complete_sale(shop, attempt, result, DEVICE)
    assert first == again
    assert shop.execute("SELECT count(*) FROM sales").fetchone()[0] == 1
    assert found(catalogue.get(shop, "oeufs-6")).stock == 8
    assert len(list(journal.entries(shop, "sale"))) == 1


def test_a_second_payment_is_refused_while_one_is_in_flight(shop: sqlite3.Connection) -> None:
    items = basket()
    payments.begin_attempt(shop, items.total_cents, items)
    with pytest.raises(payments.PaymentInFlight, match="still waiting"):
        payments.begin_attempt(shop, items.total_cents, items)


def test_an_amount_that_is_not_the_basket_total_is_refused(shop: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="basket total"):
        payments.begin_attempt(shop, 100, basket())
    assert shop.execute("SELECT count(*) FROM payment_attempts").fetchone()[0] == 0


def test_a_declined_card_records_no_sale_but_its_outcome_is_journalled(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    sim, card = terminal
    sim.scenario = Scenario.DECLINED
    assert pay(shop, card, basket()) is None
    assert shop.execute("SELECT count(*) FROM sales").fetchone()[0] == 0
    outcomes = [e.data["outcome"] for e in journal.entries(shop, "payment")]
    assert outcomes == ["pending", "declined"]
    assert found(catalogue.get(shop, "oeufs-6")).stock == 10


def test_an_unknown_outcome_alerts_staff_and_records_nothing_until_resolved(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    sim, card = terminal
    sim.scenario = Scenario.CLOSED_AFTER_APPROVAL
    items = basket()
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    assert sales.complete_sale(shop, attempt, card.pay(items.total_cents, attempt), DEVICE) is None
    (alert,) = alerts.open_alerts(shop)
    assert alert.kind == "payment_unknown" and alert.subject == attempt
    assert "11,95 €" in alert.message
    assert [e.type for e in outbox.pending(shop, "mqtt")] == ["payment_unknown"]
    # the terminal's journal says it charged: staff record the sale
    sale = sales.resolve_unknown(shop, attempt, True, "marie", device_id=DEVICE)
    assert sale is not None and sale.receipt_number == 1
    assert sales.resolve_unknown(shop, attempt, True, "marie", device_id=DEVICE) == sale
    assert alerts.open_alerts(shop) == []
    assert shop.execute("SELECT count(*) FROM sales").fetchone()[0] == 1
    assert payments.get_attempt(shop, attempt).state is payments.AttemptState.CHARGED


def test_an_unknown_outcome_resolved_as_not_charged_is_closed_without_sale(
    shop: sqlite3.Connection,
) -> None:
    items = basket()
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    unknown = PaymentResult(PaymentOutcome.UNKNOWN, items.total_cents, reason_code="07")
    sales.complete_sale(shop, attempt, unknown, DEVICE)
    assert sales.resolve_unknown(shop, attempt, False, "paul", device_id=DEVICE) is None
    assert alerts.open_alerts(shop) == []
    with pytest.raises(payments.AttemptStateError):
        sales.resolve_unknown(shop, attempt, True, "paul", device_id=DEVICE)
    assert shop.execute("SELECT count(*) FROM sales").fetchone()[0] == 0


def test_a_payment_in_flight_when_the_kiosk_stopped_becomes_unknown_at_start(
    shop: sqlite3.Connection,
) -> None:
    items = basket()
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    assert payments.recover(shop) == [attempt]
    assert payments.get_attempt(shop, attempt).state is payments.AttemptState.UNKNOWN
    assert [a.subject for a in alerts.open_alerts(shop)] == [attempt]
    assert payments.recover(shop) == []
    # the late answer of a recovered attempt is never recorded as a sale
    approved = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
    with pytest.raises(payments.AttemptStateError, match="already unknown"):
        sales.complete_sale(shop, attempt, approved, DEVICE)
    # and the next customer can pay
    payments.begin_attempt(shop, items.total_cents, items)


def test_a_recorded_sale_cannot_be_changed(shop: sqlite3.Connection, terminal: Card) -> None:
    _, card = terminal
    pay(shop, card, basket())
    with pytest.raises(Exception, match="never changed"):
        shop.execute("UPDATE sales SET total_cents = 1")
    with pytest.raises(Exception, match="never deleted"):
        shop.execute("DELETE FROM sale_lines")


def test_the_journal_verifies_after_sales_of_every_outcome(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    sim, card = terminal
    for scenario in Scenario:
        sim.scenario = scenario
        pay(shop, card, basket())
    payments.recover(shop)
    count, broken = journal.verify(shop)
    assert broken is None and count > len(Scenario)


def test_the_receipt_of_a_sale_prints_with_its_qr_link(
    shop: sqlite3.Connection, terminal: Card
) -> None:
    _, card = terminal
    sale = found(pay(shop, card, basket()))
    header = ReceiptHeader("Ferme test", "1 rue du Marché", DEVICE, "f" * 64, "0.1.0")
    url = receipt_url("https://shop.example/r", sale)
    with PrinterSimulator() as printer_sim:
        host, port = printer_sim.address.rsplit(":", 1)
        printer = Network(host, int(port), timeout=10)
        write_receipt(printer, receipt_lines(sale, header, "15/11/2026 14:03"), url)
        printer.close()
        assert printer_sim.wait_for(lambda data: CUT in data, timeout=30)
        received = printer_sim.received
    assert b"Ticket n" in received and b"11,95" in received
    assert b"\x1d(k" in received and url.encode() in received  # native QR with the link
    assert sale.token in url
