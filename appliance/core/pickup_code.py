"""Pickup codes: random digits the customer types, or a signed QR token the scanner reads.

A code is never stored in clear. Two things are kept: a *lookup key*, an HMAC of the code with
the device key (a file, never in the database), so the kiosk finds the order in one indexed
read; and a salted scrypt hash that must also match. Someone who copies the database alone can
neither read the codes nor test guesses without the key file.

A QR token names the order and the code's row, with its expiry, signed with the same key: the
kiosk checks the signature before looking anything up, so a forged or edited token is refused.
Randomness and time are passed in; nothing here touches a clock or a file.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

#: scrypt cost: about 15 ms on a small CPU, so a wrong guess costs time but a pickup does not.
SCRYPT_N = 2**11
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16

#: Wrong codes in a row before the keypad locks, then the first delay, doubling up to the cap.
LOCKOUT_AFTER = 5
LOCKOUT_FIRST_S = 30
LOCKOUT_MAX_S = 3600

TOKEN_PREFIX = "CPT1"
_TOKEN = re.compile(r"CPT1\.([A-Za-z0-9_-]{1,40})\.([0-9]{1,12})\.([0-9]{9,11})\.([0-9a-f]{32})")


class Verdict(StrEnum):
    """What checking a typed or scanned code found; only OK opens a door."""

    OK = "ok"
    UNKNOWN = "unknown"  # no such code (or a forged token)
    EXPIRED = "expired"
    ALREADY_COLLECTED = "already_collected"
    CANCELLED = "cancelled"  # the order was cancelled on the marketplace
    LOCKED = "locked"  # too many wrong codes: the keypad waits


@dataclass(frozen=True)
class Token:
    """What a valid QR token says; the signature has been checked."""

    order_number: str
    code_id: int
    expires_at: datetime


def new_code(rng: random.Random, digits: int = 6) -> str:
    """`digits` random decimal digits (leading zeros kept); pass `random.SystemRandom()`."""
    if digits < 6:
        raise ValueError("a pickup code has at least 6 digits")
    return "".join(str(rng.randrange(10)) for _ in range(digits))


def lookup_key(device_key: bytes, code: str) -> str:
    """The indexed, keyed fingerprint of a code (useless without the device key)."""
    return hmac.new(device_key, b"code:" + code.encode(), hashlib.sha256).hexdigest()[:32]


def hash_code(code: str, salt: bytes) -> str:
    """Salted scrypt hash, with its parameters, as stored: scrypt$n$r$p$salt$hash."""
    digest = hashlib.scrypt(code.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def code_matches(code: str, stored: str) -> bool:
    """Whether `code` is the one hashed in `stored` (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(
            code.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


def expiry(deposited_at: datetime, validity_days: int) -> datetime:
    return deposited_at + timedelta(days=validity_days)


def sign_token(device_key: bytes, order_number: str, code_id: int, expires_at: datetime) -> str:
    """The QR content: CPT1.<order>.<code row>.<expiry, Unix seconds>.<signature>."""
    body = f"{TOKEN_PREFIX}.{order_number}.{code_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(device_key, body)}"


def read_token(device_key: bytes, text: str) -> Token | None:
    """The token's content if `text` is a token signed with `device_key`, else None."""
    match = _TOKEN.fullmatch(text.strip())
    if not match:
        return None
    number, code_id, expires, mac = match.groups()
    body = f"{TOKEN_PREFIX}.{number}.{code_id}.{expires}"
    if not hmac.compare_digest(_mac(device_key, body), mac):
        return None
    return Token(number, int(code_id), datetime.fromtimestamp(int(expires), UTC))


def is_token_shaped(text: str) -> bool:
    return text.strip().startswith(TOKEN_PREFIX + ".")


def lockout_s(wrong_in_a_row: int) -> int:
    """How long the keypad waits after this many wrong codes in a row: nothing before the
    fifth, then 30 s, doubling with each further wrong code, at most an hour."""
    if wrong_in_a_row < LOCKOUT_AFTER:
        return 0
    doubled: int = LOCKOUT_FIRST_S * 2 ** (wrong_in_a_row - LOCKOUT_AFTER)
    return min(doubled, LOCKOUT_MAX_S)


def _mac(device_key: bytes, body: str) -> str:
    return hmac.new(device_key, b"token:" + body.encode(), hashlib.sha256).hexdigest()[:32]
