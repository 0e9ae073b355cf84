"""A damaged database is noticed at once, names the table, and the rest of the box goes on."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.agent import db_check
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.store import alerts, outbox, payments, sales
from appliance.store.alerts import Alarm
from appliance.store.db import damaged_tables, open_database
from appliance.web import create_app
from tests.integration.test_web_admin import basket, log_in, settings, shop, text  # noqa: F401


def test_the_database_and_its_wal_are_private_to_the_service_user(data_dir: Path) -> None:
    db = open_database(data_dir / "comptoir.db")
    db.execute("CREATE TABLE t (a)")  # something in the WAL
    files = sorted(data_dir.glob("comptoir.db*"))
    assert [f.name for f in files] == ["comptoir.db", "comptoir.db-shm", "comptoir.db-wal"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    db.close()


def test_a_database_left_readable_by_others_is_made_private_at_the_next_open(
    data_dir: Path,
) -> None:
    open_database(data_dir / "comptoir.db").close()
    (data_dir / "comptoir.db").chmod(0o644)
    open_database(data_dir / "comptoir.db").close()
    assert stat.S_IMODE((data_dir / "comptoir.db").stat().st_mode) == 0o600


@pytest.fixture
def damaged_sales(settings, shop: sqlite3.Connection, data_dir: Path) -> Path:  # noqa: F811
    """Two sales recorded, then the page holding the sales table overwritten, as a failing
    SD card would."""
    for _ in range(2):
        items = basket(shop)
        attempt = payments.begin_attempt(shop, items.total_cents, items)
        result = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
        sales.complete_sale(shop, attempt, result, settings.device.id)
    shop.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = shop.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sales'").fetchone()[0]
    size = shop.execute("PRAGMA page_size").fetchone()[0]
    path = data_dir / "comptoir.db"
    with path.open("r+b") as raw:
        raw.seek((root - 1) * size)
        raw.write(b"\xff" * 64)
    return path


def test_a_damaged_sales_table_is_named_by_the_check_alerted_once_and_sent_to_the_fleet(
    damaged_sales: Path,
) -> None:
    db = open_database(damaged_sales, migrate=False)
    assert set(damaged_tables(db)) == {"sales"}
    assert set(db_check.check(db)) == {"sales"}
    db_check.check(db, full=True)  # the weekly full check finds it too, and alerts no twice
    [alert] = alerts.open_alerts(db, Alarm.DATABASE_DAMAGED)
    assert alert.subject == "sales" and "table sales of the database is damaged" in alert.message
    [event] = outbox.pending(db, "mqtt", types=("database_damaged",))
    assert event.payload["table"] == "sales"


def test_the_web_admin_names_the_damaged_table_and_its_other_pages_still_work(
    damaged_sales: Path,
    settings: config_module.Config,  # noqa: F811
) -> None:
    client = create_app(settings, settings.database_path).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    log_in(client, "paul")
    page = client.get("/sales/")
    assert page.status_code == 503
    assert "database (table sales): the other pages still work" in text(page)
    assert client.get("/catalogue/").status_code == 200
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "The sales cannot be read: the database is damaged" in text(dashboard)
