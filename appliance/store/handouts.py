"""An online order handed out over the counter by the shop's staff rather than by a locker.

It is reported exactly as a locker pickup is (one `order_collected` event: the marketplace's
`ship`, the till's "online / prepaid" ticket), journalled with who handed it out. An order
still in a compartment is handed out only once the staff say they took it out: the
compartment is then free and the customer's code opens nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime

from appliance import clock
from appliance.core.order import Order, OrderState
from appliance.store import journal, lockers, orders, outbox
from appliance.store.db import transaction


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
