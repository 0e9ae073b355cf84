"""The dashboard a farmer opens at 7 am: alerts, the night's cold chain, yesterday's sales, the
lockers; and the demo's title says (démo) once."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from appliance import clock
from appliance import config as config_module
from appliance.config import Config
from appliance.core.order import Order, OrderState
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.store import journal, orders, payments, sales, web_users
from appliance.store.db import transaction
from appliance.store.temperatures import record_temperatures
from appliance.store.web_users import Role
from appliance.web import create_app, dashboard
from tests.found import found
from tests.integration.test_web_admin import PASSWORD, basket, log_in, settings, shop, text  # noqa: F401

ZONE = '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nallowed_min = 30\nsensors = ["28-a"]\n'


def page_for(config_file: Path, extra: str = "", language: str = "en") -> str:
    config_file.write_text(config_file.read_text() + extra)
    loaded = config_module.load(config_file)
    client = create_app(loaded, loaded.database_path).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    log_in(client, "paul")
    return text(client.get("/"))


def card(page: str, ident: str) -> str:
    html = found(re.search(rf'id="{ident}">(.*?)</section>', page, re.S))[1]
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_night_sales_and_orders_come_first(
    config_file: Path,
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    now = int(clock.now().timestamp())
    record_temperatures(
        shop, [("frigo", now - 600 * i, "28-a", 3000 + 100 * (i % 5)) for i in range(60)]
    )
    device_id = config_module.load(config_file).device.id
    items = basket(shop)
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    result = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
    sales.complete_sale(shop, attempt, result, device_id)
    with transaction(shop):
        orders.save(shop, Order("R7", OrderState.WAITING, "Luc Petit", total_cents=800))
    page = page_for(config_file, ZONE)
    assert card(page, "summary-alerts") == "To deal with Nothing: no open alert."
    assert "frigo : now 3.0 °C, at most 3.4 °C (limit 4.0 °C)" in card(page, "summary-cold")
    assert 'id="night-frigo" class="ok"' in page
    assert "Today: 1 sale, €12.03" in card(page, "summary-sales")
    assert "Yesterday: 0 sales, €0.00" in card(page, "summary-sales")
    assert "1 order to bring" in card(page, "summary-orders")
    assert page.index('id="summary-alerts"') < page.index("Legal identification")


def test_a_warm_night_shows_the_zone_in_red(
    config_file: Path,
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    hours_ago = int((clock.now() - timedelta(hours=5)).timestamp())
    record_temperatures(shop, [("frigo", hours_ago, "28-a", 7500)])
    page = page_for(config_file, ZONE)
    assert 'id="night-frigo" class="warn"' in page
    assert "at most 7.5 °C" in card(page, "summary-cold")


def test_the_demo_title_says_demo_once_in_french(config_file: Path, db: sqlite3.Connection) -> None:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    config_file.write_text(
        config_file.read_text().replace('name = "Ferme test"', 'name = "Ferme des Lilas (démo)"')
        + '[shop]\nmode = "demo"\n'
    )
    page = page_for(config_file, language="fr")
    assert '<h1 id="shop-title">Ferme des Lilas (démo)</h1>' in page


def test_a_demo_named_without_the_mark_gets_it(config_file: Path, db: sqlite3.Connection) -> None:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    page = page_for(config_file, '[shop]\nmode = "demo"\n', language="fr")
    assert '<h1 id="shop-title">Ferme test (démo)</h1>' in page


def journal_fact(page: str) -> str:
    html = found(re.search(r'<dd id="journal"[^>]*>(.*?)</dd>', page, re.S))[1]
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" )", ")")


def test_a_big_journal_never_checked_is_checked_a_little_at_each_load(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A box restored with a long journal: the first load stays quick and says how far it got."""
    with transaction(shop):
        for n in range(9):
            journal.append(shop, "weighing", {"weight_g": n})
    entries = journal.verify(shop)[0]
    shop.execute("DELETE FROM journal_checks")  # as restored from a backup: never checked here
    monkeypatch.setattr(dashboard, "CHECK_PER_LOAD", 4)
    client = create_app(settings, settings.database_path).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    log_in(client, "paul")
    assert journal_fact(text(client.get("/"))) == (
        "chaîne intacte jusqu'à l'entrée 4 ; la suite est vérifiée un peu plus à chaque "
        f"chargement (tout d'un coup : comptoir journal verify) ({entries} entrées)"
    )
    assert "jusqu'à l'entrée 8 ;" in journal_fact(text(client.get("/")))
    for _ in range(entries):
        fact = journal_fact(text(client.get("/")))
        if "jusqu" not in fact:
            break
    assert fact == f"chaîne intacte ({entries} entrées)"
