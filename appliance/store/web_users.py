"""Users of the LAN web admin: producers and installers, their passwords and failed logins.

Passwords are hashed with scrypt and a random salt per user; the password itself is never
stored or logged. After `FREE_FAILURES` wrong passwords in a row for one user name (known or
not, so a guesser learns nothing), each further try waits a delay that doubles up to an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from appliance import clock
from appliance.errors import ComptoirError, UsageError
from appliance.store import web_sessions
from appliance.store.db import transaction

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
FREE_FAILURES = 5
FIRST_DELAY_S = 30
MAX_DELAY_S = 3600

# scrypt cost: about 50 ms and 16 MiB per check on a small machine.
_N, _R, _P, _KEY_BYTES, _SALT_BYTES = 2**14, 8, 1, 32, 16
_MAXMEM = 64 * 1024 * 1024


class Role(StrEnum):
    PRODUCER = "producer"  # dashboard, catalogue, sales, orders, temperatures
    INSTALLER = "installer"  # also device commands and resolving alerts


@dataclass(frozen=True)
class WebUser:
    username: str
    role: Role
    password_changed_at: str
    language: str = ""  # '' follows the browser

    @property
    def is_installer(self) -> bool:
        return self.role is Role.INSTALLER


class LoginRefused(ComptoirError):
    """Wrong user name or password, or too many failures: `wait_s` before the next try;
    `locked` when the password was not even checked (a try during the wait)."""

    def __init__(self, message: str, wait_s: int = 0, *, locked: bool = False) -> None:
        super().__init__(message)
        self.wait_s = wait_s
        self.locked = locked


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${key.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        found = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found, bytes.fromhex(key))


def check_new_password(username: str, password: str) -> None:
    """Raise UsageError when a new password is too weak to guard the admin."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UsageError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == username:
        raise UsageError("the password must not be the user name")


def check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise UsageError(
            f"user name {username!r} is not valid: use 1 to 32 lower-case letters, digits, "
            f"'.', '_' or '-', such as marie or installateur"
        )


def set_password(
    db: sqlite3.Connection, username: str, password: str, role: Role | None = None
) -> WebUser:
    """Create the user or change its password (and role when given); a new user with no role
    given is a producer. Every session of the user ends (old password, maybe old role)."""
    check_username(username)
    check_new_password(username, password)
    password_hash = hash_password(password)
    now = clock.now_iso()
    with transaction(db):
        current = get_user(db, username)
        new_role = role or (current.role if current else Role.PRODUCER)
        db.execute(
            "INSERT INTO web_users (username, role, password_hash, password_changed_at, "
            "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET "
            "role = excluded.role, password_hash = excluded.password_hash, "
            "password_changed_at = excluded.password_changed_at",
            (username, new_role.value, password_hash, now, now),
        )
        db.execute("DELETE FROM web_login_failures WHERE username = ?", (username,))
        web_sessions.close_all(db, username)
    return WebUser(username, new_role, now, current.language if current else "")


def set_language(db: sqlite3.Connection, username: str, language: str) -> None:
    """The admin's language for this user ('' follows the browser)."""
    with transaction(db):
        db.execute("UPDATE web_users SET language = ? WHERE username = ?", (language, username))


_USER_COLUMNS = "username, role, password_changed_at, language"


def get_user(db: sqlite3.Connection, username: str) -> WebUser | None:
    row = db.execute(
        f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?", (username,)
    ).fetchone()
    return WebUser(row[0], Role(row[1]), row[2], row[3]) if row else None


def list_users(db: sqlite3.Connection) -> list[WebUser]:
    rows = db.execute(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username")
    return [WebUser(name, Role(role), changed, language) for name, role, changed, language in rows]


def log_in(db: sqlite3.Connection, username: str, password: str, now: datetime) -> WebUser:
    """The user when the password is right; else LoginRefused, and the failure counts.
    `now` is an aware UTC datetime (tests pass their own to step over delays)."""
    username = username.strip().lower()[:64]
    row = db.execute(
        "SELECT failures, locked_until FROM web_login_failures WHERE username = ?", (username,)
    ).fetchone()
    if row and row[1] and datetime.fromisoformat(row[1]) > now:
        wait_s = _seconds_until(row[1], now)
        raise LoginRefused(
            f"too many wrong passwords for {username!r}: wait {wait_s} s before trying again",
            wait_s,
            locked=True,
        )
    stored = db.execute(
        "SELECT password_hash FROM web_users WHERE username = ?", (username,)
    ).fetchone()
    # An unknown user costs the same scrypt as a known one, so timing tells nothing.
    if password_matches(password, stored[0] if stored else _UNKNOWN_USER_HASH) and stored:
        with transaction(db):
            db.execute("DELETE FROM web_login_failures WHERE username = ?", (username,))
        user = get_user(db, username)
        assert user is not None
        return user
    wait_s = _count_failure(db, username, now)
    if wait_s:
        raise LoginRefused(
            f"wrong user name or password; too many in a row: wait {wait_s} s before trying again",
            wait_s,
        )
    raise LoginRefused("wrong user name or password")


def _count_failure(db: sqlite3.Connection, username: str, now: datetime) -> int:
    """Record one more failure; the delay now imposed, in seconds (0 for the first ones)."""
    with transaction(db):
        row = db.execute(
            "SELECT failures FROM web_login_failures WHERE username = ?", (username,)
        ).fetchone()
        failures = (row[0] if row else 0) + 1
        wait_s = 0
        if failures >= FREE_FAILURES:
            wait_s = min(FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES), MAX_DELAY_S)
        locked_until = clock.iso(now + timedelta(seconds=wait_s)) if wait_s else ""
        db.execute(
            "INSERT INTO web_login_failures (username, failures, last_failure_at, locked_until) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET "
            "failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
            "locked_until = excluded.locked_until",
            (username, failures, clock.iso(now), locked_until),
        )
        # Guessed names must not fill the disk: forget failures older than a day.
        db.execute(
            "DELETE FROM web_login_failures WHERE last_failure_at < ?",
            (clock.iso(now - timedelta(days=1)),),
        )
    return wait_s


def _seconds_until(when: str, now: datetime) -> int:
    return max(1, math.ceil((datetime.fromisoformat(when) - now).total_seconds()))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES
    )


_UNKNOWN_USER_HASH = hash_password(secrets.token_hex(16))
