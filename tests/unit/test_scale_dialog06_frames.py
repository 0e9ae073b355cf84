"""Dialog 06 records, byte for byte as in the reference (§3.2), and the checksum arithmetic."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.weighing import ReadingStatus
from appliance.devices.scales.base import Article
from appliance.devices.scales.dialog06 import (
    ENQUIRY,
    STATUS_REQUEST,
    FrameError,
    Result,
    answer_challenge,
    article_record,
    checksum_record,
    gf2_remainder,
    legal_checksums,
    parse_checksum_answer,
    parse_polynomial,
    parse_result,
    parse_status,
    reading_from_result,
    reading_from_status,
    rotate_left16,
    rotate_right16,
)
from appliance.devices.scales.simulator.base import Pan
from appliance.devices.scales.simulator.dialog06 import Dialog06Simulator

RESULT_1234 = b"\x0202\x1b3\x1b01234\x1b000299\x1b000369\x03"


def test_unit_price_alone_is_record_01_with_its_trailing_esc():
    assert article_record(Article(299)) == b"\x04\x0201\x1b000299\x1b\x03"


def test_unit_price_and_preset_tare_is_record_03():
    assert article_record(Article(1250, tare_g=150)) == b"\x04\x0203\x1b001250\x1b0150\x03"


def test_unit_price_and_text_is_record_04_padded_to_13_characters():
    assert article_record(Article(299, text="Pommes Gala")) == (
        b"\x04\x0204\x1b000299\x1bPommes Gala  \x03"
    )


def test_unit_price_tare_and_text_is_record_05():
    assert article_record(Article(450, tare_g=12, text="Épinards frais bio")) == (
        b"\x04\x0205\x1b000450\x1b0012\x1bEpinards frai\x03"
    )


@pytest.mark.parametrize(
    "article", [Article(1_000_000), Article(-1), Article(299, tare_g=10_000), Article(1, -5)]
)
def test_article_that_does_not_fit_the_fields_is_refused_before_sending(article):
    with pytest.raises(ValueError, match="digits"):
        article_record(article)


def test_status_request_and_enquiry_bytes():
    assert STATUS_REQUEST == b"\x04\x0208\x03"
    assert ENQUIRY == b"\x04\x05"


def test_result_record_gives_weight_unit_price_and_price_as_sent():
    assert parse_result(RESULT_1234) == Result(1234, 299, 369)


def test_scale_price_is_taken_unchanged_even_when_it_differs_from_the_kiosks_arithmetic():
    frame = b"\x0202\x1b3\x1b01234\x1b000299\x1b000368\x03"
    reading = reading_from_result(parse_result(frame), tare_g=0)
    assert (reading.status, reading.weight_g, reading.unit_price_cents, reading.price_cents) == (
        ReadingStatus.STABLE,
        1234,
        299,
        368,
    )


def test_result_with_preset_tare_is_a_net_reading():
    reading = reading_from_result(Result(1084, 299, 324), tare_g=150)
    assert reading.net and reading.tare_g == 150 and reading.weight_g == 1084


def test_five_digit_unit_price_is_accepted():
    assert parse_result(b"\x0202\x1b3\x1b00500\x1b12345\x1b006173\x03").unit_price_cents == 12345


@pytest.mark.parametrize(
    "frame",
    [
        b"\x0202\x1b1\x1b01234\x1b000299\x1b000369\x03",  # pounds
        b"\x0202\x1b3\x1b0123\x1b000299\x1b000369\x03",  # weight 4 digits
        b"\x0202\x1b3\x1b01a34\x1b000299\x1b000369\x03",  # not a digit
        b"\x0202\x1b3\x1b01234\x1b000299\x03",  # price missing
        b"\x0202\x1b3\x1b01234\x1b000299\x1b000369",  # no ETX
        b"\x0209\x1b20\x03",  # another record
        b"\x0202\x1b3\x1b01\xb334\x1b000299\x1b000369\x03",  # parity bit set
    ],
)
def test_garbled_result_record_is_refused(frame):
    with pytest.raises(FrameError):
        parse_result(frame)


@pytest.mark.parametrize(
    ("code", "status", "meaning"),
    [
        ("01", ReadingStatus.ERROR, "general error"),
        ("02", ReadingStatus.ERROR, "parity error"),
        ("10", ReadingStatus.ERROR, "invalid record number"),
        ("11", ReadingStatus.ERROR, "invalid unit price"),
        ("12", ReadingStatus.ERROR, "invalid tare"),
        ("13", ReadingStatus.ERROR, "invalid text"),
        ("20", ReadingStatus.MOTION, "in motion"),
        ("21", ReadingStatus.UNCHANGED, "no motion since the last weighing"),
        ("22", ReadingStatus.MOTION, "not yet finished"),
        ("30", ReadingStatus.BELOW_MIN, "below the minimum"),
        ("31", ReadingStatus.UNDER_ZERO, "below zero"),
        ("32", ReadingStatus.OVERLOAD, "overloaded"),
        ("00", ReadingStatus.ERROR, "no error"),
        ("47", ReadingStatus.ERROR, "unknown error code"),
    ],
)
def test_every_status_code_becomes_a_reading_without_weight(code, status, meaning):
    reading = reading_from_status(parse_status(b"\x0209\x1b" + code.encode() + b"\x03"))
    assert reading.status is status
    assert reading.weight_g is None and reading.price_cents is None
    assert meaning in reading.detail and code in reading.detail


def test_checksum_request_answers():
    assert parse_checksum_answer(b"\x0211\x1b2A7\x03").z == 0xA7
    assert parse_checksum_answer(b"\x0211\x1b1\x03").verdict == "1"
    assert parse_checksum_answer(b"\x0211\x1b0\x03").verdict == "0"
    with pytest.raises(FrameError):
        parse_checksum_answer(b"\x0211\x1b2G7\x03")


def test_remainder_is_the_standard_crc16_of_the_polynomial():
    # CRC-16/UMTS (poly 8005) and CRC-16/XMODEM (poly 1021) check values of "123456789".
    message = int.from_bytes(b"123456789", "big")
    assert gf2_remainder(message, 72, 0x8005) == 0xFEE8
    assert gf2_remainder(message, 72, 0x1021) == 0x31C3


def test_rotations_are_16_bit():
    assert rotate_left16(0x1234, 4) == 0x2341
    assert rotate_right16(0xECBB, 1) == 0xF65D
    assert rotate_left16(0x8001, 0) == 0x8001


def test_challenge_rotates_cs_left_by_high_nibble_and_kw_right_by_low_nibble():
    # KW of 1234 under 8005 is ECBB; Z = 41: CS left by 4, KW right by 1.
    assert gf2_remainder(0x1234, 16, 0x8005) == 0xECBB
    assert answer_challenge(0x41, [0x1234], 0x8005) == [(0x2341, 0xF65D)]


def test_checksum_record_carries_pairs_as_upper_case_hex():
    assert checksum_record([(0x2341, 0xF65D), (0x0001, 0xABCD)]) == (
        b"\x04\x0210\x1b2341F65D0001ABCD\x03"
    )


def test_checksums_come_from_the_legal_sha256():
    sha = "0123456789abcdef0123" + "f" * 44
    assert legal_checksums(sha) == [0x0123, 0x4567, 0x89AB, 0xCDEF, 0x0123]


@pytest.mark.parametrize("text", ["", "800", "80051", "80G5"])
def test_polynomial_must_be_four_hex_digits(text):
    with pytest.raises(ValueError, match="4 hexadecimal digits"):
        parse_polynomial(text)


@given(st.integers(0, 0xFFFF), st.integers(0, 2**32), st.sampled_from(["8005", "1021", "A001"]))
def test_simulated_scale_accepts_the_challenge_answer_for_any_checksum_and_z(cs, seed, poly):
    """The simulator's own CRC (a shift register) agrees with the driver's long division."""
    scale = Dialog06Simulator(Pan(), polynomial=poly, seed=seed)
    z = parse_checksum_answer(scale.feed(article_record(Article(100)))).z  # power-on challenge
    assert z is not None
    assert scale.feed(checksum_record(answer_challenge(z, [cs], int(poly, 16)))) == b"\x06"
    assert scale.feed(ENQUIRY) == b"\x0211\x1b1\x03"


RECORD_02 = re.compile(rb"\x0202\x1b3\x1b(\d{5})\x1b(\d{5,6})\x1b(\d{6})\x03")


def _parses_only_a_well_formed_record_02(frame: bytes) -> None:
    match = RECORD_02.fullmatch(frame)
    if match is None:
        with pytest.raises(FrameError):
            parse_result(frame)
    else:
        assert parse_result(frame) == Result(*map(int, match.groups()))


@given(st.binary(max_size=40))
def test_random_bytes_never_parse_to_a_weight(data):
    _parses_only_a_well_formed_record_02(data)


@given(st.binary(max_size=30))
def test_random_bytes_inside_a_frame_never_parse_to_a_weight(middle):
    _parses_only_a_well_formed_record_02(b"\x0202\x1b" + middle + b"\x03")


@given(st.integers(0, len(RESULT_1234) - 1))
def test_a_parity_error_anywhere_in_a_result_is_refused(position):
    """A 7O1 line: a character with its eighth bit set is a parity error, never a weight."""
    frame = bytearray(RESULT_1234)
    frame[position] |= 0x80
    with pytest.raises(FrameError):
        parse_result(bytes(frame))


@pytest.mark.parametrize(
    ("record", "code"),
    [
        (b"\x04\x0201\x1b00299\x1b\x03", b"11"),  # unit price 5 digits
        (b"\x04\x0203\x1b000299\x1b150\x03", b"12"),  # tare 3 digits
        (b"\x04\x0204\x1b000299\x1bPommes\x03", b"13"),  # text not 13 characters
        (b"\x04\x0207\x1b000299\x03", b"10"),  # no such record
        (b"\x04\x0210\x1b2341F65D\x03", b"10"),  # checksums nobody asked for
    ],
)
def test_simulated_scale_refuses_bad_fields_and_says_why_in_record_09(record, code):
    scale = Dialog06Simulator(Pan())
    assert scale.feed(record) == b"\x15"
    assert scale.feed(STATUS_REQUEST) == b"\x0209\x1b" + code + b"\x03"
    assert scale.feed(STATUS_REQUEST) == b"\x0209\x1b00\x03"


def test_simulated_scale_takes_a_request_that_arrives_in_pieces():
    scale = Dialog06Simulator(Pan())
    record = article_record(Article(299))
    assert scale.feed(record[:3]) == b""
    assert scale.feed(record[3:]).startswith(b"\x0211\x1b2")  # power-on challenge
