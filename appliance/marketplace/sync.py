"""Keeping the shop and the marketplace in step: one function per direction, `sync_once` for all.

Down: the catalogue (what the hub sells) and the orders to hand out here. Up: pickups (`ship`,
after `capture` for pay-at-pickup orders) and stock sold on site. Pickups and sales arrive
through the outbox (destination `marketplace`); they are copied into the sync's own tables in
the transaction that moves the cursor, so nothing is lost offline and one stuck report never
holds back the others. Incremental reads start from the server's clock (HTTP Date) minus an
overlap, so the box's clock never matters.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from appliance.config import Config
from appliance.core.order import Order
from appliance.errors import ComptoirError
from appliance.marketplace import mapping
from appliance.marketplace.client import (
    Answer,
    Client,
    MarketplaceAuthError,
    MarketplaceError,
    MarketplaceRefused,
    MarketplaceUnavailable,
    read_api_key,
)
from appliance.marketplace.mapping import WeighedProduce
from appliance.store import catalogue, orders, outbox, sync_state
from appliance.store.db import transaction

log = logging.getLogger(__name__)

DESTINATION = "marketplace"
OUTBOX_TYPES = ("order_collected", "sale")
OVERLAP = timedelta(minutes=2)  # re-read what changed just before the last read began
FULL_CATALOGUE_EVERY = timedelta(hours=1)  # stock moves may not touch a product's updated_at


@dataclass(frozen=True)
class DirectionReport:
    direction: str
    ok: bool
    changed: int = 0
    skipped: int = 0
    error: str = ""


@dataclass(frozen=True)
class SyncReport:
    at: str
    directions: tuple[DirectionReport, ...]
    requests: int

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.directions)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def client_for(config: Config, sleep: Callable[[float], None] = time.sleep) -> Client:
    """A client for `[marketplace]`; a missing url, hub or key is an error the admin can fix."""
    m = config.marketplace
    if not m.url:
        raise MarketplaceError("[marketplace] url is not set: put the instance's address there")
    if not m.hub_id:
        raise MarketplaceError("[marketplace] hub_id is not set: put the hub's enterprise id there")
    key = read_api_key(m.api_key_file)
    return Client(m.url, key, timeout_s=m.timeout_s, key_file=m.api_key_file, sleep=sleep)


def sync_once(
    config: Config,
    db: sqlite_utils.Database,
    now: datetime,
    *,
    client: Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Every direction once. The marketplace down or the key refused stops the round early."""
    client = client or client_for(config, sleep)
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    take_outbox(db)
    steps: list[tuple[str, Callable[..., tuple[int, int]]]] = [
        ("pickups", report_pickups),
        ("catalogue", sync_catalogue),
        ("orders", sync_orders),
        ("stock", report_stock),
    ]
    reports = []
    stopped = ""
    for name, step in steps:
        if stopped:
            reports.append(DirectionReport(name, False, error=stopped))
            with transaction(db):
                sync_state.record_error(db, name, at, stopped)
            continue
        try:
            changed, skipped = step(config, db, client, now)
        except (MarketplaceUnavailable, MarketplaceAuthError) as exc:
            stopped = str(exc)
            reports.append(DirectionReport(name, False, error=stopped))
            with transaction(db):
                sync_state.record_error(db, name, at, stopped)
            continue
        except MarketplaceError as exc:
            reports.append(DirectionReport(name, False, error=str(exc)))
            with transaction(db):
                sync_state.record_error(db, name, at, str(exc))
            continue
        reports.append(DirectionReport(name, True, changed, skipped))
    return SyncReport(at, tuple(reports), client.requests)


