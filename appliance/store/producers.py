"""Producers who may refill the lockers: registered with a PIN or a badge, identified at the kiosk.

PINs and badges are stored like pickup codes (keyed lookup, salted hash), and five wrong ones in a
row lock the producer keypad as wrong codes lock the customer's (`pickup_codes`).
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from appliance import clock
from appliance.core import pickup_code
from appliance.core.pickup_code import Verdict
from appliance.store import lockers, pickup_codes
from appliance.store.db import transaction


@dataclass(frozen=True)
class ProducerCheck:
    """Who typed this PIN or showed this badge (or why nobody)."""

    verdict: Verdict  # OK, UNKNOWN or LOCKED
    producer: str | None = None
    locked_until: datetime | None = None


def add_producer(
    db: sqlite3.Connection, name: str, *, key: bytes, pin: str = "", badge: str = ""
) -> None:
    """Register a producer who may refill, with a PIN (4 to 8 digits) and/or a badge."""
    if pin and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise lockers.LockerError("a producer PIN is 4 to 8 digits")
    if not (pin or badge):
        raise lockers.LockerError(
            f"producer {name} needs a PIN or a badge to identify at the kiosk"
        )
    salt = secrets.token_bytes(pickup_code.SALT_BYTES)
    with transaction(db):
        if db.execute("SELECT 1 FROM producers WHERE name = ?", (name,)).fetchone():
            raise lockers.LockerError(f"producer {name} exists already")
        pin_lookup = pickup_code.lookup_key(key, "pin:" + pin) if pin else None
        if (
            pin_lookup
            and db.execute("SELECT 1 FROM producers WHERE pin_lookup = ?", (pin_lookup,)).fetchone()
        ):
            raise lockers.LockerError("another producer has this PIN: choose another")
        db.execute(
            "INSERT INTO producers (name, pin_lookup, pin_hash, badge_lookup, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                name,
                pin_lookup,
                pickup_code.hash_code(pin, salt) if pin else None,
                pickup_code.lookup_key(key, "badge:" + badge) if badge else None,
                clock.now_iso(),
            ),
        )


def identify_producer(
    db: sqlite3.Connection,
    text: str,
    *,
    key: bytes,
    badge: bool = False,
    now: datetime | None = None,
) -> ProducerCheck:
    """Check a producer's PIN or badge; five wrong ones in a row lock the producer keypad."""
    now = now or clock.now()
    with transaction(db):
        locked_until = pickup_codes.locked_until(db, "producer", now)
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
                until = pickup_codes.lock_after_wrong(db, "producer", now)
                check = ProducerCheck(Verdict.UNKNOWN, locked_until=until)
        method = "badge" if badge else "pin"
        pickup_codes.record_attempt(db, "producer", method, check.verdict.value, now)
    return check
