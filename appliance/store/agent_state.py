"""What the fleet agent remembers across restarts, and the heartbeats every process writes.

- the MQTT session counter (birth and will carry it, so a late will from an old session is
  told apart from the current one);
- remote commands received and their recorded answers (a redelivered id is never run twice);
- settings overridden remotely through config/desired, with the version that set them;
- one heartbeat row per process, so telemetry can say that the kiosk is wedged or dead.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance import clock
from appliance.store.db import transaction

SESSION = "mqtt_session"
DESIRED_VERSION = "desired_version"


# -- counters -------------------------------------------------------------------------------------


def counter(db: sqlite3.Connection, name: str) -> int:
    row = db.execute("SELECT value FROM agent_counters WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


def next_session(db: sqlite3.Connection, *, at_least: int = 0) -> int:
    """Increment and return the MQTT session counter (one per connection attempt), to
    `at_least` if it is behind (sessions counted in memory while the disk was full)."""
    with transaction(db):
        db.execute(
            "UPDATE agent_counters SET value = max(value + 1, ?) WHERE name = ?",
            (at_least, SESSION),
        )
        return counter(db, SESSION)


# -- remote commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedCommand:
    id: str
    name: str
    state: str
    session: int
    ok: bool | None
    answer: dict[str, Any] | None

    @property
    def done(self) -> bool:
        return self.state == "done"


def recorded_command(db: sqlite3.Connection, command_id: str) -> RecordedCommand | None:
    row = db.execute(
        "SELECT id, name, state, session, ok, answer FROM agent_commands WHERE id = ?",
        (command_id,),
    ).fetchone()
    if row is None:
        return None
    cid, name, state, session, ok, answer = row
    return RecordedCommand(
        cid, name, state, session, None if ok is None else bool(ok), json.loads(answer or "null")
    )


def claim_command(
    db: sqlite3.Connection,
    command_id: str,
    name: str,
    args: dict[str, Any],
    *,
    requested_by: str,
    session: int,
) -> RecordedCommand | None:
    """Start running a command; None means "go ahead", else the record that already exists.

    A claim left running by an earlier agent session (the agent died mid-command) is taken over,
    so a redelivered command is not lost forever.
    """
    with transaction(db):
        found = recorded_command(db, command_id)
        if found is not None and (found.done or found.session == session):
            return found
        db.execute(
            "INSERT INTO agent_commands (id, name, args, requested_by, state, session, "
            "received_at) VALUES (?, ?, ?, ?, 'running', ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET session = excluded.session",
            (command_id, name, _dumps(args), requested_by, session, clock.now_iso()),
        )
    return None


def record_answer(
    db: sqlite3.Connection, command_id: str, ok: bool, answer: dict[str, Any]
) -> None:
    """Keep the final answer; a duplicate of this id will get exactly this answer."""
    with transaction(db):
        db.execute(
            "UPDATE agent_commands SET state = 'done', ok = ?, answer = ?, finished_at = ? "
            "WHERE id = ?",
            (int(ok), _dumps(answer), clock.now_iso(), command_id),
        )


def release_command(db: sqlite3.Connection, command_id: str) -> None:
    """Forget a claim whose answer was not final, so a redelivery asks again."""
    with transaction(db):
        db.execute("DELETE FROM agent_commands WHERE id = ? AND state = 'running'", (command_id,))


def commands_handled(db: sqlite3.Connection) -> int:
    done: int = db.execute("SELECT count(*) FROM agent_commands WHERE state = 'done'").fetchone()[0]
    return done


# -- remote settings ------------------------------------------------------------------------------


def overrides(db: sqlite3.Connection) -> dict[str, Any]:
    """Settings applied remotely, as {"section.key": value}."""
    return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM agent_overrides")}


def replace_overrides(db: sqlite3.Connection, values: dict[str, Any], version: int) -> None:
    """The accepted part of desired version `version` becomes the whole set of overrides."""
    now = clock.now_iso()
    with transaction(db):
        db.execute("DELETE FROM agent_overrides")
        for key, value in values.items():
            db.execute(
                "INSERT INTO agent_overrides (key, value, version, applied_at) VALUES (?, ?, ?, ?)",
                (key, _dumps(value), version, now),
            )
        db.execute("UPDATE agent_counters SET value = ? WHERE name = ?", (version, DESIRED_VERSION))


def set_override(db: sqlite3.Connection, key: str, value: Any) -> None:
    """One setting changed by a command (not by desired): keeps the current desired version."""
    with transaction(db):
        db.execute(
            "INSERT INTO agent_overrides (key, value, version, applied_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "applied_at = excluded.applied_at",
            (key, _dumps(value), counter(db, DESIRED_VERSION), clock.now_iso()),
        )


# -- heartbeats -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heartbeat:
    process: str
    pid: int
    beat_at: str
    stale_after_s: int
    detail: dict[str, Any]

    def age_s(self, now: datetime) -> float:
        return (now - datetime.fromisoformat(self.beat_at)).total_seconds()

    def alive(self, now: datetime) -> bool:
        return self.age_s(now) <= self.stale_after_s


def beat(
    db: sqlite3.Connection,
    process: str,
    *,
    stale_after_s: int,
    detail: dict[str, Any] | None = None,
) -> None:
    """Say that `process` is alive; it counts as dead when no beat came for `stale_after_s`.

    `detail` carries what the process wants telemetry to show (the kiosk: health of the scale,
    printer, terminal, locks and sensors it owns).
    """
    with transaction(db):
        db.execute(
            "INSERT INTO process_heartbeats (process, pid, beat_at, stale_after_s, detail) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (process) DO UPDATE SET pid = excluded.pid, "
            "beat_at = excluded.beat_at, stale_after_s = excluded.stale_after_s, "
            "detail = excluded.detail",
            (process, os.getpid(), clock.now_iso(), stale_after_s, _dumps(detail or {})),
        )


def heartbeats(db: sqlite3.Connection) -> dict[str, Heartbeat]:
    rows = db.execute("SELECT process, pid, beat_at, stale_after_s, detail FROM process_heartbeats")
    return {p: Heartbeat(p, pid, at, stale, json.loads(d)) for p, pid, at, stale, d in rows}


def _dumps(value: Any) -> str:
    # Not canonical_json: answers and telemetry details may hold floats (ages, percentages).
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
