"""The marketplace sync against the fake Open Food Network over real HTTP."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.core.order import OrderState
from appliance.marketplace import sync
from appliance.marketplace.client import Client, MarketplaceAuthError, MarketplaceUnavailable
from appliance.marketplace.fake import FakeState, Fault, seed, serve
from appliance.marketplace.fake.scripting import SimClock, demo_site
from appliance.store import agent_state, catalogue, orders, outbox, sync_state
from appliance.store.db import transaction


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def config(fake: FakeState, tmp_path: Path, data_dir: Path) -> Iterator[Config]:
    with serve(fake) as url:
        yield demo_site(url, tmp_path / "ofn.key", data_dir)


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


def run(config: Config, db: sqlite3.Connection, clock: SimClock) -> sync.SyncReport:
    return sync.sync_once(config, db, clock(), sleep=clock.sleep)


def locker_orders(fake: FakeState) -> dict[str, str]:
    return {
        o.number: o.state
        for o in fake.orders.values()
        if o.shipping_method_id == seed.LOCKER_METHOD_ID
    }


def collect(db: sqlite3.Connection, number: str, event_id: str | None = None) -> None:
    with transaction(db):
        outbox.emit(
            db,
            "order_collected",
            {"number": number, "collected_at": "2026-11-20T10:00:00+00:00", "compartment": 3},
            event_id=event_id,
        )


def sell(db: sqlite3.Connection, variant_id: int, quantity: int, weight_g: int | None = None):
    line = {"sku": f"ofn-{variant_id}", "variant_id": variant_id, "quantity": quantity}
    with transaction(db):
        outbox.emit(db, "sale", {"receipt": 1, "lines": [{**line, "weight_g": weight_g}]})


def variant_named(fake: FakeState, product: str) -> int:
    return next(v.id for v in fake.variants.values() if fake.products[v.product_id].name == product)


def test_first_sync_brings_the_locker_orders_and_the_hub_catalogue(config, db, fake, clock):
    report = run(config, db, clock)

    assert report.ok
    local = {o.number: o for o in orders.list_orders(db)}
    to_hand_out = {n for n, s in locker_orders(fake).items() if s == "complete"}
    assert set(local) == to_hand_out  # not the farm-pickup order, not the cancelled one
    assert all(o.state is OrderState.WAITING and o.source == "marketplace" for o in local.values())
    camille = next(o for o in local.values() if o.customer_name == "Camille Durand")
    assert camille.customer_phone == "06 11 22 33 44"
    assert camille.total_cents == 2 * 280 + 3 * 290
    assert {(line.name, line.quantity, line.producer) for line in camille.lines} == {
        ("Carottes", 2, "Ferme des Lilas"),
        ("Crottin de chèvre", 3, "Chèvrerie du Moulin"),
    }
    louis = next(o for o in local.values() if o.customer_name == "Louis Martin")
    assert louis.customer_phone == ""  # OFN's "a" is not a phone number
    hugo = next(o for o in local.values() if o.customer_name == "Hugo Bernard")
    assert not hugo.paid
    products = catalogue.list_products(db)
    assert len(products) == len(fake.variants)
    honey = catalogue.get(db, f"ofn-{variant_named(fake, 'Miel de fleurs')}")
    assert honey is not None and honey.unit_price_cents == 890 and honey.stock == 13
    squash = catalogue.get(db, f"ofn-{variant_named(fake, 'Courge butternut')}")
    assert squash is not None and squash.stock is None  # on demand


def test_incremental_sync_reads_only_what_changed(config, db, fake, clock):
    run(config, db, clock)
    camille = next(o for o in fake.orders.values() if o.full_name == "Camille Durand")
    fake.edit_quantity(camille.number, camille.line_items[0].variant_id, 5)
    new = fake.place_order(
        distributor_id=seed.HUB_ID,
        order_cycle_id=seed.ORDER_CYCLE_ID,
        shipping_method_id=seed.LOCKER_METHOD_ID,
        full_name="Nina Robert",
        email="nina@example.test",
        lines=[(variant_named(fake, "Poireaux"), 1)],
    )
    details_before = fake.count("GET", "/api/v0/orders/R")

    report = run(config, db, clock)

    assert report.ok
    assert fake.count("GET", "/api/v0/orders/R") - details_before == 2  # the edited and the new
    assert orders.get(db, camille.number).lines[0].quantity == 5
    assert orders.get(db, new.number).state is OrderState.WAITING


def test_order_cancelled_after_the_sync_is_never_handed_out(config, db, fake, clock):
    run(config, db, clock)
    number = next(n for n, s in locker_orders(fake).items() if s == "complete")
    fake.cancel(number)

    order = sync.reread_order(config, db, number)

    assert order is not None and order.state is OrderState.CANCELLED
    assert orders.get(db, number).state is OrderState.CANCELLED


def test_cancellation_reaches_an_order_already_in_a_locker(config, db, fake, clock):
    run(config, db, clock)
    number = next(n for n, s in locker_orders(fake).items() if s == "complete")
    with transaction(db):
        deposited = orders.get(db, number)
        orders.save(db, replace(deposited, compartment=4, state=OrderState.IN_LOCKER))
    fake.cancel(number)

    run(config, db, clock)

    order = orders.get(db, number)
    assert order.state is OrderState.CANCELLED and order.compartment == 4


def test_pickup_is_reported_once_and_pay_at_pickup_is_captured_first(config, db, fake, clock):
    run(config, db, clock)
    hugo = next(o for o in fake.orders.values() if o.full_name == "Hugo Bernard")
    stock = {v.id: v.on_hand for v in fake.variants.values()}
    collect(db, hugo.number)
    collect(db, hugo.number)  # the lockers code said it twice: still one report

    run(config, db, clock)
    run(config, db, clock)

    assert hugo.payment_state == "paid" and hugo.shipment_state == "shipped"
    assert fake.count("PUT", f"/api/v0/orders/{hugo.number}/ship") == 1
    assert fake.emails == [(hugo.number, "Notification de réception")]
    assert {v.id: v.on_hand for v in fake.variants.values()} == stock  # pickups move no stock
    assert sync_state.directions.waiting(db)["pickups_to_report"] == 0


def test_on_site_sale_writes_fresh_stock_minus_local_sales(config, db, fake, clock):
    run(config, db, clock)
    salad = variant_named(fake, "Salade batavia")
    squash = variant_named(fake, "Courge butternut")
    fake.checkout(salad, 4)  # online, after our catalogue read: must not be overwritten
    before = fake.variants[salad].on_hand
    sell(db, salad, 3)
    sell(db, squash, 2)  # on demand: nothing to write

    report = run(config, db, clock)
    run(config, db, clock)

    assert report.ok
    assert fake.variants[salad].on_hand == before - 3
    assert fake.count("PUT", f"/api/v0/products/{fake.variants[squash].product_id}/") == 0
    assert fake.count("PUT", f"/api/v0/products/{fake.variants[salad].product_id}/") == 1


def test_checkout_during_the_stock_write_is_the_only_loss(config, db, fake, clock):
    """The documented window: a checkout between the fresh read and the write."""
    run(config, db, clock)
    salad = variant_named(fake, "Salade batavia")
    before = fake.variants[salad].on_hand
    path = f"/api/v0/products/{fake.variants[salad].product_id}/variants/{salad}"

    def checkout_just_before_our_write(method: str, request_path: str) -> None:
        if method == "PUT" and request_path == path:
            fake.before_request.clear()
            fake.checkout(salad, 1)

    fake.before_request.append(checkout_just_before_our_write)
    sell(db, salad, 2)
    run(config, db, clock)

    assert fake.variants[salad].on_hand == before - 2  # the online unit is the window's loss


def test_weighed_sales_report_whole_units_and_keep_the_remainder(config, db, fake, clock):
    run(config, db, clock)
    potatoes = next(
        v.id for v in fake.variants.values() if v.variant_unit == "weight" and v.unit_value == 100
    )
    with transaction(db):
        sync_state.variants.set_weighed(db, potatoes, "remainder")
    run(config, db, clock)
    product = catalogue.get(db, f"ofn-{potatoes}")
    assert product.by_weight and product.unit_price_cents == 300  # 0.30 per 100 g
    before = fake.variants[potatoes].on_hand

    sell(db, potatoes, 1, weight_g=430)
    run(config, db, clock)
    sell(db, potatoes, 1, weight_g=190)
    run(config, db, clock)

    assert fake.variants[potatoes].on_hand == before - 6  # 620 g: 6 units, 20 g kept
    assert sync_state.variants.get(db, potatoes).remainder_g == 20


def test_an_hour_offline_then_everything_is_delivered_once(config, db, fake, clock):
    run(config, db, clock)
    numbers = [n for n, s in locker_orders(fake).items() if s == "complete"][:2]
    salad = variant_named(fake, "Salade batavia")
    before = fake.variants[salad].on_hand
    fake.down = True
    for number in numbers:
        collect(db, number)
    sell(db, salad, 2)

    start = clock()
    while clock() - start < timedelta(hours=1):
        report = run(config, db, clock)
        assert not report.ok
        clock.sleep(config.marketplace.sync_interval_s)
    assert sync_state.directions.state(db, "pickups").last_error
    fake.down = False
    report = run(config, db, clock)

    assert report.ok
    for number in numbers:
        assert fake.orders[number].shipment_state == "shipped"
        assert fake.count("PUT", f"/api/v0/orders/{number}/ship") == 1
    assert fake.variants[salad].on_hand == before - 2
    assert sync_state.directions.state(db, "pickups").last_error == ""


def test_html_maintenance_page_is_retried_with_backoff(config, db, fake, clock):
    fake.fail_next(Fault.MAINTENANCE, times=2)

    report = run(config, db, clock)

    assert report.ok
    assert clock.slept > 0  # it waited before trying again
    assert orders.list_orders(db)


def test_too_many_requests_waits_the_seconds_the_server_asks(config, db, fake, clock):
    fake.retry_after = "7"
    fake.fail_next(Fault.RATE_LIMITED, path="/api/v0/orders")

    report = run(config, db, clock)

    assert report.ok
    assert clock.slept == 7  # the server's wait, not the backoff's second or so
    assert len(orders.list_orders(db)) == 4


def test_too_many_requests_until_a_date_counts_from_the_servers_clock(config, db, fake, clock):
    fake.retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    fake.fail_next(Fault.RATE_LIMITED, path="/api/v0/orders")

    report = run(config, db, clock)

    assert report.ok
    assert 30 < clock.slept <= 60


def test_too_many_requests_for_longer_than_the_cap_ends_the_round(config, db, fake, clock):
    fake.retry_after = "3600"
    fake.fail_next(Fault.RATE_LIMITED, times=100)
    collect(db, "R000000001")

    report = run(config, db, clock)

    assert not report.ok
    assert "asks to wait 3600 s" in report.directions[0].error
    assert clock.slept == 0  # neither an hour nor a hammering: the next sync tries again
    assert sync_state.directions.waiting(db)["pickups_to_report"] == 1


def test_truncated_json_is_retried_not_stored(config, db, fake, clock):
    fake.fail_next(Fault.TRUNCATED, path="/api/v0/orders")

    report = run(config, db, clock)

    assert report.ok
    assert len(orders.list_orders(db)) == 4


def test_marketplace_that_stays_broken_is_reported_and_nothing_is_lost(config, db, fake, clock):
    fake.fail_next(Fault.GATEWAY_TIMEOUT, times=100)
    collect(db, "R000000001")

    report = run(config, db, clock)

    assert not report.ok
    assert "not answering properly" in report.directions[0].error
    assert sync_state.directions.waiting(db)["pickups_to_report"] == 1


def test_refused_key_says_what_to_fix(config, db, fake, clock):
    fake.fail_next(Fault.UNAUTHORIZED)

    report = run(config, db, clock)

    assert not report.ok
    errors = [d.error for d in report.directions if d.error]
    assert "api_key_file" in errors[0] and "manages the hub" in errors[0]
    assert "API key" in sync_state.directions.state(db, "stock").last_error


def test_wrong_key_file_content_is_an_auth_error(config, db, tmp_path, clock):
    config.marketplace.api_key_file.write_text("not-the-key")
    with pytest.raises(MarketplaceAuthError, match="api_key_file"):
        sync.reread_order(config, db, "R000000001")


def test_reread_while_offline_raises_unavailable(config, db, fake, clock):
    fake.down = True
    client = sync.client_for(config, sleep=clock.sleep)
    with pytest.raises(MarketplaceUnavailable):
        sync.reread_order(config, db, "R000000001", client=client)


def test_reread_at_the_door_tries_once_and_gives_up_fast(config, db, fake, clock):
    """A customer waits at the locker: one try, no backoff, then the kiosk uses its own copy."""
    fake.fail_next(Fault.MAINTENANCE, times=10)
    asked_before = len(fake.requests)
    started = time.monotonic()
    with pytest.raises(MarketplaceUnavailable):
        sync.reread_order(config, db, "R000000001")
    assert time.monotonic() - started < sync.AT_THE_DOOR_TIMEOUT_S
    assert len(fake.requests) - asked_before == 1


def test_kiosk_sale_lines_find_their_variant_by_sku(config, db, fake, clock):
    """The kiosk's `sale` events carry `variant_id: null`; the sku `ofn-<id>` names the variant,
    and a product of the shop only is none of the marketplace's business."""
    run(config, db, clock)
    salad = variant_named(fake, "Salade batavia")
    before = fake.variants[salad].on_hand
    kiosk_line = {"variant_id": None, "weight_g": None, "price_cents": 150}
    with transaction(db):
        outbox.emit(
            db,
            "sale",
            {
                "receipt": 7,
                "lines": [
                    {**kiosk_line, "sku": f"ofn-{salad}", "quantity": 2},
                    {**kiosk_line, "sku": "confiture-maison", "quantity": 1},
                ],
                "total_cents": 450,
                "payment_reference": "000123",
            },
        )

    report = run(config, db, clock)

    assert report.ok
    assert fake.variants[salad].on_hand == before - 2
    assert sync_state.directions.waiting(db)["sale_lines_to_report"] == 0


