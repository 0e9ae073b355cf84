"""The web admin's HTTPS certificate: made once for this box, its fingerprint shown to people.

Self-signed (there is no public name to certify on a shop's LAN), EC P-256, valid ten years,
for the box's names (`<device id>`, `<device id>.local`, `localhost`) and 127.0.0.1. A browser
warns the first time; the producer compares the SHA-256 fingerprint it shows with the one on
the kiosk's about screen and in the installer guide, then trusts it. The key file is mode 0600.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.errors import ComptoirError

CERT_NAME = "web-tls.crt"
KEY_NAME = "web-tls.key"
VALID_DAYS = 3650


class CertificateError(ComptoirError):
    """The certificate files are missing, unreadable or do not belong together."""


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path
    fingerprint: str  # "SHA-256 AB:CD:...", as browsers show it


def paths(data_dir: Path) -> tuple[Path, Path]:
    return data_dir / CERT_NAME, data_dir / KEY_NAME


def ensure_certificate(data_dir: Path, device_id: str, shop_name: str) -> Certificate:
    """The box's certificate, made the first time (a second call keeps it)."""
    cert_file, key_file = paths(data_dir)
    if not cert_file.exists():
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
        _write(cert_file, _self_signed(key, device_id, shop_name), 0o644)
    return Certificate(cert_file, key_file, fingerprint(cert_file))


def fingerprint(cert_file: Path) -> str:
    """The SHA-256 of the certificate, in the colon-separated hex browsers show."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateError(
            f"cannot read the web certificate {cert_file}: {exc}; delete it and the key beside "
            f"it, then run `comptoir web` again to make a new one"
        ) from None
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return "SHA-256 " + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def web_fingerprint(data_dir: Path) -> str:
    """The fingerprint of this box's web certificate, '' when none was made yet (the kiosk's
    about screen)."""
    cert_file = paths(data_dir)[0]
    return fingerprint(cert_file) if cert_file.exists() else ""


def _self_signed(key: ec.EllipticCurvePrivateKey, device_id: str, shop_name: str) -> bytes:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, device_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, (shop_name or "Comptoir")[:64]),
        ]
    )
    now = datetime.now(UTC)
    alt_names = x509.SubjectAlternativeName(
        [
            x509.DNSName(device_id),
            x509.DNSName(f"{device_id}.local"),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
