"""Lockers in the database: what each compartment holds, deposits, pickup codes, door events.

Every change that the world must hear about is written with its journal entry and outbox event
in one transaction: a deposit makes the order `in_locker` (journal `deposit`); a pickup door
closing makes it `collected` (journal `pickup`, outbox `order_collected`). Codes are stored as a
keyed lookup plus a salted hash (`core.pickup_code`); the code in clear is only returned to the
caller that must send it to the customer, and never logged.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from appliance.core import pickup_code
from appliance.core.locker import Compartment, Use
from appliance.core.order import Order, OrderState
from appliance.core.pickup_code import Verdict
from appliance.errors import ComptoirError, ConfigError
from appliance.store import alerts, journal, orders, outbox
from appliance.store.db import transaction


class LockerError(ComptoirError):
    """A locker operation that cannot be done now; the message says why and what to do."""


@dataclass(frozen=True)
class CompartmentState:
    number: int
    use: Use
    order_number: str | None
    walkin_name: str
    walkin_sku: str
    walkin_price_cents: int
    walkin_producer: str
    note: str
    updated_at: str


@dataclass(frozen=True)
class IssuedCode:
    """A new pickup code, in clear only here, for the message to the customer."""

    code: str
    token: str
    expires_at: datetime
    code_id: int


@dataclass(frozen=True)
class CodeCheck:
    """What a typed or scanned code opened (or why not)."""

    verdict: Verdict
    order_number: str | None = None
    compartment: int | None = None
    code_id: int | None = None
    locked_until: datetime | None = None


# -- the device key -------------------------------------------------------------------------------


def device_key_for(configured: Path | None, data_dir: Path) -> bytes:
    """`[lockers] device_key_file`, or a key created once in the data directory's secrets."""
    if configured is not None:
        return device_key(configured)
    return device_key(data_dir / "secrets" / "device.key", create=True)


