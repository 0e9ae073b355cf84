"""An online order handed out over the counter: recorded once, with who did it, and reported
like a locker pickup to the marketplace (shipped) and the till (a ticket paid online)."""

from __future__ import annotations

import html
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.core.locker import Compartment, Size, Use
from appliance.core.order import Order, OrderLine, OrderState
from appliance.core.pickup_code import Verdict
from appliance.marketplace import sync
from appliance.marketplace.fake import FakeState, seed, serve
from appliance.marketplace.fake.scripting import SimClock, demo_site
from appliance.pasteque import fake as pasteque_fake
from appliance.pasteque.fake.scripting import demo_site as pasteque_site
from appliance.pasteque.gateway import Gateway
from appliance.store import journal, lockers, orders, outbox, pickup_codes, web_users
from appliance.store.db import transaction
from appliance.store.handouts import HandoutRefused, hand_out
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found
from tests.integration.test_web_admin import PASSWORD, log_in, post, text

KEY = b"device-key-for-tests-0123456789a"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
BASKET = OrderLine("Panier de légumes", 1, price_cents=1800, producer="Ferme des Lilas")


@pytest.fixture
def shop(db: sqlite3.Connection) -> sqlite3.Connection:
    lockers.sync_compartments(db, [Compartment(n, Size.M) for n in (1, 2)])
    with transaction(db):
        for number in ("R100", "R200"):
            orders.save(
                db,
                Order(number, OrderState.WAITING, "Alice", total_cents=1800, lines=(BASKET,)),
            )
        orders.save(db, Order("R300", OrderState.CANCELLED, "Bruno", total_cents=900))
    return db


def in_locker(db: sqlite3.Connection, number: str, compartment: int) -> str:
    issued = lockers.deposit(
        db,
        number,
        compartment,
        producer="Ferme des Lilas",
        key=KEY,
        validity_days=7,
        rng=random.Random(1),
        now=NOW,
    )
    return issued.code


def test_a_waiting_order_handed_out_is_collected_journalled_and_reported_once(shop) -> None:
    order = hand_out(shop, "R100", by="web:paul", now=NOW)
    assert order.state is OrderState.COLLECTED
    assert found(orders.get(shop, "R100")).state is OrderState.COLLECTED
    (entry,) = journal.entries(shop)
    assert entry.kind == "handout"
    assert entry.data == {"number": "R100", "by": "web:paul", "compartment": None}
    (event,) = outbox.pending(shop, "test", types=("order_collected",))
    assert event.payload["number"] == "R100" and event.payload["compartment"] is None
    with pytest.raises(HandoutRefused, match="already handed out"):
        hand_out(shop, "R100", by="web:paul", now=NOW)
    assert len(outbox.pending(shop, "test", types=("order_collected",))) == 1


def test_a_cancelled_or_unknown_order_is_never_handed_out(shop) -> None:
    with pytest.raises(HandoutRefused, match="cancelled on the marketplace: do not hand it out"):
        hand_out(shop, "R300", by="web:paul")
    with pytest.raises(HandoutRefused, match="not on this box"):
        hand_out(shop, "R999", by="web:paul")
    assert found(orders.get(shop, "R300")).state is OrderState.CANCELLED
    assert not outbox.pending(shop, "test", types=("order_collected",))
    assert not list(journal.entries(shop))


def test_an_order_in_a_locker_is_handed_out_only_once_taken_out(shop) -> None:
    code = in_locker(shop, "R200", 2)
    with pytest.raises(HandoutRefused, match="in compartment 2: take it out first"):
        hand_out(shop, "R200", by="web:paul", now=NOW)
    assert found(lockers.state(shop, 2)).use is Use.ORDER  # nothing changed

    hand_out(shop, "R200", by="web:paul", taken_out=True, now=NOW + timedelta(hours=1))
    assert found(lockers.state(shop, 2)).use is Use.FREE
    check = pickup_codes.check_code(shop, code, key=KEY, now=NOW + timedelta(hours=2))
    assert check.verdict is not Verdict.OK  # the customer's code opens nothing now
    assert [e.kind for e in journal.entries(shop)] == ["deposit", "handout"]
    assert journal.verify(shop)[1] is None


