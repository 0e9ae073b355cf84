"""Identification of the legally relevant software (metrology reference §5.2 rules 9-10).

The files below decide what a customer is charged and what a label says: pricing, the weighing
rules, the scale drivers and the label content. `comptoir version --legal` prints the version and a
SHA-256 over exactly these files, as the weights-and-measures rules ask; the kiosk shows the same.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from appliance import __version__

PACKAGE_ROOT = Path(__file__).resolve().parent

#: Paths relative to the package, and globs for whole driver folders.
LEGAL_PATTERNS = (
    "core/money.py",
    "core/weighing.py",
    "core/barcode.py",
    "core/label.py",
    "core/sale.py",
    "devices/printers/escpos_printer.py",
    "devices/scales/*.py",
)


@dataclass(frozen=True)
class LegalIdentity:
    version: str
    sha256: str
    files: tuple[str, ...]


def legal_files(package_root: Path = PACKAGE_ROOT) -> list[Path]:
    found: set[Path] = set()
    for pattern in LEGAL_PATTERNS:
        found.update(p for p in package_root.glob(pattern) if p.is_file())
    return sorted(found)


@functools.cache
def legal_identity() -> LegalIdentity:
    """Version and SHA-256 over (relative path, NUL, content) of each legal file, in order.

    Computed once per process: it identifies the code this process loaded."""
    return identify(PACKAGE_ROOT, __version__)


def identify(package_root: Path, version: str) -> LegalIdentity:
    """The identification of the package at `package_root` (a release bundle is built from a
    source tree that need not be the code running)."""
    digest = hashlib.sha256()
    names = []
    for path in legal_files(package_root):
        name = path.relative_to(package_root).as_posix()
        names.append(name)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return LegalIdentity(version, digest.hexdigest(), tuple(names))
