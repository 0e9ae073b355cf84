"""The till gateway against the fake Pastèque over real HTTP: sales, handed-out orders and the
box's closings become tickets and sessions, once each, in order, whatever the server does."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from appliance import cli
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.order import Order, OrderLine, OrderState
from appliance.pasteque import status
from appliance.pasteque.fake import FakeState, Fault, seed, serve
from appliance.pasteque.fake.scripting import demo_site
from appliance.pasteque.gateway import REFUSED, STOPPED, UNREACHABLE, Gateway
from appliance.store import alerts, catalogue, orders, outbox
from appliance.store import tickets as signed
from appliance.store.db import transaction
from tests.pasteque_support import basket, close_day, recorded_at, sell, stock_shop

DEVICE = "test-box"


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def url(fake: FakeState) -> Iterator[str]:
    with serve(fake) as base:
        yield base


def site(url: str, tmp_path: Path, data_dir: Path, **pasteque: object) -> Config:
    return demo_site(
        url, tmp_path / "pasteque.pass", data_dir, {"device": {"id": DEVICE}}, **pasteque
    )


@pytest.fixture
def config(url: str, tmp_path: Path, data_dir: Path) -> Config:
    return site(url, tmp_path, data_dir, alert_after=2)


@pytest.fixture
def shop(db: sqlite3.Connection) -> sqlite3.Connection:
    stock_shop(db)
    return db


def register_id(fake: FakeState) -> int:
    register = fake.register_by(reference=seed.DEMO_REGISTER)
    assert register is not None
    return register.id


def sell_some(
    db: sqlite3.Connection, count: int, seed_: int = 1, device: str = DEVICE
) -> list[int]:
    rng = random.Random(seed_)
    return [sell(db, device, basket(rng)).total_cents for _ in range(count)]


DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 11, tzinfo=UTC)  # 12:00 in Paris
NIGHT = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)  # when the agent closes the day


def test_each_sale_becomes_one_ticket_of_the_days_open_session(config, shop, fake) -> None:
    totals = sell_some(shop, 5)
    report = Gateway(config, shop).round()

    assert report.ok and (report.taken, report.opened, report.sent) == (5, 1, 5)
    stored = fake.session_tickets(register_id(fake), 1)
    assert [t["number"] for t in stored] == [1, 2, 3, 4, 5]
    assert [round(t["finalTaxedPrice"] * 100) for t in stored] == totals
    assert fake.sessions[(register_id(fake), 1)]["openDate"] == stored[0]["date"]
    assert status.report(config, shop)["state"] == "ok"
    assert Gateway(config, shop).round().sent == 0  # nothing sent twice


def test_a_lost_reply_is_sent_again_identically_and_counted_once(config, shop, fake) -> None:
    sell_some(shop, 3)
    fake.fail_next(Fault.LOST_REPLY, path="/api/ticket")
    gateway = Gateway(config, shop)
    first = gateway.round()
    assert not first.ok and "502" in first.error
    assert gateway.round().sent == 3

    assert len(fake.session_tickets(register_id(fake), 1)) == 3
    assert not fake.fiscal.records("tkt", f"failure-{register_id(fake):010d}")


def test_a_token_expired_mid_queue_means_one_new_login(config, shop, fake) -> None:
    sell_some(shop, 120)  # three batches
    fake.fail_next(Fault.TOKEN_EXPIRED, path="/api/ticket")
    gateway = Gateway(config, shop)
    gateway.round()  # maps and opens; the batch is refused 403, then sent after a login
    assert len(fake.session_tickets(register_id(fake), 1)) == 120
    assert fake.logins == 2


def test_while_pastèque_is_down_sales_wait_and_a_repeated_failure_raises_an_alert(
    config, shop, fake
) -> None:
    fake.down = True
    sell_some(shop, 4)
    gateway = Gateway(config, shop)
    assert not gateway.round().ok
    assert not alerts.open_alerts(shop, UNREACHABLE)
    assert not gateway.round().ok
    (alert,) = alerts.open_alerts(shop, UNREACHABLE)
    assert "failures in a row: 2" in alert.message and "HTTP 503" in alert.message
    down = status.report(config, shop)
    assert down["state"] == "failing" and "maintenance" in down["last_failure"]
    assert down["events_not_taken"] == 4 and down["retry_at"]

    fake.down = False
    assert gateway.round().sent == 4
    assert not alerts.open_alerts(shop, UNREACHABLE)
    assert status.report(config, shop)["state"] == "ok"


def test_a_missing_payment_mode_stops_the_gateway_and_the_box_keeps_everything(
    url, tmp_path, data_dir, shop, fake
) -> None:
    wrong = site(url, tmp_path, data_dir, online_payment_mode="en-ligne")
    sell_some(shop, 2)
    report = Gateway(wrong, shop).round()

    assert not report.ok and "'en-ligne'" in report.error
    assert "online_payment_mode" in report.error
    stopped = status.report(wrong, shop)
    assert stopped["state"] == "stopped" and stopped["events_not_taken"] == 2
    assert "'en-ligne'" in alerts.open_alerts(shop, STOPPED)[0].message
    assert not fake.tickets
    sell_some(shop, 1, seed_=2)  # the box sells on

    fixed = site(url, tmp_path, data_dir)
    assert Gateway(fixed, shop).round().sent == 3
    assert not alerts.open_alerts(shop, STOPPED)


def test_a_vat_rate_pastèque_lacks_stops_the_gateway_naming_it(config, shop, fake) -> None:
    with transaction(shop):
        catalogue.save(shop, Product("VIN", "Vin corse", SoldBy.PIECE, 900, 850))
    report = Gateway(config, shop).round()
    assert not report.ok and "no tax at 8,5 %" in report.error and "Taxes" in report.error


def test_a_walk_in_vat_rate_pastèque_lacks_is_named_before_anything_is_sold(
    url, tmp_path, data_dir, shop
) -> None:
    base = {
        "device": {"id": DEVICE},
        "lockers": {"compartments": [{"number": 3}]},
        "marketplace": {"vat_rate_bp": 850},
    }
    config = demo_site(url, tmp_path / "pasteque.pass", data_dir, base)
    report = Gateway(config, shop).round()
    assert not report.ok and "no tax at 8,5 %" in report.error
    assert "[marketplace] vat_rate_bp" in report.error


def test_an_online_order_handed_out_is_a_ticket_paid_online(config, shop, fake) -> None:
    order = Order(
        "R000000101",
        OrderState.COLLECTED,
        "Alice Martin",
        total_cents=1200 + 2 * 240,
        lines=(
            OrderLine("Panier de légumes", 1, price_cents=1200),
            OrderLine("Œufs plein air x6", 2, price_cents=240),
        ),
    )
    with transaction(shop):
        orders.save(shop, order)
        outbox.emit(shop, "order_collected", {"number": order.number, "compartment": 3})
    assert Gateway(config, shop).round().sent == 1

    (ticket,) = fake.session_tickets(register_id(fake), 1)
    online = next(m.id for m in fake.payment_modes.values() if m.reference == "online")
    assert ticket["payments"][0]["paymentMode"] == online
    assert ticket["payments"][0]["amount"] == 16.8
    assert [line["productLabel"] for line in ticket["lines"]] == [
        "Panier de légumes",
        "Œufs plein air x6",
    ]
    assert "Alice" not in json.dumps(ticket)  # no customer data goes to the till


def test_online_orders_stay_out_when_another_gateway_records_them(
    url, tmp_path, data_dir, shop, fake
) -> None:
    order = Order("R000000102", OrderState.COLLECTED, "Paul", total_cents=500)
    with transaction(shop):
        orders.save(shop, order)
        outbox.emit(shop, "order_collected", {"number": order.number})
    config = site(url, tmp_path, data_dir, online_orders=False)
    report = Gateway(config, shop).round()
    assert report.ok and report.taken == 1 and not fake.tickets


def test_the_boxs_closing_closes_the_session_and_the_next_sales_open_the_next(
    config, shop, fake
) -> None:
    with recorded_at(NOON):
        totals = sell_some(shop, 6)
    gateway = Gateway(config, shop)
    gateway.round()
    close_day(shop, config, DAY, NIGHT)
    assert gateway.round().closed == 1

    closed = fake.sessions[(register_id(fake), 1)]
    assert closed["closeDate"] is not None and closed["ticketCount"] == 6
    assert round(closed["payments"][0]["amount"] * 100) == sum(totals)
    assert closed["csPerpetual"] == closed["cs"]
    assert fake.fiscal.records("z", f"{register_id(fake):010d}")
    assert not alerts.open_alerts(shop)  # the Z holds what the box's closing counted

    with recorded_at(NIGHT + timedelta(hours=8)):
        sell_some(shop, 2, seed_=3)
    report = gateway.round()
    assert (report.opened, report.sent) == (1, 2)
    assert len(fake.session_tickets(register_id(fake), 2)) == 2


def test_sales_of_the_next_day_wait_for_the_closing_of_the_day_before(config, shop, fake) -> None:
    with recorded_at(NOON):
        sell_some(shop, 3)
    with recorded_at(NOON + timedelta(days=1)):
        sell_some(shop, 2, seed_=2)
    gateway = Gateway(config, shop)
    gateway.round()

    assert len(fake.session_tickets(register_id(fake), 1)) == 3
    waiting = status.report(config, shop)
    assert waiting["state"] == "waiting_closing"
    assert waiting["waiting_for_closing_of"] == "2026-11-20"
    assert waiting["tickets_queued"] == 2

    close_day(shop, config, DAY, NOON + timedelta(days=1, hours=1))
    report = gateway.round()
    assert (report.closed, report.opened, report.sent) == (1, 1, 2)
    assert fake.sessions[(register_id(fake), 1)]["ticketCount"] == 3
    assert len(fake.session_tickets(register_id(fake), 2)) == 2


def test_a_refund_is_a_negative_ticket_paid_back_by_the_refund_mode(config, shop, fake) -> None:
    with recorded_at(NOON):
        sell_some(shop, 2)
        signed.record_refund(shop, 1, [1], reason="tomates abîmées", by="test")
    Gateway(config, shop).round()
    close_day(shop, config, DAY, NIGHT)
    Gateway(config, shop).round()

    refund = fake.session_tickets(register_id(fake), 1)[-1]
    assert refund["finalTaxedPrice"] < 0 and refund["lines"][0]["quantity"] < 0
    assert refund["payments"][0]["amount"] == refund["finalTaxedPrice"]
    assert fake.sessions[(register_id(fake), 1)]["ticketCount"] == 3
    assert not alerts.open_alerts(shop)


def test_training_sales_never_reach_the_till(config, shop, fake) -> None:
    from appliance.store import fiscal

    with transaction(shop):
        fiscal.set_state(shop, "mode", "training")
    sell_some(shop, 2)
    assert Gateway(config, shop).round().sent == 0
    assert not fake.tickets and status.report(config, shop)["events_not_taken"] == 0


def test_a_refused_ticket_raises_an_alert_and_the_others_go_on(config, shop, fake) -> None:
    sell_some(shop, 3)
    gateway = Gateway(config, shop)
    gateway.map_now()
    # another till wrote number 2 on this register: the box's ticket 2 is refused for good
    fake.tickets[(register_id(fake), 2)] = {"number": 2, "sequence": 1, "other": True}
    report = gateway.round()

    assert report.ok and (report.sent, report.refused) == (2, 1)
    (alert,) = alerts.open_alerts(shop, REFUSED)
    assert alert.subject == "ticket 2" and "Tickets are read only" in alert.message
    refused = status.report(config, shop)["refused"]
    assert [r["number"] for r in refused] == [2]
    assert fake.fiscal.records("tkt", f"failure-{register_id(fake):010d}")


def test_a_register_with_a_past_gets_a_session_that_is_not_continuous(config, shop, fake) -> None:
    rid = register_id(fake)
    with fake.lock:
        from appliance.pasteque.fake import api

        api.write_session(fake, {"cashRegister": rid, "sequence": 1, "openDate": 10})
        api.write_session(
            fake, {"cashRegister": rid, "sequence": 1, "openDate": 10, "closeDate": 20, "cs": 0}
        )
    sell_some(shop, 1)
    Gateway(config, shop).round()
    assert fake.sessions[(rid, 2)]["continuous"] is False  # a box that lost its past


def test_the_cli_sends_what_waits_and_exits_0_once_the_queue_is_empty(
    config, shop, fake, tmp_path, capsys
) -> None:
    toml = tmp_path / "comptoir.toml"
    p = config.pasteque
    toml.write_text(
        f'[device]\nid = "{DEVICE}"\ndata_dir = "{config.device.data_dir}"\n'
        f'[pasteque]\nenabled = true\nurl = "{p.url}"\nuser = "{p.user}"\n'
        f'password_file = "{p.password_file}"\ncash_register = "{p.cash_register}"\n'
    )
    with recorded_at(NOON):
        sell_some(shop, 2)
    fake.down = True
    assert cli.main(["--config", str(toml), "pasteque", "sync", "--once"]) == 1
    assert cli.main(["--config", str(toml), "pasteque", "status"]) == 0
    out = capsys.readouterr().out
    assert "Pastèque gateway: failing" in out and "HTTP 503" in out
    fake.down = False
    assert cli.main(["--config", str(toml), "pasteque", "sync", "--once"]) == 0
    assert cli.main(["--config", str(toml), "pasteque", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["tickets_sent"] == 2
    close_day(shop, config, DAY, NIGHT)
    assert cli.main(["--config", str(toml), "pasteque", "sync", "--once"]) == 0
    assert cli.main(["--config", str(toml), "pasteque", "z", "--json"]) == 0
    (z,) = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert z["tickets"] == 2 and z["by_payment"][0]["mode"] == "magcard"
    assert cli.main(["--config", str(toml), "pasteque", "check"]) == 0
    assert "VAT 5.5 % -> tax" in capsys.readouterr().out


def test_the_demo_runs_a_fake_pastèque_whose_z_shows_the_demo_sales(tmp_path, data_dir) -> None:
    import dataclasses
    import urllib.request

    from appliance.commands.demo import pasteque_till
    from appliance.config import load
    from appliance.store.db import open_database
    from tests.agent_support import wait_until

    demo = load(Path(__file__).resolve().parents[2] / "config" / "demo.toml")
    demo = dataclasses.replace(demo, device=dataclasses.replace(demo.device, data_dir=data_dir))
    db = open_database(demo.database_path)
    stock_shop(db)
    with pasteque_till(demo) as site:
        sell_some(db, 2, device=demo.device.id)

        def z() -> list:
            with urllib.request.urlopen(f"{site.pasteque.url}/fake/z.json", timeout=5) as r:
                return json.loads(r.read())

        report = wait_until(lambda: z() and z()[0]["from_tickets"]["ticketCount"] == 2 and z(), 30)
    assert report[0]["register"] == seed.DEMO_REGISTER
    assert (data_dir / "pasteque-demo-password").stat().st_mode & 0o077 == 0
    db.close()


def test_a_walk_in_locker_purchase_is_a_ticket_naming_the_produce(config, shop, fake) -> None:
    from types import SimpleNamespace

    from appliance.core.locker import Compartment
    from appliance.core.sale import Basket, SaleLine
    from appliance.kiosk.shop_actions import ShopActions
    from appliance.store import lockers

    lockers.sync_compartments(shop, [Compartment(3)])
    lockers.fill_walkin(shop, 3, name="Panier de légumes", price_cents=1200, producer="paul")
    actions = cast(ShopActions, SimpleNamespace(site=config))  # shelf() reads only .site
    (item,) = ShopActions.shelf(actions, shop)  # what the kiosk sells
    with recorded_at(NOON):
        sell(shop, DEVICE, Basket((SaleLine.pieces(item.product, 1),)))
    assert Gateway(config, shop).round().sent == 1

    (ticket,) = fake.session_tickets(register_id(fake), 1)
    (line,) = ticket["lines"]
    assert (line["productLabel"], line["quantity"], line["taxedPrice"]) == (
        "Panier de légumes",
        1.0,
        12.0,
    )
    assert ticket["payments"][0]["amount"] == 12.0


def test_a_day_of_sales_a_refund_and_an_order_handed_out_closes_in_one_z(
    config, shop, fake
) -> None:
    """The till's Z holds the box's closing (card, net of the refund) plus the online orders
    handed out that day, each in its payment mode and VAT rate."""
    from appliance.core.closing import Period
    from appliance.pasteque.mapping import Mapping
    from appliance.pasteque.sessions import read_z
    from appliance.store import closings, pasteque

    order = Order(
        "R000000104",
        OrderState.COLLECTED,
        "Alice Martin",
        total_cents=1200,
        lines=(OrderLine("Panier de légumes", 1, price_cents=1200),),
    )
    with recorded_at(NOON):
        sell_some(shop, 4)
        signed.record_refund(shop, 2, [1], reason="tomates abîmées", by="test")
        with transaction(shop):
            orders.save(shop, order)
            outbox.emit(shop, "order_collected", {"number": order.number, "compartment": 3})
    gateway = Gateway(config, shop)
    gateway.round()
    close_day(shop, config, DAY, NIGHT)
    assert gateway.round().closed == 1

    (box,) = closings.closings(shop, Period.DAY)
    (session,) = fake.closed_sessions(register_id(fake))
    z = read_z(session, Mapping.from_json(pasteque.gateway(shop).mapping))
    card = sum(p["total_cents"] for p in box.data["by_payment"] if p["method"] == "card")
    assert z.by_payment == {"magcard": card, "online": 1200}
    assert z.tickets == box.data["tickets"] + 1
    vat = config.marketplace.vat_rate_bp
    online_vat = 1200 - round(1200 * 10000 / (10000 + vat))
    expected = {v["rate_bp"]: [v["total_cents"], v["vat_cents"]] for v in box.data["by_vat"]}
    expected.setdefault(vat, [0, 0])
    expected[vat] = [expected[vat][0] + 1200, expected[vat][1] + online_vat]
    assert {r: [b + v, v] for r, (b, v) in z.by_vat.items()} == expected
    assert not alerts.open_alerts(shop)
