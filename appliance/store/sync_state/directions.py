"""Each sync direction (catalogue and orders down, pickups and stock up): its cursor, last
success and last error; and, for `comptoir sync status`, what is still waiting."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

DIRECTIONS = ("catalogue", "orders", "pickups", "stock")


@dataclass(frozen=True)
class DirectionState:
    direction: str
    cursor: str = ""
    full_sweep_at: str = ""
    last_attempt_at: str = ""
    last_success_at: str = ""
    last_error: str = ""
    last_error_at: str = ""


def state(db: sqlite3.Connection, name: str) -> DirectionState:
    row = db.execute(
        "SELECT direction, cursor, full_sweep_at, last_attempt_at, last_success_at, last_error, "
        "last_error_at FROM marketplace_sync WHERE direction = ?",
        (name,),
    ).fetchone()
    return DirectionState(*row) if row else DirectionState(name)


def states(db: sqlite3.Connection) -> list[DirectionState]:
    return [state(db, name) for name in DIRECTIONS]


def record_success(
    db: sqlite3.Connection,
    name: str,
    now: str,
    *,
    cursor: str | None = None,
    full_sweep: bool = False,
) -> None:
    """A direction finished; move its cursor when one is given. Call in a transaction."""
    _ensure(db, name)
    db.execute(
        "UPDATE marketplace_sync SET last_attempt_at = ?, last_success_at = ?, last_error = '', "
        "cursor = coalesce(?, cursor), full_sweep_at = CASE WHEN ? THEN ? ELSE full_sweep_at END "
        "WHERE direction = ?",
        (now, now, cursor, int(full_sweep), now, name),
    )


def record_error(db: sqlite3.Connection, name: str, now: str, error: str) -> None:
    _ensure(db, name)
    db.execute(
        "UPDATE marketplace_sync SET last_attempt_at = ?, last_error = ?, last_error_at = ? "
        "WHERE direction = ?",
        (now, error, now, name),
    )


def force_full_catalogue_read(db: sqlite3.Connection) -> None:
    """The next catalogue read reads every product, not only those changed since the cursor."""
    db.execute("UPDATE marketplace_sync SET full_sweep_at = '' WHERE direction = 'catalogue'")


def waiting(db: sqlite3.Connection) -> dict[str, int]:
    """What is still to report or to look at, for `comptoir sync status`."""

    def one(sql: str) -> int:
        count: int = db.execute(sql).fetchone()[0]
        return count

    return {
        "pickups_to_report": one(
            "SELECT count(*) FROM marketplace_pickups WHERE state = 'pending'"
        ),
        "pickups_refused": one("SELECT count(*) FROM marketplace_pickups WHERE state = 'refused'"),
        "sale_lines_to_report": one(
            "SELECT count(*) FROM marketplace_sales WHERE reported_at IS NULL"
        ),
        "shop_sale_units_to_send": one(
            "SELECT coalesce(sum(units), 0) FROM marketplace_shop_sales"
        ),
        "variants": one("SELECT count(*) FROM marketplace_variants"),
        "orders_read": one("SELECT count(*) FROM marketplace_orders"),
    }


def _ensure(db: sqlite3.Connection, name: str) -> None:
    db.execute("INSERT OR IGNORE INTO marketplace_sync (direction) VALUES (?)", (name,))
