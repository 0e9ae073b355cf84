"""Appending signed fiscal records and verifying their chains (see core/fiscal.py).

`append` must run inside the `transaction()` of the change it records: the head of the chain
is read under BEGIN IMMEDIATE, so two processes never fork a chain, and the record commits with
its sale, closing or event or not at all. The tail of the chain is re-signed in the same
transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
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


def verify(db: sqlite3.Connection, *, signatures: bool = True) -> list[ChainReport]:
    """Walk every chain in full (each signature too, unless `signatures` is False)."""
    public = fiscal_key.public_key(fiscal_key.data_dir_of(db))
    check = fiscal_key.verifier(public) if signatures and public else None
    reports = []
    for kind in RecordType:
        broken = first_break(records(db, kind), kind, verify=check, tail=tail(db, kind))
        if broken is None and signatures and not public and count(db, kind):
            broken = Break(kind, 1, f"the public key {fiscal_key.PUBLIC_NAME} is missing")
        reports.append(ChainReport(kind, count(db, kind), broken))
    return reports


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
