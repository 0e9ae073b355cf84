"""What the till gateway keeps (migration 0013): the server's ids, the ticket counter, the cash
sessions it opens and closes, and the tickets it sends, frozen once numbered.

Tickets are never changed or deleted once written (SQLite triggers refuse it): only their
state moves, `queued` -> `sent` (the server said success) or `refused` (the server refused it
for good and kept a signed trace). The order of sending is the sessions' order (business day,
then creation) and, inside a session: its open, its tickets by number, its close.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from appliance.store.db import insert_row, require_transaction


@dataclass(frozen=True)
class GatewayState:
    mapping: str
    mapped_at: str
    next_number: int
    last_attempt_at: str
    last_success_at: str
    last_failure_at: str
    last_failure: str
    failures_in_row: int
    retry_at: str
    stopped: str


@dataclass(frozen=True)
class Session:
    id: int
    day: str
    sequence: int | None
    continuous: bool
    open_body: str | None
    opened_at: str | None
    closing: str | None  # the box closing that closes it (JSON), once taken from the outbox
    close_body: str | None
    closed_at: str | None
    z: str | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True)
class Ticket:
    number: int
    session_id: int
    source: str
    kind: str
    date_s: int
    content: str
    figures: str
    state: str
    attempts: int
    last_error: str
    queued_at: str
    sent_at: str | None


_GATEWAY = (
    "mapping, mapped_at, next_number, last_attempt_at, last_success_at, last_failure_at, "
    "last_failure, failures_in_row, retry_at, stopped"
)
_SESSION = "id, day, sequence, continuous, open_body, opened_at, closing, close_body, closed_at, z"
_TICKET = (
    "number, session_id, source, kind, date_s, content, figures, state, attempts, last_error, "
    "queued_at, sent_at"
)


# -- the gateway ----------------------------------------------------------------------------------


def gateway(db: sqlite3.Connection) -> GatewayState:
    row = db.execute(f"SELECT {_GATEWAY} FROM pasteque_gateway WHERE id = 1").fetchone()
    return GatewayState(*row)


def save_mapping(db: sqlite3.Connection, mapping: str, now: str) -> None:
    db.execute(
        "UPDATE pasteque_gateway SET mapping = ?, mapped_at = ?, stopped = '' WHERE id = 1",
        (mapping, now),
    )


def stop(db: sqlite3.Connection, reason: str) -> None:
    db.execute("UPDATE pasteque_gateway SET stopped = ? WHERE id = 1", (reason,))


def record_success(db: sqlite3.Connection, now: str) -> None:
    db.execute(
        "UPDATE pasteque_gateway SET last_attempt_at = ?, last_success_at = ?, "
        "failures_in_row = 0, retry_at = '' WHERE id = 1",
        (now, now),
    )


def record_failure(db: sqlite3.Connection, now: str, error: str, retry_at: str) -> int:
    """One more failed round; returns how many in a row."""
    db.execute(
        "UPDATE pasteque_gateway SET last_attempt_at = ?, last_failure_at = ?, last_failure = ?, "
        "failures_in_row = failures_in_row + 1, retry_at = ? WHERE id = 1",
        (now, now, error, retry_at),
    )
    return int(
        db.execute("SELECT failures_in_row FROM pasteque_gateway WHERE id = 1").fetchone()[0]
    )


def take_number(db: sqlite3.Connection, at_least: int) -> int:
    """The next ticket number, never given before; `at_least` is the server's nextTicketId."""
    require_transaction(db, "pasteque.take_number")
    current = gateway(db).next_number
    highest: int = db.execute("SELECT coalesce(max(number), 0) FROM pasteque_tickets").fetchone()[0]
    number = max(current, at_least, highest + 1)
    db.execute("UPDATE pasteque_gateway SET next_number = ? WHERE id = 1", (number + 1,))
    return number


# -- sessions -------------------------------------------------------------------------------------


def sessions(db: sqlite3.Connection, *, open_only: bool = False) -> list[Session]:
    """In sending order; `open_only`: those the server has not confirmed closed yet."""
    where = "WHERE closed_at IS NULL " if open_only else ""
    rows = db.execute(f"SELECT {_SESSION} FROM pasteque_sessions {where}ORDER BY day, id")
    return [_session(row) for row in rows]


