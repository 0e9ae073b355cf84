"""The kiosk speaks French by default and English on a button: every text has its translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from appliance.core import weighing
from appliance.kiosk import view
from appliance.kiosk.i18n import LOCALE_DIR, translator
from appliance.kiosk.i18n.msgfmt import catalogues, compile_catalogue, mo_bytes, parse_po

KIOSK = Path(view.__file__).resolve().parent
CALL = re.compile(r'(?:\b_|\btr)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', re.S)


def _texts_in_code() -> set[str]:
    found = set()
    for path in [*KIOSK.glob("*.py"), *KIOSK.glob("kv/*.kv")]:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(ast.literal_eval(f"({match[1]})"))  # adjacent literals join up
    found.update(view._STATUS.values())
    found.update(weighing._REFUSALS.values())
    return found


def test_every_text_on_screen_has_a_french_translation():
    french = parse_po((LOCALE_DIR / "fr/LC_MESSAGES/comptoir.po").read_text(encoding="utf-8"))
    missing = sorted(_texts_in_code() - set(french))
    assert missing == []


def test_the_compiled_catalogues_match_their_sources():
    for po_path in catalogues():
        assert po_path.with_suffix(".mo").read_bytes() == compile_catalogue(po_path), po_path


def test_french_is_translated_and_english_reads_the_ids():
    assert translator("fr")("Pay by card") == "Payer par carte"
    assert translator("en")("Pay by card") == "Pay by card"
    assert translator("de")("Pay by card") == "Pay by card"


def test_a_compiled_catalogue_is_read_back_by_gettext(tmp_path):
    import gettext

    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "t.mo").write_bytes(
        mo_bytes({"": "Content-Type: text/plain; charset=UTF-8\n", "a\nb": 'é"c', "z": "y"})
    )
    read = gettext.translation("t", localedir=tmp_path, languages=["xx"])
    assert read.gettext("a\nb") == 'é"c' and read.gettext("z") == "y"


def test_fuzzy_and_empty_entries_are_left_untranslated():
    text = '#, fuzzy\nmsgid "a"\nmsgstr "b"\n\nmsgid "c"\nmsgstr ""\n\nmsgid "d"\nmsgstr "e"\n'
    assert parse_po(text) == {"d": "e"}