def device_key(path: Path, *, create: bool = False) -> bytes:
    """The secret that keys code lookups and signs QR tokens; created (0600) when asked."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise ConfigError(
                f"the device key file {path} does not exist: create it with "
                f"`head -c 32 /dev/urandom > {path}` readable by the service user only"
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        return path.read_bytes()
    if len(key) < 16:
        raise ConfigError(f"the device key file {path} holds {len(key)} bytes: 32 are needed")
    return key


# -- compartments ---------------------------------------------------------------------------------


def sync_compartments(db: sqlite_utils.Database, compartments: Iterable[Compartment]) -> None:
    """Add a row for every configured compartment that has none yet (free)."""
    with transaction(db):
        for c in compartments:
            db.execute(
                "INSERT OR IGNORE INTO compartments (number, updated_at) VALUES (?, ?)",
                (c.number, _iso(_now())),
            )


def states(db: sqlite_utils.Database) -> dict[int, CompartmentState]:
    rows = db.execute(f"SELECT {_STATE_COLUMNS} FROM compartments ORDER BY number")
    return {row[0]: _state(row) for row in rows}


def state(db: sqlite_utils.Database, number: int) -> CompartmentState | None:
    row = db.execute(
        f"SELECT {_STATE_COLUMNS} FROM compartments WHERE number = ?", (number,)
    ).fetchone()
    return _state(row) if row else None


def busy(db: sqlite_utils.Database) -> set[int]:
    """Compartments that must not be offered for a deposit."""
    return {n for (n,) in db.execute("SELECT number FROM compartments WHERE use != 'free'")}


def set_out_of_order(db: sqlite_utils.Database, number: int, why: str) -> None:
    """Take a failed door out of service (its order, if any, stays where it is)."""
    with transaction(db):
        current = _require(db, number)
        if current.use is Use.ORDER:
            db.execute("UPDATE compartments SET note = ? WHERE number = ?", (why, number))
        else:
            _set(db, number, Use.OUT_OF_ORDER, note=why)


def set_free(db: sqlite_utils.Database, number: int, by: str) -> None:
    """Staff checked the compartment: empty it in the records (not one holding an order)."""
    with transaction(db):
        current = _require(db, number)
        if current.use is Use.ORDER:
            raise LockerError(
                f"compartment {number} holds order {current.order_number}: hand it out or "
                f"cancel it first"
            )
        _set(db, number, Use.FREE)
        _door_event(db, number, "freed", requested_by=by)


def fill_walkin(
    db: sqlite_utils.Database,
    number: int,
    *,
    name: str,
    price_cents: int,
    producer: str,
    sku: str = "",
) -> None:
    """A producer put produce for sale on the spot in a free compartment."""
    if price_cents <= 0:
        raise LockerError(f"a walk-in price must be above 0 cents, not {price_cents}")
    with transaction(db):
        current = _require(db, number)
        if current.use not in (Use.FREE, Use.WALKIN):
            raise LockerError(f"compartment {number} is {current.use.value}: choose a free one")
        _set(db, number, Use.WALKIN, walkin=(name, sku, price_cents, producer))
        journal.append(
            db,
            "walkin_fill",
            {"compartment": number, "name": name, "price_cents": price_cents, "by": producer},
        )
        _door_event(db, number, "walkin_filled", requested_by=producer)


def empty_walkin(db: sqlite_utils.Database, number: int, receipt: str) -> None:
    """The customer who paid took the produce: the compartment is free again."""
    with transaction(db):
        current = _require(db, number)
        if current.use is not Use.WALKIN:
            raise LockerError(f"compartment {number} holds no produce for sale")
        _set(db, number, Use.FREE)
        _door_event(db, number, "walkin_sold", detail=receipt)


# -- deposit --------------------------------------------------------------------------------------


def deposit(
    db: sqlite_utils.Database,
    number: str,
    compartment: int,
    *,
    producer: str,
    key: bytes,
    validity_days: int,
    digits: int = 6,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> IssuedCode:
    """The deposit door closed on order `number`: it is now in the locker with a fresh code."""
    now = now or _now()
    rng = rng or random.SystemRandom()
    with transaction(db):
        order = orders.get(db, number)
        if order is None:
            raise LockerError(f"there is no order {number}: import or sync it first")
        if order.state is not OrderState.WAITING:
            raise LockerError(f"order {number} is {order.state.value}, not waiting for a deposit")
        current = _require(db, compartment)
        if current.use is not Use.FREE:
            raise LockerError(f"compartment {compartment} is not free ({current.use.value})")
        orders.save(db, _moved(order, OrderState.IN_LOCKER, compartment))
        _set(db, compartment, Use.ORDER, order_number=number)
        db.execute(
            "INSERT INTO deposits (order_number, compartment, producer, deposited_at) "
            "VALUES (?, ?, ?, ?)",
            (number, compartment, producer, _iso(now)),
        )
        issued = _issue_code(db, number, key, validity_days, digits, rng, now)
        journal.append(
            db,
            "deposit",
            {"number": number, "compartment": compartment, "producer": producer},
            ts=_iso(now),
        )
        outbox.emit(
            db,
            "order_deposited",
            {"number": number, "compartment": compartment, "deposited_at": _iso(now)},
            ts=_iso(now),
        )
        _door_event(db, compartment, "deposit_closed", order_number=number, requested_by=producer)
    return issued


def reissue_code(
    db: sqlite_utils.Database,
    number: str,
    *,
    key: bytes,
    validity_days: int,
    digits: int = 6,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> IssuedCode:
    """Revoke an in-locker order's codes and issue a new one (a lost or unsent e-mail)."""
    now = now or _now()
    with transaction(db):
        order = orders.get(db, number)
        if order is None or order.state is not OrderState.IN_LOCKER:
            raise LockerError(f"order {number} is not in a locker: no code to send")
        db.execute(
            "UPDATE pickup_codes SET revoked_at = ? WHERE order_number = ? AND revoked_at IS NULL",
            (_iso(now), number),
        )
        return _issue_code(
            db, number, key, validity_days, digits, rng or random.SystemRandom(), now
        )


