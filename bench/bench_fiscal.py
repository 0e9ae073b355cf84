"""Fiscal records: appending a signed ticket, verifying a million records, a day's closing.

The database holds BENCH_FISCAL_RECORDS (default 1,000,000) signed sale tickets built with the
box's real key and executemany. Goals (issue 12): append p99 < 5 ms; verification with every
signature checked >= 15,000 records/s (printed against this machine's one-core Ed25519 verify
floor, measured here); the hash chain alone; a day's closing of 2,000 tickets < 1 s.

The append is timed twice: the signed ticket's own work inside the transaction (chain head,
two signatures, two writes), and the whole transaction with its commit, which waits for the
disk (`synchronous=FULL`: a paid sale survives a power cut) and so for whatever else the
machine writes. Verification uses every core the process may use (store/fiscal.py); the
measure says how many, and the CPU load when it began (a shared machine is slower).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.core.catalogue import Product, SoldBy
from appliance.core.closing import Period
from appliance.core.fiscal import GENESIS_HASH, RecordType, digest, record_body, tail_body
from appliance.core.fiscal_ticket import sale_ticket
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine
from appliance.store import closings, fiscal, fiscal_key, tickets
from appliance.store.db import open_database, transaction
from bench._table import percentile, print_table

RECORDS = int(os.environ.get("BENCH_FISCAL_RECORDS", "1000000"))
APPENDS = 2000
DAY_TICKETS = 2000
GOAL_APPEND_MS = 5.0
GOAL_VERIFY_PER_S = 15_000
GOAL_CLOSING_S = 1.0
GOAL_LOOKUP_MS = 5.0  # a reprint or a till ticket must not wait on the chain's length
LOOKUPS = 200
PARIS = ZoneInfo("Europe/Paris")
APPLES = Product("pommes", "Pomme Golden", SoldBy.WEIGHT, 260, 550)
JAM = Product("confiture", "Confiture de fraises", SoldBy.PIECE, 550, 550)
WINE = Product("vin", "Vin rouge", SoldBy.PIECE, 850, 2000)


def sale(n: int, when: datetime) -> Sale:
    lines: tuple[SaleLine, ...] = (
        SaleLine.weighed(APPLES, 1000 + n % 900),
        SaleLine.pieces(JAM, 1 + n % 3),
    )
    if n % 4 == 0:
        lines += (SaleLine.pieces(WINE, 1),)
    return Sale(
        n,
        "bench-box",
        f"t{n}",
        f"a{n}",
        when.isoformat(),
        Basket(lines),
        CardPayment(f"{n:06d}", "00B"),
    )


def fill(db: sqlite3.Connection, count: int, start: datetime, step_s: int = 60) -> None:
    """`count` signed tickets, one every `step_s` from `start`, with their signed tail."""
    signer = fiscal_key.signer_for(db, has_records=False)
    prev, rows = GENESIS_HASH, []
    for n in range(1, count + 1):
        when = (start + timedelta(seconds=n * step_s)).astimezone(UTC)
        ts = when.isoformat(timespec="microseconds")
        data = sale_ticket(sale(n, when), mode="live", journal_seq=n, software="bench")
        body = record_body(RecordType.TICKET, n, ts, prev, data)
        prev = digest(body)
        rows.append(("ticket", n, ts, body, prev, signer.sign(body.encode())))
        if len(rows) == 20_000 or n == count:
            with transaction(db):
                db.executemany("INSERT INTO fiscal_records VALUES (?, ?, ?, ?, ?, ?)", rows)
            rows = []
    with transaction(db):
        db.execute(
            "INSERT INTO fiscal_tails VALUES ('ticket', ?, ?, ?)",
            (count, prev, signer.sign(tail_body(RecordType.TICKET, count, prev).encode())),
        )


def verify_floor(samples: int = 20_000) -> float:
    """One core's Ed25519 verifications per second with this machine's `cryptography`."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    messages = [hashlib.sha256(str(i).encode()).digest() * 12 for i in range(samples)]
    signed = [(key.sign(m), m) for m in messages]
    began = time.process_time()
    for signature, message in signed:
        public.verify(signature, message)
    return samples / (time.process_time() - began)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "comptoir.db")
        began = time.perf_counter()
        fill(db, RECORDS, datetime(2020, 1, 1, tzinfo=PARIS))
        built_s = time.perf_counter() - began
        print(f"{RECORDS:,} signed tickets built in {built_s:.0f} s")

        times, own = [], []
        base = datetime.now(UTC)
        for n in range(APPENDS):
            paid = sale(RECORDS + n, base + timedelta(seconds=n))
            began = time.perf_counter()
            with transaction(db):
                tickets.record_sale_ticket(db, paid, 0)
                own.append((time.perf_counter() - began) * 1000)
            times.append((time.perf_counter() - began) * 1000)
        p50, p99 = percentile(times, 50), percentile(times, 99)
        own_p99 = percentile(own, 99)
        load = os.getloadavg()[0]
        cores = len(os.sched_getaffinity(0))

        began = time.perf_counter()
        (full,) = [r for r in fiscal.verify(db) if r.type is RecordType.TICKET]
        signed_s = time.perf_counter() - began
        began = time.perf_counter()
        (chain,) = [r for r in fiscal.verify(db, signatures=False) if r.type is RecordType.TICKET]
        chain_s = time.perf_counter() - began
        assert full.broken is None and chain.broken is None, (full.broken, chain.broken)
        began = time.perf_counter()
        for receipt in range(1, RECORDS, RECORDS // LOOKUPS):
            assert tickets.ticket_of_sale(db, "bench-box", receipt) is not None
        lookup_ms = (time.perf_counter() - began) * 1000 / LOOKUPS
        db.close()
        floor = verify_floor()

        day = Path(folder) / "day"
        day.mkdir()
        day_db = open_database(day / "comptoir.db")
        closing_day = date(2026, 6, 15)
        fill(day_db, DAY_TICKETS, datetime(2026, 6, 15, 0, 30, tzinfo=PARIS), step_s=40)
        settings = closings.ClosingSettings("bench-box", PARIS, 1)
        began = time.perf_counter()
        (z,) = closings.close(
            day_db,
            settings,
            Period.DAY,
            closing_day,
            by="bench",
            now=datetime(2030, 1, 1, tzinfo=UTC),
        )
        closing_s = time.perf_counter() - began
        day_db.close()

    records = RECORDS + APPENDS
    signed_rate, chain_rate = records / signed_s, records / chain_s
    print_table(
        ["measure", "value", "goal", "ratio to goal"],
        [
            [
                "append signed ticket p99, before the commit",
                f"{own_p99:.2f} ms",
                f"< {GOAL_APPEND_MS:g} ms",
                f"{own_p99 / GOAL_APPEND_MS:.2f}",
            ],
            ["append signed ticket with its commit p50", f"{p50:.2f} ms", "", ""],
            [
                "append signed ticket with its commit p99",
                f"{p99:.2f} ms",
                f"< {GOAL_APPEND_MS:g} ms",
                f"{p99 / GOAL_APPEND_MS:.2f}",
            ],
            [
                f"verify {records:,}, every signature ({cores} cores, load {load:.1f})",
                f"{signed_rate:,.0f} rec/s",
                f">= {GOAL_VERIFY_PER_S:,}/s",
                f"{signed_rate / GOAL_VERIFY_PER_S:.2f}",
            ],
            [
                "  Ed25519 verify floor, one core",
                f"{floor:,.0f} /s",
                "",
                f"{signed_rate / floor:.2f} of floor",
            ],
            [f"verify {records:,}, hash chain only", f"{chain_rate:,.0f} rec/s", "", ""],
            [
                f"a receipt's signed ticket among {records:,} (reprint, till)",
                f"{lookup_ms:.2f} ms",
                f"< {GOAL_LOOKUP_MS:g} ms",
                f"{lookup_ms / GOAL_LOOKUP_MS:.2f}",
            ],
            [
                f"day closing ({z.data['tickets']} tickets)",
                f"{closing_s * 1000:.0f} ms",
                f"< {GOAL_CLOSING_S:g} s",
                f"{closing_s / GOAL_CLOSING_S:.2f}",
            ],
        ],
    )
