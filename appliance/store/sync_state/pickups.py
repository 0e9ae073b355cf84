"""Pickups still to report to the marketplace (`ship`), copied from the outbox's
`order_collected` events so that one stuck report never holds back the others."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pickup:
    number: str
    event_id: str
    collected_at: str
    compartment: int | None
    state: str
    attempts: int
    last_error: str
    reported_at: str | None


_COLUMNS = "number, event_id, collected_at, compartment, state, attempts, last_error, reported_at"


def add(
    db: sqlite3.Connection,
    number: str,
    event_id: str,
    collected_at: str,
    compartment: int | None,
) -> bool:
    """Queue a pickup report; a second event for the same order is ignored."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO marketplace_pickups (number, event_id, collected_at, compartment) "
        "VALUES (?, ?, ?, ?)",
        (number, event_id, collected_at, compartment),
    )
    return cursor.rowcount > 0


def listed(db: sqlite3.Connection, state: str | None = None) -> list[Pickup]:
    """The pickups in `state` (`pending`, `reported`, `refused`; None: all), oldest first."""
    sql = f"SELECT {_COLUMNS} FROM marketplace_pickups"
    params: tuple[Any, ...] = ()
    if state:
        sql += " WHERE state = ?"
        params = (state,)
    return [Pickup(*row) for row in db.execute(sql + " ORDER BY collected_at, number", params)]


def done(db: sqlite3.Connection, number: str, state: str, now: str, error: str = "") -> None:
    """`reported` (shipped online) or `refused` (never will be: the admin must look)."""
    db.execute(
        "UPDATE marketplace_pickups SET state = ?, attempts = attempts + 1, last_error = ?, "
        "reported_at = ? WHERE number = ?",
        (state, error, now, number),
    )


def failed(db: sqlite3.Connection, number: str, error: str) -> None:
    """This try failed; the pickup stays pending for the next round."""
    db.execute(
        "UPDATE marketplace_pickups SET attempts = attempts + 1, last_error = ? WHERE number = ?",
        (error, number),
    )
