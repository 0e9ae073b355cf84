"""Lockers in the database: what each compartment holds, deposits, pickups, door events.

Every change that the world must hear about is written with its journal entry and outbox event
in one transaction: a deposit makes the order `in_locker` (journal `deposit`) and issues its
first pickup code; a pickup door closing makes it `collected` (journal `pickup`, outbox
`order_collected`). The code in clear is only returned to the caller that must send it to the
customer, and never logged; checking codes and reissuing them is `pickup_codes`.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from appliance import clock
from appliance.core import pickup_code
from appliance.core.haccp import DoorOpening
from appliance.core.locker import Compartment, Use
from appliance.core.order import Order, OrderState
from appliance.errors import ComptoirError
from appliance.said import Said
from appliance.store import alerts, journal, orders, outbox
from appliance.store.alerts import Alarm
from appliance.store.db import insert_row, transaction


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


# -- compartments ---------------------------------------------------------------------------------


def sync_compartments(db: sqlite3.Connection, compartments: Iterable[Compartment]) -> None:
    """Add a row for every configured compartment that has none yet (free)."""
    with transaction(db):
        for c in compartments:
            db.execute(
                "INSERT OR IGNORE INTO compartments (number, updated_at) VALUES (?, ?)",
                (c.number, clock.now_iso()),
            )


def states(db: sqlite3.Connection) -> dict[int, CompartmentState]:
    rows = db.execute(f"SELECT {_STATE_COLUMNS} FROM compartments ORDER BY number")
    return {row[0]: _state(row) for row in rows}


def state(db: sqlite3.Connection, number: int) -> CompartmentState | None:
    row = db.execute(
        f"SELECT {_STATE_COLUMNS} FROM compartments WHERE number = ?", (number,)
    ).fetchone()
    return _state(row) if row else None


def busy(db: sqlite3.Connection) -> set[int]:
    """Compartments that must not be offered for a deposit."""
    return {n for (n,) in db.execute("SELECT number FROM compartments WHERE use != 'free'")}


def fill_walkin(
    db: sqlite3.Connection,
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


def empty_walkin(db: sqlite3.Connection, number: int, receipt: str) -> None:
    """The customer who paid took the produce: the compartment is free again."""
    with transaction(db):
        current = _require(db, number)
        if current.use is not Use.WALKIN:
            raise LockerError(f"compartment {number} holds no produce for sale")
        _set(db, number, Use.FREE)
        _door_event(db, number, "walkin_sold", detail=receipt)


# -- deposit --------------------------------------------------------------------------------------


def deposit(
    db: sqlite3.Connection,
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
    now = now or clock.now()
    rng = rng or random.SystemRandom()
    with transaction(db):
        order = orders.get(db, number)
        if order is None:
            raise LockerError(f"there is no order {number}: import or sync it first")
        if order.state is not OrderState.WAITING:
            raise LockerError(f"order {number} is {order.state.value}, not waiting for a deposit")
        current = _require(db, compartment)
        if current.use is not Use.FREE:
            raise LockerError(
                f"compartment {compartment} is not free ({current.use.value}): choose a free one"
            )
        orders.save(db, _moved(order, OrderState.IN_LOCKER, compartment))
        _set(db, compartment, Use.ORDER, order_number=number)
        db.execute(
            "INSERT INTO deposits (order_number, compartment, producer, deposited_at) "
            "VALUES (?, ?, ?, ?)",
            (number, compartment, producer, clock.iso(now)),
        )
        issued = issue_code(db, number, key, validity_days, digits, rng, now)
        journal.append(
            db,
            "deposit",
            {"number": number, "compartment": compartment, "producer": producer},
            ts=clock.iso(now),
        )
        outbox.emit(
            db,
            "order_deposited",
            {"number": number, "compartment": compartment, "deposited_at": clock.iso(now)},
            ts=clock.iso(now),
        )
        _door_event(db, compartment, "deposit_closed", order_number=number, requested_by=producer)
    return issued


def issue_code(
    db: sqlite3.Connection,
    number: str,
    key: bytes,
    validity_days: int,
    digits: int,
    rng: random.Random,
    now: datetime,
) -> IssuedCode:
    """Store a new code for order `number` (a deposit, or `pickup_codes.reissue_code`)."""
    # A code whose lookup another live code already has would be ambiguous: draw again.
    while True:
        code = pickup_code.new_code(rng, digits)
        lookup = pickup_code.lookup_key(key, code)
        taken = db.execute(
            "SELECT 1 FROM pickup_codes WHERE lookup = ? AND used_at IS NULL "
            "AND revoked_at IS NULL AND expires_at > ?",
            (lookup, clock.iso(now)),
        ).fetchone()
        if not taken:
            break
    expires = pickup_code.expiry(now, validity_days)
    salt = rng.randbytes(pickup_code.SALT_BYTES)
    code_id = insert_row(
        db,
        "INSERT INTO pickup_codes (order_number, lookup, code_hash, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (number, lookup, pickup_code.hash_code(code, salt), clock.iso(now), clock.iso(expires)),
    )
    token = pickup_code.sign_token(key, number, code_id, expires)
    return IssuedCode(code, token, expires, code_id)


# -- pickup ---------------------------------------------------------------------------------------


def collect(
    db: sqlite3.Connection,
    number: str,
    compartment: int,
    *,
    code_id: int | None,
    now: datetime | None = None,
) -> bool:
    """The pickup door closed after the customer's code opened it: the order is collected.

    Returns False (and changes nothing) when the order is not in that compartment any more."""
    now = now or clock.now()
    with transaction(db):
        order = orders.get(db, number)
        if order is None or order.state is not OrderState.IN_LOCKER:
            return False
        if order.compartment != compartment:
            return False
        orders.save(db, _moved(order, OrderState.COLLECTED, compartment))
        take_out(db, number, compartment, now)
        journal.append(
            db,
            "pickup",
            {"number": number, "compartment": compartment, "code": code_id},
            ts=clock.iso(now),
        )
        outbox.emit(
            db,
            "order_collected",
            {"number": number, "collected_at": clock.iso(now), "compartment": compartment},
            ts=clock.iso(now),
        )
        _door_event(db, compartment, "pickup_closed", order_number=number)
    return True


def take_out(db: sqlite3.Connection, number: str, compartment: int, now: datetime) -> None:
    """The order left its compartment: the compartment is free and its codes open nothing.
    Call in a transaction, with the order's new state saved by the caller."""
    _set(db, compartment, Use.FREE)
    db.execute(
        "UPDATE pickup_codes SET used_at = ? WHERE order_number = ? AND used_at IS NULL",
        (clock.iso(now), number),
    )
    db.execute(
        "UPDATE deposits SET collected_at = ? WHERE order_number = ? AND collected_at IS NULL",
        (clock.iso(now), number),
    )


