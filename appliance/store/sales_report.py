"""Sales over a period, for the admin's charts and the accountant's export.

Totals are summed by SQLite (a year of sales is read without building each sale), and ticket
lines come in receipt order, one at a time, for a CSV of any size. Periods are UTC [start, end)
times as stored (`clock.iso`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from appliance.core.catalogue import SoldBy


@dataclass(frozen=True)
class ProductTotal:
    """What sold of one product: grams for weighed products, else pieces."""

    sku: str
    name: str
    sold_by: SoldBy
    amount: int
    total_cents: int


@dataclass(frozen=True)
class TicketLine:
    receipt_number: int
    created_at: str
    line_no: int
    sku: str
    name: str
    sold_by: SoldBy
    weight_g: int | None
    quantity: int
    unit_price_cents: int
    price_cents: int
    vat_rate_bp: int


def sale_times(
    db: sqlite3.Connection, device_id: str, start: str, end: str, *, training: bool = False
) -> list[tuple[str, int]]:
    """(created_at, total_cents) of each sale in [start, end), oldest first; with `training`,
    of each training sale instead (never counted with the real ones)."""
    table = "training_sales" if training else "sales"
    return db.execute(
        f"SELECT created_at, total_cents FROM {table} WHERE device_id = ? AND created_at >= ? "
        "AND created_at < ? ORDER BY created_at",
        (device_id, start, end),
    ).fetchall()


def product_totals(
    db: sqlite3.Connection, device_id: str, start: str, end: str
) -> list[ProductTotal]:
    """Per product over [start, end), the best-selling (in euros) first."""
    rows = db.execute(
        "SELECT l.sku, max(l.name), l.sold_by, "
        "sum(CASE WHEN l.sold_by = 'weight' THEN coalesce(l.weight_g, 0) ELSE l.quantity END), "
        "sum(l.price_cents) FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
        "WHERE s.device_id = ? AND s.created_at >= ? AND s.created_at < ? "
        "GROUP BY l.sku, l.sold_by ORDER BY sum(l.price_cents) DESC, l.sku",
        (device_id, start, end),
    ).fetchall()
    return [
        ProductTotal(sku, name, SoldBy(by), amount, cents) for sku, name, by, amount, cents in rows
    ]


def ticket_lines(
    db: sqlite3.Connection, device_id: str, start: str, end: str
) -> Iterator[TicketLine]:
    """Every line of every ticket in [start, end), by receipt then line."""
    rows = db.execute(
        "SELECT s.receipt_number, s.created_at, l.line_no, l.sku, l.name, l.sold_by, l.weight_g, "
        "l.quantity, l.unit_price_cents, l.price_cents, l.vat_rate_bp "
        "FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
        "WHERE s.device_id = ? AND s.created_at >= ? AND s.created_at < ? "
        "ORDER BY s.receipt_number, l.line_no",
        (device_id, start, end),
    )
    for number, created_at, line_no, sku, name, sold_by, *amounts in rows:
        yield TicketLine(number, created_at, line_no, sku, name, SoldBy(sold_by), *amounts)
