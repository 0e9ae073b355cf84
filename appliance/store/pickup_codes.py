"""Pickup codes after the deposit: the device key, reissuing, checking and the wrong-code lockout.

A code is stored as a keyed lookup plus a salted hash (`core.pickup_code`); attempts are
recorded with their verdict, never with the code typed. The first code is issued by
`lockers.deposit`, in the same transaction as the deposit.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from appliance import clock
from appliance.core import pickup_code
from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.errors import ConfigError
from appliance.store import lockers, orders, outbox
from appliance.store.db import transaction


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


# -- reissuing ------------------------------------------------------------------------------------


def reissue_code(
    db: sqlite3.Connection,
    number: str,
    *,
    key: bytes,
    validity_days: int,
    digits: int = 6,
    rng: random.Random | None = None,
    now: datetime | None = None,
    revoke_old: bool = True,
) -> lockers.IssuedCode:
    """Issue a new code for an in-locker order (a lost or unsent e-mail).

    With `revoke_old`, the order's other codes stop working at once; without, they keep working
    until `keep_only` is called once the new code has reached the customer.
    """
    now = now or clock.now()
    with transaction(db):
        order = orders.get(db, number)
        if order is None or order.state is not OrderState.IN_LOCKER:
            raise lockers.LockerError(f"order {number} is not in a locker: no code to send")
        issued = lockers.issue_code(
            db, number, key, validity_days, digits, rng or random.SystemRandom(), now
        )
        if revoke_old:
            _revoke_others(db, number, issued.code_id, now)
        return issued


def keep_only(db: sqlite3.Connection, number: str, code_id: int) -> None:
    """Revoke every code of the order but `code_id` (the one the customer now holds)."""
    with transaction(db):
        _revoke_others(db, number, code_id, clock.now())


def revoke(db: sqlite3.Connection, code_id: int) -> None:
    """Revoke one code (a new code that never reached the customer)."""
    with transaction(db):
        db.execute(
            "UPDATE pickup_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (clock.now_iso(), code_id),
        )


def _revoke_others(db: sqlite3.Connection, number: str, code_id: int, now: datetime) -> None:
    db.execute(
        "UPDATE pickup_codes SET revoked_at = ? "
        "WHERE order_number = ? AND id != ? AND revoked_at IS NULL",
        (clock.iso(now), number, code_id),
    )


# -- codes typed or scanned -----------------------------------------------------------------------


def check_code(
    db: sqlite3.Connection,
    text: str,
    *,
    key: bytes,
    now: datetime | None = None,
) -> CodeCheck:
    """Check a typed code or a scanned QR token and record the attempt (never the code).

    After five unknown codes in a row the keypad is locked for a growing delay; an attempt
    while locked is recorded as `locked` and not looked at."""
    now = now or clock.now()
    method = "qr" if pickup_code.is_token_shaped(text) else "code"
    with transaction(db):
        until = locked_until(db, "customer", now)
        if until is not None:
            check = CodeCheck(Verdict.LOCKED, locked_until=until)
        else:
            check = _find_code(db, text, key, now)
            if check.verdict is Verdict.UNKNOWN:
                check = CodeCheck(
                    Verdict.UNKNOWN, locked_until=lock_after_wrong(db, "customer", now)
                )
        record_attempt(db, "customer", method, check.verdict.value, now, check.order_number)
        if check.verdict is not Verdict.OK:
            payload = {
                "verdict": check.verdict.value,
                "method": method,
                "order_number": check.order_number,
            }
            outbox.emit(db, "pickup_refused", payload, ts=clock.iso(now))
    return check


_CODE_COLUMNS = "id, order_number, expires_at, used_at, revoked_at"


def _find_code(db: sqlite3.Connection, text: str, key: bytes, now: datetime) -> CodeCheck:
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
    if expires_at <= clock.iso(now) or order.state is not OrderState.IN_LOCKER:
        return CodeCheck(Verdict.EXPIRED, **found)
    return CodeCheck(Verdict.OK, compartment=order.compartment, **found)


# -- wrong-code lockout, shared by the customer and the producer keypads --------------------------


def locked_until(db: sqlite3.Connection, keypad: str, now: datetime) -> datetime | None:
    """Until when this keypad is locked by the wrong codes typed on it, or None."""
    count, last = _wrong_in_a_row(db, keypad)
    delay = pickup_code.lockout_s(count)
    if not delay or last is None:
        return None
    until = datetime.fromisoformat(last) + timedelta(seconds=delay)
    return until if now < until else None


def lock_after_wrong(db: sqlite3.Connection, keypad: str, now: datetime) -> datetime | None:
    """When this wrong code (not yet recorded) locks the keypad, until when."""
    count, _ = _wrong_in_a_row(db, keypad)
    delay = pickup_code.lockout_s(count + 1)
    return now + timedelta(seconds=delay) if delay else None


def record_attempt(
    db: sqlite3.Connection,
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
        (clock.iso(now), keypad, method, verdict, order_number, producer_id),
    )


def _wrong_in_a_row(db: sqlite3.Connection, keypad: str) -> tuple[int, str | None]:
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
