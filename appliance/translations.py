"""Compiling the translation catalogues (kiosk and web admin) with Babel.

The `.po` files are the sources, kept in the repository with the `.mo` files gettext reads;
`python -m appliance.translations` compiles every catalogue of the package, and a test checks
that each `.mo` is what its `.po` compiles to. New texts of the admin are gathered with
`pybabel extract -F appliance/web/babel.cfg -k lazy_gettext --no-location --omit-header
-o /tmp/messages.pot appliance/web` then `pybabel update -i /tmp/messages.pot -d
appliance/web/translations --no-fuzzy-matching`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parent
_PINNED = datetime(2026, 1, 1, tzinfo=UTC)


def catalogues() -> list[Path]:
    """Every `.po` file of the package, kiosk and web admin."""
    return sorted(PACKAGE.glob("**/LC_MESSAGES/*.po"))


def read(po_path: Path) -> Catalog:
    with po_path.open("rb") as source:
        return read_po(source, locale=po_path.parent.parent.name)


def compiled(po_path: Path) -> bytes:
    """The `.mo` bytes of a catalogue; fuzzy and untranslated entries are left out. The header
    dates are pinned (Babel would write today's), so the same `.po` always compiles the same."""
    catalog = read(po_path)
    catalog.creation_date = catalog.revision_date = _PINNED
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_all() -> list[Path]:
    written = []
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        data = compiled(po_path)
        if not mo_path.is_file() or mo_path.read_bytes() != data:
            mo_path.write_bytes(data)
            written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(PACKAGE.parent)}")
