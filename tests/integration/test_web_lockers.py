"""The locker wall on the web admin: each compartment's state, and a door opened with a reason."""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance import config as config_module
from appliance.config import Config
from appliance.core.locker import compartments_from
from appliance.core.order import Order, OrderLine, OrderState
from appliance.store import device_commands, lockers, orders, technical_events, web_users
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found
from tests.integration.test_web_admin import PASSWORD, log_in, post, text

WALL = "".join(
    f'[[lockers.compartments]]\nnumber = {n}\nsize = "{size}"\nchilled = {chilled}\n'
    for n, size, chilled in (
        (1, "S", "true"),
        (2, "M", "true"),
        (3, "M", "false"),
        (4, "L", "false"),
        (5, "M", "false"),
    )
)


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(config_file.read_text() + WALL)
    return config_module.load(config_file)


@pytest.fixture
def wall(settings: Config, db: sqlite3.Connection) -> sqlite3.Connection:
    """1 free, 2 holds order R100 of Jeanne Martin, 3 walk-in eggs, 4 out of order with its door
    standing open, 5 free but forced open (alarm)."""
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    lockers.sync_compartments(db, compartments_from(settings.lockers.compartments))
    with transaction(db):
        orders.save(
            db,
            Order(
                "R100",
                OrderState.WAITING,
                "Jeanne Martin",
                lines=(OrderLine("Panier", 1, price_cents=1500),),
                total_cents=1500,
            ),
        )
    lockers.deposit(
        db, "R100", 2, producer="Paul", key=b"k" * 32, validity_days=7, rng=random.Random(1)
    )
    lockers.fill_walkin(db, 3, name="Oeufs x6", price_cents=320, producer="Paul")
    with transaction(db):
        db.execute("UPDATE compartments SET use = 'out_of_order' WHERE number = 4")
    lockers.record_door_event(db, 4, "door_opened")
    lockers.record_door_event(db, 5, "door_opened")
    lockers.record_door_event(db, 5, "door_closed")
    lockers.raise_alarm(db, Alarm.DOOR_FORCED, 5, "door 5 opened without a command")
    return db


@pytest.fixture
def client(settings: Config, wall: sqlite3.Connection) -> Iterator[FlaskClient]:
    with create_app(settings, settings.database_path).test_client() as test_client:
        test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        yield test_client


def tile(page: str, number: int) -> tuple[str, str]:
    """(classes, text) of a compartment's tile."""
    summary = found(
        re.search(
            rf'<details class="([^"]+)" id="compartment-{number}"[^>]*>(.*?)</summary>', page, re.S
        )
    )
    return summary[1], " ".join(re.sub(r"<[^>]+>", " ", summary[2]).split())


def test_the_wall_shows_each_compartments_state(client: FlaskClient) -> None:
    log_in(client, "paul")
    page = text(client.get("/lockers/"))
    assert tile(page, 1) == ("tile use-free size-S", "1 chilled free")
    assert tile(page, 2) == ("tile use-order size-M", "2 chilled order R100 · Jeanne Martin")
    assert tile(page, 3) == ("tile use-walkin size-M", "3 Oeufs x6 · €3.20")
    assert tile(page, 4) == ("tile use-out_of_order size-L door-open", "4 out of order door open")
    assert tile(page, 5) == ("tile use-free size-M alarm", "5 free Door opened without a command")
    assert 'href="/lockers/">Lockers</a>' in page


def test_a_producer_opens_a_door_with_a_reason_and_it_is_queued_and_journalled(
    client: FlaskClient, wall: sqlite3.Connection
) -> None:
    log_in(client, "paul")
    refused = post(client, "/lockers/2/open", "/lockers/", reason="  ")
    assert refused.status_code == 400 and "Say why door 2 must open" in text(refused)
    assert device_commands.recent(wall) == []
    unknown = post(client, "/lockers/9/open", "/lockers/", reason="stuck")
    assert unknown.status_code == 400 and device_commands.recent(wall) == []
    post(client, "/lockers/2/open", "/lockers/", reason="code lost by Jeanne")
    [command] = device_commands.recent(wall)
    assert (command.name, command.args, command.requested_by, command.reason) == (
        "open_door",
        {"compartment": 2},
        "web:paul",
        "code lost by Jeanne",
    )
    [action] = technical_events.events(wall, EventKind.ADMIN_ACTION)
    assert action.details == {
        "action": "door_opened",
        "compartment": 2,
        "reason": "code lost by Jeanne",
    }
    page = text(client.get("/lockers/"))
    assert "Queued: door 2" in page and "code lost by Jeanne" in page
