"""Down: the hub's orders for this pickup point, and a fresh read of one at deposit and pickup.

The first read takes only the orders still to hand out; later ones take every change since
the cursor, cancellations included. The server may ignore a filter (ransack drops names it does
not know), so each one is checked again on what comes back.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.core.order import Order
from appliance.marketplace import mapping, moments
from appliance.marketplace.client import Answer, Client
from appliance.store import handouts, orders
from appliance.store.db import transaction
from appliance.store.sync_state import directions, orders_read, variants


def download(
    config: Config, db: sqlite3.Connection, client: Client, now: datetime
) -> tuple[int, int]:
    """Orders new or changed since the last read; (saved, skipped)."""
    m = config.marketplace
    cursor = directions.state(db, "orders").cursor
    first: list[Answer] = []
    listed: dict[str, mapping.OrderSummary] = {}
    for method in m.shipping_method_ids or (None,):
        found = client.orders(
            m.hub_id,
            shipping_method_id=method,
            updated_after=cursor,
            states=mapping.LISTED_STATES if cursor else mapping.HANDED_OUT_STATES,
            shipment_states=() if cursor else ("ready", "pending"),
            order_cycle_ids=m.order_cycle_ids,
            first_page=first,
        )
        listed.update((o["number"], mapping.summary_of(o)) for o in found)
    listed.pop(m.shop_sales_order, None)  # a record of sales paid here, never handed out
    to_read = []
    saved = skipped = 0
    read_at = clock.iso(now)
    with transaction(db):
        for summary in listed.values():
            existing = orders.get(db, summary.number)
            if summary.to_hand_out:
                if existing is None or summary.fingerprint != orders_read.fingerprint(
                    db, summary.number
                ):
                    to_read.append(summary.number)
                else:
                    skipped += 1
            elif existing is not None:  # cancelled or handed out elsewhere: no need for lines
                state = mapping.local_state(summary, existing)
                if state is not None and state is not existing.state:
                    changed = dataclasses.replace(existing, state=state)
                    orders.save(db, changed)
                    handouts.cancelled_in_locker(db, existing, changed, now)
                    saved += 1
                orders_read.remember(
                    db, summary.number, summary.fingerprint, summary.order_cycle_id, None, read_at
                )
    details = client.map(client.order, to_read)
    with transaction(db):
        for detail in details:
            if keep(config, db, detail, now) is None:
                skipped += 1
            else:
                saved += 1
        directions.record_success(db, "orders", read_at, cursor=moments.next_cursor(first, now))
    return saved, skipped


def reread(
    config: Config, db: sqlite3.Connection, client: Client, number: str, now: datetime
) -> Order | None:
    """The order as the marketplace has it right now, stored; the local copy if not ours."""
    detail = client.order(number)
    with transaction(db):
        kept = keep(config, db, detail, now)
    return kept or orders.get(db, number)


def keep(
    config: Config, db: sqlite3.Connection, detail: dict[str, Any], now: datetime
) -> Order | None:
    """Store an order's detail if it is ours; checks the filters the server may have ignored."""
    read_at = clock.iso(now)
    m = config.marketplace
    summary = mapping.summary_of(detail)
    method = mapping.shipping_method_of(detail)
    if summary.distributor_id != m.hub_id or summary.number == m.shop_sales_order:
        return None
    if m.shipping_method_ids and method not in m.shipping_method_ids:
        return None
    if m.order_cycle_ids and summary.order_cycle_id not in m.order_cycle_ids:
        return None
    existing = orders.get(db, summary.number)
    state = mapping.local_state(summary, existing)
    if state is None:
        return None
    order = mapping.order_from_detail(detail, state, variants.producer_names(db), existing, read_at)
    orders.save(db, order)
    if existing is not None:
        handouts.cancelled_in_locker(db, existing, order, now)
    orders_read.remember(
        db, summary.number, summary.fingerprint, summary.order_cycle_id, method, read_at
    )
    return order
