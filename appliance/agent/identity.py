"""One broker identity per box: a random password and its line for mosquitto's password file.

Mosquitto 2 stores `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>`; computing it here
means provisioning needs neither `mosquitto_passwd` nor the broker's machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from appliance.config import DEVICE_ID
from appliance.errors import UsageError

ITERATIONS = 101  # mosquitto_passwd's default
SALT_BYTES = 12
RESERVED = ("admin", "comptoir-admin")


@dataclass(frozen=True)
class Identity:
    username: str
    password: str

    def password_line(self, salt: bytes | None = None) -> str:
        return f"{self.username}:{hash_password(self.password, salt)}"


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def new_identity(username: str, *, admin: bool = False) -> Identity:
    """A fresh identity; a device's username is its device id (the ACL's %u)."""
    if not admin:
        problem = DEVICE_ID(username)
        if problem:
            raise UsageError(f"device id {username!r} is wrong: expected {problem}")
        if username in RESERVED:
            raise UsageError(f"{username!r} is kept for the admin role; choose another device id")
    return Identity(username, secrets.token_urlsafe(24))


def write_password_file(path: Path, identity: Identity, *, overwrite: bool = False) -> None:
    """The device's copy of its password, readable by its owner only (mode 0600)."""
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists already; pass --force to replace that identity")
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(identity.password + "\n")
    os.chmod(path, 0o600)
