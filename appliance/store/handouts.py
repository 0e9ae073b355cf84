"""Orders the shop's staff move by hand: handed out over the counter, or taken back.

An order handed out is reported exactly as a locker pickup is (one `order_collected` event: the
marketplace's `ship`, the till's "online / prepaid" ticket), journalled with who handed it out.
An order still in a compartment is handed out only once the staff say they took it out: the
compartment is then free and the customer's code opens nothing.

An order cancelled online while it sits in a compartment keeps its compartment until a producer
takes the bag back: an alarm says so when the cancellation arrives, and the take-back frees the
compartment, kills the code and settles the alarms about it (nothing goes to the marketplace,
which cancelled it).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime

from appliance import clock
from appliance.core.locker import Use
from appliance.core.order import Order, OrderState
from appliance.said import said
from appliance.store import alerts, journal, lockers, orders, outbox
from appliance.store.alerts import Alarm
from appliance.store.db import require_transaction, transaction


class HandoutRefused(Exception):
    """The order cannot be handed out; the message says why and what to do."""


def hand_out(
    db: sqlite3.Connection,
    number: str,
    *,
    by: str,
    taken_out: bool = False,
    now: datetime | None = None,
) -> Order:
    """Record that `by` gave order `number` to its customer at the counter; returns the order.

    `taken_out` confirms an order in a locker was taken out of its compartment first."""
    now = now or clock.now()
    with transaction(db):
        order = orders.get(db, number)
        if order is None:
            raise HandoutRefused(
                f"order {number} is not on this box: check the number, or sync the marketplace"
            )
        if order.state is OrderState.CANCELLED:
            raise HandoutRefused(
                f"order {number} was cancelled on the marketplace: do not hand it out"
            )
        if order.state is OrderState.COLLECTED:
            raise HandoutRefused(f"order {number} was already handed out")
        compartment = order.compartment if order.state is OrderState.IN_LOCKER else None
        if compartment is not None and not taken_out:
            raise HandoutRefused(
                f"order {number} is in compartment {compartment}: take it out first "
                "(open the door from the lockers page), then confirm it"
            )
        orders.save(db, replace(order, state=OrderState.COLLECTED))
        if compartment is not None:
            lockers.take_out(db, number, compartment, now)
        journal.append(
            db, "handout", {"number": number, "by": by, "compartment": compartment}, clock.iso(now)
        )
        outbox.emit(
            db,
            "order_collected",
            {"number": number, "collected_at": clock.iso(now), "compartment": compartment},
            ts=clock.iso(now),
        )
    return replace(order, state=OrderState.COLLECTED)


def cancelled_in_locker(db: sqlite3.Connection, before: Order, after: Order, now: datetime) -> None:
    """Raise the take-back alarm when a sync turns an order in a compartment into a cancelled
    one. Call in the transaction that saves `after`."""
    require_transaction(db, "handouts.cancelled_in_locker")
    if before.state is not OrderState.IN_LOCKER or after.state is not OrderState.CANCELLED:
        return
    compartment = before.compartment
    alerts.raise_alarm(
        db,
        Alarm.CANCELLED_IN_LOCKER,
        said(
            "Order %(number)s was cancelled online while in compartment %(compartment)s: take "
            "the bag back (Lockers page) and tell the customer.",
            number=after.number,
            compartment=compartment,
        ),
        subject=f"compartment {compartment}",
        ts=clock.iso(now),
        compartment=compartment,
        number=after.number,
    )


def take_back(
    db: sqlite3.Connection, compartment: int, *, by: str, now: datetime | None = None
) -> Order:
    """Record that `by` took a cancelled order's bag out of `compartment`; returns the order,
    which no longer has a compartment (an order un-cancelled later waits to be deposited again)."""
    now = now or clock.now()
    with transaction(db):
        held = lockers.state(db, compartment)
        number = held.order_number if held is not None and held.use is Use.ORDER else None
        order = orders.get(db, number) if number else None
        if order is None:
            raise HandoutRefused(f"compartment {compartment} holds no order to take back")
        if order.state is not OrderState.CANCELLED:
            raise HandoutRefused(
                f"order {order.number} in compartment {compartment} is not cancelled: leave it "
                "for its customer"
            )
        orders.save(db, replace(order, compartment=None))
        lockers.take_out(db, order.number, compartment, now)
        journal.append(
            db,
            "take_back",
            {"number": order.number, "by": by, "compartment": compartment},
            clock.iso(now),
        )
        for kind in (Alarm.CANCELLED_IN_LOCKER, Alarm.CANCELLED):
            alerts.resolve_about(
                db, kind, f"compartment {compartment}", by, f"order {order.number} taken back"
            )
    return replace(order, compartment=None)
