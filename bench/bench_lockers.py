"""Lockers: from the last digit of a valid code to the lock released, on a big database; and a
year of temperature readings at one a minute (database size, report time).

The database holds 100,000 orders and 1,000,000 journal entries with a valid hash chain (built
with executemany). Each sample types a fresh code into the real pickup flow and carries out its
intentions as the kiosk does (store check, no marketplace, unlock) until the relay is energised
(gpiozero MockFactory pin) or the unlock command reaches the CU16 simulator over a pty.
Goal: p99 under 50 ms.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from appliance import clock
from appliance.config import from_dict
from appliance.core import haccp
from appliance.core.journal import GENESIS_HASH, canonical_json, entry_hash
from appliance.core.locker import Compartment, Size
from appliance.devices.locks.base import DoorStatus, LockController
from appliance.devices.locks.gpio import GpioLocks, GpioWiring
from appliance.devices.locks.kerong import KerongLocks, Wiring, open_bus
from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows.events import (
    CodeChecked,
    DigitPressed,
    Event,
    OrderReread,
)
from appliance.kiosk.flows.intentions import (
    CheckCode,
    OpenDoor,
    RereadOrder,
)
from appliance.store import lockers, pickup_codes
from appliance.store.db import open_database, transaction
from appliance.store.temperatures import day_record, record_temperatures
from bench._table import percentile, print_table

ORDERS = 100_000
JOURNAL = 1_000_000
SAMPLES = 200
GOAL_MS = 50.0
KEY = b"bench-device-key-0123456789abcde"
YEAR_MINUTES = 365 * 24 * 60

#: A controller, when its last unlock reached the lock (monotonic), and how to stop it.
Rig = tuple[LockController, Callable[[], float], Callable[[], None]]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "comptoir.db")
        started = time.perf_counter()
        codes = _big_database(db)
        built_s = time.perf_counter() - started
        rows: list[list[object]] = [["database build", f"{built_s:.1f} s", "", "", ""]]
        gpio_codes, kerong_codes = codes[:SAMPLES], codes[SAMPLES:]
        rows += _latency("code -> relay (GPIO, MockFactory)", db, gpio_codes, _gpio)
        rows += _latency("code -> CU16 command on the pty", db, kerong_codes, _kerong)
        rows += _temperature_year(Path(tmp))
    print_table(["measure", "value", "goal", "ratio", "note"], rows)


def _big_database(db: sqlite3.Connection) -> list[tuple[str, int]]:
    """100,000 orders (the last 2 x SAMPLES deposited with real codes), 1,000,000 journal rows."""
    now = clock.now_iso()
    with transaction(db):
        db.executemany(
            "INSERT INTO orders (number, state, customer_name, updated_at) VALUES (?, ?, ?, ?)",
            ((f"R{n:09d}", "collected", f"Client {n}", now) for n in range(ORDERS)),
        )
        db.executemany(
            "INSERT INTO journal (seq, ts, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            _chain(JOURNAL, now),
        )
        waiting = [f"R{n:09d}" for n in range(ORDERS - 2 * SAMPLES, ORDERS)]
        db.executemany(
            "UPDATE orders SET state = 'waiting' WHERE number = ?", ((w,) for w in waiting)
        )
    lockers.sync_compartments(db, [Compartment(n, Size.M) for n in range(1, 2 * SAMPLES + 1)])
    rng = random.Random(7)
    codes = []
    for number, compartment in zip(waiting, range(1, 2 * SAMPLES + 1), strict=True):
        issued = lockers.deposit(
            db, number, compartment, producer="bench", key=KEY, validity_days=7, rng=rng
        )
        codes.append((issued.code, compartment))
    return codes


def _chain(count: int, ts: str) -> Iterator[tuple[int, str, str, str, str, str]]:
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        data = {"receipt": seq, "total_cents": seq % 5000}
        digest = entry_hash(prev, seq, ts, "sale", data)
        yield seq, ts, "sale", canonical_json(data), prev, digest
        prev = digest


def _latency(
    name: str,
    db: sqlite3.Connection,
    codes: list[tuple[str, int]],
    rig: Callable[[], Rig],
) -> list[list[object]]:
    controller, released_at, stop = rig()
    samples = []
    try:
        for code, _compartment in codes:
            flow = p.Pickup()
            for digit in code[:-1]:
                flow.handle(DigitPressed(digit), 0)
            start = time.monotonic()
            _run(flow, DigitPressed(code[-1]), db, controller)
            samples.append((released_at() - start) * 1000)
    finally:
        stop()
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    return [
        [f"{name} p50", f"{p50:.1f} ms", "", "", f"{len(samples)} codes"],
        [f"{name} p99", f"{p99:.1f} ms", f"< {GOAL_MS:.0f} ms", f"{p99 / GOAL_MS:.2f}", ""],
    ]


def _run(flow: p.Pickup, event: Event, db: sqlite3.Connection, locks: LockController) -> None:
    """What the kiosk does with the flow's intentions, up to the unlock."""
    pending: list[Event] = [event]
    while pending:
        for intention in flow.handle(pending.pop(0), time.monotonic()):
            match intention:
                case CheckCode(text=text):
                    c = pickup_codes.check_code(db, text, key=KEY)
                    pending.append(CodeChecked(c.verdict, c.order_number, c.compartment, c.code_id))
                case RereadOrder(order_number=n):
                    pending.append(OrderReread(n, None))
                case OpenDoor(compartment=n):
                    locks.unlock(n)


