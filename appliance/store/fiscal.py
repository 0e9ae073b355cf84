"""Appending signed fiscal records and verifying their chains (see core/fiscal.py).

`append` must run inside the `transaction()` of the change it records: the head of the chain
is read under BEGIN IMMEDIATE, so two processes never fork a chain, and the record commits with
its sale, closing or event or not at all. The tail of the chain is re-signed in the same
transaction.

`verify` checks a long chain in stretches, one process per core: each stretch starts after the
record just before it, which the stretch before checks, so the first break found is the one a
walk from the start would find (Ed25519 verification is most of the work).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance import clock
from appliance.core.fiscal import (
    GENESIS_HASH,
    Break,
    FiscalRecord,
    RecordType,
    Tail,
    digest,
    first_break,
    parse,
    record_body,
    tail_body,
)
from appliance.errors import StoreError
from appliance.store import fiscal_key
from appliance.store.db import require_transaction


def append(
    db: sqlite3.Connection, kind: RecordType, data: dict[str, Any], ts: str | None = None
) -> FiscalRecord:
    """Sign and store the next record of chain `kind`. Must run inside a transaction."""
    require_transaction(db, "fiscal.append")
    ts = ts or clock.now_iso()
    head = db.execute(
        "SELECT number, hash FROM fiscal_records WHERE type = ? ORDER BY number DESC LIMIT 1",
        (kind.value,),
    ).fetchone()
    number, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    signer = fiscal_key.signer_for(db, has_records=head is not None or _any_record(db))
    body = record_body(kind, number, ts, prev, data)
    record = FiscalRecord(
        kind, number, ts, data, prev, body, digest(body), signer.sign(body.encode("utf-8"))
    )
    db.execute(
        "INSERT INTO fiscal_records (type, number, ts, body, hash, signature) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (kind.value, number, ts, body, record.hash, record.signature),
    )
    tail_signature = signer.sign(tail_body(kind, number, record.hash).encode("utf-8"))
    db.execute(
        "INSERT INTO fiscal_tails (type, number, hash, signature) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (type) DO UPDATE SET number = excluded.number, hash = excluded.hash, "
        "signature = excluded.signature",
        (kind.value, number, record.hash, tail_signature),
    )
    return record


def records(
    db: sqlite3.Connection,
    kind: RecordType,
    *,
    after: int = 0,
    until: int | None = None,
) -> Iterator[FiscalRecord]:
    """Records of one chain numbered after `after` (up to `until`), in storage order, so a
    reordered or missing row shows in verify."""
    sql = "SELECT body, signature FROM fiscal_records WHERE type = ? AND number > ?"
    params: tuple[Any, ...] = (kind.value, after)
    if until is not None:
        sql += " AND number <= ?"
        params += (until,)
    for body, signature in db.execute(sql + " ORDER BY rowid", params):
        yield parse(body, signature)


def get(db: sqlite3.Connection, kind: RecordType, number: int) -> FiscalRecord | None:
    row = db.execute(
        "SELECT body, signature FROM fiscal_records WHERE type = ? AND number = ?",
        (kind.value, number),
    ).fetchone()
    return parse(*row) if row else None


def last(db: sqlite3.Connection, kind: RecordType) -> FiscalRecord | None:
    row = db.execute(
        "SELECT body, signature FROM fiscal_records WHERE type = ? ORDER BY number DESC LIMIT 1",
        (kind.value,),
    ).fetchone()
    return parse(*row) if row else None


def tail(db: sqlite3.Connection, kind: RecordType) -> Tail | None:
    row = db.execute(
        "SELECT number, hash, signature FROM fiscal_tails WHERE type = ?", (kind.value,)
    ).fetchone()
    return Tail(kind, row[0], row[1], row[2]) if row else None


def count(db: sqlite3.Connection, kind: RecordType) -> int:
    records: int = db.execute(
        "SELECT count(*) FROM fiscal_records WHERE type = ?", (kind.value,)
    ).fetchone()[0]
    return records


def latest_ts(db: sqlite3.Connection, kind: RecordType) -> str | None:
    """The latest time stamped on a record of this chain; None while it is empty."""
    latest: str | None = db.execute(
        "SELECT max(ts) FROM fiscal_records WHERE type = ?", (kind.value,)
    ).fetchone()[0]
    return latest


@dataclass(frozen=True)
class ChainReport:
    type: RecordType
    records: int
    broken: Break | None


#: A chain is checked in stretches of at least this many records, one process each.
STRETCH = 100_000


def verify(
    db: sqlite3.Connection, *, signatures: bool = True, workers: int | None = None
) -> list[ChainReport]:
    """Walk every chain in full (each signature too, unless `signatures` is False); a long
    chain's signatures on `workers` processes (default: one per core this process may use)."""
    folder = fiscal_key.data_dir_of(db)
    public = fiscal_key.public_key(folder)
    key = public if signatures and public else ""
    cores = workers or len(os.sched_getaffinity(0))
    reports = []
    for kind in RecordType:
        records_count = count(db, kind)
        stretches = min(cores, records_count // STRETCH) if key else 1
        if stretches > 1:
            broken = _in_stretches(db, kind, key, stretches)
        else:
            check = fiscal_key.verifier(key) if key else None
            broken = first_break(records(db, kind), kind, verify=check, tail=tail(db, kind))
        if broken is None and signatures and not public and records_count:
            broken = Break(kind, 1, f"the public key {fiscal_key.PUBLIC_NAME} is missing")
        reports.append(ChainReport(kind, records_count, broken))
    return reports


def _in_stretches(
    db: sqlite3.Connection, kind: RecordType, key: str, stretches: int
) -> Break | None:
    """Chain `kind` cut into `stretches` by storage order, each checked in its own process."""
    rows = db.execute(
        "SELECT rowid FROM fiscal_records WHERE type = ? ORDER BY rowid", (kind.value,)
    )
    rowids = [row[0] for row in rows]
    size = -(-len(rowids) // stretches)
    starts = range(0, len(rowids), size)
    bounds = [(rowids[i], rowids[min(i + size, len(rowids)) - 1]) for i in starts]
    end = tail(db, kind)
    jobs = [
        (_database_path(db), kind.value, lo, hi, key, end, n == len(bounds) - 1)
        for n, (lo, hi) in enumerate(bounds)
    ]
    # Imported here: multiprocessing costs every process that records an event (the web admin,
    # the kiosk) 2.8 MB, and only a long verification needs it.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        for broken in pool.map(_check_stretch, *zip(*jobs, strict=True)):
            if broken is not None:
                return broken
    return None


def _check_stretch(
    path: str, kind_value: str, lo: int, hi: int, key: str, end: Tail | None, last: bool
) -> Break | None:
    """One stretch (rowids `lo` to `hi`), after the record stored just before it; the `last`
    stretch also checks the chain's signed end `end`."""
    kind = RecordType(kind_value)
    db = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)  # names with # or ? too
    try:
        before = db.execute(
            "SELECT body, signature FROM fiscal_records WHERE type = ? AND rowid < ? "
            "ORDER BY rowid DESC LIMIT 1",
            (kind_value, lo),
        ).fetchone()
        after = (0, GENESIS_HASH)
        if before is not None:
            previous = parse(*before)
            after = (previous.number, previous.hash)
        rows = db.execute(
            "SELECT body, signature FROM fiscal_records WHERE type = ? "
            "AND rowid BETWEEN ? AND ? ORDER BY rowid",
            (kind_value, lo, hi),
        )
        stretch = (parse(body, signature) for body, signature in rows)
        check = fiscal_key.verifier(key)
        return first_break(stretch, kind, verify=check, after=after, tail=end, part=not last)
    finally:
        db.close()


def _database_path(db: sqlite3.Connection) -> str:
    for _seq, name, path in db.execute("PRAGMA database_list"):
        if name == "main" and path:
            return str(path)
    raise StoreError("verifying in stretches needs a database file")


def state(db: sqlite3.Connection, name: str) -> str | None:
    """What the box last recorded about itself (mode, version, config)."""
    row = db.execute("SELECT value FROM fiscal_state WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def set_state(db: sqlite3.Connection, name: str, value: str) -> None:
    require_transaction(db, "fiscal.set_state")
    db.execute(
        "INSERT INTO fiscal_state (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def _any_record(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM fiscal_records LIMIT 1").fetchone() is not None