def _issue_code(
    db: sqlite_utils.Database,
    number: str,
    key: bytes,
    validity_days: int,
    digits: int,
    rng: random.Random,
    now: datetime,
) -> IssuedCode:
    # A code whose lookup another live code already has would be ambiguous: draw again.
    while True:
        code = pickup_code.new_code(rng, digits)
        lookup = pickup_code.lookup_key(key, code)
        taken = db.execute(
            "SELECT 1 FROM pickup_codes WHERE lookup = ? AND used_at IS NULL "
            "AND revoked_at IS NULL AND expires_at > ?",
            (lookup, _iso(now)),
        ).fetchone()
        if not taken:
            break
    expires = pickup_code.expiry(now, validity_days)
    salt = rng.randbytes(pickup_code.SALT_BYTES)
    cursor = db.execute(
        "INSERT INTO pickup_codes (order_number, lookup, code_hash, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (number, lookup, pickup_code.hash_code(code, salt), _iso(now), _iso(expires)),
    )
    code_id = cursor.lastrowid
    token = pickup_code.sign_token(key, number, code_id, expires)
    return IssuedCode(code, token, expires, code_id)


# -- codes typed or scanned -----------------------------------------------------------------------


def check_code(
    db: sqlite_utils.Database,
    text: str,
    *,
    key: bytes,
    now: datetime | None = None,
) -> CodeCheck:
    """Check a typed code or a scanned QR token and record the attempt (never the code).

    After five unknown codes in a row the keypad is locked for a growing delay; an attempt
    while locked is recorded as `locked` and not looked at."""
    now = now or _now()
    method = "qr" if pickup_code.is_token_shaped(text) else "code"
    with transaction(db):
        locked_until = _locked_until(db, "customer", now)
        if locked_until is not None:
            check = CodeCheck(Verdict.LOCKED, locked_until=locked_until)
        else:
            check = _find_code(db, text, key, now)
            if check.verdict is Verdict.UNKNOWN:
                check = CodeCheck(
                    Verdict.UNKNOWN, locked_until=_lock_after_wrong(db, "customer", now)
                )
        _record_attempt(db, "customer", method, check.verdict.value, now, check.order_number)
        if check.verdict is not Verdict.OK:
            payload = {"verdict": check.verdict.value, "method": method}
            payload["order_number"] = check.order_number
            outbox.emit(db, "pickup_refused", payload, ts=_iso(now))
    return check


def _find_code(db: sqlite_utils.Database, text: str, key: bytes, now: datetime) -> CodeCheck:
    text = text.strip()
    if pickup_code.is_token_shaped(text):
        token = pickup_code.read_token(key, text)
        if token is None:
            return CodeCheck(Verdict.UNKNOWN)
        row = db.execute(
            f"SELECT {_CODE_COLUMNS} FROM pickup_codes WHERE id = ? AND order_number = ?",
            (token.code_id, token.order_number),
        ).fetchone()
    else:
        rows = db.execute(
            f"SELECT {_CODE_COLUMNS}, code_hash FROM pickup_codes WHERE lookup = ? "
            "ORDER BY id DESC",
            (pickup_code.lookup_key(key, text),),
        ).fetchall()
        row = next((r[:-1] for r in rows if pickup_code.code_matches(text, r[-1])), None)
    if row is None:
        return CodeCheck(Verdict.UNKNOWN)
    code_id, number, expires_at, used_at, revoked_at = row
    if revoked_at is not None:
        return CodeCheck(Verdict.UNKNOWN)
    order = orders.get(db, number)
    if order is None:
        return CodeCheck(Verdict.UNKNOWN)
    found = {"order_number": number, "code_id": code_id}
    if used_at is not None or order.state is OrderState.COLLECTED:
        return CodeCheck(Verdict.ALREADY_COLLECTED, **found)
    if order.state is OrderState.CANCELLED:
        return CodeCheck(Verdict.CANCELLED, **found)
    if expires_at <= _iso(now) or order.state is not OrderState.IN_LOCKER:
        return CodeCheck(Verdict.EXPIRED, **found)
    return CodeCheck(Verdict.OK, compartment=order.compartment, **found)


