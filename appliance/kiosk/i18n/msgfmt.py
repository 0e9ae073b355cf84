"""A tiny `msgfmt`: compiles the kiosk's `.po` files into the `.mo` files gettext reads.

Python's own Tools/i18n/msgfmt.py is not installed with the interpreter, and the catalogues only
use the plain subset of the format (msgid/msgstr, no plurals, no contexts).
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

from appliance.kiosk.i18n import DOMAIN, LOCALE_DIR


def parse_po(text: str) -> dict[str, str]:
    """Message id -> translation; untranslated and fuzzy entries are left out, the header kept."""
    entries: list[tuple[str, str, bool]] = []
    fuzzy_next = False
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy_next = True
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            entries.append(("", "", fuzzy_next))
            fuzzy_next, section, line = False, "id", line[6:]
        elif line.startswith("msgstr "):
            section, line = "str", line[7:]
        if not entries or len(line) < 2 or not (line[0] == line[-1] == '"'):
            raise ValueError(f"line {number}: expected a quoted string, got {raw!r}")
        msgid, msgstr, fuzzy = entries[-1]
        value = ast.literal_eval(line)
        if section == "id":
            entries[-1] = (msgid + value, msgstr, fuzzy)
        else:
            entries[-1] = (msgid, msgstr + value, fuzzy)
    return {msgid: msgstr for msgid, msgstr, fuzzy in entries if msgstr and not fuzzy}


def mo_bytes(messages: dict[str, str]) -> bytes:
    """The GNU .mo layout: header, sorted id table, translation table, then the strings."""
    ids = sorted(messages)
    id_blob = b""
    str_blob = b""
    id_offsets = []
    str_offsets = []
    for key in ids:
        encoded_id, encoded_str = key.encode(), messages[key].encode()
        id_offsets.append((len(encoded_id), len(id_blob)))
        str_offsets.append((len(encoded_str), len(str_blob)))
        id_blob += encoded_id + b"\0"
        str_blob += encoded_str + b"\0"
    count = len(ids)
    ids_start = 7 * 4
    strs_start = ids_start + count * 8
    blob_start = strs_start + count * 8
    table = []
    for length, offset in id_offsets:
        table += [length, blob_start + offset]
    for length, offset in str_offsets:
        table += [length, blob_start + len(id_blob) + offset]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, ids_start, strs_start, 0, 0)
    return header + struct.pack(f"{len(table)}i", *table) + id_blob + str_blob


def compile_catalogue(po_path: Path) -> bytes:
    return mo_bytes(parse_po(po_path.read_text(encoding="utf-8")))


def catalogues() -> list[Path]:
    return sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def main() -> int:
    for po_path in catalogues():
        po_path.with_suffix(".mo").write_bytes(compile_catalogue(po_path))
        print(f"compiled {po_path.relative_to(LOCALE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
