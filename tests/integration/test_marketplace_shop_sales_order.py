"""On-site sales added to the hub's shop-sales order: relative stock moves, never twice."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.config import Config
from appliance.marketplace import sync
from appliance.marketplace.fake import FakeState, Fault, seed, serve
from appliance.marketplace.fake.scripting import SimClock, demo_site
from appliance.store import orders, outbox, sync_state
from appliance.store.db import transaction

SALES = seed.SHOP_SALES_ORDER


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def config(fake: FakeState, tmp_path: Path, data_dir: Path) -> Iterator[Config]:
    with serve(fake) as url:
        yield demo_site(url, tmp_path / "ofn.key", data_dir, shop_sales_order=SALES)


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


def run(config: Config, db: sqlite3.Connection, clock: SimClock) -> sync.SyncReport:
    return sync.sync_once(config, db, clock(), sleep=clock.sleep)


def sell(db: sqlite3.Connection, variant_id: int, quantity: int) -> None:
    line = {"sku": f"ofn-{variant_id}", "variant_id": None, "quantity": quantity, "weight_g": None}
    with transaction(db):
        outbox.emit(db, "sale", {"receipt": 1, "lines": [line]})


def salad(fake: FakeState) -> int:
    return next(
        v.id for v in fake.variants.values() if fake.products[v.product_id].name == "Salade batavia"
    )


def in_order(fake: FakeState, variant_id: int) -> int:
    return sum(li.quantity for li in fake.orders[SALES].line_items if li.variant_id == variant_id)


def stock_error(report: sync.SyncReport) -> str:
    return next(d.error for d in report.directions if d.direction == "stock")


def test_a_checkout_during_the_report_loses_nothing(config, db, fake, clock):
    run(config, db, clock)
    variant = salad(fake)
    before = fake.variants[variant].on_hand

    def checkout_at_the_same_moment(method: str, path: str) -> None:
        if method == "POST" and path.endswith("/shipments"):
            fake.before_request.clear()
            fake.checkout(variant, 1)

    fake.before_request.append(checkout_at_the_same_moment)
    sell(db, variant, 3)
    report = run(config, db, clock)
    run(config, db, clock)

    assert report.ok
    assert fake.variants[variant].on_hand == before - 3 - 1  # both sales count
    assert in_order(fake, variant) == 3  # and the hub's reports show the on-site sale
    assert fake.count("PUT", "/api/v0/products/") == 0  # no absolute write at all
    assert fake.count("POST", f"/api/v0/orders/{SALES}/shipments") == 1


def test_a_lost_answer_is_not_counted_twice(config, db, fake, clock):
    run(config, db, clock)
    variant = salad(fake)
    before = fake.variants[variant].on_hand
    fake.fail_next(Fault.TRUNCATED, path=f"/api/v0/orders/{SALES}/shipments")  # done, answer cut
    sell(db, variant, 2)

    lost = run(config, db, clock)
    assert not lost.ok and "not answering properly" in stock_error(lost)
    assert sync_state.directions.waiting(db)["shop_sale_units_to_send"] == 2
    healed = run(config, db, clock)

    assert healed.ok
    assert fake.variants[variant].on_hand == before - 2
    assert in_order(fake, variant) == 2
    assert fake.count("POST", f"/api/v0/orders/{SALES}/shipments") == 1
    assert sync_state.directions.waiting(db)["shop_sale_units_to_send"] == 0


def test_a_send_that_never_arrived_is_sent_again(config, db, fake, clock):
    run(config, db, clock)
    variant = salad(fake)
    before = fake.variants[variant].on_hand
    fake.fail_next(Fault.MAINTENANCE, path=f"/api/v0/orders/{SALES}/shipments")
    sell(db, variant, 2)

    assert not run(config, db, clock).ok
    sell(db, variant, 1)  # sold meanwhile: joins the units not sent yet
    assert run(config, db, clock).ok

    assert fake.variants[variant].on_hand == before - 3
    assert in_order(fake, variant) == 3


def test_more_sold_here_than_left_online_reports_what_is_left(config, db, fake, clock):
    run(config, db, clock)
    variant = salad(fake)
    fake.variants[variant].on_hand = 2  # online checkouts took the rest meanwhile
    sell(db, variant, 5)

    report = run(config, db, clock)

    assert report.ok
    assert fake.variants[variant].on_hand == 0
    assert in_order(fake, variant) == 2
    assert sync_state.directions.waiting(db)["shop_sale_units_to_send"] == 0


def test_a_wrong_order_number_says_what_to_fix_and_keeps_the_sales(
    config, db, fake, clock, tmp_path
):
    wrong = demo_site(
        config.marketplace.url,
        tmp_path / "ofn.key",
        config.device.data_dir,
        shop_sales_order="R000000555",
    )
    run(wrong, db, clock)
    sell(db, salad(fake), 1)

    report = run(wrong, db, clock)

    assert not report.ok
    assert "R000000555 ([marketplace] shop_sales_order) cannot be read" in stock_error(report)
    assert (
        sync_state.directions.waiting(db)["sale_lines_to_report"] == 1
    )  # kept for the fixed setting
    assert run(config, db, clock).ok
    assert in_order(fake, salad(fake)) == 1


def test_a_cancelled_shop_sales_order_takes_no_more_sales(config, db, fake, clock):
    run(config, db, clock)
    fake.cancel(SALES)
    sell(db, salad(fake), 1)

    report = run(config, db, clock)

    assert "is 'canceled': only a complete order takes stock" in stock_error(report)
    assert sync_state.directions.waiting(db)["sale_lines_to_report"] == 1


def test_sync_status_shows_units_still_to_send(config, db, fake, clock, capsys, tmp_path):
    run(config, db, clock)
    fake.fail_next(Fault.GATEWAY_TIMEOUT, path=f"/api/v0/orders/{SALES}/shipments")
    sell(db, salad(fake), 4)
    run(config, db, clock)
    toml = tmp_path / "comptoir.toml"
    toml.write_text(f"[device]\ndata_dir = {json.dumps(str(config.device.data_dir))}\n")

    assert main(["--config", str(toml), "sync", "status", "--json"]) == 0

    assert json.loads(capsys.readouterr().out)["shop_sale_units_to_send"] == 4


def test_the_shop_sales_order_is_never_an_order_to_hand_out(fake, db, clock, tmp_path, data_dir):
    with serve(fake) as url:
        any_method = demo_site(
            url, tmp_path / "ofn.key", data_dir, shipping_method_ids=[], shop_sales_order=SALES
        )
        assert run(any_method, db, clock).ok
        assert sync.reread_order(any_method, db, SALES) is None

    assert SALES not in {o.number for o in orders.list_orders(db)}
