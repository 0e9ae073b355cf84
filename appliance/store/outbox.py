"""The outbox: events written with the change that caused them, delivered later per destination.

Each destination (``mqtt``, ``marketplace``) keeps its own cursor; each event has a stable
`event_id`, so a destination that delivers twice after a crash lets the receiver drop the copy.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from appliance import clock
from appliance.core.journal import canonical_json
from appliance.store.db import insert_row, require_transaction


@dataclass(frozen=True)
class Event:
    id: int
    event_id: str
    ts: str
    type: str
    payload: dict[str, Any]


def emit(
    db: sqlite3.Connection,
    type: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
    ts: str | None = None,
) -> Event:
    """Record an event; call inside the transaction of the change it reports."""
    require_transaction(db, "outbox.emit")
    event_id = event_id or str(uuid.uuid4())
    ts = ts or clock.now_iso()
    row_id = insert_row(
        db,
        "INSERT INTO outbox (event_id, ts, type, payload) VALUES (?, ?, ?, ?)",
        (event_id, ts, type, canonical_json(payload)),
    )
    return Event(row_id, event_id, ts, type, payload)


def pending(
    db: sqlite3.Connection, destination: str, limit: int = 100, types: tuple[str, ...] = ()
) -> list[Event]:
    """The next events `destination` has not yet acknowledged, oldest first."""
    sql = "SELECT id, event_id, ts, type, payload FROM outbox WHERE id > ?"
    params: list[Any] = [cursor_of(db, destination)]
    if types:
        sql += f" AND type IN ({','.join('?' * len(types))})"
        params += types
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    return [Event(i, e, t, ty, json.loads(p)) for i, e, t, ty, p in db.execute(sql, params)]


def pending_count(db: sqlite3.Connection, destination: str) -> int:
    """How many events `destination` has not yet acknowledged."""
    count: int = db.execute(
        "SELECT count(*) FROM outbox WHERE id > ?", (cursor_of(db, destination),)
    ).fetchone()[0]
    return count


def cursor_of(db: sqlite3.Connection, destination: str) -> int:
    row = db.execute(
        "SELECT last_id FROM outbox_cursors WHERE destination = ?", (destination,)
    ).fetchone()
    return row[0] if row else 0


def acknowledge(db: sqlite3.Connection, destination: str, last_id: int) -> None:
    """Move `destination`'s cursor forward to `last_id` (never backward)."""
    db.execute(
        "INSERT INTO outbox_cursors (destination, last_id, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (destination) DO UPDATE SET last_id = max(last_id, excluded.last_id), "
        "updated_at = excluded.updated_at",
        (destination, last_id, clock.now_iso()),
    )