def session(db: sqlite3.Connection, session_id: int) -> Session:
    row = db.execute(
        f"SELECT {_SESSION} FROM pasteque_sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return _session(row)


def session_for(db: sqlite3.Connection, day: str, now: str) -> Session:
    """The session that takes a ticket of `day`: that day's own while its closing is not taken,
    else the latest session still taking tickets, else a new one for that day."""
    require_transaction(db, "pasteque.session_for")
    taking = [s for s in sessions(db) if s.closing is None]
    own = [s for s in taking if s.day == day]
    if own:
        return own[0]
    if taking and taking[-1].day > day:
        return taking[-1]  # a late ticket (clock set back, or past its day's closing)
    return session(
        db,
        insert_row(db, "INSERT INTO pasteque_sessions (day, created_at) VALUES (?, ?)", (day, now)),
    )


def last_sequence(db: sqlite3.Connection) -> int | None:
    sequence: int | None = db.execute("SELECT max(sequence) FROM pasteque_sessions").fetchone()[0]
    return sequence


def freeze_open(
    db: sqlite3.Connection, session_id: int, sequence: int, continuous: bool, body: str
) -> None:
    """Give the session its sequence and the exact open it will send, once."""
    db.execute(
        "UPDATE pasteque_sessions SET sequence = ?, continuous = ?, open_body = ? "
        "WHERE id = ? AND open_body IS NULL",
        (sequence, int(continuous), body, session_id),
    )


def mark_opened(db: sqlite3.Connection, session_id: int, now: str) -> None:
    db.execute(
        "UPDATE pasteque_sessions SET opened_at = coalesce(opened_at, ?) WHERE id = ?",
        (now, session_id),
    )


def set_closing(db: sqlite3.Connection, session_id: int, closing: str) -> None:
    """The box's closing that ends this session: no ticket joins it any more."""
    db.execute(
        "UPDATE pasteque_sessions SET closing = ? WHERE id = ? AND closing IS NULL",
        (closing, session_id),
    )


def freeze_close(db: sqlite3.Connection, session_id: int, body: str) -> None:
    db.execute(
        "UPDATE pasteque_sessions SET close_body = ? WHERE id = ? AND close_body IS NULL",
        (body, session_id),
    )


def mark_closed(db: sqlite3.Connection, session_id: int, z: str, now: str) -> None:
    db.execute(
        "UPDATE pasteque_sessions SET closed_at = ?, z = ? WHERE id = ? AND closed_at IS NULL",
        (now, z, session_id),
    )


# -- tickets --------------------------------------------------------------------------------------


def has_source(db: sqlite3.Connection, source: str) -> bool:
    return bool(db.execute("SELECT 1 FROM pasteque_tickets WHERE source = ?", (source,)).fetchone())


def add_ticket(
    db: sqlite3.Connection,
    *,
    number: int,
    session_id: int,
    source: str,
    kind: str,
    date_s: int,
    content: str,
    figures: str,
    now: str,
) -> None:
    require_transaction(db, "pasteque.add_ticket")
    db.execute(
        "INSERT INTO pasteque_tickets (number, session_id, source, kind, date_s, content, "
        "figures, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (number, session_id, source, kind, date_s, content, figures, now),
    )


def tickets(
    db: sqlite3.Connection,
    *,
    session_id: int | None = None,
    state: str | None = None,
    limit: int = -1,
) -> list[Ticket]:
    sql = f"SELECT {_TICKET} FROM pasteque_tickets WHERE 1"
    params: list[Any] = []
    if session_id is not None:
        sql += " AND session_id = ?"
        params.append(session_id)
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    rows = db.execute(sql + " ORDER BY number LIMIT ?", (*params, limit))
    return [Ticket(*row) for row in rows]


def mark_sent(db: sqlite3.Connection, numbers: list[int], now: str) -> None:
    db.executemany(
        "UPDATE pasteque_tickets SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
        "last_error = '' WHERE number = ? AND state = 'queued'",
        [(now, n) for n in numbers],
    )


def mark_refused(db: sqlite3.Connection, number: int, error: str) -> None:
    db.execute(
        "UPDATE pasteque_tickets SET state = 'refused', attempts = attempts + 1, last_error = ? "
        "WHERE number = ? AND state = 'queued'",
        (error, number),
    )


def note_attempt(db: sqlite3.Connection, numbers: list[int], error: str) -> None:
    """A try that neither succeeded nor was refused: the tickets wait, with the reason."""
    db.executemany(
        "UPDATE pasteque_tickets SET attempts = attempts + 1, last_error = ? "
        "WHERE number = ? AND state = 'queued'",
        [(error, n) for n in numbers],
    )


def counts(db: sqlite3.Connection) -> dict[str, Any]:
    """Tickets by state, with the money waiting, for the status."""
    rows = db.execute(
        "SELECT state, count(*), coalesce(sum(json_extract(figures, '$.total_cents')), 0), "
        "min(queued_at) FROM pasteque_tickets GROUP BY state"
    ).fetchall()
    by_state = {state: (n, cents, oldest) for state, n, cents, oldest in rows}
    queued = by_state.get("queued", (0, 0, None))
    return {
        "tickets_queued": queued[0],
        "queued_total_cents": queued[1],
        "oldest_queued_at": queued[2] or "",
        "tickets_sent": by_state.get("sent", (0, 0, None))[0],
        "tickets_refused": by_state.get("refused", (0, 0, None))[0],
    }


def _session(row: tuple[Any, ...]) -> Session:
    values = list(row)
    values[3] = bool(values[3])
    return Session(*values)
