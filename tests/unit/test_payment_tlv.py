"""Caisse-AP records and how each terminal answer becomes an outcome, from literal bytes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.devices.payment import tlv
from appliance.devices.payment.base import PaymentOutcome
from appliance.devices.payment.caisse_ap import build_request, interpret, request_id

# The reference's example request: 15.90 EUR card debit, answer at end of transaction.
EXAMPLE = b"CZ0040300CJ012123456789012CA00201CB0041590CD0010CE003978BA0010"


def test_request_for_15_90_euros_has_the_reference_layout() -> None:
    request = build_request(1590, "attempt-1", register_number=1)
    fields = tlv.decode(request)
    assert request.startswith(b"CZ0040300CJ012")
    assert fields == {
        "CZ": "0300",
        "CJ": request_id("attempt-1"),
        "CA": "01",
        "CB": "1590",
        "CD": "0",
        "CE": "978",
        "BA": "0",
    }
    assert request.endswith(b"CA00201CB0041590CD0010CE003978BA0010")


def test_small_amounts_keep_two_digits() -> None:
    assert tlv.decode(build_request(5, "x", 1))["CB"] == "05"


def test_the_reference_example_decodes() -> None:
    assert tlv.decode(EXAMPLE)["CB"] == "1590"


def test_request_id_is_twelve_digits_and_stable() -> None:
    assert request_id("a") == request_id("a") != request_id("b")
    assert len(request_id("a")) == 12 and request_id("a").isdigit()


def test_an_answer_split_mid_field_is_not_complete_until_its_last_byte() -> None:
    answer = b"CZ0040300CA00201CB00800001590CD0010CE003978AE00210AC006123456"
    for cut in range(1, len(answer)):
        assert not tlv.answer_complete(answer[:cut]) or cut >= answer.index(b"AC")
    assert tlv.answer_complete(answer)


def test_a_refusal_is_complete_only_with_its_reason() -> None:
    assert not tlv.answer_complete(b"CZ0040300AE00201")
    assert tlv.answer_complete(b"CZ0040300AE00201AF00204")


@pytest.mark.parametrize(
    "garbage",
    [b"?!\xff\xfe", b"CZ00A0300", b"AE00210CZ0040300", b"CZ0000", b"CZ004\xe90300"],
)
def test_garbage_is_refused_at_once(garbage: bytes) -> None:
    with pytest.raises(tlv.TlvError):
        tlv.answer_complete(garbage)


def test_encode_refuses_a_message_not_starting_with_the_version() -> None:
    with pytest.raises(tlv.TlvError):
        tlv.encode([("CB", "100"), ("CZ", "0300")])


@given(st.binary(max_size=80))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    with contextlib.suppress(tlv.TlvError):
        tlv.answer_complete(data)


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1),
        ),
        max_size=8,
    ),
    st.integers(min_value=0, max_value=200),
)
def test_any_message_split_anywhere_reads_back_whole(
    fields: list[tuple[str, str]], cut: int
) -> None:
    data = tlv.encode([("CZ", "0300"), *fields])
    head, _ = tlv.split(data[:cut])
    rest, end = tlv.split(data)
    assert end == b"" and rest == [("CZ", "0300"), *fields]
    assert head == rest[: len(head)]


REQUEST = tlv.decode(build_request(1590, "r", 1))


def answer(**extra: str) -> dict[str, str]:
    return {"CZ": "0300", "CA": "01", "CB": "00001590", "CD": "0", "CE": "978", **extra}


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"AE": "10", "AC": "123456"}, PaymentOutcome.APPROVED),
        ({"AE": "01", "AF": "04"}, PaymentOutcome.DECLINED),
        ({"AE": "01", "AF": "05"}, PaymentOutcome.DECLINED),
        ({"AE": "01", "AF": "06"}, PaymentOutcome.ABANDONED),
        ({"AE": "01", "AF": "11"}, PaymentOutcome.ABANDONED),
        ({"AE": "01", "AF": "08"}, PaymentOutcome.TIMEOUT),
        ({"AE": "01", "AF": "07"}, PaymentOutcome.UNKNOWN),
        ({"AE": "01", "AF": "09"}, PaymentOutcome.ERROR),
        ({"AE": "01", "AF": "13"}, PaymentOutcome.ERROR),
        ({"AE": "01", "AF": "02"}, PaymentOutcome.DECLINED),
        ({"AE": "11"}, PaymentOutcome.UNKNOWN),
        ({"AE": "10", "CB": "1690"}, PaymentOutcome.UNKNOWN),
        ({"AE": "10", "CE": "953"}, PaymentOutcome.UNKNOWN),
        ({"AE": "10", "CA": "02"}, PaymentOutcome.UNKNOWN),
        ({"AE": "01", "AF": "04", "CB": "99"}, PaymentOutcome.UNKNOWN),
    ],
)
def test_terminal_codes_map_to_outcomes(fields: dict[str, str], outcome: PaymentOutcome) -> None:
    result = interpret(REQUEST, answer(**fields), 1590)
    assert result.outcome is outcome
    assert result.result_code == fields["AE"]