# -- doors and alarms -----------------------------------------------------------------------------


def record_door_event(
    db: sqlite3.Connection,
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
    db: sqlite3.Connection,
    alarm: Alarm,
    compartment: int | None,
    message: str | Said,
    *,
    now: datetime | None = None,
    **details: Any,
) -> None:
    """A locker's alarm (`alerts.raise_alarm`), in the door's audit trail too when it is about
    one compartment (None: the whole controller)."""
    now = now or clock.now()
    subject = f"compartment {compartment}" if compartment is not None else ""
    with transaction(db):
        alerts.raise_alarm(
            db,
            alarm,
            message,
            subject=subject,
            ts=clock.iso(now),
            compartment=compartment,
            **details,
        )
        if compartment is not None:
            _door_event(db, compartment, alarm.value, detail=str(message), now=now)


def door_events(
    db: sqlite3.Connection, since: str = "", until: str = "9999"
) -> list[tuple[str, int, str, str | None]]:
    """(ts, compartment, kind, order number) between two ISO times, oldest first."""
    return db.execute(
        "SELECT ts, compartment, kind, order_number FROM door_events "
        "WHERE ts >= ? AND ts < ? ORDER BY ts, id",
        (since, until),
    ).fetchall()


def _door_event(
    db: sqlite3.Connection,
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
        (clock.iso(now or clock.now()), compartment, kind, order_number, requested_by, detail),
    )


#: Door events that open and close a door, for the door-open minutes of the HACCP report.
OPENED_KINDS = ("door_opened",)
CLOSED_KINDS = ("door_closed", "deposit_closed", "pickup_closed")


def open_doors(db: sqlite3.Connection, compartments: Iterable[int]) -> set[int]:
    """The doors whose last opening or closing event is an opening: they stand open now."""
    found = set()
    kinds = (*OPENED_KINDS, *CLOSED_KINDS)
    marks = ",".join("?" * len(kinds))
    for number in compartments:
        row = db.execute(
            f"SELECT kind FROM door_events WHERE compartment = ? AND kind IN ({marks}) "
            "ORDER BY id DESC LIMIT 1",
            (number, *kinds),
        ).fetchone()
        if row and row[0] in OPENED_KINDS:
            found.add(number)
    return found


def door_openings(
    db: sqlite3.Connection, compartments: Iterable[int], since: str, until: str
) -> list[DoorOpening]:
    """Openings of these doors that began before `until` and had not ended by `since`."""
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
    return [
        DoorOpening(c, datetime.fromisoformat(o), datetime.fromisoformat(e) if e else None)
        for c, o, e in openings
    ]


# -- helpers --------------------------------------------------------------------------------------

_STATE_COLUMNS = (
    "number, use, order_number, walkin_name, walkin_sku, walkin_price_cents, walkin_producer, "
    "note, updated_at"
)


def _state(row: tuple[Any, ...]) -> CompartmentState:
    return CompartmentState(row[0], Use(row[1]), *row[2:])


def _require(db: sqlite3.Connection, number: int) -> CompartmentState:
    found = state(db, number)
    if found is None:
        raise LockerError(f"compartment {number} is not in [[lockers.compartments]]")
    return found


def _set(
    db: sqlite3.Connection,
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
        (use.value, order_number, name, sku, price, producer, note, clock.now_iso(), number),
    )


def _moved(order: Order, new_state: OrderState, compartment: int) -> Order:
    return replace(order, state=new_state, compartment=compartment)


def open_compartments(db: sqlite3.Connection) -> list[int]:
    """Compartments whose last door event opened the door (an update waits for them)."""
    kinds = OPENED_KINDS + CLOSED_KINDS
    rows = db.execute(
        "SELECT compartment, kind FROM door_events WHERE id IN (SELECT max(id) FROM door_events "
        f"WHERE kind IN ({','.join('?' * len(kinds))}) GROUP BY compartment)",
        kinds,
    )
    return sorted(number for number, kind in rows if kind in OPENED_KINDS)
