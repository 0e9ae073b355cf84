"""The web admin's HTTPS certificate: made once for this box, its fingerprint shown to people.

EC P-256, valid ten years (or until the co-op's CA expires, if sooner), for the box's names
(`<device id>`, `<device id>.local`, `localhost`) and 127.0.0.1. Signed by the co-op's CA when
the site card gives one (`Authority`: browsers that trust that CA trust the box at once; the
file then holds the box's certificate followed by the CA's), self-signed otherwise: a browser
warns the first time, and the producer compares the SHA-256 fingerprint it shows with the one
on the kiosk's about screen and in the installer guide. The key file is mode 0600. Reading the
fingerprint needs only the standard library: the web process and the kiosk load cryptography's
x509 only when a certificate is made or checked against a CA.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.errors import ComptoirError

if TYPE_CHECKING:  # cryptography's x509 is imported only to make or check a certificate
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CERT_NAME = "web-tls.crt"
KEY_NAME = "web-tls.key"
VALID_DAYS = 3650
BACKDATE_DAYS = 365


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class CertificateError(ComptoirError):
    """The certificate files are missing, unreadable or do not belong together."""


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path
    fingerprint: str  # "SHA-256 AB:CD:...", as browsers show it


@dataclass(frozen=True)
class Authority:
    """The co-op's certificate authority for its boxes, as the site card gives it."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def load_authority(cert_pem: bytes, key_pem: bytes) -> Authority:
    """The CA of the card's two files; a CertificateError says what is wrong with them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise CertificateError(
            "the CA certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
        ) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise CertificateError(
            "the CA key is protected by a password: give the key without one (it is used once "
            "at provisioning, then removed from the card)"
        ) from None
    except ValueError:
        raise CertificateError(
            "the CA key is not a PEM private key (-----BEGIN PRIVATE KEY-----)"
        ) from None
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise CertificateError("the CA key must be an EC, RSA or Ed25519 key")
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CertificateError("the CA key does not belong to the CA certificate given with it")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise CertificateError(
            "the CA certificate is not a certificate authority (no basicConstraints CA:TRUE)"
        )
    if cert.not_valid_after_utc <= datetime.now(UTC):
        raise CertificateError(
            f"the CA certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: ask the co-op "
            f"for its new one"
        )
    return Authority(cert, key)


def paths(data_dir: Path) -> tuple[Path, Path]:
    return data_dir / CERT_NAME, data_dir / KEY_NAME


def ensure_certificate(
    data_dir: Path, device_id: str, shop_name: str, authority: Authority | None = None
) -> Certificate:
    """The box's certificate, made the first time (a second call keeps it). With `authority`,
    one it did not issue (a self-signed one from an earlier boot) is replaced by one it signs."""
    cert_file, key_file = paths(data_dir)
    if not cert_file.exists() or (authority and not issued_by(cert_file, authority)):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        data_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        _write(
            key_file,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            0o600,
        )
        _write(cert_file, _certificate(key, device_id, shop_name, authority), 0o644)
    return Certificate(cert_file, key_file, fingerprint(cert_file))


def issued_by(cert_file: Path, authority: Authority) -> bool:
    """Whether the box's certificate (the first of the file) was signed by `authority`."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        cert.verify_directly_issued_by(authority.cert)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return True


def fingerprint(cert_file: Path) -> str:
    """The SHA-256 of the certificate (the first of the file), in the colon-separated hex
    browsers show."""
    try:
        found = _PEM.search(cert_file.read_text(encoding="ascii"))
        if found is None:
            raise ValueError("no -----BEGIN CERTIFICATE----- block")
        der = ssl.PEM_cert_to_DER_cert(found[0])
    except (OSError, ValueError) as exc:
        raise CertificateError(
            f"cannot read the web certificate {cert_file}: {exc}; delete it and the key beside "
            f"it, then run `comptoir web` again to make a new one"
        ) from None
    digest = hashlib.sha256(der).hexdigest().upper()
    return "SHA-256 " + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def web_fingerprint(data_dir: Path) -> str:
    """The fingerprint of this box's web certificate, '' when none was made yet (the kiosk's
    about screen)."""
    cert_file = paths(data_dir)[0]
    return fingerprint(cert_file) if cert_file.exists() else ""


def _certificate(
    key: ec.EllipticCurvePrivateKey,
    device_id: str,
    shop_name: str,
    authority: Authority | None,
) -> bytes:
    """The box's certificate in PEM, self-signed or signed by `authority` (then followed by the
    CA's own certificate, so a browser gets the whole chain)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, device_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, (shop_name or "Comptoir")[:64]),
        ]
    )
    now = datetime.now(UTC)
    until = now + timedelta(days=VALID_DAYS)
    if authority:
        until = min(until, authority.cert.not_valid_after_utc)
    alt_names = x509.SubjectAlternativeName(
        [
            x509.DNSName(device_id),
            x509.DNSName(f"{device_id}.local"),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    since = now - timedelta(days=BACKDATE_DAYS)
    if authority:
        since = max(since, authority.cert.not_valid_before_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(authority.cert.subject if authority else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A year back: a box whose clock was ahead when it made its certificate (no real-time
        # clock, NTP not yet there) must still be trusted once its clock is set right.
        .not_valid_before(since)
        .not_valid_after(until)
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if authority is None:
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
        critical=False,
    )
    digest = None if isinstance(authority.key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(authority.key, digest)
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, authority.cert))


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
