"""An order cancelled online while it sits in a compartment: the producer is told at the sync,
takes the bag back from the Lockers page, and the compartment and its code are freed."""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
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
from appliance.store import (
    alerts,
    handouts,
    journal,
    lockers,
    orders,
    outbox,
    pickup_codes,
    web_users,
)
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.handouts import HandoutRefused, take_back
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found
from tests.integration.test_counter_handout import KEY, NOW, in_locker
from tests.integration.test_web_admin import PASSWORD, log_in, post, text


def deposit(db: sqlite3.Connection, number: str, compartment: int) -> str:
    lockers.sync_compartments(db, [Compartment(n, Size.M) for n in (1, 2)])
    return in_locker(db, number, compartment)


@dataclass
class Hub:
    """The fake marketplace and a box syncing with it, a sync interval apart each time."""

    fake: FakeState
    config: Config
    db: sqlite3.Connection
    clock: SimClock

    def sync(self) -> None:
        self.clock.sleep(self.config.marketplace.sync_interval_s)
        assert sync.sync_once(self.config, self.db, self.clock(), sleep=self.clock.sleep).ok

    def deposited(self, compartment: int) -> str:
        """The first order to hand out, synced here and put in `compartment`; its number."""
        self.sync()
        number = orders.list_orders(self.db, OrderState.WAITING)[0].number
        deposit(self.db, number, compartment)
        return number


@pytest.fixture
def hub(tmp_path: Path, data_dir: Path, db: sqlite3.Connection) -> Iterator[Hub]:
    fake = seed.demo()
    with serve(fake) as url:
        yield Hub(fake, demo_site(url, tmp_path / "ofn.key", data_dir), db, SimClock())


def test_a_cancellation_reaching_an_order_in_a_locker_asks_to_take_it_back_once(
    hub: Hub, db: sqlite3.Connection
) -> None:
    number = hub.deposited(2)
    hub.fake.cancel(number)
    hub.sync()
    hub.sync()

    assert found(orders.get(db, number)).state is OrderState.CANCELLED
    (alert,) = alerts.open_alerts(db, Alarm.CANCELLED_IN_LOCKER)  # once, not at every sync
    assert alert.subject == "compartment 2"
    assert f"Order {number} was cancelled online while in compartment 2" in alert.message
    (event,) = [e for e in outbox.pending(db, "test") if e.type == Alarm.CANCELLED_IN_LOCKER.value]
    assert event.payload["compartment"] == 2 and event.payload["number"] == number
    assert found(lockers.state(db, 2)).use is Use.ORDER  # the bag is still inside


def test_taking_back_frees_the_compartment_kills_the_code_and_settles_the_alarms(
    db: sqlite3.Connection,
) -> None:
    with transaction(db):
        orders.save(db, Order("R100", OrderState.WAITING, "Alice", total_cents=1800))
    code = deposit(db, "R100", 1)
    with transaction(db):
        before = found(orders.get(db, "R100"))
        cancelled = replace(before, state=OrderState.CANCELLED)
        orders.save(db, cancelled)
        handouts.cancelled_in_locker(db, before, cancelled, NOW)
    lockers.raise_alarm(db, Alarm.CANCELLED, 1, "asked for at the locker", now=NOW)

    order = take_back(db, 1, by="web:paul", now=NOW)

    assert order.number == "R100" and order.compartment is None
    assert found(lockers.state(db, 1)).use is Use.FREE
    check = pickup_codes.check_code(db, code, key=KEY, now=NOW)
    assert check.verdict is not Verdict.OK
    assert alerts.open_alerts(db) == []
    entry = list(journal.entries(db))[-1]
    assert entry.kind == "take_back"
    assert entry.data == {"number": "R100", "by": "web:paul", "compartment": 1}
    assert journal.verify(db)[1] is None
    with pytest.raises(HandoutRefused, match="holds no order to take back"):
        take_back(db, 1, by="web:paul", now=NOW)


