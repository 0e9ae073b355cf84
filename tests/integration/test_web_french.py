"""The admin in French by default, English on request, and the user's own choice first."""

from __future__ import annotations

import re
import sqlite3

from flask.testing import FlaskClient

from appliance.config import Config
from appliance.core.order import Order, OrderState
from appliance.store import alerts, catalogue, orders
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.web import create_app
from tests.found import found

# the fixtures of the other admin tests, used here without their English browser
from tests.integration.test_web_admin import log_in, post, settings, shop, text  # noqa: F401


def french_client(settings: Config) -> FlaskClient:  # noqa: F811
    return create_app(settings, settings.database_path).test_client()


def test_a_browser_that_says_nothing_gets_the_admin_in_french(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    client = french_client(settings)
    login_page = text(client.get("/login"))
    assert '<html lang="fr">' in login_page and "Mot de passe" in login_page
    refused = log_in(client, "paul", "pas-le-bon-mot")
    assert "nom d&#39;utilisateur ou mot de passe incorrect" in text(refused)
    log_in(client, "paul")
    page = text(client.get("/catalogue/"))
    for said in (
        "Tableau de bord",
        "Températures",
        "Déconnexion",
        'paul<span class="role"> (producteur)</span>',
        "Modifier",
    ):
        assert said in page
    assert "4,50\xa0€ /kg" in page
    form = f"/catalogue/{found(catalogue.get(shop, 'TOM')).id}"
    assert 'value="4,50"' in text(client.get(form))
    post(client, form, form, price="5,95", active="on")
    assert "Tomates coeur de boeuf : 5,95\xa0€ le kg, en vente." in text(client.get("/catalogue/"))
    assert "n&#39;est pas une date" in text(client.get("/sales/?day=demain"))


def test_an_english_browser_gets_english_and_a_users_choice_wins(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    client = french_client(settings)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"
    log_in(client, "paul")
    page = text(client.get("/"))
    assert '<html lang="en">' in page and "Dashboard" in page
    post(client, "/account/language", "/account/", language="fr")
    page = text(client.get("/"))
    assert '<html lang="fr">' in page and "Tableau de bord" in page
    post(client, "/account/language", "/account/", language="")
    assert "Dashboard" in text(client.get("/"))


def test_a_queued_command_is_said_in_french_words(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    client = french_client(settings)
    log_in(client, "ines")
    post(client, "/commands/queue", "/commands/", name="print_test_label")
    page = text(client.get("/commands/"))
    assert "Demandé : imprimer une étiquette d&#39;essai." in page
    assert "<td>imprimer une étiquette d&#39;essai</td>" in page
    assert "<td>étiquette d&#39;essai depuis l&#39;administration web</td>" in page  # the reason


def test_a_year_of_orders_comes_in_pages_those_to_hand_out_first(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    with transaction(shop):
        for n in range(42):
            orders.save(shop, Order(f"CC-{n:04d}", OrderState.COLLECTED, "Jeanne Martin"))
        for n in (7, 8, 9):  # older numbers, still to hand out
            orders.save(shop, Order(f"AA-{n}", OrderState.WAITING, "Luc Petit"))
    client = french_client(settings)
    log_in(client, "paul")
    first = text(client.get("/orders/"))
    rows = re.findall(r"<tr><td>([A-Z]{2}-\d+)</td>", first)
    assert sorted(rows[:3]) == ["AA-7", "AA-8", "AA-9"] and len(rows) == 20
    assert "Commandes 1 à 20 sur 45, celles à remettre d'abord" in first
    assert "Page 1 sur 3" in first
    last = text(client.get("/orders/?page=3"))
    assert len(re.findall(r"<tr><td>([A-Z]{2}-\d+)</td>", last)) == 5
    waiting = text(client.get("/orders/?state=waiting"))
    assert sorted(re.findall(r"<tr><td>([A-Z]{2}-\d+)</td>", waiting)) == ["AA-7", "AA-8", "AA-9"]
    assert 'id="order-pages"' not in waiting  # one page: no page links


def test_an_alert_says_what_to_do_in_french_above_its_detail(
    settings: Config,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
) -> None:
    with transaction(shop):
        alerts.raise_alarm(shop, Alarm.DOOR_LEFT_OPEN, "door 6 left open for 3 min", subject="6")
    client = french_client(settings)
    log_in(client, "ines")
    page = text(client.get("/alerts/"))
    advice = page.index("Fermez la porte, vérifiez ce qu&#39;il y a dedans, puis dites-le ici.")
    assert "Porte restée ouverte" in page
    assert advice < page.index("<small>door 6 left open for 3 min</small>")
