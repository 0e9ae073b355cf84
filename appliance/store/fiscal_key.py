"""The box's Ed25519 signing key: a file beside the database, never in it.

The private key is `fiscal-signing.key` (PKCS#8 PEM, mode 0600) in the data directory; its
public half is `fiscal-signing.pub` (64 hex characters, the raw key), which anyone may read and
which verifies every record and archive. Provisioning makes the key; a box that has none yet
makes it at its first signed record. A key missing while signed records exist is never
replaced silently: the records could no longer be told apart from forgeries.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.core.fiscal import Verifier
from appliance.errors import StoreError

KEY_NAME = "fiscal-signing.key"
PUBLIC_NAME = "fiscal-signing.pub"


class Signer:
    """Signs with the private key; `public_key` is the hex an inspector is given."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = public_hex(private.public_key())

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def verifier(public_key_hex: str) -> Verifier:
    """A signature check for one public key (hex of the 32 raw bytes)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    except ValueError:
        raise StoreError(
            f"{public_key_hex[:16]}... is not an Ed25519 public key: give the 64 hexadecimal "
            f"characters of {PUBLIC_NAME}"
        ) from None

    def check(message: bytes, signature: str) -> bool:
        try:
            key.verify(bytes.fromhex(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check


def data_dir_of(db: sqlite3.Connection) -> Path:
    """The folder of the database file (the key lives beside it)."""
    for _seq, name, path in db.execute("PRAGMA database_list"):
        if name == "main" and path:
            return Path(path).parent
    raise StoreError("the signing key needs a database file, not an in-memory database")


def ensure_key(data_dir: Path) -> str:
    """Make the key pair if there is none (provisioning calls this); returns the public key."""
    return _load_or_create(data_dir, allow_create=True).public_key


def signer_for(db: sqlite3.Connection, *, has_records: bool) -> Signer:
    """The signer of this database's box; made on first use only while nothing is signed."""
    return _load_or_create(data_dir_of(db), allow_create=not has_records)


def public_key(data_dir: Path) -> str:
    """The public key as published, or "" when this box has none yet."""
    try:
        return (data_dir / PUBLIC_NAME).read_text(encoding="ascii").strip()
    except OSError:
        return ""


@functools.lru_cache(maxsize=8)
def _cached(path: Path, mtime_ns: int) -> Signer:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise StoreError(f"{path} is not an Ed25519 key: restore the box's own key file")
    return Signer(private)


def _load_or_create(data_dir: Path, *, allow_create: bool) -> Signer:
    path = data_dir / KEY_NAME
    if not path.exists():
        if not allow_create:
            raise StoreError(
                f"the signing key {path} is missing but this box has signed records: restore "
                f"the key file from the box's backup (a new key would not match them)"
            )
        _create(path)
    signer = _cached(path, path.stat().st_mtime_ns)
    public = data_dir / PUBLIC_NAME
    if public_key(data_dir) != signer.public_key:
        public.write_text(signer.public_key + "\n", encoding="ascii")
    return signer


def _create(path: Path) -> None:
    """Write a new key (mode 0600 from the start) and put it in place atomically with a hard
    link, so a racing process either finds no key or a whole one; the first one in wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
