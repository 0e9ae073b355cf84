"""The closings page of the web admin: listed, and each downloadable as PDF and CSV."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance import config as config_module
from appliance.core.closing import Period
from appliance.store import closings, web_users
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.integration.test_closings import SETTINGS, at, sell
from tests.integration.test_web_admin import PASSWORD, log_in


@pytest.fixture
def client(config_file: Path, db: sqlite3.Connection) -> Iterator[FlaskClient]:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    sell(db, at(date(2026, 10, 5), 10), 1000, 1)
    closings.close(
        db,
        SETTINGS,
        Period.DAY,
        date(2026, 10, 5),
        by="agent",
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    settings = config_module.load(config_file)
    with create_app(settings, settings.database_path).test_client() as test_client:
        yield test_client


def test_the_closings_are_listed_for_a_producer(client: FlaskClient) -> None:
    assert client.get("/closings/").status_code == 302  # login first
    log_in(client, "paul")
    page = client.get("/closings/").get_data(as_text=True)
    assert 'id="closing-1"' in page and "2026-10-05" in page and "13,00" in page


def test_a_closing_downloads_as_csv_with_the_signed_figures(client: FlaskClient) -> None:
    log_in(client, "paul")
    response = client.get("/closings/1.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = dict(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows["total_cents"] == "1300" and rows["vat_2000_vat_cents"] == "142"
    assert rows["perpetual_total_cents"] == "1300" and len(rows["signature"]) == 128


def test_a_closing_downloads_as_pdf(client: FlaskClient) -> None:
    log_in(client, "paul")
    response = client.get("/closings/1.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "cloture-test-box-00001-day-2026-10-05.pdf" in response.headers["Content-Disposition"]
    assert client.get("/closings/9.pdf").status_code == 404
