"""The web admin's dashboard shows the Pastèque till link: sending and up to date, or what
waits and the server's reason when it cannot send; nothing when the box is no register."""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.config import Config
from appliance.pasteque.fake import FakeState, seed, serve
from appliance.pasteque.gateway import Gateway
from appliance.store import web_users
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found
from tests.pasteque_support import basket, sell, stock_shop

PASSWORD = "un-mot-de-passe-solide"


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def url(fake: FakeState) -> Iterator[str]:
    with serve(fake) as base:
        yield base


@pytest.fixture
def shop(db: sqlite3.Connection) -> sqlite3.Connection:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    stock_shop(db)
    return db


def with_till(config_file: Path, url: str, tmp_path: Path) -> Config:
    password = tmp_path / "pasteque.pass"
    password.write_text(seed.DEMO_PASSWORD + "\n")
    password.chmod(0o600)
    config_file.write_text(
        config_file.read_text()
        + f'[pasteque]\nenabled = true\nurl = "{url}"\nuser = "{seed.DEMO_USER}"\n'
        f'password_file = "{password}"\ncash_register = "{seed.DEMO_REGISTER}"\n'
    )
    return config_module.load(config_file)


def till_line(config: Config, language: str = "en") -> str:
    client = create_app(config, config.database_path).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    client.post(
        "/login",
        data={"username": "paul", "password": PASSWORD, "csrf_token": _csrf(client)},
    )
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'<dd id="till" class="(\w+)">(.*?)</dd>', page, re.S)
    if found is None:
        return ""
    return found[1] + ": " + " ".join(re.sub(r"<[^>]+>", " ", found[2]).split())


def _csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return found(re.search(r'name="csrf_token" value="([^"]+)"', page))[1]


def test_the_dashboard_says_the_till_is_up_to_date_then_what_waits_and_why(
    config_file: Path, tmp_path: Path, url: str, fake: FakeState, shop: sqlite3.Connection
) -> None:
    config = with_till(config_file, url, tmp_path)
    rng = random.Random(5)
    gateway = Gateway(config, shop)  # the agent keeps one from round to round
    sell(shop, config.device.id, basket(rng))
    assert gateway.round().ok
    line = till_line(config)
    assert line.startswith("ok: sending, up to date (comptoir-demo)"), line
    assert "0 tickets waiting" in line

    fake.down = True
    sold = sell(shop, config.device.id, basket(rng))
    assert not gateway.round().ok
    line = till_line(config)
    assert line.startswith("warn: cannot send (comptoir-demo)"), line
    assert f"1 ticket waiting (€{sold.total_cents // 100}.{sold.total_cents % 100:02d})" in line
    assert "maintenance" in line and "nothing is lost" in line  # the server's answer, said
    french = till_line(config, "fr")
    assert "n'arrive pas à envoyer" in french and "1 ticket en attente" in french

    sell(shop, config.device.id, basket(rng))  # after a restart: the server is not even mapped
    assert not Gateway(config, shop).round().ok
    assert "1 sale or closing not prepared yet" in till_line(config)


def test_a_box_that_is_no_register_shows_no_till(
    config_file: Path, shop: sqlite3.Connection
) -> None:
    assert till_line(config_module.load(config_file)) == ""
