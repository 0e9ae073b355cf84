"""Mettler-Toledo 8217 frames, from the literal bytes of the reference (§3.1)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.weighing import ReadingStatus
from appliance.devices.scales.toledo8217 import (
    decode_status,
    parse_status_answer,
    parse_weight_answer,
    preset_tare_command,
)


def test_weight_answer_in_kg_becomes_exact_grams():
    reading = parse_weight_answer(b"\x0201.234\r")
    assert (reading.status, reading.weight_g, reading.net) == (ReadingStatus.STABLE, 1234, False)


def test_largest_and_smallest_weights_keep_every_gram():
    assert parse_weight_answer(b"\x0299.999\r").weight_g == 99999
    assert parse_weight_answer(b"\x0200.002\r").weight_g == 2
    assert parse_weight_answer(b"\x0200.000\r").weight_g == 0


def test_n_suffix_marks_a_net_weight_with_the_tare_the_driver_set():
    reading = parse_weight_answer(b"\x0200.750N\r", tare_g=250)
    assert (reading.weight_g, reading.net, reading.tare_g) == (750, True, 250)


def test_gross_weight_carries_no_tare():
    assert parse_weight_answer(b"\x0200.750\r", tare_g=250).tare_g == 0


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (b"\x02?A\r", ReadingStatus.MOTION),
        (b"\x02?Q\r", ReadingStatus.MOTION),  # motion + center of zero
        (b"\x02?B\r", ReadingStatus.OVERLOAD),
        (b"\x02?D\r", ReadingStatus.UNDER_ZERO),
        (b"\x02?H\r", ReadingStatus.ERROR),  # outside the zero capture range
        (b"\x02?L\r", ReadingStatus.ERROR),  # zero error wins over under zero
        (b"\x02?C\r", ReadingStatus.OVERLOAD),  # over capacity wins over motion
        (b"\x02?@\r", ReadingStatus.UNCHANGED),  # status only: no new weight
    ],
)
def test_status_answers_never_carry_a_weight(answer, status):
    reading = parse_weight_answer(answer)
    assert reading.status is status
    assert reading.weight_g is None


def test_status_byte_is_decoded_bit_by_bit():
    status = decode_status(ord("a"))  # 0x61: always-one, net, motion
    assert status is not None
    assert (status.motion, status.net, status.over_capacity, status.under_zero) == (
        True,
        True,
        False,
        False,
    )
    center = decode_status(0x50)
    assert center is not None and center.center_of_zero and not center.motion


def test_status_char_without_bit_six_or_with_a_parity_bit_is_refused():
    assert decode_status(0x01) is None
    assert decode_status(0xC0) is None
    assert parse_status_answer(b"\x02?\xc0\r") is None


def test_net_flag_of_a_status_answer_is_reported():
    assert parse_weight_answer(b"\x02?a\r").net is True


@pytest.mark.parametrize(
    "answer",
    [
        b"\x021.234\r",  # one kg digit
        b"\x0201,234\r",  # comma
        b"\x0201.234",  # no CR
        b"01.234\r",  # no STX
        b"\x0201.234X\r",  # unknown suffix
        b"\x0202.46\r",  # pounds WW.WW: not a kg answer
        b"\x02\xb01.234\r",  # parity bit set on a digit
        b"\x02?\r",
    ],
)
def test_malformed_answers_are_errors_without_weight(answer):
    reading = parse_weight_answer(answer)
    assert reading.status is ReadingStatus.ERROR
    assert reading.weight_g is None


def test_no_answer_is_a_timeout():
    assert parse_weight_answer(b"").status is ReadingStatus.TIMEOUT


def test_preset_tare_is_five_digits_of_grams_and_cr():
    assert preset_tare_command(250) == b"T00250\r"
    assert preset_tare_command(99999) == b"T99999\r"
    with pytest.raises(ValueError):
        preset_tare_command(100000)
    with pytest.raises(ValueError):
        preset_tare_command(-2)


WELL_FORMED = re.compile(rb"\x02[0-9]{2}\.[0-9]{3}N?\r")


@st.composite
def near_frames(draw: st.DrawFn) -> bytes:
    """A valid weight frame with one byte replaced, inserted or removed."""
    frame = bytearray(b"\x02%02d.%03d\r" % divmod(draw(st.integers(0, 99999)), 1000))
    at = draw(st.integers(0, len(frame) - 1))
    edit = draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "delete":
        del frame[at]
    elif edit == "insert":
        frame.insert(at, draw(st.integers(0, 255)))
    else:
        frame[at] = draw(st.integers(0, 255))
    return bytes(frame)


@given(st.one_of(st.binary(max_size=12), near_frames()))
def test_random_bytes_never_parse_to_a_weight_unless_well_formed(answer):
    reading = parse_weight_answer(answer)
    if WELL_FORMED.fullmatch(answer):
        assert reading.status is ReadingStatus.STABLE
    else:
        assert reading.weight_g is None
        assert reading.status is not ReadingStatus.STABLE


@given(st.integers(0, 99999), st.booleans())
def test_every_weight_frame_reads_back_exactly(grams, net):
    answer = b"\x02%02d.%03d%s\r" % (grams // 1000, grams % 1000, b"N" if net else b"")
    reading = parse_weight_answer(answer)
    assert (reading.weight_g, reading.net) == (grams, net)
