"""The admin on a 360 px phone and on a laptop, in French, in headless Chromium: no page makes a
phone scroll sideways, and the screenshots of docs/admin.md are taken here.

`COMPTOIR_SCREENS=docs/screens pytest tests/system/test_web_screens.py` refreshes the pictures of
the guide; otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from appliance import clock
from appliance import config as config_module
from appliance.certificate import ensure_certificate
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.locker import compartments_from
from appliance.core.order import Order, OrderLine, OrderState
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket, SaleLine
from appliance.store import catalogue, lockers, orders, payments, sales, web_users
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.temperatures import record_temperatures
from appliance.store.web_users import Role
from appliance.web import create_app, serve
from tests.system import chromium
from tests.system.chromium import Browser

pytestmark = pytest.mark.system

PASSWORD = "radis-et-navets-42"
SHOP = (
    '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nallowed_min = 30\nsensors = ["28-a"]\n'
    '[[haccp.zones]]\nname = "congel"\nlimit_c = -18\nallowed_min = 60\nsensors = ["28-b"]\n'
    + "".join(
        f'[[lockers.compartments]]\nnumber = {n}\nsize = "{size}"\nchilled = {chilled}\n'
        + ('zone = "frigo"\n' if chilled == "true" else "")
        for n, size, chilled in (
            (1, "S", "true"),
            (2, "S", "true"),
            (3, "M", "true"),
            (4, "M", "false"),
            (5, "M", "false"),
            (6, "L", "false"),
        )
    )
)
PAGES = {
    "dashboard": "/",
    "temperatures": "/temperatures/",
    "lockers": "/lockers/",
    "sales": "/sales/",
    "orders": "/orders/",
    "catalogue": "/catalogue/",
    "account": "/account/",
    "commands": "/commands/",
    "alerts": "/alerts/",
    "hardware": "/hardware/",
    "closings": "/closings/",
}


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(
        config_file.read_text().replace('name = "Ferme test"', 'name = "Ferme des Lilas"') + SHOP
    )
    return config_module.load(config_file)


@pytest.fixture
def shop(settings: Config, db: sqlite3.Connection) -> sqlite3.Connection:
    """A week of a small farm shop: fridge and freezer logged every 10 minutes (the fridge too
    warm yesterday morning while a door stood open), sales every day, orders in the lockers."""
    web_users.set_password(db, "marie", PASSWORD, Role.INSTALLER)
    rng = random.Random(7)
    now = clock.now()
    start = int((now - timedelta(days=8)).timestamp())
    warm = int((now - timedelta(hours=22)).timestamp())
    readings = []
    for ts in range(start - start % 600, int(now.timestamp()), 600):
        fridge = 3200 + rng.randint(-400, 400)
        if warm <= ts < warm + 3000:
            fridge = 6500 + rng.randint(0, 800)
        readings.append(("frigo", ts, "28-a", fridge))
        readings.append(("congel", ts, "28-b", -20500 + rng.randint(-600, 600)))
    record_temperatures(db, readings)
    with transaction(db):
        products = [
            catalogue.save(db, Product("TOM", "Tomates cœur de bœuf", SoldBy.WEIGHT, 450, 550)),
            catalogue.save(db, Product("OEUF6", "Œufs bio × 6", SoldBy.PIECE, 320, 550)),
            catalogue.save(db, Product("POM", "Pommes Reinette", SoldBy.WEIGHT, 290, 550)),
            catalogue.save(db, Product("MIEL", "Miel de châtaignier", SoldBy.PIECE, 850, 550)),
            catalogue.save(db, Product("CONF", "Confiture de fraises", SoldBy.PIECE, 540, 550)),
        ]
    moments = sorted(
        now - timedelta(days=day, hours=rng.randint(1, 9), minutes=rng.randint(0, 59))
        for day in range(7)
        for _ in range(rng.randint(4, 12))
    )
    for moment in moments:
        lines = []
        for product in rng.sample(products, rng.randint(1, 3)):
            if product.by_weight:
                lines.append(SaleLine.weighed(product, rng.randint(300, 2000)))
            else:
                lines.append(SaleLine.pieces(product, rng.randint(1, 2)))
        basket = Basket(tuple(lines))
        with clock.simulated(partial(_same, moment)):  # sales spread over the week
            attempt = payments.begin_attempt(db, basket.total_cents, basket)
            result = PaymentResult(PaymentOutcome.APPROVED, basket.total_cents, result_code="10")
            sales.complete_sale(db, attempt, result, settings.device.id)
    lockers.sync_compartments(db, compartments_from(settings.lockers.compartments))
    with transaction(db):
        for number, name in (
            ("CC-1042", "Jeanne Martin"),
            ("CC-1043", "Luc Petit"),
            ("CC-1044", "Aïcha Benali"),
        ):
            orders.save(
                db,
                Order(
                    number,
                    OrderState.WAITING,
                    name,
                    lines=(OrderLine("Panier de légumes", 1, price_cents=1800),),
                    total_cents=1800,
                ),
            )
    lockers.deposit(
        db, "CC-1042", 1, producer="Marie", key=b"k" * 32, validity_days=7, rng=random.Random(1)
    )
    lockers.deposit(
        db, "CC-1043", 3, producer="Marie", key=b"k" * 32, validity_days=7, rng=random.Random(2)
    )
    lockers.fill_walkin(db, 5, name="Œufs bio × 6", price_cents=320, producer="Marie")
    lockers.record_door_event(db, 6, "door_opened")
    lockers.raise_alarm(db, Alarm.DOOR_LEFT_OPEN, 6, "door 6 left open for 3 min")
    return db


@pytest.fixture
def admin_url(settings: Config, shop: sqlite3.Connection) -> Iterator[str]:
    certificate = ensure_certificate(settings.device.data_dir, settings.device.id, "Ferme")
    listening = serve.start(
        create_app(settings, settings.database_path), certificate, "127.0.0.1:0"
    )
    yield f"https://127.0.0.1:{listening.https_port}"
    listening.stop()


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    wanted = os.environ.get("COMPTOIR_SCREENS")
    return Path(wanted) if wanted else tmp_path / "screens"


def log_in(browser: Browser, url: str) -> None:
    browser.get(url + "/login")
    browser.type_into("#username", "marie")
    browser.type_into("#password", PASSWORD)
    browser.find("#log-in").click()
    browser.wait_for_text("h1", "Ferme des Lilas")


@pytest.mark.parametrize(
    ("device", "size"), [("phone", chromium.PHONE), ("laptop", chromium.LAPTOP)]
)
def test_every_page_fits_the_screen_in_french_and_is_pictured(
    admin_url: str, tmp_path: Path, pictures: Path, device: str, size: tuple[int, int]
) -> None:
    browser = chromium.start(tmp_path / "profile", language="fr-FR", size=size)
    try:
        log_in(browser, admin_url)
        for name, path in PAGES.items():
            browser.resize(*size)
            browser.get(admin_url + path)
            browser.find("footer")
            assert browser.driver.find_element("css selector", "html").get_attribute("lang") == "fr"
            assert browser.page_width() <= browser.viewport_width(), f"{name} scrolls sideways"
            wrapped = browser.driver.execute_script(
                "return [...document.querySelectorAll('header nav a')]"
                ".filter(a => a.getClientRects().length > 1).map(a => a.textContent)"
            )
            assert wrapped == [], f"menu entries on two lines: {wrapped}"
            codes = re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", browser.find("main").text)
            assert codes == [], f"{name} shows codes, not words: {codes}"
            if name in ("dashboard", "temperatures", "lockers", "sales"):
                shot = browser.screenshot(pictures / f"admin-{device}-{name}.png")
                assert shot.read_bytes().startswith(b"\x89PNG")
        browser.resize(*size)
        browser.get(admin_url + "/")
        summary = browser.wait_for_text("#summary-alerts", "À traiter")
        assert "Porte restée ouverte" in summary
        assert "frigo" in browser.find("#summary-cold").text
        browser.get(admin_url + "/lockers/")
        assert "commande CC-1042" in browser.find("#compartment-1").text
    finally:
        browser.close()


def test_on_a_phone_the_menu_reaches_every_page_and_dates_read_the_french_way(
    admin_url: str, tmp_path: Path, settings: Config
) -> None:
    """A farmer's phone at 7 am: a finger reaches each menu entry and their account, a day is
    picked or typed day first (jj/mm/aaaa), and the page answers in French days, hours, euros."""
    browser = chromium.start(tmp_path / "profile", language="fr-FR", size=chromium.PHONE)
    try:
        log_in(browser, admin_url)
        entries = browser.find_all("header nav a, header a.who")
        assert [a.text for a in entries] == [
            "Tableau de bord",
            "Températures",
            "Casiers",
            "Ventes",
            "Clôtures",
            "Commandes",
            "Catalogue",
            "Alertes",
            "Matériel",
            "marie",
        ]
        small = [(a.text, a.rect) for a in entries if a.rect["height"] < 40 or not a.is_displayed()]
        assert small == [], "menu entries too small for a finger"
        browser.driver.find_element("link text", "Ventes").click()
        browser.wait_for_text("h1", "Ventes")
        yesterday = clock.now().astimezone(ZoneInfo(settings.device.timezone)).date()
        yesterday -= timedelta(days=1)
        # The phone's date picker gives the field its day (headless Chromium lays its field out
        # month first whatever the language, so the test picks rather than types).
        browser.driver.execute_script(
            "arguments[0].value = arguments[1]",
            browser.find("#day input[name=day]"),
            yesterday.isoformat(),
        )
        browser.find("#day button").click()
        long_day = f"Ventes du {format_date(yesterday, 'full', locale='fr')}"
        assert browser.wait_for_text("#day-title", str(yesterday.year)) == long_day
        assert f"day={yesterday.isoformat()}" in browser.url
        heads = [head.text for head in browser.find_all("#receipts .receipt-head")]
        assert heads and all(
            re.fullmatch(r"N° \d+\s\d{2}:\d{2}\s\d+,\d{2}\s€", head) for head in heads
        ), heads
        # A browser without a date picker sends the day as typed, the French way.
        browser.get(admin_url + f"/sales/?day={yesterday:%d/%m/%Y}")
        assert browser.wait_for_text("#day-title", str(yesterday.year)) == long_day
        browser.driver.find_element("link text", "marie").click()
        browser.wait_for_text("h1", "Mon compte")
        assert browser.page_width() <= browser.viewport_width()
    finally:
        browser.close()


def _same(moment: datetime) -> datetime:
    return moment
