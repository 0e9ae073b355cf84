"""The installer's hardware test page: each step queued for the kiosk with who asked, each
result said in the reader's words, and nothing queued for a bad request."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from appliance import config as config_module
from appliance.config import Config
from appliance.store import device_commands, technical_events, web_users
from appliance.store.device_commands import CommandName
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found

PASSWORD = "un-mot-de-passe-solide"
SHOP = (
    '[scale]\nprotocol = "toledo8217"\nport = "/dev/null"\n'
    '[payment]\nterminal = "caisse-ap"\naddress = "127.0.0.1:9"\n'
    '[[haccp.zones]]\nname = "frigo"\nsensors = ["28-aaaa"]\n'
    "[[lockers.compartments]]\nnumber = 3\n[[lockers.compartments]]\nnumber = 7\n"
)


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(config_file.read_text() + SHOP)
    return config_module.load(config_file)


@pytest.fixture
def client(settings: Config, db: sqlite3.Connection) -> Iterator[FlaskClient]:
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    with create_app(settings, settings.database_path).test_client() as client:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # French: the browser test
        yield client


def log_in(client: FlaskClient, user: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = found(re.search(r'name="csrf_token" value="([^"]+)"', page))[1]
    client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})


def ask(client: FlaskClient, **form: str):
    page = client.get("/hardware/").get_data(as_text=True)
    token = found(re.search(r'name="csrf_token" value="([^"]+)"', page))[1]
    return client.post("/hardware/", data={**form, "csrf_token": token})


def test_each_step_is_queued_for_the_kiosk_with_who_asked(
    client: FlaskClient, db: sqlite3.Connection
) -> None:
    log_in(client, "ines")
    for form in (
        {"name": "read_scale"},
        {"name": "scale_zero"},
        {"name": "print_test_label"},
        {"name": "open_door", "compartment": "7"},
        {"name": "test_payment", "amount": "0,25"},
        {"name": "read_thermometers"},
    ):
        assert ask(client, **form).status_code == 302
    queued = {c.name: c for c in device_commands.recent(db)}
    assert set(queued) == {
        "read_scale",
        "scale_zero",
        "print_test_label",
        "open_door",
        "test_payment",
        "read_thermometers",
    }
    assert queued["open_door"].args == {"compartment": 7}
    assert queued["test_payment"].args == {"amount_cents": 25}
    assert all(c.requested_by == "web:ines" and c.reason for c in queued.values())
    page = client.get("/hardware/").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page  # it reloads while the kiosk works
    assert "Waiting for the kiosk..." in page
    actions = [
        e for e in technical_events.events(db) if e.details.get("action") == "command_queued"
    ]
    assert len(actions) == 6


def test_the_kiosks_results_are_said_in_words_and_the_page_stops_reloading(
    client: FlaskClient, db: sqlite3.Connection
) -> None:
    log_in(client, "ines")
    results: dict[CommandName, tuple[bool, dict[str, Any]]] = {
        CommandName.READ_SCALE: (True, {"status": "stable", "weight_g": 1234, "tare_g": 0}),
        CommandName.TEST_PAYMENT: (
            True,
            {"approved": True, "amount_cents": 10, "receipt": 4, "ticket": 9},
        ),
        CommandName.READ_THERMOMETERS: (
            True,
            {
                "sensors": [
                    {"zone": "frigo", "sensor": "28-aaaa", "problem": "sensor not found on the bus"}
                ]
            },
        ),
        CommandName.PRINT_TEST_LABEL: (False, {"error": "the label printer is out of paper"}),
    }
    for name, (ok, result) in results.items():
        command = device_commands.queue(db, name, requested_by="web:ines")
        device_commands.finish(db, command.id, ok, result)
    page = client.get("/hardware/").get_data(as_text=True)
    assert "1,234 g, stable" in page
    assert "€0.10 approved and recorded: receipt no. 4, signed ticket 9." in page
    assert "frigo · 28-aaaa: sensor not found on the bus" in page
    assert "failed: the label printer is out of paper" in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"name": "open_door", "compartment": "5"}, "Compartment 5 is unknown here."),
        ({"name": "test_payment", "amount": "12"}, "12 is not an amount for a test payment"),
        ({"name": "test_payment", "amount": "dix"}, "dix is not an amount for a test payment"),
        ({"name": "restart_ui"}, "Unknown command restart_ui."),
    ],
)
def test_a_bad_request_is_said_and_nothing_is_queued(
    client: FlaskClient, db: sqlite3.Connection, form: dict[str, str], said: str
) -> None:
    log_in(client, "ines")
    response = ask(client, **form)
    assert response.status_code == 400 and said in response.get_data(as_text=True)
    assert device_commands.recent(db) == []


def test_the_hardware_test_is_for_installers(client: FlaskClient, db: sqlite3.Connection) -> None:
    log_in(client, "paul")
    assert client.get("/hardware/").status_code == 403
