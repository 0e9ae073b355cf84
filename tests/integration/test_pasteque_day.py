"""A whole day at the box with Pastèque down for an hour in the middle (simulated time): every
ticket arrives once, in order, in the day's session, and once the box's own closing is made at
night the till's Z equals it to the cent, per VAT rate and per payment mode."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.core.closing import Period
from appliance.marketplace.fake.scripting import SimClock
from appliance.pasteque.fake import FakeState, seed, serve
from appliance.pasteque.fake.scripting import demo_site
from appliance.pasteque.gateway import UNREACHABLE, run_forever
from appliance.pasteque.mapping import Mapping
from appliance.pasteque.sessions import read_z
from appliance.store import alerts, closings, pasteque
from tests.pasteque_support import basket, close_day, recorded_at, sell, stock_shop

DAY = date(2026, 11, 20)
OPENS = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 09:00 in Paris
DOWN = (datetime(2026, 11, 20, 11, 0, tzinfo=UTC), datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
CLOSES = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)  # 01:30 in Paris: the agent closes the day
SALES = 150


class Day:
    """The gateway's own loop, its pauses played in simulated time: while it waits, the shop
    sells, Pastèque goes down and comes back, and at night the box closes the day."""

    def __init__(self, config: Config, db: sqlite3.Connection, fake: FakeState, clock: SimClock):
        self.config, self.db, self.fake, self.clock = config, db, fake, clock
        rng = random.Random(7)
        seconds = int((CLOSES - OPENS).total_seconds())
        self.due = sorted(OPENS + timedelta(seconds=rng.randrange(seconds)) for _ in range(SALES))
        self.baskets = [basket(rng) for _ in range(SALES)]
        self.sold: list[tuple[datetime, int]] = []  # (when, receipt)
        self.arrived: dict[int, datetime] = {}  # ticket number -> when the fake stored it
        self.alert_seen = False
        self.closed = False
        self.stop = threading.Event()

    def wait(self, seconds: float) -> bool:
        target = self.clock.now + timedelta(seconds=seconds)
        while self.due and self.due[0] <= target:
            self.clock.now = max(self.clock.now, self.due.pop(0))
            with recorded_at(self.clock.now):
                sale = sell(self.db, self.config.device.id, self.baskets[len(self.sold)])
            self.sold.append((self.clock.now, sale.receipt_number))
        self.clock.now = target
        self.fake.down = DOWN[0] <= self.clock.now < DOWN[1]
        self.alert_seen |= bool(alerts.open_alerts(self.db, UNREACHABLE))
        with self.fake.lock:
            for (_, number), _ in self.fake.tickets.items():
                self.arrived.setdefault(number, self.clock.now)
        if self.clock.now >= NIGHT and not self.closed:
            close_day(self.db, self.config, DAY, self.clock.now)
            self.closed = True
        if self.closed and self.fake.closed_sessions(self._register()):
            self.stop.set()
        return self.stop.is_set() or self.clock.now > NIGHT + timedelta(hours=2)

    def _register(self) -> int:
        register = self.fake.register_by(reference=seed.DEMO_REGISTER)
        assert register is not None
        return register.id


@pytest.fixture
def clock() -> SimClock:
    return SimClock(OPENS - timedelta(minutes=5))


def test_a_day_with_pastèque_down_for_an_hour_ends_in_the_same_z_as_the_box(
    clock: SimClock, tmp_path: Path, data_dir: Path, db: sqlite3.Connection
) -> None:
    fake = seed.demo(FakeState(clock=clock))
    with serve(fake) as url:
        config = demo_site(
            url, tmp_path / "pass", data_dir, {"device": {"id": "ferme-lilas-1"}}, alert_after=3
        )
        stock_shop(db)
        day = Day(config, db, fake, clock)
        run_forever(
            config,
            db,
            day.stop,
            clock=clock,
            wait=day.wait,
            monotonic=lambda: clock.now.timestamp(),
        )

    register = day._register()
    assert len(day.sold) == SALES
    # every ticket once, numbered in the order of the sales, all in the day's session
    stored = fake.session_tickets(register, 1)
    assert [t["number"] for t in stored] == list(range(1, SALES + 1))
    assert [t["date"] for t in stored] == [int(when.timestamp()) for when, _ in day.sold]
    assert len(fake.tickets) == SALES
    sent_order = [
        json.loads(r.content)["number"] for r in fake.fiscal.records("tkt", f"{register:010d}")
    ]
    assert sent_order == sorted(sent_order)  # they reached the till in order
    # nothing arrived while it was down; what was sold then arrived within minutes of its return
    during = [n for n, (when, _) in enumerate(day.sold, 1) if DOWN[0] <= when < DOWN[1]]
    assert during and all(day.arrived[n] >= DOWN[1] for n in during)
    assert max(day.arrived[n] for n in during) <= DOWN[1] + timedelta(minutes=6)
    assert day.alert_seen and not alerts.open_alerts(db, UNREACHABLE)

    # the till's Z is the box's daily closing, to the cent
    (box,) = closings.closings(db, Period.DAY)
    (session,) = fake.closed_sessions(register)
    z = read_z(session, Mapping.from_json(pasteque.gateway(db).mapping))
    assert z.tickets == box.data["tickets"] == SALES
    assert z.by_vat == {
        v["rate_bp"]: (v["total_cents"] - v["vat_cents"], v["vat_cents"])
        for v in box.data["by_vat"]
    }
    assert z.by_payment == {
        "magcard": next(p["total_cents"] for p in box.data["by_payment"] if p["method"] == "card")
    }
    assert z.total_cents == box.data["total_cents"]
    assert z.net_cents == box.data["total_excl_vat_cents"]
    assert z.perpetual_cents == box.data["total_excl_vat_cents"]  # a new register
    assert not alerts.open_alerts(db)  # no refusal, no mismatch
