"""CAS ECR weight frames, byte for byte as in the reference (§3.3), and their BCC."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.weighing import ReadingStatus
from appliance.devices.scales.cas import (
    FrameError,
    WeightFrame,
    bcc,
    parse_frame,
    reading_from_frame,
    weight_to_grams,
)

# SOH STX STA SIGN WW.WWW kg BCC ETX EOT; BCC = XOR of STA..unit.
STABLE_1234 = b"\x01\x02S 01.234kg\x65\x03\x04"
MOVING_500 = b"\x01\x02U 00.500kg\x62\x03\x04"
UNDER_ZERO = b"\x01\x02S-00.120kg\x6f\x03\x04"
OVERLOAD = b"\x01\x02SFFF.FFFkg\x71\x03\x04"


def read(frame: bytes):
    return reading_from_frame(parse_frame(frame))


def test_bcc_is_the_xor_of_status_sign_weight_and_unit():
    assert bcc(b"S 01.234kg") == 0x65


def test_stable_frame_gives_the_weight_in_whole_grams():
    assert parse_frame(STABLE_1234) == WeightFrame(True, " ", 1234)
    reading = read(STABLE_1234)
    assert (reading.status, reading.weight_g) == (ReadingStatus.STABLE, 1234)


def test_unstable_frame_is_motion_without_weight():
    reading = read(MOVING_500)
    assert (reading.status, reading.weight_g) == (ReadingStatus.MOTION, None)


def test_minus_sign_is_under_zero_without_weight():
    reading = read(UNDER_ZERO)
    assert (reading.status, reading.weight_g) == (ReadingStatus.UNDER_ZERO, None)


def test_f_sign_is_overload_without_weight():
    reading = read(OVERLOAD)
    assert (reading.status, reading.weight_g) == (ReadingStatus.OVERLOAD, None)


@pytest.mark.parametrize(
    ("text", "grams"),
    [("01.234", 1234), ("99.999", 99999), ("00.000", 0), ("012.34", 12340), (" 1.234", 1234)],
)
def test_weight_digits_become_grams_without_floats(text, grams):
    assert weight_to_grams(text) == grams


@pytest.mark.parametrize("text", ["1.2345", "012 34", "01,234", "0x.234", "01.2.4"])
def test_weight_that_is_not_whole_grams_or_not_digits_is_refused(text):
    with pytest.raises(FrameError):
        weight_to_grams(text)


@pytest.mark.parametrize(
    "frame",
    [
        STABLE_1234[:-3] + b"\x64" + STABLE_1234[-2:],  # BCC off by one bit
        STABLE_1234.replace(b"01.234", b"01.236"),  # weight changed, BCC not
        STABLE_1234[:-1],  # cut short
        b"\x02" + STABLE_1234[1:],  # no SOH
        b"\x01\x02X 01.234kg" + bytes([bcc(b"X 01.234kg")]) + b"\x03\x04",  # status X
        b"\x01\x02S 01.234lb" + bytes([bcc(b"S 01.234lb")]) + b"\x03\x04",  # pounds
        b"\x01\x02S+01.234kg" + bytes([bcc(b"S+01.234kg")]) + b"\x03\x04",  # sign +
    ],
)
def test_faulty_frame_is_refused(frame):
    with pytest.raises(FrameError):
        parse_frame(frame)


@given(st.binary(max_size=20))
def test_random_bytes_never_parse_to_a_weight(data):
    with pytest.raises(FrameError):
        parse_frame(data)


@given(st.binary(min_size=10, max_size=10))
def test_random_body_parses_only_with_its_bcc_and_valid_fields(body):
    frame = b"\x01\x02" + body + bytes([bcc(body)]) + b"\x03\x04"
    try:
        parsed = parse_frame(frame)
    except FrameError:
        return
    assert body[:1] in (b"S", b"U") and body[-2:] == b"kg"
    if parsed.weight_g is not None:
        assert parsed.weight_g == weight_to_grams(body[2:8].decode())


@given(st.integers(0, len(STABLE_1234) - 1), st.integers(0, 7))
def test_any_single_bit_error_in_a_frame_is_caught(position, bit):
    frame = bytearray(STABLE_1234)
    frame[position] ^= 1 << bit
    with pytest.raises(FrameError):
        parse_frame(bytes(frame))
