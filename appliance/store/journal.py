"""Appending to and verifying the hash-chained journal.

Call `append` inside the same `transaction()` as the change it records: the chain head is read
under BEGIN IMMEDIATE, so two processes can never fork the chain.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from appliance import clock
from appliance.core.journal import (
    GENESIS_HASH,
    JournalEntry,
    canonical_json,
    entry_hash,
    first_broken,
)
from appliance.store.db import require_transaction


def append(
    db: sqlite3.Connection, kind: str, data: dict[str, Any], ts: str | None = None
) -> JournalEntry:
    """Append one entry chained to the current head. Must run inside a transaction."""
    require_transaction(db, "journal.append")
    ts = ts or clock.now_iso()
    head = db.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    digest = entry_hash(prev_hash, seq, ts, kind, data)
    db.execute(
        "INSERT INTO journal (seq, ts, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, ts, kind, canonical_json(data), prev_hash, digest),
    )
    return JournalEntry(seq, ts, kind, data, prev_hash, digest)


def entries(
    db: sqlite3.Connection, kind: str | None = None, *, after_seq: int = 0
) -> Iterator[JournalEntry]:
    """Entries in storage order (rowid), so a reordered or missing row shows up in verify."""
    sql = "SELECT seq, ts, kind, data, prev_hash, hash FROM journal WHERE seq > ?"
    params: tuple[Any, ...] = (after_seq,)
    if kind:
        sql += " AND kind = ?"
        params += (kind,)
    for seq, ts, k, data, prev_hash, digest in db.execute(sql + " ORDER BY rowid", params):
        yield JournalEntry(seq, ts, k, json.loads(data), prev_hash, digest)


def verify(
    db: sqlite3.Connection, *, since_last_check: bool = False
) -> tuple[int, tuple[int, str] | None]:
    """(number of entries, first broken entry and why, or None).

    A full walk by default. `since_last_check` walks only the entries added since the last
    check that passed (fast enough for a page that loads often); a full walk is still what an
    audit runs. A passing walk records how far it got.
    """
    seal_row = db.execute("SELECT seq, hash FROM journal_seal WHERE id = 1").fetchone()
    seal = (seal_row[0], seal_row[1]) if seal_row else None
    # A page that loads often reads the count from the seal (count(*) reads every page of a
    # big journal); the full walk counts the rows themselves.
    if since_last_check and seal is not None:
        count = seal[0]
    else:
        count = db.execute("SELECT count(*) FROM journal").fetchone()[0]
    after = (0, GENESIS_HASH)
    if since_last_check:
        # Walk from the last checked entry itself, so a change to it shows too.
        row = db.execute(
            "SELECT c.seq, c.hash, j.hash, j.prev_hash FROM journal_checks c "
            "LEFT JOIN journal j ON j.seq = c.seq WHERE c.id = 1"
        ).fetchone()
        if row:
            checked_seq, checked_hash, now_hash, prev_hash = row
            if now_hash != checked_hash:
                return count, (checked_seq, "it changed or vanished since the last check")
            after = (checked_seq - 1, prev_hash)
    broken = first_broken(entries(db, after_seq=after[0]), after=after, seal=seal)
    if broken is None and seal is not None:
        db.execute(
            "INSERT INTO journal_checks (id, seq, hash, checked_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
            "checked_at = excluded.checked_at",
            (*seal, clock.now_iso()),
        )
    return count, broken
