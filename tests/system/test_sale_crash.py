"""Kill the kiosk's payment loop (SIGKILL, a real separate process) at random instants and at
chosen steps, restart it, and check that the books still hold: no half-written sale, no approved
payment lost, none recorded twice, receipt numbers without gaps, and the journal verifies."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.devices.payment.caisse_ap import request_id
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.store import alerts, catalogue, journal, outbox, payments
from appliance.store.alerts import Alarm
from appliance.store.db import open_database, transaction
from tests.found import found

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("sale_worker.py")
PRODUCTS = (
    Product("tomates", "Tomates", SoldBy.WEIGHT, 450, 550, stock=10**6),
    Product("oeufs-6", "6 œufs", SoldBy.PIECE, 320, 550, stock=10**4),
    Product("cidre", "Cidre", SoldBy.PIECE, 600, 2000),
)
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def shop(config_file: Path, db: sqlite3.Connection) -> sqlite3.Connection:
    with transaction(db):
        for product in PRODUCTS:
            catalogue.save(db, product)
    return db


@pytest.fixture
def terminal() -> Iterator[TerminalSimulator]:
    with TerminalSimulator(delay_s=0.05) as sim:
        yield sim


class Worker:
    """One run of sale_worker.py; its stdout lines are collected by a thread."""

    def __init__(self, config: Path, terminal: str, sales: int, pause_at: str = "") -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "--config",
                str(config),
                "--terminal",
                terminal,
                "--sales",
                str(sales),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # its log lines, kept for the failure message
            text=True,
            env={**ENV, "SALE_WORKER_PAUSE_AT": pause_at},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in found(self.process.stdout):
            with self._changed:
                self.lines.append(line.strip())
                self._changed.notify_all()

    def wait_for_line(self, prefix: str, timeout: float = 60) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: any(line.startswith(prefix) for line in self.lines), timeout
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self) -> int:
        return self.process.wait(timeout=120)


def check_books(db: sqlite3.Connection, terminal: TerminalSimulator) -> None:
    attempts = {a.id: a for state in payments.AttemptState for a in payments.attempts_in(db, state)}
    sales_rows = db.execute(
        "SELECT id, attempt_id, receipt_number, total_cents FROM sales ORDER BY receipt_number"
    ).fetchall()

    # receipt numbers 1..n without a gap, each attempt sold at most once
    assert [r[2] for r in sales_rows] == list(range(1, len(sales_rows) + 1))
    assert len({r[1] for r in sales_rows}) == len(sales_rows)

    # no half-written sale: lines, journal entry, outbox event and an approved attempt for each
    sale_entries = Counter(e.data["attempt"] for e in journal.entries(db, "sale"))
    sale_events = Counter(
        e.payload["receipt"] for e in outbox.pending(db, "mqtt", limit=10**6) if e.type == "sale"
    )
    for sale_id, attempt_id, receipt, total in sales_rows:
        attempt = attempts[attempt_id]
        lines = db.execute(
            "SELECT count(*), sum(price_cents) FROM sale_lines WHERE sale_id = ?", (sale_id,)
        ).fetchone()
        assert lines == (len(attempt.basket.lines), total)
        assert attempt.state in (payments.AttemptState.APPROVED, payments.AttemptState.CHARGED)
        assert sale_entries[attempt_id] == 1 and sale_events[receipt] == 1
    assert sum(sale_entries.values()) == len(sales_rows)

    # every approved attempt has its sale; nothing is left pending after a restart
    sold = {r[1] for r in sales_rows}
    for attempt in attempts.values():
        assert attempt.state is not payments.AttemptState.PENDING
        if attempt.state is payments.AttemptState.APPROVED:
            assert attempt.id in sold

    # no payment the terminal really took is lost: it has its sale or an open alert for staff
    by_request = {request_id(a.id): a for a in attempts.values()}
    open_alerts = {a.subject for a in alerts.open_alerts(db, Alarm.PAYMENT_UNKNOWN)}
    for record in terminal.ledger:
        attempt = by_request[record.request_id]
        if record.charged:
            assert attempt.id in sold or (
                attempt.state is payments.AttemptState.UNKNOWN and attempt.id in open_alerts
            ), (record, attempt.state)

    # stock moved by exactly what was sold
    for product in PRODUCTS:
        if product.stock is None:
            continue
        (sold_amount,) = db.execute(
            "SELECT coalesce(sum(coalesce(weight_g, quantity)), 0) FROM sale_lines WHERE sku = ?",
            (product.sku,),
        ).fetchone()
        assert found(catalogue.get(db, product.sku)).stock == product.stock - sold_amount


def journal_verifies(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config), "journal", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=ENV,
    )


@pytest.mark.parametrize("step", ["after_begin", "after_pay", "in_complete"])
def test_a_kill_at_each_step_of_a_sale_leaves_the_books_whole(
    shop: sqlite3.Connection, terminal: TerminalSimulator, config_file: Path, step: str
) -> None:
    worker = Worker(config_file, terminal.address, sales=1, pause_at=step)
    assert worker.wait_for_line(f"paused {step}"), worker.lines
    worker.kill()

    restarted = Worker(config_file, terminal.address, sales=1)
    assert restarted.finish() == 0
    assert any(line.startswith("recovered") for line in restarted.lines)
    assert any(line.startswith("sale") for line in restarted.lines)

    db = open_database(config_file.parent / "data" / "comptoir.db")
    check_books(db, terminal)
    assert len(alerts.open_alerts(db, Alarm.PAYMENT_UNKNOWN)) == 1
    if step != "after_begin":
        assert terminal.ledger[0].charged  # the card was charged: staff must see it
    done = journal_verifies(config_file)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kills_at_random_instants_never_lose_or_double_a_sale(
    shop: sqlite3.Connection, terminal: TerminalSimulator, config_file: Path
) -> None:
    chooser = random.Random(int(os.environ.get("CRASH_SEED", "3")))
    for round_no in range(10):
        terminal.scenario = chooser.choice(
            [Scenario.APPROVED] * 4 + [Scenario.DECLINED, Scenario.CLOSED_AFTER_APPROVAL]
        )
        worker = Worker(config_file, terminal.address, sales=1000)
        # let it get going (it prints after its first sale), then kill it somewhere in a sale
        assert worker.wait_for_line("sale"), (round_no, worker.lines)
        threading.Event().wait(chooser.uniform(0.0, 0.6))
        worker.kill()
    terminal.scenario = Scenario.APPROVED
    assert Worker(config_file, terminal.address, sales=2).finish() == 0

    db = open_database(config_file.parent / "data" / "comptoir.db")
    check_books(db, terminal)
    assert db.execute("SELECT count(*) FROM sales").fetchone()[0] >= 10
    done = journal_verifies(config_file)
    assert done.returncode == 0, done.stdout + done.stderr
