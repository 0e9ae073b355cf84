"""Sessions kept in the database: they end at once when they should, and only a hash is stored."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance import config as config_module
from appliance.store import technical_events, web_sessions, web_users
from appliance.store.technical_events import EventKind
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.integration.test_web_admin import PASSWORD, log_in, post

T0 = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
def app(config_file: Path, db: sqlite3.Connection) -> Flask:
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    settings = config_module.load(config_file)
    return create_app(settings, settings.database_path)


def english_client(app: Flask) -> FlaskClient:
    client = app.test_client()  # not `with`: two clients at once must not share a context
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def phone(app: Flask) -> FlaskClient:
    return english_client(app)


@pytest.fixture
def laptop(app: Flask) -> FlaskClient:
    return english_client(app)


@pytest.fixture
def paul(db: sqlite3.Connection) -> str:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    return "paul"


def test_a_session_idle_for_more_than_an_hour_ends(db: sqlite3.Connection, paul: str) -> None:
    token = web_sessions.open_session(db, "paul", T0)
    assert web_sessions.session_user(db, token, T0 + timedelta(minutes=59)) == "paul"
    # used at 05:59, so still alive at 06:58
    assert web_sessions.session_user(db, token, T0 + timedelta(minutes=118)) == "paul"
    assert web_sessions.session_user(db, token, T0 + timedelta(minutes=179)) is None
    assert web_sessions.session_user(db, token, T0 + timedelta(minutes=120)) is None  # gone


def test_a_session_used_all_day_still_ends_twelve_hours_after_login(
    db: sqlite3.Connection, paul: str
) -> None:
    token = web_sessions.open_session(db, "paul", T0)
    now = T0
    while now < T0 + timedelta(hours=11, minutes=50):
        now += timedelta(minutes=30)
        assert web_sessions.session_user(db, token, now) == "paul"
    assert web_sessions.session_user(db, token, T0 + timedelta(hours=12, minutes=1)) is None


def test_only_a_hash_of_the_session_token_is_stored(db: sqlite3.Connection, paul: str) -> None:
    token = web_sessions.open_session(db, "paul", T0)
    dump = "\n".join(db.iterdump())
    assert token not in dump
    assert "paul" in dump


def test_log_out_everywhere_ends_the_session_on_the_other_device(
    phone: FlaskClient, laptop: FlaskClient, db: sqlite3.Connection
) -> None:
    log_in(phone, "paul")
    log_in(laptop, "paul")
    assert phone.get("/").status_code == 200
    page = laptop.get("/account/").get_data(as_text=True)
    assert page.count("<tr><td>") == 2  # two open sessions listed
    response = post(laptop, "/account/logout-everywhere", "/account/")
    assert response.headers["Location"] == "/login"
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302
    [ended] = technical_events.events(db, EventKind.ADMIN_ACTION)
    assert (ended.by, ended.details) == (
        "web:paul",
        {"action": "sessions_ended", "user": "paul", "sessions": 2},
    )
    assert [e.by for e in technical_events.events(db, EventKind.LOGIN)] == ["web:paul"] * 2


def test_an_installer_ends_a_producers_sessions_and_a_producer_cannot(
    phone: FlaskClient, laptop: FlaskClient
) -> None:
    log_in(phone, "paul")
    log_in(laptop, "ines")
    refused = post(phone, "/account/logout-everywhere", "/account/", username="ines")
    assert refused.status_code == 403
    assert laptop.get("/").status_code == 200
    post(laptop, "/account/logout-everywhere", "/account/", username="paul")
    assert "paul: 1 session ended." in laptop.get("/account/").get_data(as_text=True)
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_a_role_change_ends_the_users_sessions(phone: FlaskClient, db: sqlite3.Connection) -> None:
    log_in(phone, "paul")
    web_users.set_password(db, "paul", PASSWORD, Role.INSTALLER)
    assert phone.get("/").status_code == 302


def test_logins_and_admin_actions_are_in_the_journal(
    phone: FlaskClient, db: sqlite3.Connection
) -> None:
    for _ in range(5):
        log_in(phone, "ines", "pas-le-bon-mot")
    log_in(phone, "ines", "pas-le-bon-mot")  # during the wait: not recorded again
    [refused] = technical_events.events(db, EventKind.LOGIN_REFUSED)
    assert refused.details == {"remote_addr": "127.0.0.1", "wait_s": 30}
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)  # resets the count
    log_in(phone, "ines")
    [login] = technical_events.events(db, EventKind.LOGIN)
    assert (login.by, login.details) == ("web:ines", {"remote_addr": "127.0.0.1"})
    post(phone, "/commands/queue", "/commands/", name="open_door", compartment="3", reason="x")
    post(phone, "/commands/queue", "/commands/", name="scale_zero")
    post(phone, "/logout", "/")
    kinds = [(e.kind, e.details.get("action")) for e in technical_events.events(db)]
    assert kinds[-2:] == [("admin_action", "command_queued"), ("logout", None)]
    [queued] = technical_events.events(db, EventKind.ADMIN_ACTION)
    assert queued.details == {
        "action": "command_queued",
        "command": "scale_zero",
        "reason": "scale zero from the web admin",
    }
