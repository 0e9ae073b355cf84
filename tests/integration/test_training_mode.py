"""Training mode end to end: sales through the kiosk's checkout and the card terminal simulator
on a training box touch no real figure, and the live numbering carries on untouched after."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance import config as config_module
from appliance.core.fiscal import RecordType
from appliance.errors import ComptoirError
from appliance.store import catalogue, fiscal, journal, outbox, sales, tickets, web_users
from appliance.store.db import open_database, transaction
from appliance.store.device_commands import CommandName
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.integration.test_closings import comptoir
from tests.integration.test_kiosk_hardware_test import kiosk, run, w1  # noqa: F401 (fixtures)
from tests.integration.test_web_admin import PASSWORD, log_in

PARIS = ZoneInfo("Europe/Paris")
STOCK = 100_000


def box(tmp_path: Path, mode: str) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[device]\nid = "box-1"\nname = "Ferme test"\ndata_dir = "{tmp_path / "d"}"\n'
        f'[shop]\nmode = "{mode}"\n'
    )
    return config


def yesterday() -> date:
    return datetime.now(PARIS).date() - timedelta(days=1)


def simulate(config: Path, count: int) -> list[int]:
    """`count` sales of yesterday through the kiosk's checkout and the terminal simulator."""
    day = str(yesterday())
    done = comptoir(
        config, "sales", "simulate", "--count", str(count), "--date", day, "--seed", "5", "--json"
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["receipts"]


def stocks(db: sqlite3.Connection) -> dict[str, int | None]:
    return {p.sku: p.stock for p in catalogue.list_products(db)}


def test_training_sales_touch_no_real_figure_and_live_numbering_carries_on(
    tmp_path: Path,
) -> None:
    config = box(tmp_path, "training")
    assert comptoir(config, "catalogue", "import", "config/demo-catalogue.csv").returncode == 0
    db = open_database(tmp_path / "d" / "comptoir.db")
    with transaction(db):
        for product in catalogue.list_products(db):
            catalogue.save(db, dataclasses.replace(product, stock=STOCK))
    before = stocks(db)
    outbox_before = outbox.pending_count(db, "marketplace")

    assert simulate(config, 4) == [1, 2, 3, 4]  # the training receipts: numbered apart

    assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 0
    assert stocks(db) == before
    assert outbox.pending_count(db, "marketplace") == outbox_before
    assert not outbox.pending(db, "pasteque", types=("sale",))
    assert fiscal.count(db, RecordType.TICKET) == 0
    assert [r.data["mode"] for r in fiscal.records(db, RecordType.TRAINING)] == ["training"] * 4
    kinds = [e.kind for e in journal.entries(db)]
    assert kinds.count("training_sale") == 4 and "sale" not in kinds
    with pytest.raises(ComptoirError, match="training mode"):
        tickets.record_refund(db, 1, [], reason="essai", by="marie")

    page = admin_sales_page(config, db)
    assert 'id="mode-banner"' in page and "FORMATION" in page
    assert "Et 4 ventes de formation" in page and 'id="receipts"' not in page

    demo = box(tmp_path, "demo")  # back to a counting box: its numbers start at 1
    assert simulate(demo, 2) == [1, 2]
    real = list(fiscal.records(db, RecordType.TICKET))
    assert [(r.number, r.data["receipt"], r.data["mode"]) for r in real] == [
        (1, 1, "demo"),
        (2, 2, "demo"),
    ]
    assert db.execute("SELECT count(*) FROM sales").fetchone()[0] == 2
    assert stocks(db) != before
    assert len(outbox.pending(db, "marketplace", types=("sale",))) == 2
    closed = comptoir(demo, "closing", "run", "--period", "day", "--json")
    assert closed.returncode == 0, closed.stderr
    total = sum(r.data["total_cents"] for r in real)
    made = json.loads(closed.stdout)
    (day,) = [z for z in made if (z["period"], z["label"]) == ("day", str(yesterday()))]
    assert (day["tickets"], day["total_cents"]) == (2, total)
    assert day["training_tickets"] == 4  # shown on the Z, in none of its figures
    assert comptoir(demo, "fiscal", "verify").returncode == 0

    training = box(tmp_path, "training")  # a closed day takes training sales: in no closing
    assert simulate(training, 1) == [5]
    earlier = str(yesterday() - timedelta(days=1))
    older = comptoir(training, "sales", "simulate", "--count", "1", "--date", earlier)
    assert older.returncode == 2 and "time order" in older.stderr
    db.close()


def admin_sales_page(config: Path, db: sqlite3.Connection) -> str:
    """Yesterday's sales page of the web admin, as a producer sees it."""
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    settings = config_module.load(config)
    with create_app(settings, settings.database_path).test_client() as client:
        log_in(client, "paul")
        response = client.get(f"/sales/?day={yesterday().isoformat()}")
        assert response.status_code == 200
        return response.get_data(as_text=True)


@pytest.fixture
def config_file(config_file: Path) -> Path:
    """The kiosk of the fixtures below, on a training box."""
    config_file.write_text(config_file.read_text() + '[shop]\nmode = "training"\n')
    return config_file


def test_a_training_kiosk_charges_no_card_and_reprints_in_its_own_numbering(kiosk, db) -> None:  # noqa: F811
    """The kiosk's own path: a payment on a training box never reaches the card terminal (no
    money without a fiscal record), becomes training receipt 1, and its reprint is a DUPLICATA
    of the training ticket, printed FORMATION."""
    shop, executor, _ = kiosk
    paid = run(db, executor, CommandName.TEST_PAYMENT, amount_cents=10)
    assert paid.state == "done" and paid.result is not None, paid.result
    assert (paid.result["receipt"], paid.result["ticket"]) == (1, 1)
    assert shop.terminal.ledger == []  # the terminal charged nothing
    training_sale = sales.sale_by_receipt(db, "test-box", 1, training=True)
    assert training_sale is not None
    assert training_sale.payment.reference.startswith("FORMATION")
    assert sales.sale_by_receipt(db, "test-box", 1) is None  # no real receipt 1
    assert sales.sale_by_receipt(db, "test-box", 1, training=True) is not None
    copy = run(db, executor, CommandName.REPRINT_RECEIPT, receipt=1)
    assert copy.state == "done", copy.result
    (duplicate,) = fiscal.records(db, RecordType.DUPLICATE)
    assert (duplicate.data["ticket_type"], duplicate.data["ticket"]) == ("training", 1)
    assert shop.printer.wait_for(lambda raw: raw.count(b"FORMATION") >= 2 and b"DUPLICATA" in raw)
    assert fiscal.count(db, RecordType.TICKET) == 0
