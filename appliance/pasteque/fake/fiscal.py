"""The fake server's fiscal records: per (type, sequence) chains with an EOS record (§3).

Every ticket and every closing the server accepts, and every write it refuses, becomes a frozen
record whose signature hashes the previous record's signature with its own sequence, number,
date and content (sha3-512, written `sha3-512:<hex>`). Record number 0 of each chain is the EOS
record: content `EOS`, re-signed after each insert so that it chains to the last record, which
shows a chain that lost its tail. The exact bytes hashed by the real server are not in the
reference; the fake's are `signature(prev) + "\n" + sequence + "\n" + number + "\n" + date +
"\n" + content`, enough to show the behaviour a client can observe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ALGORITHM = "sha3-512"
EOS = "EOS"


@dataclass(frozen=True)
class FiscalTicket:
    type: str  # "tkt" or "z"
    sequence: str  # register id on 10 digits, "failure-<id>" or "failure-general"
    number: int
    date: int  # Unix seconds
    content: str
    signature: str

    def to_struct(self) -> dict[str, object]:
        return {
            "type": self.type,
            "sequence": self.sequence,
            "number": self.number,
            "date": self.date,
            "content": self.content,
            "signature": self.signature,
        }


def sign(previous: str, sequence: str, number: int, date: int, content: str) -> str:
    text = "\n".join((previous, sequence, str(number), str(date), content))
    return f"{ALGORITHM}:{hashlib.sha3_512(text.encode()).hexdigest()}"


class FiscalLog:
    """Every chain of one instance. Not locked: the fake's state lock covers it."""

    def __init__(self) -> None:
        self.chains: dict[tuple[str, str], list[FiscalTicket]] = {}

    def append(self, type_: str, sequence: str, date: int, content: str) -> FiscalTicket:
        """The next record of the chain (number = previous + 1, in order of arrival), then EOS."""
        chain = self.chains.setdefault((type_, sequence), [])
        previous = chain[-1].signature if chain else ""
        record = FiscalTicket(
            type_,
            sequence,
            len(chain) + 1,
            date,
            content,
            sign(previous, sequence, len(chain) + 1, date, content),
        )
        chain.append(record)
        return record

    def eos(self, type_: str, sequence: str) -> FiscalTicket | None:
        """Record 0: signed over the last record, so a cut-off chain no longer matches it."""
        chain = self.chains.get((type_, sequence))
        if not chain:
            return None
        last = chain[-1]
        return FiscalTicket(
            type_, sequence, 0, last.date, EOS, sign(last.signature, sequence, 0, last.date, EOS)
        )

    def records(self, type_: str, sequence: str) -> list[FiscalTicket]:
        return list(self.chains.get((type_, sequence), []))

    def all_records(self) -> list[FiscalTicket]:
        """Every record with each chain's EOS first, as an export lists them."""
        out: list[FiscalTicket] = []
        for (type_, sequence), chain in sorted(self.chains.items()):
            eos = self.eos(type_, sequence)
            if eos is not None:
                out.append(eos)
            out.extend(chain)
        return out


def verify(records: list[FiscalTicket], eos: FiscalTicket | None) -> str:
    """ "" when the chain and its EOS hold; else what is wrong, naming the first bad record."""
    previous = ""
    for expected, record in enumerate(records, start=1):
        if record.number != expected:
            return f"record {expected} is missing (found {record.number})"
        if record.signature != sign(
            previous, record.sequence, record.number, record.date, record.content
        ):
            return f"record {record.number} does not match its signature"
        previous = record.signature
    if records and (
        eos is None or eos.signature != sign(previous, eos.sequence, 0, records[-1].date, EOS)
    ):
        return "the EOS record does not chain to the last record: the chain was cut"
    return ""
