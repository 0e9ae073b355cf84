"""The web admin's pages through Flask's test client, on a real database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from appliance import config as config_module
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.money import format_euros
from appliance.core.order import Order, OrderLine, OrderState
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket, SaleLine
from appliance.legal import legal_identity
from appliance.store import (
    alerts,
    catalogue,
    device_commands,
    journal,
    orders,
    payments,
    sales,
    web_users,
)
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.web_users import Role
from appliance.web import SECRET_KEY_FILE, create_app
from appliance.web.catalogue import price_from_text
from tests.found import found

PASSWORD = "un-mot-de-passe-solide"
PAGES = ["/", "/alerts/", "/catalogue/", "/sales/", "/orders/", "/commands/"]


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(
        config_file.read_text()
        + "[[lockers.compartments]]\nnumber = 3\n[[lockers.compartments]]\nnumber = 7\n"
    )
    return config_module.load(config_file)


@pytest.fixture
def shop(settings: Config, db: sqlite3.Connection) -> sqlite3.Connection:
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    with transaction(db):
        catalogue.save(db, Product("TOM", "Tomates coeur de boeuf", SoldBy.WEIGHT, 450, 550))
        catalogue.save(db, Product("OEUF6", "Oeufs x6", SoldBy.PIECE, 320, 550))
    return db


@pytest.fixture
def app_client(settings: Config, shop: sqlite3.Connection) -> Iterator[FlaskClient]:
    app = create_app(settings, settings.database_path)
    with app.test_client() as client:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the French pages: test_web_french
        yield client


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return found(re.search(r'name="csrf_token" value="([^"]+)"', page))[1]


def log_in(
    client: FlaskClient, user: str, password: str = PASSWORD, next_: str = ""
) -> TestResponse:
    response = client.post(
        "/login" + (f"?next={next_}" if next_ else ""),
        data={"username": user, "password": password, "csrf_token": csrf(client, "/login")},
    )
    return response


def post(client: FlaskClient, path: str, form_page: str, **data: str):
    return client.post(path, data={**data, "csrf_token": csrf(client, form_page)})


def text(response) -> str:
    return response.get_data(as_text=True)


def basket(shop: sqlite3.Connection) -> Basket:
    tomatoes = found(catalogue.get(shop, "TOM"))
    eggs = found(catalogue.get(shop, "OEUF6"))
    return Basket((SaleLine.weighed(tomatoes, 1250), SaleLine.pieces(eggs, 2)))


def unknown_payment(shop: sqlite3.Connection) -> str:
    items = basket(shop)
    attempt = payments.begin_attempt(shop, items.total_cents, items)
    payments.recover(shop)  # as the kiosk does at start: the attempt becomes unknown, alerted
    return attempt


# -- login and protection -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_the_login_page(app_client: FlaskClient, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_opens_the_dashboard_with_a_strict_httponly_cookie(app_client: FlaskClient) -> None:
    response = log_in(app_client, "ines")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    page = app_client.get("/")
    assert page.status_code == 200
    assert 'ines<span class="role"> (installer)</span>' in text(page)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_wrong_password_is_refused(app_client: FlaskClient) -> None:
    response = log_in(app_client, "ines", "pas-le-bon-mot")
    assert response.status_code == 401
    assert "wrong user name or password" in text(response)
    assert app_client.get("/").status_code == 302


def test_after_five_wrong_passwords_even_the_right_one_must_wait(app_client: FlaskClient) -> None:
    for _ in range(4):
        assert "wait" not in text(log_in(app_client, "ines", "pas-le-bon-mot"))
    assert "wait 30 s" in text(log_in(app_client, "ines", "pas-le-bon-mot"))
    refused = log_in(app_client, "ines")
    assert refused.status_code == 401
    assert "too many wrong passwords" in text(refused)
    assert app_client.get("/").status_code == 302


def test_login_never_redirects_to_another_site(app_client: FlaskClient) -> None:
    response = log_in(app_client, "ines", next_="//evil.example/")
    assert response.headers["Location"] == "/"
    assert log_in(app_client, "ines", next_="/orders/").headers["Location"] == "/orders/"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "ines")
    response = app_client.post(
        "/commands/queue", data={"name": "open_door", "compartment": "3", "reason": "test"}
    )
    assert response.status_code == 400
    assert "expired" in text(response)
    assert device_commands.recent(shop) == []


def test_a_producer_cannot_open_doors_or_resolve_alerts(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "paul")
    assert app_client.get("/commands/").status_code == 403
    assert app_client.get("/alerts/").status_code == 403
    response = post(
        app_client, "/commands/queue", "/", name="open_door", compartment="3", reason="x"
    )
    assert response.status_code == 403
    assert device_commands.recent(shop) == []
    assert "Commands" not in text(app_client.get("/"))


def test_changing_a_password_ends_the_sessions_opened_with_the_old_one(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "ines")
    assert app_client.get("/").status_code == 200
    web_users.set_password(shop, "ines", "un-autre-mot-de-passe")
    assert app_client.get("/").status_code == 302


def test_logging_out_ends_the_session(app_client: FlaskClient) -> None:
    log_in(app_client, "ines")
    assert post(app_client, "/logout", "/").status_code == 302
    assert app_client.get("/").status_code == 302


# -- alerts ---------------------------------------------------------------------------------------


def test_an_unknown_payment_resolved_as_charged_records_its_sale(
    app_client: FlaskClient, shop: sqlite3.Connection, settings: Config
) -> None:
    attempt = unknown_payment(shop)
    alert = alerts.open_alerts(shop)[0]
    log_in(app_client, "ines")
    assert "outcome unknown" in text(app_client.get("/alerts/"))
    response = post(app_client, f"/alerts/{alert.id}/resolve", "/alerts/", outcome="charged")
    assert response.status_code == 302
    page = text(app_client.get("/alerts/"))
    assert "payment charged, sale recorded, receipt 1" in page
    assert "No open alert." in page
    sale = sales.sale_for_attempt(shop, attempt)
    assert sale is not None and sale.total_cents == basket(shop).total_cents
    assert payments.get_attempt(shop, attempt).state is payments.AttemptState.CHARGED
    assert alerts.open_alerts(shop) == []
    resolved_by = shop.execute("SELECT resolved_by FROM alerts").fetchone()[0]
    assert resolved_by == "web:ines"


def test_an_unknown_payment_resolved_as_not_charged_records_no_sale(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    attempt = unknown_payment(shop)
    alert = alerts.open_alerts(shop)[0]
    log_in(app_client, "ines")
    post(app_client, f"/alerts/{alert.id}/resolve", "/alerts/", outcome="not_charged")
    assert sales.sale_for_attempt(shop, attempt) is None
    assert payments.get_attempt(shop, attempt).state is payments.AttemptState.NOT_CHARGED


def test_an_unknown_payment_needs_an_answer_to_be_resolved(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    unknown_payment(shop)
    alert = alerts.open_alerts(shop)[0]
    log_in(app_client, "ines")
    response = post(app_client, f"/alerts/{alert.id}/resolve", "/alerts/", outcome="maybe")
    assert response.status_code == 400
    assert "charged or not" in text(response)
    assert len(alerts.open_alerts(shop)) == 1


def test_another_alert_is_resolved_with_a_note_saying_what_was_done(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    with transaction(shop):
        alerts.raise_alarm(shop, Alarm.DOOR_FORCED, "door 3 opened without a command", subject="3")
    alert = alerts.open_alerts(shop)[0]
    log_in(app_client, "ines")
    empty = post(app_client, f"/alerts/{alert.id}/resolve", "/alerts/", note="  ")
    assert empty.status_code == 400
    assert len(alerts.open_alerts(shop)) == 1
    post(app_client, f"/alerts/{alert.id}/resolve", "/alerts/", note="lock replaced")
    assert alerts.open_alerts(shop) == []
    assert shop.execute("SELECT resolution FROM alerts").fetchone()[0] == "lock replaced"


# -- device commands ------------------------------------------------------------------------------


def test_opening_a_door_queues_a_command_with_who_and_why(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "ines")
    response = post(
        app_client,
        "/commands/queue",
        "/commands/",
        name="open_door",
        compartment="7",
        reason="code lost by the customer",
    )
    assert response.status_code == 302
    [command] = device_commands.recent(shop)
    assert (command.name, command.args, command.state) == (
        "open_door",
        {"compartment": 7},
        "queued",
    )
    assert command.requested_by == "web:ines"
    assert command.reason == "code lost by the customer"
    page = text(app_client.get("/commands/"))
    assert "Queued: door 7" in page
    assert "code lost by the customer" in page


@pytest.mark.parametrize(
    ("compartment", "reason", "message"),
    [
        ("7", "   ", "Say why the door must open"),
        ("99", "stuck", "Compartment 99 is unknown here (3, 7)"),
        ("", "stuck", "Compartment ? is unknown here"),
        ("3; DROP", "stuck", "is unknown here"),
    ],
)
def test_a_door_request_with_bad_input_says_why_and_queues_nothing(
    app_client: FlaskClient,
    shop: sqlite3.Connection,
    compartment: str,
    reason: str,
    message: str,
) -> None:
    log_in(app_client, "ines")
    response = post(
        app_client,
        "/commands/queue",
        "/commands/",
        name="open_door",
        compartment=compartment,
        reason=reason,
    )
    assert response.status_code == 400
    assert message in text(response)
    assert device_commands.recent(shop) == []


def test_a_test_label_and_a_scale_zero_are_queued_for_the_kiosk(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "ines")
    post(app_client, "/commands/queue", "/commands/", name="print_test_label")
    post(app_client, "/commands/queue", "/commands/", name="scale_zero")
    queued = {c.name: c for c in device_commands.recent(shop)}
    assert set(queued) == {"print_test_label", "scale_zero"}
    assert queued["scale_zero"].requested_by == "web:ines"
    refused = post(app_client, "/commands/queue", "/commands/", name="restart_ui")
    assert refused.status_code == 400
    assert len(device_commands.recent(shop)) == 2


def test_the_kiosk_result_of_a_command_shows_on_the_page(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "ines")
    post(app_client, "/commands/queue", "/commands/", name="print_test_label")
    command = found(device_commands.take_next(shop))
    device_commands.finish(shop, command.id, False, {"error": "printer out of paper"})
    assert "printer out of paper" in text(app_client.get("/commands/"))


# -- catalogue ------------------------------------------------------------------------------------


def test_a_price_change_is_saved_and_journalled_with_who_made_it(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "paul")
    product = found(catalogue.get(shop, "TOM"))
    form = f"/catalogue/{product.id}"
    assert 'value="4.50"' in text(app_client.get(form))
    response = post(app_client, form, form, price="5,95", active="on")
    assert response.status_code == 302
    assert found(catalogue.get(shop, "TOM")).unit_price_cents == 595
    [entry] = list(journal.entries(shop, "price_change"))
    assert entry.data["old_unit_price_cents"] == 450
    assert entry.data["unit_price_cents"] == 595
    assert entry.data["by"] == "web:paul"
    assert journal.verify(shop)[1] is None
    assert "€5.95 per kg, on sale" in text(app_client.get("/catalogue/"))


def test_taking_a_product_off_sale_is_journalled_and_an_unchanged_form_writes_nothing(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "paul")
    form = f"/catalogue/{found(catalogue.get(shop, 'OEUF6')).id}"
    post(app_client, form, form, price="3.20")
    assert found(catalogue.get(shop, "OEUF6")).active is False
    post(app_client, form, form, price="3.20")
    entries = list(journal.entries(shop, "price_change"))
    assert [(e.data["old_active"], e.data["active"]) for e in entries] == [(True, False)]


@given(st.integers(min_value=0, max_value=10**9 - 1), st.sampled_from([",", "."]))
def test_a_price_typed_as_shown_reads_back_to_the_same_cents(cents: int, decimal: str) -> None:
    assert price_from_text(format_euros(cents, decimal=decimal)) == cents
    assert price_from_text(format_euros(cents, symbol=False, decimal=decimal)) == cents


@pytest.mark.parametrize("price", ["", "abc", "-3", "4,505", "4.50.1", "1e3", "12345678"])
def test_a_price_that_is_not_euros_is_refused_and_nothing_changes(
    app_client: FlaskClient, shop: sqlite3.Connection, price: str
) -> None:
    log_in(app_client, "paul")
    form = f"/catalogue/{found(catalogue.get(shop, 'TOM')).id}"
    response = post(app_client, form, form, price=price, active="on")
    assert response.status_code == 400
    assert "is not a price" in text(response)
    assert found(catalogue.get(shop, "TOM")).unit_price_cents == 450
    assert list(journal.entries(shop, "price_change")) == []


# -- sales, orders, dashboard ---------------------------------------------------------------------


def test_the_sales_of_a_day_show_each_receipt_and_the_totals(
    app_client: FlaskClient, shop: sqlite3.Connection, settings: Config
) -> None:
    for _ in range(2):
        items = basket(shop)
        attempt = payments.begin_attempt(shop, items.total_cents, items)
        result = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
        sales.complete_sale(shop, attempt, result, settings.device.id)
    log_in(app_client, "paul")
    page = text(app_client.get("/sales/"))
    # 1250 g at 4,50 €/kg = 5,63 € (half-up) + 2 x 3,20 € = 12,03 € per sale
    assert "<strong>2</strong> sales, <strong>€24.06</strong> in all" in page
    assert "2,500 g" in page and "€11.26" in page
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.device.timezone)).date()
    other_day = text(app_client.get(f"/sales/?day={today.replace(year=today.year - 1)}"))
    assert "<strong>0</strong> sales" in other_day


def test_a_busy_days_receipts_come_twenty_a_page_with_the_days_totals_whole(
    app_client: FlaskClient, shop: sqlite3.Connection, settings: Config
) -> None:
    items = basket(shop)
    for _ in range(45):
        attempt = payments.begin_attempt(shop, items.total_cents, items)
        result = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
        sales.complete_sale(shop, attempt, result, settings.device.id)
    log_in(app_client, "paul")
    first = text(app_client.get("/sales/"))
    assert "<strong>45</strong> sales, <strong>€541.35</strong> in all" in first  # every sale
    assert re.findall(r"No\. (\d+)</strong>", first) == [str(n) for n in range(1, 21)]
    assert "Receipts 1 to 20 of 45" in first and "Page 1 of 3" in first
    assert 'id="previous-page"' not in first
    next_link = found(re.search(r'id="next-page" href="([^"]+)"', first))[1].replace("&amp;", "&")
    second = text(app_client.get(next_link))
    assert re.findall(r"No\. (\d+)</strong>", second)[0] == "21"
    last = text(app_client.get("/sales/?page=99"))  # past the end: the last page
    assert re.findall(r"No\. (\d+)</strong>", last) == [str(n) for n in range(41, 46)]
    assert 'id="next-page"' not in last
    assert "Receipts 1 to 20" in text(app_client.get("/sales/?page=abc"))


def test_a_day_typed_in_the_french_order_is_that_day(
    app_client: FlaskClient, shop: sqlite3.Connection, settings: Config
) -> None:
    log_in(app_client, "paul")
    page = text(app_client.get("/sales/?day=01/07/2026"))  # a browser with no date picker
    assert "Sales of Wednesday, July 1, 2026" in page


def test_a_day_that_is_not_a_date_is_refused_clearly(app_client: FlaskClient) -> None:
    log_in(app_client, "paul")
    response = app_client.get("/sales/?day=demain")
    assert response.status_code == 400
    assert "demain is not a date" in text(response)
    far = app_client.get("/sales/?day=9999-12-31")  # would overflow the time conversions
    assert far.status_code == 400
    assert "pick a day from Jan 1, 2000 to today" in text(far)


def test_the_orders_page_lists_orders_by_state(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    with transaction(shop):
        orders.save(
            shop,
            Order(
                "R100",
                OrderState.IN_LOCKER,
                "Jeanne Martin",
                "j@example.org",
                lines=(OrderLine("Panier legumes", 1, price_cents=1500),),
                total_cents=1500,
                compartment=3,
            ),
        )
        orders.save(shop, Order("R101", OrderState.WAITING, "Luc Petit", total_cents=800))
    log_in(app_client, "paul")
    page = text(app_client.get("/orders/"))
    assert "R100" in page and "R101" in page and "1 × Panier legumes" in page
    assert "j@example.org" not in page
    waiting = text(app_client.get("/orders/?state=waiting"))
    assert "R101" in waiting and "R100" not in waiting
    assert app_client.get("/orders/?state=lost").status_code == 400


def test_the_dashboard_shows_the_box_its_software_alerts_and_journal(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    unknown_payment(shop)
    log_in(app_client, "paul")
    page = text(app_client.get("/"))
    assert "Ferme test" in page and "test-box" in page
    assert legal_identity().sha256 in page
    assert re.search(r'id="open-alerts"[^>]*>1\b', page)
    assert "chain intact" in page
    assert "an installer resolves them" in page


def test_the_session_key_is_kept_in_a_private_file_of_the_data_dir(
    settings: Config, app_client: FlaskClient
) -> None:
    key_file = settings.device.data_dir / SECRET_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_bytes()
    again = create_app(settings, settings.database_path)
    assert again.config["SECRET_KEY"] == key.strip()


# -- defects found by trying the admin as an attacker ----------------------------------------------


@pytest.mark.parametrize("next_", ["/%09/evil.example", "/%0a/evil.example", "/\\evil.example"])
def test_a_login_link_with_hidden_characters_never_leaves_the_site(
    app_client: FlaskClient, next_: str
) -> None:
    assert log_in(app_client, "ines", next_=next_).headers["Location"] == "/"


def test_a_cookie_saved_before_logging_out_opens_nothing_afterwards(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "paul")
    saved = found(app_client.get_cookie("comptoir_admin")).value
    form = f"/catalogue/{found(catalogue.get(shop, 'TOM')).id}"
    token = csrf(app_client, form)
    post(app_client, "/logout", "/")
    app_client.set_cookie("comptoir_admin", saved)
    assert app_client.get("/").status_code == 302
    app_client.set_cookie("comptoir_admin", saved)
    response = app_client.post(form, data={"price": "0,10", "active": "on", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert found(catalogue.get(shop, "TOM")).unit_price_cents == 450


@pytest.mark.parametrize(
    "path", ["/catalogue/99999999999999999999999", "/catalogue/0", "/catalogue/9223372036854775808"]
)
def test_a_product_number_too_big_for_the_database_is_not_found(
    app_client: FlaskClient, path: str
) -> None:
    log_in(app_client, "paul")
    assert app_client.get(path).status_code == 404


def test_a_product_on_sale_cannot_be_given_a_price_of_zero(
    app_client: FlaskClient, shop: sqlite3.Connection
) -> None:
    log_in(app_client, "paul")
    form = f"/catalogue/{found(catalogue.get(shop, 'TOM')).id}"
    response = post(app_client, form, form, price="0,00", active="on")
    assert response.status_code == 400
    assert "cannot be free" in text(response)
    assert found(catalogue.get(shop, "TOM")).unit_price_cents == 450
    post(app_client, form, form, price="0")  # off sale, a price of 0 is allowed
    assert found(catalogue.get(shop, "TOM")).active is False