def _wrong_in_a_row(db: sqlite_utils.Database, keypad: str) -> tuple[int, str | None]:
    """Unknown codes since the last good one on this keypad, and when the last was typed."""
    rows = db.execute(
        "SELECT verdict, ts FROM code_attempts WHERE keypad = ? AND verdict != 'locked' "
        "ORDER BY id DESC LIMIT ?",
        (keypad, 64),
    ).fetchall()
    count = 0
    for verdict, _ts in rows:
        if verdict != Verdict.UNKNOWN.value:
            break
        count += 1
    return count, rows[0][1] if rows and count else None


def _locked_until(db: sqlite_utils.Database, keypad: str, now: datetime) -> datetime | None:
    count, last = _wrong_in_a_row(db, keypad)
    delay = pickup_code.lockout_s(count)
    if not delay or last is None:
        return None
    until = datetime.fromisoformat(last) + timedelta(seconds=delay)
    return until if now < until else None


def _lock_after_wrong(db: sqlite_utils.Database, keypad: str, now: datetime) -> datetime | None:
    """When this wrong code (not yet recorded) locks the keypad, until when."""
    count, _ = _wrong_in_a_row(db, keypad)
    delay = pickup_code.lockout_s(count + 1)
    return now + timedelta(seconds=delay) if delay else None


def _record_attempt(
    db: sqlite_utils.Database,
    keypad: str,
    method: str,
    verdict: str,
    now: datetime,
    order_number: str | None = None,
    producer_id: int | None = None,
) -> None:
    db.execute(
        "INSERT INTO code_attempts (ts, keypad, method, verdict, order_number, producer_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_iso(now), keypad, method, verdict, order_number, producer_id),
    )


# -- producers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProducerCheck:
    """Who typed this PIN or showed this badge (or why nobody)."""

    verdict: Verdict  # OK, UNKNOWN or LOCKED
    producer: str | None = None
    locked_until: datetime | None = None


def add_producer(
    db: sqlite_utils.Database, name: str, *, key: bytes, pin: str = "", badge: str = ""
) -> None:
    """Register a producer who may refill, with a PIN (4 to 8 digits) and/or a badge."""
    if pin and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise LockerError("a producer PIN is 4 to 8 digits")
    if not (pin or badge):
        raise LockerError(f"producer {name} needs a PIN or a badge to identify at the kiosk")
    salt = secrets.token_bytes(pickup_code.SALT_BYTES)
    with transaction(db):
        if db.execute("SELECT 1 FROM producers WHERE name = ?", (name,)).fetchone():
            raise LockerError(f"producer {name} exists already")
        pin_lookup = pickup_code.lookup_key(key, "pin:" + pin) if pin else None
        if (
            pin_lookup
            and db.execute("SELECT 1 FROM producers WHERE pin_lookup = ?", (pin_lookup,)).fetchone()
        ):
            raise LockerError("another producer has this PIN: choose another")
        db.execute(
            "INSERT INTO producers (name, pin_lookup, pin_hash, badge_lookup, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                name,
                pin_lookup,
                pickup_code.hash_code(pin, salt) if pin else None,
                pickup_code.lookup_key(key, "badge:" + badge) if badge else None,
                _iso(_now()),
            ),
        )


