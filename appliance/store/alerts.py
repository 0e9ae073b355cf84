"""Alerts: something a person must look at, shown on the admin side until someone resolves it.

An unknown card-payment outcome is the first kind (`payment_unknown`, subject = the attempt id):
it is resolved through `sales.resolve_unknown`, which closes its alert in the same transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from appliance.store.db import utc_now

_COLUMNS = "id, kind, subject, message, created_at, resolved_at, resolved_by, resolution"


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    subject: str
    message: str
    created_at: str
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolution: str | None = None


def raise_alert(db: sqlite3.Connection, kind: str, message: str, subject: str = "") -> Alert:
    """Record an open alert; call inside the transaction of what caused it."""
    now = utc_now()
    cursor = db.execute(
        "INSERT INTO alerts (kind, subject, message, created_at) VALUES (?, ?, ?, ?)",
        (kind, subject, message, now),
    )
    return Alert(cursor.lastrowid, kind, subject, message, now)


def open_alerts(db: sqlite3.Connection, kind: str | None = None) -> list[Alert]:
    """Unresolved alerts, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM alerts WHERE resolved_at IS NULL"
    params: tuple[str, ...] = ()
    if kind:
        sql += " AND kind = ?"
        params = (kind,)
    return [Alert(*row) for row in db.execute(sql + " ORDER BY created_at, id", params)]


def resolve_about(db: sqlite3.Connection, kind: str, subject: str, by: str, resolution: str) -> int:
    """Close the open alerts of `kind` about `subject`; returns how many were open."""
    cursor = db.execute(
        "UPDATE alerts SET resolved_at = ?, resolved_by = ?, resolution = ? "
        "WHERE kind = ? AND subject = ? AND resolved_at IS NULL",
        (utc_now(), by, resolution, kind, subject),
    )
    return cursor.rowcount
