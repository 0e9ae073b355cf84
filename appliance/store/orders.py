"""Orders to hand out: stored with their lines, whichever way they arrived."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from appliance import clock
from appliance.core.order import Order, OrderLine, OrderState
from appliance.store.db import require_transaction


def save(db: sqlite3.Connection, order: Order) -> None:
    """Insert or replace an order and its lines. Call inside a transaction."""
    require_transaction(db, "orders.save")
    row = {f.name: getattr(order, f.name) for f in dataclasses.fields(order) if f.name != "lines"}
    row["state"] = order.state.value
    row["paid"] = int(order.paid)
    row["updated_at"] = clock.now_iso()
    columns = ", ".join(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "number")
    db.execute(
        f"INSERT INTO orders ({columns}) VALUES ({', '.join('?' * len(row))}) "
        f"ON CONFLICT (number) DO UPDATE SET {updates}",
        list(row.values()),
    )
    db.execute("DELETE FROM order_lines WHERE order_number = ?", (order.number,))
    for line_no, line in enumerate(order.lines, start=1):
        db.execute(
            "INSERT INTO order_lines (order_number, line_no, name, quantity, unit, price_cents, "
            "producer, variant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.number,
                line_no,
                line.name,
                line.quantity,
                line.unit,
                line.price_cents,
                line.producer,
                line.variant_id,
            ),
        )


def get(db: sqlite3.Connection, number: str) -> Order | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM orders WHERE number = ?", (number,)).fetchone()
    return _order(db, row) if row else None


def list_orders(db: sqlite3.Connection, state: OrderState | None = None) -> list[Order]:
    where, params = _where(state)
    rows = db.execute(f"SELECT {_COLUMNS} FROM orders{where} ORDER BY number", params).fetchall()
    return [_order(db, row) for row in rows]


def page_of_orders(
    db: sqlite3.Connection, state: OrderState | None, *, limit: int, offset: int
) -> list[Order]:
    """One page of orders for a screen: those still to hand out first, then the latest changed
    (a year of orders is too long a list for a phone)."""
    where, params = _where(state)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM orders{where} "
        "ORDER BY state NOT IN ('waiting', 'in_locker'), updated_at DESC, number "
        "LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [_order(db, row) for row in rows]


def count_orders(db: sqlite3.Connection, state: OrderState | None = None) -> int:
    where, params = _where(state)
    return int(db.execute(f"SELECT count(*) FROM orders{where}", params).fetchone()[0])


def _where(state: OrderState | None) -> tuple[str, tuple[Any, ...]]:
    return (" WHERE state = ?", (state.value,)) if state else ("", ())


_FIELDS = [f.name for f in dataclasses.fields(Order) if f.name != "lines"]
_COLUMNS = ", ".join(_FIELDS)


def _order(db: sqlite3.Connection, row: tuple[Any, ...]) -> Order:
    values = dict(zip(_FIELDS, row, strict=True))
    values["state"] = OrderState(values["state"])
    values["paid"] = bool(values["paid"])
    lines = tuple(
        OrderLine(*line)
        for line in db.execute(
            "SELECT name, quantity, unit, price_cents, producer, variant_id FROM order_lines "
            "WHERE order_number = ? ORDER BY line_no",
            (values["number"],),
        )
    )
    return Order(**values, lines=lines)