def identify_producer(
    db: sqlite_utils.Database,
    text: str,
    *,
    key: bytes,
    badge: bool = False,
    now: datetime | None = None,
) -> ProducerCheck:
    """Check a producer's PIN or badge; five wrong ones in a row lock the producer keypad."""
    now = now or _now()
    with transaction(db):
        locked_until = _locked_until(db, "producer", now)
        if locked_until is not None:
            check = ProducerCheck(Verdict.LOCKED, locked_until=locked_until)
        else:
            column = "badge_lookup" if badge else "pin_lookup"
            prefix = "badge:" if badge else "pin:"
            row = db.execute(
                f"SELECT id, name, pin_hash FROM producers WHERE {column} = ? AND active = 1",
                (pickup_code.lookup_key(key, prefix + text.strip()),),
            ).fetchone()
            if row and (badge or pickup_code.code_matches(text.strip(), row[2])):
                check = ProducerCheck(Verdict.OK, row[1])
            else:
                until = _lock_after_wrong(db, "producer", now)
                check = ProducerCheck(Verdict.UNKNOWN, locked_until=until)
        method = "badge" if badge else "pin"
        _record_attempt(db, "producer", method, check.verdict.value, now)
    return check


# -- pickup ---------------------------------------------------------------------------------------


def collect(
    db: sqlite_utils.Database,
    number: str,
    compartment: int,
    *,
    code_id: int | None,
    now: datetime | None = None,
) -> bool:
    """The pickup door closed after the customer's code opened it: the order is collected.

    Returns False (and changes nothing) when the order is not in that compartment any more."""
    now = now or _now()
    with transaction(db):
        order = orders.get(db, number)
        if order is None or order.state is not OrderState.IN_LOCKER:
            return False
        if order.compartment != compartment:
            return False
        orders.save(db, _moved(order, OrderState.COLLECTED, compartment))
        _set(db, compartment, Use.FREE)
        db.execute(
            "UPDATE pickup_codes SET used_at = ? WHERE order_number = ? AND used_at IS NULL",
            (_iso(now), number),
        )
        db.execute(
            "UPDATE deposits SET collected_at = ? WHERE order_number = ? AND collected_at IS NULL",
            (_iso(now), number),
        )
        journal.append(
            db,
            "pickup",
            {"number": number, "compartment": compartment, "code": code_id},
            ts=_iso(now),
        )
        outbox.emit(
            db,
            "order_collected",
            {"number": number, "collected_at": _iso(now), "compartment": compartment},
            ts=_iso(now),
        )
        _door_event(db, compartment, "pickup_closed", order_number=number)
    return True


# -- doors and alarms -----------------------------------------------------------------------------


