"""The agent killed (SIGKILL) at random instants while it sends to Pastèque: when a request
arrives at the server (so the server writes what the dead agent will never hear about), and
after a random delay (while it starts, takes the outbox, maps the server or posts). Started
again each time, it ends with every sale in the till exactly once, in its day's session, and
the closed day's Z equal to the box's closing."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import request

from appliance import config as config_module
from appliance.core.closing import Period
from appliance.pasteque import status
from appliance.pasteque.euros import cents
from appliance.pasteque.fake import FakeState, seed, serve
from appliance.pasteque.gateway import BATCH
from appliance.pasteque.mapping import Mapping
from appliance.pasteque.sessions import read_z
from appliance.store import alerts, closings, pasteque
from tests.agent_support import Mosquitto, start_agent, stop_process, wait_until, write_config
from tests.pasteque_support import basket, recorded_at, sell, stock_shop

pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]  # 20 s here; a loaded CI may take more

BOX = "box-killed"
EARLIER_DAY_SALES = 500  # two days ago: the agent closes that day itself, between kills
TODAY_SALES = 250
KILLS = 12
TIMEZONE = "Europe/Paris"  # the box's default
POST_S = 0.3  # each write of the server takes this long: the agent is often caught waiting


class Killer:
    """Arms one kill per run of the agent: once the server has the n-th write (it will store it,
    and the agent never hears the answer), or a random
    delay after the agent's first request. The fake calls `arrived` on every request, before
    it handles it."""

    def __init__(self, fake: FakeState, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng
        self.process: subprocess.Popen[bytes] | None = None
        self.writes_left = 0
        self.called = threading.Event()
        self.instants: list[str] = []
        self.lock = threading.Lock()
        fake.before_request.append(self.arrived)

    def arrived(self, method: str, path: str) -> None:
        self.called.set()
        if method != "POST" or path not in ("/api/ticket", "/api/cash"):
            return
        with self.lock:
            sender = self.process  # the run that sent it (a killed run's request may linger)
        assert request.form  # the whole request is in: the server will write it, whatever comes
        threading.Event().wait(POST_S)
        with self.lock:
            if self.writes_left and sender is not None and sender is self.process:
                self.writes_left -= 1
                if not self.writes_left:
                    self._kill(f"once the server had POST {path}")

    def run(self, config: Path, log: Path, done: Callable[[], bool]) -> None:
        """One run of the agent, killed at its armed instant (unless everything is done first)."""
        self.called.clear()
        process = start_agent(config, log)
        with self.lock:
            self.process = process
            self.writes_left = self.rng.randint(1, 3) if self.rng.random() < 0.5 else 0
            delay = self.rng.uniform(0.0, 2.0)
        try:
            if not self.writes_left:
                wait_until(
                    lambda: self.called.is_set() or process.poll() is not None, 60, "a request"
                )
                threading.Event().wait(delay)
                with self.lock:
                    self._kill(f"{delay:.2f} s after its first request")
            wait_until(lambda: process.poll() is not None or done(), 120, "the armed kill")
        finally:
            with self.lock:
                self.writes_left = 0
                self.process = None
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(10)

    def _kill(self, instant: str) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGKILL)
        self.instants.append(f"{instant}, {len(self.fake.tickets)} tickets in the till")


def business_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(TIMEZONE)).date()


def test_an_agent_killed_while_it_posts_sends_every_sale_once(
    tmp_path: Path, data_dir: Path, db: sqlite3.Connection, broker: Mosquitto
) -> None:
    fake = seed.demo()
    rng = random.Random(13)
    killer = Killer(fake, rng)
    stock_shop(db)
    now = datetime.now(UTC)
    earlier = (now - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    sold: list[int] = []
    for n in range(EARLIER_DAY_SALES):
        with recorded_at(earlier + timedelta(seconds=45 * n)):
            sold.append(sell(db, BOX, basket(rng)).total_cents)
    midnight = datetime.combine(business_day(now), time(), ZoneInfo(TIMEZONE))
    first = max(now - timedelta(seconds=TODAY_SALES), midnight)  # all of today's in today
    for n in range(TODAY_SALES):
        with recorded_at(first + (now - first) * n / TODAY_SALES):
            sold.append(sell(db, BOX, basket(rng)).total_cents)
    password = tmp_path / "pasteque.pass"
    password.write_text(seed.DEMO_PASSWORD + "\n")
    password.chmod(0o600)

    with serve(fake) as url:
        path = write_config(
            tmp_path / "comptoir.toml",
            data_dir,
            BOX,
            broker,
            sections={
                "pasteque": {
                    "enabled": True,
                    "url": url,
                    "user": seed.DEMO_USER,
                    "password_file": str(password),
                    "cash_register": seed.DEMO_REGISTER,
                    "interval_s": 10,
                }
            },
        )
        config = config_module.load(path)
        register = fake.register_by(reference=seed.DEMO_REGISTER)
        assert register is not None

        def done() -> bool:
            body = status.report(config, db)
            return (
                len(fake.tickets) == EARLIER_DAY_SALES + TODAY_SALES
                and not body["tickets_queued"]
                and not body["events_not_taken"]
                and not body["sessions_to_close"]
                and bool(fake.closed_sessions(register.id))
            )

        for _ in range(KILLS):
            if done():
                break
            killer.run(path, tmp_path / "agent.log", done)
        killed = len(killer.instants)
        last = start_agent(path, tmp_path / "agent.log")
        try:
            wait_until(done, 180, "every sale in the till and the earlier day closed")
        finally:
            stop_process(last)

    # killed often before it could finish, in both ways, and tickets the server had were sent
    # again after a kill (identical: a success, no second record)
    assert killed >= KILLS // 2, killer.instants
    assert any(i.startswith("once the server had") for i in killer.instants), killer.instants
    assert any("after its first request" in i for i in killer.instants), killer.instants
    batches = -(-(EARLIER_DAY_SALES + TODAY_SALES) // BATCH)
    assert fake.count("POST", "/api/ticket") > batches
    # every sale once: one ticket per sale, numbered 1..N without a gap, each written once
    numbers = sorted(number for _, number in fake.tickets)
    assert numbers == list(range(1, EARLIER_DAY_SALES + TODAY_SALES + 1))
    records = fake.fiscal.records("tkt", f"{register.id:010d}")
    assert len(records) == EARLIER_DAY_SALES + TODAY_SALES
    assert not [key for key in fake.fiscal.chains if key[1].startswith("failure")]
    stored = sorted(fake.tickets.values(), key=lambda t: t["number"])
    assert [cents(t["finalTaxedPrice"]) for t in stored] == sold  # each sale, in sale order
    # the earlier day in session 1, closed with the box's own figures; today's in session 2
    assert [t["sequence"] for t in stored] == [1] * EARLIER_DAY_SALES + [2] * TODAY_SALES
    first_closing = next(c for c in closings.closings(db, Period.DAY) if c.data["tickets"])
    (session,) = fake.closed_sessions(register.id)
    z = read_z(session, Mapping.from_json(pasteque.gateway(db).mapping))
    assert z.tickets == first_closing.data["tickets"] == EARLIER_DAY_SALES
    assert z.total_cents == first_closing.data["total_cents"]
    assert z.by_vat == {
        v["rate_bp"]: (v["total_cents"] - v["vat_cents"], v["vat_cents"])
        for v in first_closing.data["by_vat"]
    }
    assert not alerts.open_alerts(db, alerts.Alarm.PASTEQUE_TICKET_REFUSED)
    assert not alerts.open_alerts(db, alerts.Alarm.PASTEQUE_MISMATCH)
