"""Appending to and verifying the hash-chained journal.

Call `append` inside the same `transaction()` as the change it records: the chain head is read
under BEGIN IMMEDIATE, so two processes can never fork the chain.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Check:
    """How far a check got: the chain holds up to entry `checked` of `entries`, or `broken`
    says where it does not."""

    entries: int
    checked: int
    broken: tuple[int, str] | None

    @property
    def complete(self) -> bool:
        return self.broken is None and self.checked >= self.entries


def verify(
    db: sqlite3.Connection, *, since_last_check: bool = False
) -> tuple[int, tuple[int, str] | None]:
    """(number of entries, first broken entry and why, or None).

    A full walk by default. `since_last_check` walks only the entries added since the last
    check that passed (fast enough for a page that loads often); a full walk is still what an
    audit runs. A passing walk records how far it got.
    """
    if since_last_check:
        found = check_more(db)
        return found.entries, found.broken
    count = db.execute("SELECT count(*) FROM journal").fetchone()[0]
    return count, _walk(db, (0, GENESIS_HASH), _seal(db), None).broken


def check_more(db: sqlite3.Connection, limit: int | None = None) -> Check:
    """Walk on from the last check (the entry it stopped at, read again so a change to it shows
    too), at most `limit` entries: a page stays quick on a big journal never checked before,
    and each load checks a little more. The count comes from the seal (count(*) reads every
    page of a big journal)."""
    seal = _seal(db)
    count = seal[0] if seal else db.execute("SELECT count(*) FROM journal").fetchone()[0]
    after = (0, GENESIS_HASH)
    row = db.execute(
        "SELECT c.seq, c.hash, j.hash, j.prev_hash FROM journal_checks c "
        "LEFT JOIN journal j ON j.seq = c.seq WHERE c.id = 1"
    ).fetchone()
    if row:
        checked_seq, checked_hash, now_hash, prev_hash = row
        if now_hash != checked_hash:
            return Check(
                count, checked_seq - 1, (checked_seq, "it changed or vanished since the last check")
            )
        after = (checked_seq - 1, prev_hash)
        limit = None if limit is None else limit + 1  # the entry read again is not new
    found = _walk(db, after, seal, limit)
    return Check(count, found.checked, found.broken)


def _seal(db: sqlite3.Connection) -> tuple[int, str] | None:
    row = db.execute("SELECT seq, hash FROM journal_seal WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else None


def _walk(
    db: sqlite3.Connection, after: tuple[int, str], seal: tuple[int, str] | None, limit: int | None
) -> Check:
    """Verify up to `limit` entries after `after`; the seal only when the walk reached the end.
    A walk that holds records the last entry it verified, where the next one starts."""
    walked = _Last(itertools.islice(entries(db, after_seq=after[0]), limit), after)
    broken = first_broken(walked, after=after)
    if broken is not None:
        return Check(0, broken[0] - 1, broken)
    reached_end = limit is None or walked.count < limit
    if reached_end:
        broken = first_broken((), after=walked.last, seal=seal)
    if broken is None and walked.last[0] > 0:
        db.execute(
            "INSERT INTO journal_checks (id, seq, hash, checked_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
            "checked_at = excluded.checked_at",
            (*walked.last, clock.now_iso()),
        )
    return Check(0, walked.last[0], broken)


class _Last:
    """Entries passed through, remembering how many and the last one's number and hash."""

    def __init__(self, walk: Iterator[JournalEntry], start: tuple[int, str]) -> None:
        self._walk = walk
        self.count = 0
        self.last = start

    def __iter__(self) -> Iterator[JournalEntry]:
        for entry in self._walk:
            self.count += 1
            self.last = (entry.seq, entry.hash)
            yield entry