def test_each_round_leaves_a_heartbeat_for_telemetry(config, db, fake, clock):
    fake.down = True
    run(config, db, clock)
    failing = agent_state.heartbeats(db)["sync"]
    fake.down = False
    collect(db, next(n for n, s in locker_orders(fake).items() if s == "complete"))

    run(config, db, clock)

    healthy = agent_state.heartbeats(db)["sync"]
    assert failing.detail["ok"] is False and "not answering" in failing.detail["last_error"]
    assert healthy.detail["ok"] is True and healthy.detail["last_error"] == ""
    assert set(healthy.detail["last_success"]) == {"catalogue", "orders", "pickups", "stock"}
    assert all(healthy.detail["last_success"].values())
    assert healthy.detail["pickups_to_report"] == 0
    assert healthy.stale_after_s > config.marketplace.sync_interval_s


def test_a_bigger_hub_is_read_page_by_page_two_requests_at_a_time(tmp_path, data_dir, db, clock):
    big = seed.big(FakeState(), variants=250, orders=120)
    big.latency_s = 0.01  # so that requests overlap
    with serve(big) as url:
        report = run(demo_site(url, tmp_path / "ofn.key", data_dir), db, clock)

    assert report.ok
    assert len(catalogue.list_products(db)) == 250
    assert len(orders.list_orders(db)) == 120
    assert big.count("GET", "/api/v0/products/bulk_products") == 2  # 125 products, 100 a page
    assert big.count("GET", "/api/v0/orders") - big.count("GET", "/api/v0/orders/") == 2
    assert big.most_in_flight <= 2


def test_filters_the_marketplace_ignores_are_applied_here(config, db, fake, clock):
    fake.ignored_filters = {"shipping_method_id", "distributor_id_eq", "state_in"}
    fake.place_order(
        distributor_id=9,
        order_cycle_id=seed.ORDER_CYCLE_ID,
        shipping_method_id=seed.LOCKER_METHOD_ID,
        full_name="Autre boutique",
        email="autre@example.test",
        lines=[],
    )
    fake.enterprises[9].managers.add(seed.DEMO_KEY)  # the key's user also manages hub 9

    run(config, db, clock)

    to_hand_out = {n for n, s in locker_orders(fake).items() if s == "complete"}
    mine = {n for n in to_hand_out if fake.orders[n].distributor_id == seed.HUB_ID}
    assert {o.number for o in orders.list_orders(db)} == mine


def test_a_marketplace_slower_than_the_timeout_is_given_up_on(config, fake, clock):
    fake.fail_next(Fault.SLOW, times=4)
    fake.slow_s = 1.0
    client = Client(config.marketplace.url, seed.DEMO_KEY, timeout_s=0.2, sleep=clock.sleep)

    with pytest.raises(MarketplaceUnavailable, match="no answer"):
        client.order("R000000001")
