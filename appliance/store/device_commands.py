"""The device command queue: other processes ask, the kiosk (owner of the hardware) executes.

Every door opening and every test label goes through here, with who asked, why, an expiry and
the recorded result. Times are `clock.iso` strings, so they compare as text. `CommandName` is
the one list of what the kiosk can be asked to do, for the web, the CLI and the agent alike.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from appliance import clock
from appliance.core.journal import canonical_json
from appliance.said import Said, said
from appliance.store.db import transaction


class CommandName(StrEnum):
    """What the kiosk can be asked to do (each has a handler in `kiosk/remote.py`)."""

    OPEN_DOOR = "open_door"  # args: {"compartment": n}; the reason is required
    PRINT_TEST_LABEL = "print_test_label"
    SCALE_ZERO = "scale_zero"
    RESTART_UI = "restart_ui"  # a fresh journey and catalogue, refused while someone pays
    # args: {"hold_s": n}; refused while a customer is at the kiosk, else "back in a minute"
    PAUSE_FOR_UPDATE = "pause_for_update"
    REPRINT_RECEIPT = "reprint_receipt"  # args: {"receipt": n}; a DUPLICATA, recorded
    PRINT_CLOSING = "print_closing"  # args: {"closing": n}, or {} for the last one; the Z
    # The installer's hardware test (web admin, "Essai du matériel"):
    READ_SCALE = "read_scale"  # the scale's next reading: status, weight, tare
    READ_THERMOMETERS = "read_thermometers"  # each configured DS18B20 read once, now
    # args: {"amount_cents": n}; a real card payment recorded as a sale with its ticket
    TEST_PAYMENT = "test_payment"

    @classmethod
    def parse(cls, text: str) -> CommandName | None:
        """The command `text` names, or None (a typo, or a command of another release)."""
        try:
            return cls(text)
        except ValueError:
            return None


_EXPIRED = said("expired before it could run")

#: A `test_payment` charges this many cents unless asked otherwise, and never more than the most.
TEST_PAYMENT_CENTS = 10
TEST_PAYMENT_MOST_CENTS = 500


@dataclass(frozen=True)
class DeviceCommand:
    id: str
    name: str  # a CommandName value, kept as text: a row may name what this kiosk lacks
    args: dict[str, Any]
    requested_by: str
    reason: str
    created_at: str
    expires_at: str
    state: str
    result: dict[str, Any] | None
    finished_at: str | None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "refused")


def queue(
    db: sqlite3.Connection,
    name: CommandName,
    args: dict[str, Any] | None = None,
    *,
    requested_by: str,
    reason: str = "",
    ttl_s: int = 60,
    command_id: str | None = None,
    expires_at: str | None = None,
) -> DeviceCommand:
    """Ask the kiosk to do something; returns the queued command (or the existing one by id)."""
    command_id = command_id or str(uuid.uuid4())
    created = clock.now_iso()
    if expires_at is None:
        expires_at = clock.iso(clock.now() + timedelta(seconds=ttl_s))
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO device_commands "
            "(id, name, args, requested_by, reason, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                command_id,
                name,
                canonical_json(args or {}),
                requested_by,
                reason,
                created,
                expires_at,
            ),
        )
    found = get(db, command_id)
    assert found is not None
    return found


def get(db: sqlite3.Connection, command_id: str) -> DeviceCommand | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM device_commands WHERE id = ?", (command_id,)
    ).fetchone()
    return _command(row) if row else None


def take_next(db: sqlite3.Connection, now: str | None = None) -> DeviceCommand | None:
    """Claim the oldest queued command; expired ones are refused on the way."""
    now = now or clock.now_iso()
    with transaction(db):
        while True:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM device_commands WHERE state = 'queued' "
                "ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            command = _command(row)
            if command.expires_at <= now:
                _finish(db, command.id, "refused", failure(_EXPIRED), now)
                continue
            db.execute("UPDATE device_commands SET state = 'running' WHERE id = ?", (command.id,))
            return _command(row, state="running")


def failure(error: str | Said) -> dict[str, Any]:
    """A failed command's result: `{"error": English text}`, and the error as it was said
    (`"error_said"`) for the reader's language on the web."""
    if isinstance(error, Said):
        return {"error": str(error), "error_said": error.to_json()}
    return {"error": error}


def finish(db: sqlite3.Connection, command_id: str, ok: bool, result: dict[str, Any]) -> None:
    """Record the outcome: `result` on success, `failure(...)` on failure."""
    with transaction(db):
        _finish(db, command_id, "done" if ok else "failed", result, clock.now_iso())


def refuse(db: sqlite3.Connection, command_id: str, reason: str | Said) -> None:
    with transaction(db):
        _finish(db, command_id, "refused", failure(reason), clock.now_iso())


def wait(db: sqlite3.Connection, command_id: str, timeout_s: float) -> DeviceCommand | None:
    """Wait until the command finishes or `timeout_s` passes; returns its latest state."""
    deadline = time.monotonic() + timeout_s
    while True:
        command = get(db, command_id)
        if command is None or command.finished or time.monotonic() >= deadline:
            return command
        time.sleep(0.05)


def queued_count(db: sqlite3.Connection) -> int:
    """Commands still waiting for the kiosk (a growing number: the kiosk is not taking them)."""
    count: int = db.execute(
        "SELECT count(*) FROM device_commands WHERE state = 'queued'"
    ).fetchone()[0]
    return count


def recent(db: sqlite3.Connection, limit: int = 50) -> list[DeviceCommand]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM device_commands ORDER BY created_at DESC LIMIT ?", (limit,)
    )
    return [_command(row) for row in rows]


_COLUMNS = (
    "id, name, args, requested_by, reason, created_at, expires_at, state, result, finished_at"
)


def _finish(
    db: sqlite3.Connection, command_id: str, state: str, result: dict[str, Any], now: str
) -> None:
    db.execute(
        "UPDATE device_commands SET state = ?, result = ?, finished_at = ? WHERE id = ?",
        (state, canonical_json(result), now, command_id),
    )


def _command(row: tuple[Any, ...], state: str | None = None) -> DeviceCommand:
    cid, name, args, by, reason, created, expires, st, result, finished = row
    return DeviceCommand(
        cid,
        name,
        json.loads(args),
        by,
        reason,
        created,
        expires,
        state or st,
        json.loads(result) if result else None,
        finished,
    )
