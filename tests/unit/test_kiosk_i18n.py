"""The kiosk speaks French by default and English on a button: every text has its translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from appliance.core import weighing
from appliance.kiosk import view
from appliance.kiosk.flows import journey
from appliance.kiosk.i18n import LOCALE_DIR, translator
from appliance.translations import catalogues, compiled, read

KIOSK = Path(view.__file__).resolve().parent
CALL = re.compile(r'(?:\b_|\btr)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', re.S)


def _texts_in_code() -> set[str]:
    found = set()
    for path in [*KIOSK.glob("*.py"), *KIOSK.glob("kv/*.kv")]:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(ast.literal_eval(f"({match[1]})"))  # adjacent literals join up
    found.update(view._STATUS.values())
    found.update(view.SCREEN_MARKS.values())
    found.update((view.EMPTY_PAN, journey.LABEL_PRINTED, journey.LABEL_TO_COUNTER))
    found.update(weighing._REFUSALS.values())
    return found


def test_every_text_on_screen_has_a_french_translation():
    french = read(LOCALE_DIR / "fr/LC_MESSAGES/comptoir.po")
    translated = {m.id for m in french if m.id and m.string and not m.fuzzy}
    missing = sorted(_texts_in_code() - translated)
    assert missing == []


def test_the_compiled_catalogues_match_their_sources():
    """Kiosk and web admin alike: a .po edited without `python -m appliance.translations`."""
    assert catalogues()
    for po_path in catalogues():
        assert po_path.with_suffix(".mo").read_bytes() == compiled(po_path), po_path


def test_french_is_translated_and_english_reads_the_ids():
    assert translator("fr")("Pay by card") == "Payer par carte"
    assert translator("en")("Pay by card") == "Pay by card"
    assert translator("de")("Pay by card") == "Pay by card"


def test_counts_agree_with_their_noun_in_both_languages():
    from appliance.kiosk.flows.values import OrderToDeposit
    from appliance.kiosk.locker_view import _lines

    one, three = OrderToDeposit("R1", "Paul", 1), OrderToDeposit("R2", "Alice", 3)
    assert (_lines(one, "fr"), _lines(three, "fr")) == ("1 ligne", "3 lignes")
    assert (_lines(one, "en"), _lines(three, "en")) == ("1 line", "3 lines")
