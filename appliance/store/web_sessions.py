"""Server-side sessions of the LAN web admin: a session is a row, so ending it is deleting it.

The browser keeps a random token (in the signed cookie); the row keeps its SHA-256, who logged
in, when, and when the session was last used. A session ends at log out, when its user's
password or role changes, when someone asks to log that user out everywhere, after
`IDLE` without use, or `LONGEST` after it was opened, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance import clock
from appliance.store.db import transaction

IDLE = timedelta(hours=1)
LONGEST = timedelta(hours=12)
#: A request refreshes `last_seen_at` only when it is older than this: one write a minute at most.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class WebSession:
    username: str
    created_at: datetime
    last_seen_at: datetime
    remote_addr: str
    user_agent: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    db: sqlite3.Connection,
    username: str,
    now: datetime,
    remote_addr: str = "",
    user_agent: str = "",
) -> str:
    """A new session for `username`; returns the token the browser keeps (never stored)."""
    token = secrets.token_urlsafe(32)
    with transaction(db):
        db.execute(
            "INSERT INTO web_sessions (token_hash, username, created_at, last_seen_at, "
            "remote_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
            (
                _hash(token),
                username,
                clock.iso(now),
                clock.iso(now),
                remote_addr[:64],
                user_agent[:200],
            ),
        )
        # Ended sessions are forgotten as new ones open, so the table stays small.
        db.execute(
            "DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?",
            (clock.iso(now - IDLE), clock.iso(now - LONGEST)),
        )
    return token


def session_user(db: sqlite3.Connection, token: str, now: datetime) -> str | None:
    """The user of a live session, refreshing its last use; None (and the row gone) when the
    token is unknown, idle too long or too old."""
    if not token:
        return None
    key = _hash(token)
    row = db.execute(
        "SELECT username, created_at, last_seen_at FROM web_sessions WHERE token_hash = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    username, created, seen = row[0], datetime.fromisoformat(row[1]), datetime.fromisoformat(row[2])
    if now - seen > IDLE or now - created > LONGEST:
        with transaction(db):
            db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (key,))
        return None
    if now - seen > TOUCH_EVERY:
        with transaction(db):
            db.execute(
                "UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ?",
                (clock.iso(now), key),
            )
    return str(username)


def close_session(db: sqlite3.Connection, token: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_hash(token),))


def close_all(db: sqlite3.Connection, username: str) -> int:
    """Log `username` out everywhere (inside or outside a transaction); how many ended."""
    return db.execute("DELETE FROM web_sessions WHERE username = ?", (username,)).rowcount


def sessions_of(db: sqlite3.Connection, username: str, now: datetime) -> list[WebSession]:
    """The user's live sessions, most recently used first."""
    rows = db.execute(
        "SELECT username, created_at, last_seen_at, remote_addr, user_agent FROM web_sessions "
        "WHERE username = ? AND last_seen_at >= ? AND created_at >= ? ORDER BY last_seen_at DESC",
        (username, clock.iso(now - IDLE), clock.iso(now - LONGEST)),
    ).fetchall()
    return [
        WebSession(r[0], datetime.fromisoformat(r[1]), datetime.fromisoformat(r[2]), r[3], r[4])
        for r in rows
    ]
