"""Appending to and verifying the hash-chained journal.

Call `append` inside the same `transaction()` as the change it records: the chain head is read
under BEGIN IMMEDIATE, so two processes can never fork the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from appliance.core.journal import (
    GENESIS_HASH,
    JournalEntry,
    canonical_json,
    entry_hash,
    first_broken,
)
from appliance.store.db import utc_now


def append(
    db: sqlite_utils.Database, kind: str, data: dict[str, Any], ts: str | None = None
) -> JournalEntry:
    """Append one entry chained to the current head. Must run inside a transaction."""
    if not db.conn.in_transaction:
        raise RuntimeError("journal.append must run inside store.db.transaction()")
    ts = ts or utc_now()
    head = db.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    digest = entry_hash(prev_hash, seq, ts, kind, data)
    db.execute(
        "INSERT INTO journal (seq, ts, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, ts, kind, canonical_json(data), prev_hash, digest),
    )
    return JournalEntry(seq, ts, kind, data, prev_hash, digest)


def entries(db: sqlite_utils.Database, kind: str | None = None) -> Iterator[JournalEntry]:
    """Every entry in storage order (rowid), so a reordered or missing row shows up in verify."""
    sql = "SELECT seq, ts, kind, data, prev_hash, hash FROM journal"
    params: tuple[Any, ...] = ()
    if kind:
        sql += " WHERE kind = ?"
        params = (kind,)
    for seq, ts, k, data, prev_hash, digest in db.execute(sql + " ORDER BY rowid", params):
        yield JournalEntry(seq, ts, k, json.loads(data), prev_hash, digest)


def verify(db: sqlite_utils.Database) -> tuple[int, tuple[int, str] | None]:
    """(number of entries, first broken entry and why, or None)."""
    count = db.execute("SELECT count(*) FROM journal").fetchone()[0]
    return count, first_broken(entries(db))