def record_door_event(
    db: sqlite_utils.Database,
    compartment: int,
    kind: str,
    *,
    order_number: str | None = None,
    requested_by: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> None:
    with transaction(db):
        _door_event(db, compartment, kind, order_number, requested_by, detail, now)


def raise_alarm(
    db: sqlite_utils.Database,
    kind: str,
    compartment: int | None,
    message: str,
    *,
    now: datetime | None = None,
    subject: str = "",
    **details: Any,
) -> None:
    """An alert for staff and a `locker_alarm` outbox event, with a door event if any door."""
    now = now or _now()
    subject = subject or (f"compartment {compartment}" if compartment is not None else "")
    with transaction(db):
        alerts.raise_alert(db, kind, message, subject)
        payload = {"kind": kind, "compartment": compartment, "message": message, **details}
        outbox.emit(db, "locker_alarm", payload, ts=_iso(now))
        if compartment is not None:
            _door_event(db, compartment, kind, detail=message, now=now)


def door_events(
    db: sqlite_utils.Database, since: str = "", until: str = "9999"
) -> list[tuple[str, int, str, str | None]]:
    """(ts, compartment, kind, order number) between two ISO times, oldest first."""
    return db.execute(
        "SELECT ts, compartment, kind, order_number FROM door_events "
        "WHERE ts >= ? AND ts < ? ORDER BY ts, id",
        (since, until),
    ).fetchall()


def _door_event(
    db: sqlite_utils.Database,
    compartment: int,
    kind: str,
    order_number: str | None = None,
    requested_by: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> None:
    db.execute(
        "INSERT INTO door_events (ts, compartment, kind, order_number, requested_by, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_iso(now or _now()), compartment, kind, order_number, requested_by, detail),
    )


#: Door events that open and close a door, for the door-open minutes of the HACCP report.
OPENED_KINDS = ("door_opened",)
CLOSED_KINDS = ("door_closed", "deposit_closed", "pickup_closed")


def door_openings(
    db: sqlite_utils.Database, compartments: Iterable[int], since: str, until: str
) -> list[tuple[int, str, str | None]]:
    """(compartment, opened at, closed at or None) for doors that opened before `until` and
    had not closed by `since`."""
    wanted = set(compartments)
    openings: list[tuple[int, str, str | None]] = []
    open_since: dict[int, str] = {}
    rows = db.execute(
        "SELECT ts, compartment, kind FROM door_events WHERE ts < ? ORDER BY ts, id", (until,)
    )
    for ts, compartment, kind in rows:
        if compartment not in wanted:
            continue
        if kind in OPENED_KINDS:
            open_since.setdefault(compartment, ts)
        elif kind in CLOSED_KINDS and compartment in open_since:
            opened = open_since.pop(compartment)
            if ts >= since:
                openings.append((compartment, opened, ts))
    openings += [(c, opened, None) for c, opened in open_since.items()]
    return openings


# -- temperatures ---------------------------------------------------------------------------------


def record_temperatures(
    db: sqlite_utils.Database, readings: Iterable[tuple[str, int, str, int]]
) -> int:
    """Store (zone, Unix seconds, sensor, millidegrees) rows; returns how many."""
    rows = list(readings)
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO temperature_readings (zone, ts, sensor, temp_mc) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def temperatures(
    db: sqlite_utils.Database, zone: str, since: int, until: int
) -> list[tuple[int, int]]:
    """(Unix seconds, millidegrees) of a zone in [since, until), oldest first; with several
    sensors in a zone, the warmest one at each time (the food at risk)."""
    return db.execute(
        "SELECT ts, max(temp_mc) FROM temperature_readings WHERE zone = ? AND ts >= ? "
        "AND ts < ? GROUP BY ts ORDER BY ts",
        (zone, since, until),
    ).fetchall()


# -- helpers --------------------------------------------------------------------------------------

_STATE_COLUMNS = (
    "number, use, order_number, walkin_name, walkin_sku, walkin_price_cents, walkin_producer, "
    "note, updated_at"
)
_CODE_COLUMNS = "id, order_number, expires_at, used_at, revoked_at"


def _state(row: tuple[Any, ...]) -> CompartmentState:
    return CompartmentState(row[0], Use(row[1]), *row[2:])


def _require(db: sqlite_utils.Database, number: int) -> CompartmentState:
    found = state(db, number)
    if found is None:
        raise LockerError(f"compartment {number} is not in [[lockers.compartments]]")
    return found


def _set(
    db: sqlite_utils.Database,
    number: int,
    use: Use,
    *,
    order_number: str | None = None,
    walkin: tuple[str, str, int, str] = ("", "", 0, ""),
    note: str = "",
) -> None:
    name, sku, price, producer = walkin
    db.execute(
        "UPDATE compartments SET use = ?, order_number = ?, walkin_name = ?, walkin_sku = ?, "
        "walkin_price_cents = ?, walkin_producer = ?, note = ?, updated_at = ? WHERE number = ?",
        (use.value, order_number, name, sku, price, producer, note, _iso(_now()), number),
    )


def _moved(order: Order, new_state: OrderState, compartment: int) -> Order:
    return replace(order, state=new_state, compartment=compartment)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")
