"""A receipt's signed ticket and a ticket's copies are found through an index, not by reading
every record of the chain: a reprint or a till ticket does not slow down as the years add up."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine
from appliance.store import tickets
from appliance.store.db import transaction
from tests.found import found

JAM = Product("confiture", "Confiture de fraises", SoldBy.PIECE, 550, 550)
START = datetime(2026, 11, 20, 9, tzinfo=UTC)


def sell(db: sqlite3.Connection, receipt: int) -> None:
    when = START + timedelta(minutes=receipt)
    paid = Sale(
        receipt,
        "test-box",
        f"t{receipt}",
        f"a{receipt}",
        when.isoformat(),
        Basket((SaleLine.pieces(JAM, receipt),)),
        CardPayment(f"{receipt:06d}", "00B"),
    )
    with transaction(db):
        tickets.record_sale_ticket(db, paid, receipt)


def plans(db: sqlite3.Connection, action) -> list[str]:
    """The query plan of every SELECT on fiscal_records that `action` runs."""
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    try:
        action()
    finally:
        db.set_trace_callback(None)
    selects = [s for s in statements if s.startswith("SELECT") and "fiscal_records" in s]
    assert selects, statements
    return [" ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {s}")) for s in selects]


def test_a_receipts_ticket_and_its_copies_are_found_by_index(db: sqlite3.Connection) -> None:
    for receipt in range(1, 6):
        sell(db, receipt)
    ticket = found(tickets.ticket_of_sale(db, "test-box", 4))
    assert ticket.data["receipt"] == 4 and ticket.data["total_cents"] == 4 * 550
    assert tickets.ticket_of_sale(db, "test-box", 99) is None
    assert tickets.ticket_of_sale(db, "other-box", 4) is None

    lookup = plans(db, lambda: tickets.ticket_of_sale(db, "test-box", 3))
    assert any("USING INDEX fiscal_records_receipt" in plan for plan in lookup), lookup
    assert not [plan for plan in lookup if "SCAN fiscal_records" in plan], lookup
    copy = plans(db, lambda: tickets.record_duplicate(db, ticket, by="test", reason="lost"))
    assert any("USING INDEX fiscal_records_copies" in plan for plan in copy), copy
    assert found(tickets.record_duplicate(db, ticket, by="test")).data["copy"] == 2