class _OneDoor(LockController):
    """Every compartment number opens door 1: the same path, without hundreds of pins."""

    def __init__(self, inner: LockController) -> None:
        self.inner = inner

    @property
    def numbers(self) -> tuple[int, ...]:
        return self.inner.numbers

    def unlock(self, number: int) -> bool:
        return self.inner.unlock(1)

    def status(self, numbers: Iterable[int] | None = None) -> dict[int, DoorStatus]:
        return self.inner.status(numbers)


def _gpio() -> Rig:
    factory = MockFactory()
    locks = GpioLocks({1: GpioWiring("GPIO17", "GPIO27")}, factory, pulse_s=0.002, confirm_s=0.002)
    relay = factory.pin("GPIO17")

    def released_at() -> float:
        # Mock pins keep the time since the previous change: the relay went on this long
        # before it went off again at `_last_change`.
        return relay._last_change - relay.states[-1].timestamp

    def stop() -> None:
        locks.close()
        factory.reset()

    return _OneDoor(locks), released_at, stop


def _kerong() -> Rig:
    sim = Cu16Bus((0,))
    server = Cu16PtyServer(sim).start()
    locks = KerongLocks(open_bus(server.path), {1: Wiring(0, 0)}, confirm_s=0.0, poll_s=0.001)

    def released_at() -> float:
        sim.board(0).close_door(0)
        return sim.unlocks[-1][2]

    def stop() -> None:
        locks.close()
        server.stop()

    return _OneDoor(locks), released_at, stop


def _temperature_year(tmp: Path) -> list[list[object]]:
    """One zone, one sensor, a reading a minute for a year, in its own database."""
    db = open_database(tmp / "haccp.db")
    size_before = _size(db)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    first = int(start.timestamp())
    rng = random.Random(3)
    began = time.perf_counter()
    batch = []
    for minute in range(YEAR_MINUTES):
        batch.append(("frigo", first + 60 * minute, "28-000001", 3000 + rng.randrange(-800, 900)))
        if len(batch) == 50_000:
            record_temperatures(db, batch)
            batch = []
    record_temperatures(db, batch)
    logged_s = time.perf_counter() - began
    size_mb = (_size(db) - size_before) / 1e6
    cfg = from_dict({"haccp": {"zones": [{"name": "frigo", "limit_c": 4, "allowed_min": 30}]}})
    times = []
    for day in range(0, 365, 7):
        began = time.perf_counter()
        haccp.report(day_record(cfg, db, date(2025, 1, 1) + timedelta(days=day)))
        times.append((time.perf_counter() - began) * 1000)
    return [
        [
            "year of readings (1/min)",
            f"{YEAR_MINUTES:,} rows",
            "",
            "",
            f"stored in {logged_s:.1f} s",
        ],
        ["database size for a year", f"{size_mb:.1f} MB", "", "", "one zone, one sensor"],
        ["daily report p50", f"{percentile(times, 50):.1f} ms", "", "", f"{len(times)} days"],
        ["daily report p99", f"{percentile(times, 99):.1f} ms", "", "", ""],
    ]


def _size(db: sqlite3.Connection) -> int:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    return pages * db.execute("PRAGMA page_size").fetchone()[0]
