"""Ed25519 release keys: the admin signs a bundle's manifest, a box checks it with its keys.

The private key never leaves the admin's machine (file mode 600); the public key is baked into
the image and listed in `[updates] trusted_keys`. A key is named by its id: the first 16 hex
digits of the SHA-256 of its 32 raw bytes, which the manifest carries.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.release.errors import ReleaseError

PRIVATE_NAME = "release.key"
PUBLIC_NAME = "release.pub"


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    path: Path
    public: Ed25519PublicKey

    def verifies(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def keygen(folder: Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write folder/release.key (mode 600) and folder/release.pub; never replace silently."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if not overwrite and (private_path.exists() or public_path.exists()):
        raise ReleaseError(
            f"{private_path} or {public_path} already exists: a new key would orphan every box "
            "that trusts the old one; pass --force to replace it"
        )
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if overwrite:
        private_path.unlink(missing_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ReleaseError(
            f"no release key at {path}: make one with `comptoir release keygen`"
        ) from None
    except (ValueError, TypeError, OSError) as exc:
        raise ReleaseError(f"{path} is not a release key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 key: make one with `comptoir release keygen`")
    return key


def load_public(path: Path) -> TrustedKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise ReleaseError(f"no public key at {path}: check [updates] trusted_keys") from None
    except (ValueError, OSError) as exc:
        raise ReleaseError(f"{path} is not a public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReleaseError(f"{path} is not an Ed25519 public key (release.pub from keygen)")
    return TrustedKey(key_id(key), path, key)


def trusted(paths: tuple[Path, ...] | list[Path]) -> list[TrustedKey]:
    """The keys a box trusts; one missing or unreadable file is an error, not ignored."""
    return [load_public(path) for path in paths]


def load_public_of(private_path: Path) -> TrustedKey:
    """The public half of a private key file, to check what was just signed."""
    public = load_private(private_path).public_key()
    return TrustedKey(key_id(public), private_path, public)
