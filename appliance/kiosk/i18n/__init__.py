"""The kiosk's words in French and English, through gettext catalogues in this folder.

Message ids are the English text; `fr/LC_MESSAGES/comptoir.po` translates them and English falls
back to the ids. The `.mo` files are compiled from the `.po` files with Babel
(`python -m appliance.translations`), and a test checks they are up to date.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent
DOMAIN = "comptoir"

Translate = Callable[[str], str]
Plural = Callable[[str, str, int], str]


@cache
def translator(language: str) -> Translate:
    """`_` for `language`; an unknown language, or a missing catalogue, reads the ids."""
    return gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    ).gettext


@cache
def plural(language: str) -> Plural:
    """`ngettext` for `language`: "1 ligne", "2 lignes"."""
    return gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    ).ngettext
