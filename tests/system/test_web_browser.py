"""The web admin as a person uses it: the real app served over HTTPS, driven by headless Chromium.

An installer logs in, sees the unknown payment alert, resolves it, then asks for a door to open
with a reason and sees the queued command; a door request without a reason is refused on the page.
The certificate the browser receives is the one the kiosk's about screen and the dashboard show.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.certificate import ensure_certificate, web_fingerprint
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, SaleLine
from appliance.store import catalogue, device_commands, payments, sales, web_users
from appliance.store.db import transaction
from appliance.store.web_users import Role
from appliance.web import create_app, serve
from tests.system import chromium
from tests.system.chromium import Browser

pytestmark = pytest.mark.system

PASSWORD = "installateur-2024"


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(
        config_file.read_text()
        + "[[lockers.compartments]]\nnumber = 3\n[[lockers.compartments]]\nnumber = 12\n"
    )
    return config_module.load(config_file)


@pytest.fixture
def unknown_attempt(db: sqlite3.Connection) -> str:
    """The kiosk died while the terminal handled a payment: outcome unknown, alert open."""
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)
    with transaction(db):
        leeks = catalogue.save(db, Product("POIREAU", "Poireaux", SoldBy.PIECE, 250, 550))
    basket = Basket((SaleLine.pieces(leeks, 3),))
    attempt = payments.begin_attempt(db, basket.total_cents, basket)
    payments.recover(db)
    return attempt


@pytest.fixture
def admin_url(settings: Config, unknown_attempt: str) -> Iterator[str]:
    """The admin as `comptoir web` serves it: HTTPS with the box's own certificate."""
    certificate = ensure_certificate(settings.device.data_dir, settings.device.id, "Ferme test")
    app = create_app(settings, settings.database_path)
    listening = serve.start(app, certificate, "127.0.0.1:0")
    yield f"https://127.0.0.1:{listening.https_port}"
    listening.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    headless = chromium.start(tmp_path / "chromium-profile", language="en-GB")
    yield headless
    headless.close()


def test_an_installer_resolves_an_alert_and_opens_a_door_from_the_browser(
    admin_url: str,
    browser: Browser,
    db: sqlite3.Connection,
    unknown_attempt: str,
    tmp_path: Path,
) -> None:
    browser.get(admin_url + "/alerts/")
    browser.find("#username").send_keys("ines")
    browser.find("#password").send_keys(PASSWORD)
    browser.find("#log-in").click()

    alert = browser.wait_for_text("main", "outcome unknown")
    assert "€7.50" in alert  # 3 leeks at €2.50, in the English browser's format
    browser.find("button.charged").click()
    browser.wait_for_text("main", "No open alert.")
    assert "sale recorded, receipt 1" in browser.find("main").text
    assert sales.sale_for_attempt(db, unknown_attempt) is not None

    browser.get(admin_url + "/commands/")
    browser.find('#compartment option[value="12"]').click()
    browser.find("#queue-open-door").click()
    assert "Say why the door must open" in browser.wait_for_text("#error", "Say why")
    assert device_commands.recent(db) == []

    browser.find('#compartment option[value="12"]').click()
    browser.find("#reason").send_keys("customer's code does not work")
    browser.find("#queue-open-door").click()
    row = browser.wait_for_text("#commands tbody", "open door 12")
    assert "web:ines" in row
    assert "customer's code does not work" in row
    assert "queued" in row
    [command] = device_commands.recent(db)
    assert (command.name, command.args) == ("open_door", {"compartment": 12})

    picture = browser.screenshot(tmp_path / "commands.png")
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_a_stranger_only_ever_sees_the_login_page(admin_url: str, browser: Browser) -> None:
    browser.get(admin_url + "/commands/")
    browser.find("#login")
    assert "/login" in browser.url
    browser.find("#username").send_keys("ines")
    browser.find("#password").send_keys("pas-le-bon")
    browser.find("#log-in").click()
    assert "wrong user name or password" in browser.wait_for_text("#error", "wrong")


def test_the_certificate_the_browser_got_is_the_one_the_kiosk_and_the_dashboard_show(
    admin_url: str, browser: Browser, settings: Config
) -> None:
    browser.get(admin_url + "/")
    browser.find("#username").send_keys("ines")
    browser.find("#password").send_keys(PASSWORD)
    browser.find("#log-in").click()
    shown = browser.find("#certificate").text
    received = browser.certificate_fingerprint(admin_url)
    assert received == web_fingerprint(settings.device.data_dir)  # the kiosk's about screen
    assert shown == received
    assert len(received) == len("SHA-256 ") + 32 * 3 - 1
