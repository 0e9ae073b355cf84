"""Kerong CU16 frames, byte by byte as in the reference (§3.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.devices.locks.base import Door
from appliance.devices.locks.kerong import (
    FrameError,
    checksum,
    parse_status,
    status_command,
    status_reply,
    unlock_command,
)


def test_unlocking_the_first_lock_of_board_0_is_the_reference_bytes() -> None:
    assert unlock_command(0, 0) == bytes([0x02, 0x00, 0x31, 0x03, 0x36])


def test_asking_board_0_for_all_locks_is_the_reference_bytes() -> None:
    assert status_command(0) == bytes([0x02, 0x00, 0x32, 0x03, 0x37])


def test_board_number_is_the_high_nibble_and_lock_the_low_nibble() -> None:
    frame = unlock_command(3, 11)
    assert frame[1] == 0x3B
    assert frame[4] == (0x02 + 0x3B + 0x31 + 0x03) & 0xFF


def test_checksum_keeps_only_the_low_eight_bits() -> None:
    assert checksum(bytes([0xF0, 0x20, 0x03])) == 0x13


def test_lock_outside_the_board_is_refused() -> None:
    with pytest.raises(ValueError):
        unlock_command(0, 16)


def test_status_reply_bitmaps_are_read_least_significant_bit_first() -> None:
    # Locks 1 and 10 closed (bits 0 and 9), item in lock 16 (bit 15).
    frame = bytes([0x02, 0x10, 0x35, 0x01, 0x02, 0x00, 0x80, 0x03])
    frame += bytes([sum(frame) & 0xFF])
    status = parse_status(frame)
    assert status.board == 1
    assert status.door(0, lock_bit_closed=True) is Door.CLOSED
    assert status.door(9, lock_bit_closed=True) is Door.CLOSED
    assert status.door(1, lock_bit_closed=True) is Door.OPEN
    assert status.item(15) and not status.item(0)


def test_lock_bit_polarity_follows_config() -> None:
    status = parse_status(status_reply(0, lock_bits=0x0001, item_bits=0))
    assert status.door(0, lock_bit_closed=True) is Door.CLOSED
    assert status.door(0, lock_bit_closed=False) is Door.OPEN


def test_status_reply_with_a_wrong_checksum_is_refused() -> None:
    frame = bytearray(status_reply(0, 0xFFFF, 0))
    frame[8] ^= 0x01
    with pytest.raises(FrameError, match="checksum"):
        parse_status(bytes(frame))


def test_short_status_reply_is_refused() -> None:
    with pytest.raises(FrameError, match="9 bytes"):
        parse_status(status_reply(0, 0, 0)[:7])


@given(st.binary(min_size=0, max_size=20))
def test_random_bytes_never_parse_unless_they_are_a_valid_reply(data: bytes) -> None:
    try:
        status = parse_status(data)
    except FrameError:
        return
    assert data == status_reply(status.board, status.lock_bits, status.item_bits, data[1] & 0x0F)


@given(st.integers(0, 15), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_status_reply_round_trips(board: int, locks: int, items: int) -> None:
    status = parse_status(status_reply(board, locks, items))
    assert (status.board, status.lock_bits, status.item_bits) == (board, locks, items)
