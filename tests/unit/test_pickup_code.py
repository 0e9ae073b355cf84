"""Pickup codes: random, hashed, signed QR tokens, and the growing lockout."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core import pickup_code as pc

KEY = b"k" * 32
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def test_codes_are_six_random_digits_from_the_given_source() -> None:
    codes = {pc.new_code(random.Random(seed)) for seed in range(50)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 45
    assert pc.new_code(random.Random(1)) == pc.new_code(random.Random(1))


def test_a_code_shorter_than_six_digits_cannot_be_made() -> None:
    with pytest.raises(ValueError):
        pc.new_code(random.Random(), 5)


def test_a_stored_code_is_a_salted_hash_that_only_the_right_code_matches() -> None:
    stored = pc.hash_code("042137", b"salt-one-16bytes")
    assert "042137" not in stored
    assert pc.code_matches("042137", stored)
    assert not pc.code_matches("042138", stored)
    assert stored != pc.hash_code("042137", b"salt-two-16bytes")


def test_a_damaged_stored_hash_never_matches() -> None:
    assert not pc.code_matches("042137", "scrypt$oops")


def test_lookup_needs_the_device_key() -> None:
    assert pc.lookup_key(KEY, "123456") != pc.lookup_key(b"x" * 32, "123456")
    assert pc.lookup_key(KEY, "123456") == pc.lookup_key(KEY, "123456")


def test_a_signed_token_reads_back_and_a_forged_one_does_not() -> None:
    token = pc.sign_token(KEY, "R123456789", 42, NOW + timedelta(days=7))
    read = pc.read_token(KEY, token)
    assert read == pc.Token("R123456789", 42, NOW + timedelta(days=7))
    assert pc.read_token(b"other-key-000000", token) is None
    assert pc.read_token(KEY, token.replace(".42.", ".43.")) is None
    assert pc.read_token(KEY, "CPT1.nonsense") is None


@given(st.text(max_size=80))
def test_random_scanner_input_is_never_a_valid_token(text: str) -> None:
    assert pc.read_token(KEY, text) is None


def test_the_keypad_locks_after_five_wrong_codes_for_a_growing_delay() -> None:
    assert [pc.lockout_s(n) for n in range(5)] == [0, 0, 0, 0, 0]
    assert pc.lockout_s(5) == 30
    assert pc.lockout_s(6) == 60
    assert pc.lockout_s(7) == 120
    assert pc.lockout_s(40) == pc.LOCKOUT_MAX_S


def test_a_code_expires_after_the_configured_days() -> None:
    assert pc.expiry(NOW, 7) == NOW + timedelta(days=7)
