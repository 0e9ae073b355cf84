"""The till gateway catching up after Pastèque was away for 20 days: 10,000 sales (500 a day,
each day closed by the box) sent to the fake Pastèque over HTTP, with answers at once and in
50 ms.

Figures: how long taking the outbox into frozen tickets takes, how long sending takes, tickets
per second, and the writes against the minimum (per session: its open, one post per 50
tickets, its close). Goals: the writes at the minimum (nothing sent twice when nothing fails)
and the 20 days caught up within 2 minutes at 50 ms. At the end every session's Z is checked
against the box's closing of its day, to the cent.
"""

from __future__ import annotations

import math
import random
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from appliance.core.closing import Period
from appliance.pasteque import intake
from appliance.pasteque.fake import FakeState, seed, serve
from appliance.pasteque.fake.scripting import demo_site
from appliance.pasteque.gateway import BATCH, Gateway
from appliance.pasteque.mapping import Mapping
from appliance.pasteque.sessions import read_z
from appliance.store import closings, pasteque
from appliance.store.db import open_database
from bench._table import print_table
from tests.pasteque_support import basket, close_day, recorded_at, sell, stock_shop

DAYS = 20
PER_DAY = 500
FIRST_DAY = date(2026, 10, 1)
LATENCIES_S = (0.0, 0.05)
GOAL_S = 120.0
DEVICE = "bench-box"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = time.perf_counter()
        recorded = _record(folder / "recorded.db")
        made = time.perf_counter() - made
        print(f"{DAYS * PER_DAY} sales over {DAYS} days recorded in {made:.0f} s")
        rows = [
            _run(folder / f"run-{n}", recorded, latency) for n, latency in enumerate(LATENCIES_S)
        ]
    print_table(
        [
            "answers in",
            "intake s",
            "send s",
            "tickets/s",
            "writes",
            "minimum",
            "reads",
            "goal s",
        ],
        rows,
    )


def _record(path: Path) -> sqlite3.Connection:
    db = open_database(path)
    stock_shop(db)
    rng = random.Random(20261203)
    config = demo_site("http://127.0.0.1:9", path.parent / "pass", path.parent, {})
    for n in range(DAYS):
        day = FIRST_DAY + timedelta(days=n)
        opens = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
        for k in range(PER_DAY):
            with recorded_at(opens + timedelta(seconds=60 * k)):
                sell(db, DEVICE, basket(rng))
        close_day(db, config, day, opens + timedelta(hours=17))
    return db


def _run(folder: Path, recorded: sqlite3.Connection, latency_s: float) -> list[object]:
    folder.mkdir()
    db = open_database(folder / "comptoir.db")
    recorded.backup(db)
    fake = seed.demo(FakeState())
    if latency_s:
        fake.before_request.append(lambda method, path: time.sleep(latency_s))
    with serve(fake) as url:
        config = demo_site(url, folder / "pass", folder, {"device": {"id": DEVICE}}, timeout_s=30)
        gateway = Gateway(config, db)
        mapping = gateway.map_now()
        started = time.perf_counter()
        taken = intake.take(config, db, mapping)
        took = time.perf_counter() - started
        before = len(fake.requests)
        started = time.perf_counter()
        report = gateway.round()
        sent_s = time.perf_counter() - started
    assert report.ok and taken == DAYS * (PER_DAY + 1) and report.sent == DAYS * PER_DAY, report
    assert report.closed == DAYS, report
    _check(db, fake)
    requests = fake.requests[before:]
    writes = sum(1 for m, p in requests if m == "POST" and p in ("/api/ticket", "/api/cash"))
    minimum = DAYS * (2 + math.ceil(PER_DAY / BATCH))
    return [
        f"{latency_s * 1000:.0f} ms",
        f"{took:.1f}",
        f"{sent_s:.1f}",
        f"{report.sent / sent_s:.0f}",
        writes,
        minimum,
        len(requests) - writes,
        f"{GOAL_S:.0f}" if latency_s else "-",
    ]


def _check(db: sqlite3.Connection, fake: FakeState) -> None:
    """Each session's Z is the box's closing of its day, to the cent."""
    mapping = Mapping.from_json(pasteque.gateway(db).mapping)
    boxes = closings.closings(db, Period.DAY)
    tills = fake.closed_sessions(mapping.register_id)
    assert len(boxes) == len(tills) == DAYS
    for box, session in zip(boxes, tills, strict=True):
        z = read_z(session, mapping)
        assert z.tickets == box.data["tickets"] and z.total_cents == box.data["total_cents"]
        assert z.by_vat == {
            v["rate_bp"]: (v["total_cents"] - v["vat_cents"], v["vat_cents"])
            for v in box.data["by_vat"]
        }
