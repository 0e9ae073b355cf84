"""The technical events journal (JET): what happened to the box, as signed fiscal records.

The one place where starts and stops, clock jumps, configuration and software changes, device
errors, unknown payments and their resolution, reprints, purges, archives, closings, mode
changes, logins and admin actions are recorded. Each event is a record of the `event` chain
(store/fiscal.py): numbered without gaps, chained, signed, never changed.

    technical_events.record(db, EventKind.LOGIN, {"user": "marie"}, by="web:marie")

`record` joins the caller's transaction when there is one (so the event commits with the change
it describes) and otherwise writes in its own. `process_started` is what each process calls at
start: it records the start and any change of mode, software version or configuration since the
box last looked.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.config import Config
from appliance.core.fiscal import FiscalRecord, RecordType
from appliance.store import fiscal
from appliance.store.db import transaction

#: Configuration keys whose values never go into a record (masked as "***").
SECRET_WORDS = ("password", "secret", "token", "api_key", "private")
MASK = "***"


class EventKind(StrEnum):
    """What a technical event is about; add a member for a new kind (docs/fiscal.md lists them)."""

    START = "start"
    STOP = "stop"
    CLOCK_JUMP = "clock_jump"
    CONFIG_CHANGE = "config_change"
    SOFTWARE_CHANGE = "software_change"
    MODE_CHANGE = "mode_change"
    PRINTER_ERROR = "printer_error"
    TERMINAL_ERROR = "terminal_error"
    PAYMENT_UNKNOWN = "payment_unknown"
    PAYMENT_RESOLVED = "payment_resolved"
    REPRINT = "reprint"
    REFUND = "refund"
    PURGE = "purge"
    ARCHIVE = "archive"
    CLOSING = "closing"
    LOGIN = "login"
    LOGIN_REFUSED = "login_refused"
    LOGOUT = "logout"
    ADMIN_ACTION = "admin_action"
    UPDATE = "update"
    ROLLBACK = "rollback"
    BASKET_ABANDONED = "basket_abandoned"


@dataclass(frozen=True)
class TechnicalEvent:
    number: int
    ts: str
    kind: str
    by: str
    details: dict[str, Any]


def record(
    db: sqlite3.Connection,
    kind: EventKind,
    details: dict[str, Any] | None = None,
    *,
    by: str = "",
    ts: str | None = None,
) -> FiscalRecord:
    """Append one event (integers and text only in `details`: no floats, no secrets)."""
    data = {"event": kind.value, "by": by, "details": details or {}}
    with _joined(db):
        return fiscal.append(db, RecordType.EVENT, data, ts=ts)


def events(db: sqlite3.Connection, kind: EventKind | None = None) -> list[TechnicalEvent]:
    """Every event (or those of one kind), oldest first."""
    found = []
    for rec in fiscal.records(db, RecordType.EVENT):
        event = TechnicalEvent(
            rec.number, rec.ts, rec.data["event"], rec.data["by"], rec.data["details"]
        )
        if kind is None or event.kind == kind.value:
            found.append(event)
    return found


def process_started(db: sqlite3.Connection, config: Config, process: str) -> None:
    """Record the start of `process`, then what changed since the box last looked: the shop
    mode, the software version, each configuration key (old -> new, secrets masked)."""
    with transaction(db):
        record(db, EventKind.START, {"process": process, "version": __version__}, by=process)
        _note_change(db, "mode", config.shop.mode, EventKind.MODE_CHANGE, process, first="live")
        _note_change(db, "version", __version__, EventKind.SOFTWARE_CHANGE, process)
        now = flat_config(config)
        before = json.loads(fiscal.state(db, "config") or "null")
        if before is not None:
            for key in sorted(set(before) | set(now)):
                if before.get(key) != now.get(key):
                    record(
                        db,
                        EventKind.CONFIG_CHANGE,
                        {"key": key, "old": before.get(key), "new": now.get(key)},
                        by=process,
                    )
        fiscal.set_state(db, "config", json.dumps(now, sort_keys=True))


def sync_mode(db: sqlite3.Connection, mode: str, *, by: str) -> None:
    """Make the recorded shop mode `mode`, as a `mode_change` event when it differs."""
    with _joined(db):
        _note_change(db, "mode", mode, EventKind.MODE_CHANGE, by, first="live")


def process_stopped(db: sqlite3.Connection, process: str) -> None:
    record(db, EventKind.STOP, {"process": process}, by=process)


def flat_config(config: Config) -> dict[str, str]:
    """Every configuration key as `section.key` -> text, secrets masked."""
    flat: dict[str, str] = {}
    for section in dataclasses.fields(config):
        value = getattr(config, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        for item in dataclasses.fields(value):
            key = f"{section.name}.{item.name}"
            flat[key] = MASK if _secret(item.name) else _text(getattr(value, item.name))
    return flat


def _note_change(
    db: sqlite3.Connection,
    name: str,
    now: str,
    kind: EventKind,
    process: str,
    *,
    first: str | None = None,
) -> None:
    """An event when `name` changed; `first` is its value before anything was recorded."""
    before = fiscal.state(db, name) or first
    if before != now and before is not None:
        record(db, kind, {"old": before, "new": now}, by=process)
    if fiscal.state(db, name) != now:
        fiscal.set_state(db, name, now)


def _secret(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS) and not name.endswith("_file")


def _plain(value: Any) -> Any:
    """A dataclass in a tuple setting (lockers.compartments) as the dict JSON can write."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return json.dumps(
            [_plain(v) for v in value],
            default=str,
            ensure_ascii=False,
            sort_keys=True,
        )
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


@contextmanager
def _joined(db: sqlite3.Connection) -> Iterator[None]:
    if db.in_transaction:
        yield
    else:
        with transaction(db):
            yield
