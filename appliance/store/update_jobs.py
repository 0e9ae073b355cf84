"""Update jobs as the box reports them: queued, downloading (percent), ..., succeeded.

The agent's update job writes the first states, the updater (another process, the known-good
release) the last ones; the agent publishes whatever changed (docs/updates.md, "States").
Terminal states are final: a job never leaves succeeded, rolled_back or failed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from appliance.clock import now_iso
from appliance.store import outbox
from appliance.store.db import transaction

TERMINAL = ("succeeded", "rolled_back", "failed")


@dataclass(frozen=True)
class UpdateJob:
    job: str
    version: str
    from_version: str
    url: str
    sha256: str
    requested_by: str
    health_s: int
    switch_window: str
    state: str
    percent: int | None
    reason: str
    created_at: str
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    def report(self) -> dict[str, Any]:
        """What the box publishes about this job."""
        body = asdict(self)
        for private in ("url", "sha256", "requested_by", "created_at", "health_s", "switch_window"):
            body.pop(private)
        body["from"] = body.pop("from_version")
        body["ts"] = body.pop("updated_at")
        return body


_COLUMNS = (
    "job, version, from_version, url, sha256, requested_by, health_s, switch_window, state, "
    "percent, reason, "
    "created_at, updated_at"
)


def create(
    db: sqlite3.Connection,
    job: str,
    *,
    version: str,
    from_version: str,
    url: str,
    sha256: str,
    requested_by: str,
    health_s: int = 120,
    switch_window: str = "",
) -> UpdateJob:
    now = now_iso()
    with transaction(db):
        db.execute(
            f"INSERT INTO update_jobs ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', NULL, '', ?, ?)",
            (
                job,
                version,
                from_version,
                url,
                sha256,
                requested_by,
                health_s,
                switch_window,
                now,
                now,
            ),
        )
        found = get(db, job)
        assert found is not None
        outbox.emit(db, "update_state", found.report())
    return found


def set_state(
    db: sqlite3.Connection, job: str, state: str, *, percent: int | None = None, reason: str = ""
) -> None:
    """Move a job on, with an `update_state` outbox event (each state reaches the fleet, in
    order, even when the broker was away); joins the caller's transaction."""
    if db.in_transaction:
        _set_state(db, job, state, percent, reason)
    else:
        with transaction(db):
            _set_state(db, job, state, percent, reason)


def _set_state(
    db: sqlite3.Connection, job: str, state: str, percent: int | None, reason: str
) -> None:
    changed = db.execute(
        "UPDATE update_jobs SET state = ?, percent = ?, reason = ?, updated_at = ? "
        f"WHERE job = ? AND state NOT IN ({','.join('?' * len(TERMINAL))})",
        (state, percent, reason, now_iso(), job, *TERMINAL),
    ).rowcount
    found = get(db, job)
    if changed and found is not None:
        outbox.emit(db, "update_state", found.report())


def get(db: sqlite3.Connection, job: str) -> UpdateJob | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM update_jobs WHERE job = ?", (job,)).fetchone()
    return UpdateJob(*row) if row else None


def latest(db: sqlite3.Connection) -> UpdateJob | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM update_jobs ORDER BY updated_at DESC, rowid DESC LIMIT 1"
    ).fetchone()
    return UpdateJob(*row) if row else None


def unfinished(db: sqlite3.Connection) -> list[UpdateJob]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM update_jobs WHERE state NOT IN "
        f"({','.join('?' * len(TERMINAL))}) ORDER BY created_at",
        TERMINAL,
    )
    return [UpdateJob(*row) for row in rows]


def insert_found(db: sqlite3.Connection, job: str, version: str, from_version: str) -> None:
    """A job the updater finished without the agent's record (installed by hand): note it."""
    now = now_iso()
    db.execute(
        f"INSERT OR IGNORE INTO update_jobs ({_COLUMNS}) "
        "VALUES (?, ?, ?, '', '', 'local', 120, '', 'switching', NULL, '', ?, ?)",
        (job, version, from_version, now, now),
    )
