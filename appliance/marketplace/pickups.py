"""Up: each order collected here is reported with `ship`, until the marketplace shows it shipped.

`ship` answers 200 whatever it did (an unpaid shipment stays pending), so only
`shipment_state == "shipped"` in the answer counts. A pay-at-pickup order is captured first.
One report per order, whatever the number of `order_collected` events; `ship` is idempotent,
so a retry after a lost answer is harmless.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from appliance import clock
from appliance.config import Config
from appliance.marketplace.client import Client, MarketplaceError, MarketplaceRefused
from appliance.store import outbox
from appliance.store.db import transaction
from appliance.store.sync_state import directions, pickups

log = logging.getLogger(__name__)

CANCELLED = "cancelled on the marketplace: the customer may need a refund, ask the hub"


def take(db: sqlite3.Connection, event: outbox.Event) -> None:
    """Queue the report of one `order_collected` event. Call in a transaction."""
    number = event.payload.get("number")
    if not isinstance(number, str) or not number:
        log.error("outbox event %s: order_collected without an order number", event.event_id)
        return
    collected_at = event.payload.get("collected_at") or event.ts
    pickups.add(db, number, event.event_id, collected_at, event.payload.get("compartment"))


def report(
    config: Config, db: sqlite3.Connection, client: Client, now: datetime
) -> tuple[int, int]:
    """Every pickup still to report; (reported, refused for good)."""
    reported = refused = 0
    for pickup in pickups.listed(db, "pending"):
        try:
            problem = _ship(client, pickup.number)
        except MarketplaceRefused as exc:
            problem, final = str(exc), True
        except MarketplaceError as exc:
            with transaction(db):
                pickups.failed(db, pickup.number, str(exc))
            raise
        else:
            final = problem == CANCELLED
        with transaction(db):
            if not problem:
                pickups.done(db, pickup.number, "reported", clock.iso(now))
                reported += 1
            elif final:
                pickups.done(db, pickup.number, "refused", clock.iso(now), problem)
                refused += 1
            else:
                pickups.failed(db, pickup.number, problem)
    with transaction(db):
        directions.record_success(db, "pickups", clock.iso(now))
    return reported, refused


def _ship(client: Client, number: str) -> str:
    """'' once the marketplace shows the order shipped, else why not (retried next time)."""
    order = client.order(number)
    if order.get("state") == "canceled":
        return CANCELLED
    if order.get("shipment_state") == "shipped":
        return ""
    if order.get("shipment_state") == "pending" and order.get("payment_state") != "paid":
        order = client.capture(number)
        if order.get("payment_state") not in ("paid", "credit_owed"):
            return f"capture left the payment {order.get('payment_state')!r}"
    order = client.ship(number)
    if order.get("shipment_state") != "shipped":
        return f"ship answered shipment_state {order.get('shipment_state')!r}"
    return ""
