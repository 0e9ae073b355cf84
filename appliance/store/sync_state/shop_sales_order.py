"""In the shop-sales order mode (migration 0007): units of each variant on their way into that
order, written before sending, so that a crash mid-send never counts a unit twice or never."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class ShopSale:
    """Units of one variant on their way into a shop-sales order."""

    order_number: str
    variant_id: int
    units: int
    base: int  # the variant's quantity in the order right before sending


def to_send(db: sqlite3.Connection) -> list[ShopSale]:
    rows = db.execute(
        "SELECT order_number, variant_id, units, base FROM marketplace_shop_sales "
        "ORDER BY order_number, variant_id"
    )
    return [ShopSale(*row) for row in rows]


def add(db: sqlite3.Connection, order_number: str, variant_id: int, units: int, base: int) -> None:
    """Units to send, written before sending; they join units of the variant not yet sent."""
    db.execute(
        "INSERT INTO marketplace_shop_sales (order_number, variant_id, units, base) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (order_number, variant_id) DO UPDATE SET "
        "units = units + excluded.units, base = excluded.base",
        (order_number, variant_id, units, base),
    )


def set_units(db: sqlite3.Connection, sale: ShopSale, units: int) -> None:
    """Fewer units to send (the marketplace has fewer left); none removes the row."""
    if units <= 0:
        sent(db, sale)
        return
    db.execute(
        "UPDATE marketplace_shop_sales SET units = ? WHERE order_number = ? AND variant_id = ?",
        (units, sale.order_number, sale.variant_id),
    )


def sent(db: sqlite3.Connection, sale: ShopSale) -> None:
    db.execute(
        "DELETE FROM marketplace_shop_sales WHERE order_number = ? AND variant_id = ?",
        (sale.order_number, sale.variant_id),
    )
