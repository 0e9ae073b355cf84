"""Orders to hand out as last read from the marketplace: a fingerprint, so that an order read
again unchanged is not written again, and the order cycle and shipping method it came with."""

from __future__ import annotations

import sqlite3


def fingerprint(db: sqlite3.Connection, number: str) -> str | None:
    row = db.execute(
        "SELECT fingerprint FROM marketplace_orders WHERE number = ?", (number,)
    ).fetchone()
    return row[0] if row else None


def remember(
    db: sqlite3.Connection,
    number: str,
    fingerprint: str,
    order_cycle_id: int | None,
    shipping_method_id: int | None,
    read_at: str,
) -> None:
    db.execute(
        "INSERT INTO marketplace_orders (number, fingerprint, order_cycle_id, shipping_method_id, "
        "read_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, order_cycle_id = excluded.order_cycle_id, "
        "shipping_method_id = coalesce(excluded.shipping_method_id, shipping_method_id), "
        "read_at = excluded.read_at",
        (number, fingerprint, order_cycle_id, shipping_method_id, read_at),
    )


def order_cycles_seen(db: sqlite3.Connection) -> list[int]:
    rows = db.execute(
        "SELECT DISTINCT order_cycle_id FROM marketplace_orders "
        "WHERE order_cycle_id IS NOT NULL ORDER BY order_cycle_id"
    )
    return [row[0] for row in rows]