def test_the_marketplace_ships_an_order_handed_out_at_the_counter(
    tmp_path: Path, data_dir: Path, db: sqlite3.Connection
) -> None:
    fake: FakeState = seed.demo()
    clock = SimClock()
    with serve(fake) as url:
        config = demo_site(url, tmp_path / "ofn.key", data_dir)
        assert sync.sync_once(config, db, clock(), sleep=clock.sleep).ok
        number = orders.list_orders(db, OrderState.WAITING)[0].number
        hand_out(db, number, by="web:paul")
        assert sync.sync_once(config, db, clock(), sleep=clock.sleep).ok
        assert fake.orders[number].shipment_state == "shipped"
        assert fake.count("PUT", f"/api/v0/orders/{number}/ship") == 1
        clock.sleep(config.marketplace.sync_interval_s)
        assert sync.sync_once(config, db, clock(), sleep=clock.sleep).ok
    assert found(orders.get(db, number)).state is OrderState.COLLECTED  # the next sync keeps it


def test_the_till_records_a_counter_handout_as_a_ticket_paid_online(
    tmp_path: Path, data_dir: Path, shop: sqlite3.Connection
) -> None:
    till = pasteque_fake.seed.demo()
    with pasteque_fake.serve(till) as url:
        config = pasteque_site(url, tmp_path / "pasteque.pass", data_dir, {})
        hand_out(shop, "R100", by="web:paul")
        assert Gateway(config, shop).round().sent == 1
    (ticket,) = till.tickets.values()
    online = next(m.id for m in till.payment_modes.values() if m.reference == "online")
    assert [p["paymentMode"] for p in ticket["payments"]] == [online]
    assert ticket["payments"][0]["amount"] == 18.0
    assert [line["productLabel"] for line in ticket["lines"]] == ["Panier de légumes"]


# -- the web admin's orders page ------------------------------------------------------------------


@pytest.fixture
def admin(config_file: Path, shop: sqlite3.Connection) -> Iterator[FlaskClient]:
    from appliance import config as config_module

    config_file.write_text(
        config_file.read_text() + "[[lockers.compartments]]\nnumber = 1\n"
        "[[lockers.compartments]]\nnumber = 2\n"
    )
    settings: Config = config_module.load(config_file)
    web_users.set_password(shop, "paul", PASSWORD, Role.PRODUCER)
    app = create_app(settings, settings.database_path)
    with app.test_client() as client:
        yield client


def test_a_producer_hands_an_order_out_from_the_orders_page_in_french(admin, shop) -> None:
    log_in(admin, "paul")
    page = text(admin.get("/orders/"))
    assert "Au comptoir" in page and "Remettre" in page
    response = post(admin, "/orders/R100/hand-out", "/orders/")
    assert response.status_code == 302
    after = text(admin.get("/orders/"))
    assert "Commande R100 remise à Alice : la place de marché et la caisse en sont averties." in (
        after
    )
    assert found(orders.get(shop, "R100")).state is OrderState.COLLECTED
    (entry,) = journal.entries(shop)
    assert entry.data["by"] == "web:paul"


def test_the_orders_page_asks_to_take_a_locker_order_out_first(admin, shop) -> None:
    in_locker(shop, "R200", 1)
    log_in(admin, "paul")
    assert "Sortie du casier 1" in text(admin.get("/orders/"))
    refused = post(admin, "/orders/R200/hand-out", "/orders/")
    assert refused.status_code == 409
    assert "est dans le casier 1 : sortez-la d'abord" in html.unescape(text(refused))
    assert found(orders.get(shop, "R200")).state is OrderState.IN_LOCKER
    done = post(admin, "/orders/R200/hand-out", "/orders/", taken_out="yes")
    assert done.status_code == 302
    assert found(lockers.state(shop, 1)).use is Use.FREE
    again = post(admin, "/orders/R200/hand-out", "/orders/")
    assert again.status_code == 409 and "a déjà été remise" in text(again)
