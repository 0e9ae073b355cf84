"""The hash chain of the journal: canonical JSON and SHA-256, pure functions.

Each entry's hash covers the previous entry's hash and the canonical JSON of the entry itself
(its sequence number, time, kind and data), so a changed, deleted or reordered row breaks the chain
at that row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    ts: str
    kind: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept; floats are refused (money and weight are integers)."""
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, ts: str, kind: str, data: dict[str, Any]) -> str:
    body = canonical_json({"seq": seq, "ts": ts, "kind": kind, "data": data})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def first_broken(entries: list[JournalEntry] | Any) -> tuple[int, str] | None:
    """The first entry that does not verify and why, or None when the whole chain holds."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return entry.seq, f"expected entry {expected_seq} here: an entry was deleted or moved"
        if entry.prev_hash != prev_hash:
            return entry.seq, "its link to the previous entry is broken"
        if entry_hash(prev_hash, entry.seq, entry.ts, entry.kind, entry.data) != entry.hash:
            return entry.seq, "its content was changed after it was written"
        prev_hash = entry.hash
        expected_seq += 1
    return None


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("journal data must not contain floats: use integer cents and grams")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
