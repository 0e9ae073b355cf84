"""Alarms: something a person must look at, shown on the admin side until someone resolves it.

`raise_alarm` is the one way to raise one, whatever its cause (a door, a fridge, a payment): an
open alert for the shop's staff and an outbox event for the fleet, whose type is the cause
(`event/door_forced`, `event/temperature_excursion`, ...), in the transaction of what caused it.
An unknown card payment (subject = the attempt id) is resolved through `sales.resolve_unknown`,
which closes its alert in the same transaction; any other alert by `resolve_about`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from appliance import clock
from appliance.said import Said
from appliance.store import outbox
from appliance.store.db import insert_row, require_transaction

_COLUMNS = "id, kind, subject, message, created_at, resolved_at, resolved_by, resolution, said"


class Alarm(StrEnum):
    """Every cause of an alarm: the alert's kind and the type of its outbox event."""

    PAYMENT_UNKNOWN = "payment_unknown"  # the customer may have been charged
    DOOR_LEFT_OPEN = "door_left_open"
    DOOR_FORCED = "door_forced"  # opened without a command
    DOOR_SWITCH_FLAPPING = "door_switch_flapping"  # check the wiring
    LOCK_BOARD_DOWN = "lock_board_down"
    DOOR_FAILED = "door_failed"  # stayed shut after the unlock and one retry
    LOCK_FAULT = "lock_fault"  # the lock board did not answer the unlock
    ITEM_LEFT = "item_left"  # the item sensor still sees something after a pickup
    CANCELLED = "cancelled"  # an order cancelled online was asked for at the locker
    CANCELLED_IN_LOCKER = "cancelled_in_locker"  # cancelled online while in a compartment
    WALKIN_REFUND_NEEDED = "walkin_refund_needed"  # paid, but the door stayed shut
    PICKUP_CODE_NOT_SENT = "pickup_code_not_sent"
    TEMPERATURE_EXCURSION = "temperature_excursion"  # a zone above its limit too long
    TEMPERATURE_SENSOR_FAULT = "temperature_sensor_fault"
    DATABASE_DAMAGED = "database_damaged"  # a table failed PRAGMA quick_check or integrity_check
    PASTEQUE_UNREACHABLE = "pasteque_unreachable"  # the till gateway failed rounds in a row
    PASTEQUE_TICKET_REFUSED = "pasteque_ticket_refused"  # the till refused a ticket for good
    PASTEQUE_STOPPED = "pasteque_stopped"  # a tax or payment mode the till lacks
    PASTEQUE_MISMATCH = "pasteque_mismatch"  # the till's Z would not be the box's closing
    HELP_REQUESTED = "help_requested"  # a customer touched "Besoin d'aide ?" on the kiosk


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str  # an Alarm value (a str, so that a kind written by a newer release still shows)
    subject: str
    message: str
    created_at: str
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    said: Said | None = None  # the message as it was said, for the reader's language

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> Alert:
        *columns, said = row
        alert = cls(*columns)
        return replace(alert, said=Said.from_json(json.loads(said))) if said else alert


def raise_alarm(
    db: sqlite3.Connection,
    alarm: Alarm,
    message: str | Said,
    *,
    subject: str = "",
    ts: str | None = None,
    event_id: str | None = None,
    **details: Any,
) -> Alert:
    """Open an alert and emit its `alarm` event ({"message", **details}); call inside the
    transaction of what caused it. A `Said` message is kept as said too (the web says it in
    the reader's language); its English text is the message everywhere else."""
    require_transaction(db, "alerts.raise_alarm")
    ts = ts or clock.now_iso()
    text = str(message)
    said = message if isinstance(message, Said) else None
    alert_id = insert_row(
        db,
        "INSERT INTO alerts (kind, subject, message, created_at, said) VALUES (?, ?, ?, ?, ?)",
        (alarm.value, subject, text, ts, json.dumps(said.to_json()) if said else None),
    )
    outbox.emit(db, alarm.value, {"message": text, **details}, event_id=event_id, ts=ts)
    return Alert(alert_id, alarm.value, subject, text, ts, said=said)


def open_alerts(db: sqlite3.Connection, kind: Alarm | None = None) -> list[Alert]:
    """Unresolved alerts, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM alerts WHERE resolved_at IS NULL"
    params: tuple[str, ...] = ()
    if kind:
        sql += " AND kind = ?"
        params = (kind,)
    return [Alert.of_row(row) for row in db.execute(sql + " ORDER BY created_at, id", params)]


def resolve_about(db: sqlite3.Connection, kind: str, subject: str, by: str, resolution: str) -> int:
    """Close the open alerts of `kind` about `subject`; returns how many were open."""
    cursor = db.execute(
        "UPDATE alerts SET resolved_at = ?, resolved_by = ?, resolution = ? "
        "WHERE kind = ? AND subject = ? AND resolved_at IS NULL",
        (clock.now_iso(), by, resolution, kind, subject),
    )
    return cursor.rowcount
