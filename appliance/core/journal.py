"""The hash chain of the journal: canonical JSON and SHA-256, pure functions.

Each entry's hash covers the previous entry's hash and the canonical JSON of the entry itself
(its sequence number, time, kind and data), so a changed, deleted or reordered row breaks the chain
at that row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
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
    return _dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, ts: str, kind: str, data: dict[str, Any]) -> str:
    """Floats are not looked for here (a third of a verify walk's time): the store refuses them
    as it writes the entry, and in a row read back a float only makes the hash differ."""
    body = _dumps({"seq": seq, "ts": ts, "kind": kind, "data": data})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def first_broken(
    entries: Iterable[JournalEntry],
    *,
    after: tuple[int, str] = (0, GENESIS_HASH),
    seal: tuple[int, str] | None = None,
) -> tuple[int, str] | None:
    """The first entry that does not verify and why, or None when the chain holds.

    `after` starts the walk after an entry already verified (its number and hash). `seal` is the
    last entry's number and hash as recorded at each append: the chain alone cannot show that
    entries were deleted from its end.
    """
    expected_seq, prev_hash = after[0] + 1, after[1]
    for entry in entries:
        if entry.seq != expected_seq:
            return entry.seq, f"expected entry {expected_seq} here: an entry was deleted or moved"
        if entry.prev_hash != prev_hash:
            return entry.seq, "its link to the previous entry is broken"
        if entry_hash(prev_hash, entry.seq, entry.ts, entry.kind, entry.data) != entry.hash:
            return entry.seq, "its content was changed after it was written"
        prev_hash = entry.hash
        expected_seq += 1
    last = (expected_seq - 1, prev_hash)
    if seal is not None and last != seal:
        if last[0] < seal[0]:
            return last[0] + 1, (
                f"the journal ends at entry {last[0]} but was sealed at entry {seal[0]}: "
                f"entries {last[0] + 1} to {seal[0]} were deleted"
            )
        return seal[0], f"the seal (entry {seal[0]}) does not match the journal's last entry"
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
