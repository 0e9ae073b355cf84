"""Signed fiscal records: the canonical bytes, the SHA-256 chain per record type, pure checks.

A record is one line of canonical JSON (`record_body`); its SHA-256 is its hash, and the box's
Ed25519 key signs exactly those bytes. Each type (sale tickets, receipt copies, closings,
technical events, training tickets, archives) is its own gap-free chain: record n carries the
hash of record n-1 of the same type. A tail per type (the end of sequence) is re-signed at every
write, so records cut off at the end show. docs/fiscal.md states all of it byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.core.journal import canonical_json

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64


class RecordType(StrEnum):
    """One gap-free chain each; training tickets never mix with the real ones."""

    TICKET = "ticket"
    DUPLICATE = "duplicate"
    CLOSING = "closing"
    EVENT = "event"
    TRAINING = "training"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class FiscalRecord:
    """A stored record: `body` is the exact signed text; the other fields are read from it."""

    type: RecordType
    number: int
    ts: str
    data: dict[str, Any]
    prev: str
    body: str
    hash: str
    signature: str


@dataclass(frozen=True)
class Tail:
    """The end of one chain as last signed: its last record's number and hash."""

    type: RecordType
    number: int
    hash: str
    signature: str

    @property
    def body(self) -> str:
        return tail_body(self.type, self.number, self.hash)


#: Checks an Ed25519 signature (hex) over some bytes; True when it holds.
Verifier = Callable[[bytes, str], bool]


def record_body(kind: RecordType, number: int, ts: str, prev: str, data: dict[str, Any]) -> str:
    """The canonical text of a record: sorted keys, no spaces, UTF-8, integers only."""
    return canonical_json(
        {
            "data": data,
            "number": number,
            "prev": prev,
            "ts": ts,
            "type": kind.value,
            "v": FORMAT_VERSION,
        }
    )


def tail_body(kind: RecordType, number: int, last_hash: str) -> str:
    return canonical_json({"eos": kind.value, "hash": last_hash, "number": number})


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse(body: str, signature: str) -> FiscalRecord:
    """A record read back from its signed text (raises ValueError when it is not one)."""
    try:
        raw = json.loads(body)
        return FiscalRecord(
            RecordType(raw["type"]),
            int(raw["number"]),
            str(raw["ts"]),
            dict(raw["data"]),
            str(raw["prev"]),
            body,
            digest(body),
            signature,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a fiscal record: {exc}") from None


@dataclass(frozen=True)
class Break:
    """Where a chain stops verifying, and why, in words an inspector reads."""

    type: RecordType
    number: int
    reason: str

    def __str__(self) -> str:
        return f"{self.type} record {self.number}: {self.reason}"


def first_break(
    records: Iterable[FiscalRecord],
    kind: RecordType,
    *,
    verify: Verifier | None,
    after: tuple[int, str] = (0, GENESIS_HASH),
    tail: Tail | None = None,
    part: bool = False,
) -> Break | None:
    """The first record of chain `kind` that does not verify, or None.

    `records` in storage order; `after` is the number and hash just before the first one;
    `verify` checks signatures (None: the hash chain alone); `tail` is the signed end of the
    chain, which catches records deleted from the end. With `part`, `records` are a stretch
    in the middle of the chain: its end is not checked.
    """
    expected, prev = after[0] + 1, after[1]
    for record in records:
        if record.type is not kind:
            return Break(kind, record.number, f"it is a {record.type} record in the {kind} chain")
        if record.number != expected:
            return Break(
                kind, expected, f"found record {record.number} here: a record was deleted or moved"
            )
        if record.prev != prev:
            return Break(kind, record.number, "its link to the previous record is broken")
        if verify is not None and not verify(record.body.encode("utf-8"), record.signature):
            return Break(kind, record.number, "its signature does not match its content")
        prev = record.hash
        expected += 1
    last = expected - 1
    if part:
        return None
    if tail is None:
        if last > after[0]:
            return Break(kind, last, "the signed end of the chain is missing")
        return None
    if verify is not None and not verify(tail.body.encode("utf-8"), tail.signature):
        return Break(kind, tail.number, "the signed end of the chain was tampered with")
    if tail.number > last:
        return Break(
            kind,
            last + 1,
            f"the chain ends at {last} but was signed up to {tail.number}: "
            f"records {last + 1} to {tail.number} were deleted",
        )
    if (tail.number, tail.hash) != (last, prev):
        return Break(kind, tail.number, "the signed end does not match the chain's last record")
    return None


def signature_extract(signature: str) -> str:
    """Four characters of the signature printed on a receipt (as certified tills do)."""
    return "".join(signature[i] for i in (2, 6, 12, 18)) if len(signature) > 18 else ""