def test_an_order_that_is_not_cancelled_is_never_taken_back(db: sqlite3.Connection) -> None:
    with transaction(db):
        orders.save(db, Order("R200", OrderState.WAITING, "Bruno", total_cents=900))
    deposit(db, "R200", 2)
    with pytest.raises(HandoutRefused, match="is not cancelled: leave it for its customer"):
        take_back(db, 2, by="web:paul", now=NOW)
    assert found(lockers.state(db, 2)).use is Use.ORDER
    assert found(orders.get(db, "R200")).state is OrderState.IN_LOCKER


def test_an_order_taken_back_then_resumed_online_waits_for_a_new_deposit(
    hub: Hub, db: sqlite3.Connection
) -> None:
    """Regression: the compartment stayed on the order, so a resumed order read as in_locker."""
    number = hub.deposited(1)
    shipment = hub.fake.orders[number].shipment_state
    hub.fake.cancel(number)
    hub.sync()
    take_back(db, 1, by="web:paul")
    with hub.fake.lock:  # the hub resumes the order
        resumed = hub.fake.orders[number]
        resumed.state, resumed.shipment_state = "complete", shipment
        resumed.updated_at = hub.fake.clock()
    hub.sync()
    order = found(orders.get(db, number))
    assert order.state is OrderState.WAITING and order.compartment is None


# -- the web admin's lockers page -----------------------------------------------------------------


@pytest.fixture
def admin(config_file: Path, db: sqlite3.Connection) -> Iterator[FlaskClient]:
    from appliance import config as config_module

    config_file.write_text(
        config_file.read_text() + "[[lockers.compartments]]\nnumber = 1\n"
        "[[lockers.compartments]]\nnumber = 2\n"
    )
    settings: Config = config_module.load(config_file)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    with transaction(db):
        line = OrderLine("Panier de légumes", 1, price_cents=1800, producer="Ferme des Lilas")
        orders.save(db, Order("R300", OrderState.WAITING, "Chloé", total_cents=1800, lines=(line,)))
    deposit(db, "R300", 2)
    with transaction(db):
        orders.save(db, Order("R300", OrderState.CANCELLED, "Chloé", compartment=2))
    app = create_app(settings, settings.database_path)
    with app.test_client() as client:
        yield client


def test_a_producer_takes_a_cancelled_order_back_from_the_lockers_page_in_french(
    admin: FlaskClient, db: sqlite3.Connection
) -> None:
    log_in(admin, "paul")
    page = html.unescape(text(admin.get("/lockers/")))
    assert "commande R300 · Chloé · annulée en ligne : à reprendre" in page
    assert "Le sac est sorti du casier 2" in page

    unticked = post(admin, "/lockers/2/take-back", "/lockers/")
    assert unticked.status_code == 400
    assert "Cochez la case une fois le sac sorti du casier 2" in html.unescape(text(unticked))
    assert found(lockers.state(db, 2)).use is Use.ORDER

    done = post(admin, "/lockers/2/take-back", "/lockers/", taken_out="yes")
    assert done.status_code == 302
    after = html.unescape(text(admin.get("/lockers/")))
    assert "Commande R300 reprise : le casier 2 est libre" in after
    assert "à reprendre" not in after
    assert found(lockers.state(db, 2)).use is Use.FREE
    assert list(journal.entries(db))[-1].data["by"] == "web:paul"

    again = post(admin, "/lockers/2/take-back", "/lockers/", taken_out="yes")
    assert again.status_code == 400
    assert "ne contient aucune commande annulée" in html.unescape(text(again))


def test_the_orders_page_sends_a_cancelled_order_in_a_locker_to_the_lockers_page(
    admin: FlaskClient,
) -> None:
    log_in(admin, "paul")
    refused = post(admin, "/orders/R300/hand-out", "/orders/", taken_out="yes")
    assert refused.status_code == 409
    assert "se trouve encore dans le casier 2 : ne la remettez pas, reprenez-la depuis la page " + (
        "Casiers"
    ) in html.unescape(text(refused))