def run_forever(
    config: Config,
    db: sqlite_utils.Database,
    stop_event: threading.Event,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """The agent's loop: a sync every `sync_interval_s` until `stop_event` is set."""
    while not stop_event.is_set():
        try:
            client = client_for(config, sleep=stop_event.wait)
            report = sync_once(config, db, clock(), client=client)
            if not report.ok:
                log.warning("marketplace sync incomplete: %s", _first_error(report))
        except ComptoirError as exc:
            log.error("marketplace sync: %s", exc)
        stop_event.wait(config.marketplace.sync_interval_s)


def _first_error(report: SyncReport) -> str:
    return next((f"{d.direction}: {d.error}" for d in report.directions if d.error), "")


# -- down: catalogue ------------------------------------------------------------------------------


def sync_catalogue(
    config: Config, db: sqlite_utils.Database, client: Client, now: datetime
) -> tuple[int, int]:
    """Variants the hub's manager may edit become local products; (saved, deactivated)."""
    m = config.marketplace
    state = sync_state.direction(db, "catalogue")
    full = not state.cursor or _older_than(state.full_sweep_at, now, FULL_CATALOGUE_EVERY)
    first: list[Answer] = []
    products = client.bulk_products(updated_after="" if full else state.cursor, first_page=first)
    seen_at = _iso(now)
    saved = gone = 0
    with transaction(db):
        for product in products:
            for variant in mapping.variants_of(product):
                mapped = sync_state.variant(db, variant.id)
                mode = WeighedProduce((mapped and mapped.weighed) or m.weighed_produce)
                existing = catalogue.get(db, variant.sku)
                catalogue.save(db, mapping.product_for(variant, mode, existing, m.vat_rate_bp))
                sync_state.remember_variant(
                    db,
                    variant_id=variant.id,
                    product_id=variant.product_id,
                    sku=variant.sku,
                    producer_id=variant.producer_id,
                    unit_grams=variant.unit_grams,
                    on_demand=variant.on_demand,
                    on_hand=variant.on_hand,
                    seen_at=seen_at,
                )
                saved += 1
        if full:
            for sku in sync_state.variants_not_seen_since(db, seen_at):
                product = catalogue.get(db, sku)
                if product and product.active:
                    catalogue.save(db, dataclasses.replace(product, active=False))
                    gone += 1
        sync_state.record_success(
            db, "catalogue", seen_at, cursor=_cursor(first, now), full_sweep=full
        )
    return saved, gone


# -- down: orders ---------------------------------------------------------------------------------


def sync_orders(
    config: Config, db: sqlite_utils.Database, client: Client, now: datetime
) -> tuple[int, int]:
    """Orders for this pickup point, new or changed since the last read; (saved, skipped).

    The first read takes only the orders still to hand out; later ones take every change
    (cancellations included) since the cursor.
    """
    m = config.marketplace
    cursor = sync_state.direction(db, "orders").cursor
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
    to_read = []
    saved = skipped = 0
    read_at = _iso(now)
    with transaction(db):
        for summary in listed.values():
            existing = orders.get(db, summary.number)
            if summary.to_hand_out:
                if existing is None or summary.fingerprint != sync_state.order_fingerprint(
                    db, summary.number
                ):
                    to_read.append(summary.number)
                else:
                    skipped += 1
            elif existing is not None:  # cancelled or handed out elsewhere: no need for lines
                state = mapping.local_state(summary, existing)
                if state is not None and state is not existing.state:
                    orders.save(db, dataclasses.replace(existing, state=state))
                    saved += 1
                sync_state.remember_order(
                    db, summary.number, summary.fingerprint, summary.order_cycle_id, None, read_at
                )
    details = client.map(client.order, to_read)
    with transaction(db):
        for detail in details:
            if _keep_detail(config, db, detail, read_at) is None:
                skipped += 1
            else:
                saved += 1
        sync_state.record_success(db, "orders", read_at, cursor=_cursor(first, now))
    return saved, skipped


def reread_order(
    config: Config, db: sqlite_utils.Database, number: str, *, client: Client | None = None
) -> Order | None:
    """Read one order again right now (at deposit and at pickup): a cancelled or edited order
    is never handed out from stale data. Raises MarketplaceUnavailable when offline."""
    client = client or client_for(config)
    detail = client.order(number)
    with transaction(db):
        kept = _keep_detail(config, db, detail, datetime.now(UTC).isoformat())
    return kept or orders.get(db, number)


def _keep_detail(
    config: Config, db: sqlite_utils.Database, detail: dict[str, Any], read_at: str
) -> Order | None:
    """Store an order's detail if it is ours; checks the filters the server may have ignored."""
    m = config.marketplace
    summary = mapping.summary_of(detail)
    method = mapping.shipping_method_of(detail)
    if summary.distributor_id != m.hub_id:
        return None
    if m.shipping_method_ids and method not in m.shipping_method_ids:
        return None
    if m.order_cycle_ids and summary.order_cycle_id not in m.order_cycle_ids:
        return None
    existing = orders.get(db, summary.number)
    state = mapping.local_state(summary, existing)
    if state is None:
        return None
    order = mapping.order_from_detail(
        detail, state, sync_state.producer_names(db), existing, read_at
    )
    orders.save(db, order)
    sync_state.remember_order(
        db, summary.number, summary.fingerprint, summary.order_cycle_id, method, read_at
    )
    return order


# -- up: outbox, pickups, stock -------------------------------------------------------------------


def take_outbox(db: sqlite_utils.Database) -> int:
    """Copy new pickups and on-site sales from the outbox into the sync's own queues."""
    taken = 0
    while events := outbox.pending(db, DESTINATION, 200, OUTBOX_TYPES):
        with transaction(db):
            for event in events:
                if event.type == "order_collected":
                    _take_pickup(db, event)
                else:
                    _take_sale(db, event)
            outbox.acknowledge(db, DESTINATION, events[-1].id)
        taken += len(events)
    return taken


def _take_pickup(db: sqlite_utils.Database, event: outbox.Event) -> None:
    number = event.payload.get("number")
    if not isinstance(number, str) or not number:
        log.error("outbox event %s: order_collected without an order number", event.event_id)
        return
    collected_at = event.payload.get("collected_at") or event.ts
    sync_state.add_pickup(
        db, number, event.event_id, collected_at, event.payload.get("compartment")
    )


def _take_sale(db: sqlite_utils.Database, event: outbox.Event) -> None:
    for line_no, line in enumerate(event.payload.get("lines") or [], start=1):
        variant_id = line.get("variant_id")
        sku = str(line.get("sku") or "")
        if variant_id is None and sku.startswith("ofn-") and sku[4:].isdigit():
            variant_id = int(sku[4:])
        if variant_id is None:
            continue  # a product of the shop only: nothing to tell the marketplace
        sync_state.add_sale_line(
            db,
            event.event_id,
            line_no,
            int(variant_id),
            int(line.get("quantity") or 0),
            line.get("weight_g"),
        )


def report_pickups(
    config: Config, db: sqlite_utils.Database, client: Client, now: datetime
) -> tuple[int, int]:
    """`ship` each collected order until the answer shows it shipped; (reported, refused)."""
    reported = refused = 0
    for pickup in sync_state.pickups(db, "pending"):
        try:
            problem = _ship(client, pickup.number)
        except MarketplaceRefused as exc:
            problem, final = str(exc), True
        except MarketplaceError as exc:
            with transaction(db):
                sync_state.pickup_failed(db, pickup.number, str(exc))
            raise
        else:
            final = problem.startswith("cancelled")
        with transaction(db):
            if not problem:
                sync_state.pickup_done(db, pickup.number, "reported", _iso(now))
                reported += 1
            elif final:
                sync_state.pickup_done(db, pickup.number, "refused", _iso(now), problem)
                refused += 1
            else:
                sync_state.pickup_failed(db, pickup.number, problem)
    with transaction(db):
        sync_state.record_success(db, "pickups", _iso(now))
    return reported, refused


def _ship(client: Client, number: str) -> str:
    """'' once the marketplace shows the order shipped, else why not (retried next time)."""
    order = client.order(number)
    if order.get("state") == "canceled":
        return "cancelled on the marketplace: the customer may need a refund, ask the hub"
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


def report_stock(
    config: Config, db: sqlite_utils.Database, client: Client, now: datetime
) -> tuple[int, int]:
    """Write fresh stock minus the units sold here, variant by variant; (written, skipped).

    The read is right before the write: an online checkout that lands between the two is the
    only sale that can be lost (the window of one round trip, see docs/marketplace.md).
    """
    written = skipped = 0
    default = WeighedProduce(config.marketplace.weighed_produce)
    for sales in sync_state.unreported_sales(db):
        mapped = sync_state.variant(db, sales.variant_id)
        if mapped is None:
            skipped += 1  # not in the catalogue yet: kept until it is
            continue
        mode = WeighedProduce(mapped.weighed) if mapped.weighed else default
        units, remainder = mapping.units_to_report(
            mode, mapped.unit_grams, sales.pieces, sales.grams, mapped.remainder_g
        )
        target = None
        if units and not mapped.on_demand:
            fresh = client.variant(mapped.product_id, mapped.variant_id)
            if not fresh.get("on_demand"):
                target = max(0, int(fresh.get("on_hand") or 0) - units)
                client.set_stock(mapped.product_id, mapped.variant_id, target)
        with transaction(db):
            if target is None:
                skipped += 1
            else:
                sync_state.record_stock_written(db, mapped.variant_id, target, _iso(now))
                written += 1
            sync_state.set_remainder(db, mapped.variant_id, remainder)
            sync_state.mark_sales_reported(db, sales, _iso(now))
    with transaction(db):
        sync_state.record_success(db, "stock", _iso(now))
    return written, skipped


# -- helpers --------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _cursor(first: list[Answer], now: datetime) -> str:
    """The server's clock at the first page, minus the overlap (the box's clock if no Date)."""
    base = datetime.fromisoformat(first[0].date) if first and first[0].date else now
    return (base - OVERLAP).astimezone(UTC).isoformat(timespec="seconds")


def _older_than(iso: str, now: datetime, age: timedelta) -> bool:
    return not iso or now - datetime.fromisoformat(iso) >= age
