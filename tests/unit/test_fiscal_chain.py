"""The canonical bytes of a fiscal record and the pure chain check."""

from __future__ import annotations

import hashlib

import pytest

from appliance.core.fiscal import (
    GENESIS_HASH,
    FiscalRecord,
    RecordType,
    Tail,
    digest,
    first_break,
    parse,
    record_body,
    signature_extract,
    tail_body,
)


def chain(n: int) -> list[FiscalRecord]:
    out, prev = [], GENESIS_HASH
    for number in range(1, n + 1):
        body = record_body(RecordType.TICKET, number, "2026-11-03T10:00:00+00:00", prev, {"n": 1})
        out.append(parse(body, "00"))
        prev = out[-1].hash
    return out


def test_the_canonical_body_is_sorted_compact_utf8() -> None:
    body = record_body(RecordType.EVENT, 1, "t", GENESIS_HASH, {"é": "œuf", "a": [1, None]})
    assert body == (
        '{"data":{"a":[1,null],"é":"œuf"},"number":1,"prev":"' + "0" * 64 + '",'
        '"ts":"t","type":"event","v":1}'
    )
    assert digest(body) == hashlib.sha256(body.encode("utf-8")).hexdigest()


def test_money_as_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        record_body(RecordType.TICKET, 1, "t", GENESIS_HASH, {"total": 1.5})


def test_an_intact_chain_with_its_tail_verifies() -> None:
    records = chain(3)
    tail = Tail(RecordType.TICKET, 3, records[-1].hash, "00")
    assert first_break(records, RecordType.TICKET, verify=None, tail=tail) is None


def test_a_swapped_pair_is_named_where_it_starts() -> None:
    records = chain(3)
    swapped = [records[0], records[2], records[1]]
    found = first_break(swapped, RecordType.TICKET, verify=None)
    assert found is not None and found.number == 2


def test_a_chain_without_its_signed_end_is_refused() -> None:
    found = first_break(chain(2), RecordType.TICKET, verify=None)
    assert found is not None and "signed end" in found.reason


def test_every_signature_is_checked_when_asked() -> None:
    records = chain(2)
    tail = Tail(RecordType.TICKET, 2, records[-1].hash, "00")
    found = first_break(
        records, RecordType.TICKET, verify=lambda body, sig: b'"number":2' not in body, tail=tail
    )
    assert found is not None and found.number == 2 and "signature" in found.reason


def test_the_tail_body_names_the_chain_and_its_end() -> None:
    assert tail_body(RecordType.CLOSING, 4, "ab") == '{"eos":"closing","hash":"ab","number":4}'


def test_the_receipt_shows_four_characters_of_the_signature() -> None:
    assert signature_extract("0123456789abcdefghijkl") == "26ci"
