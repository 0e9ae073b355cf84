"""The admin speaks French first: every text of its pages and messages has a French translation,
and no template writes text that bypasses the catalogue."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.extract import extract_from_dir
from flask import Flask
from flask_babel import Babel
from jinja2 import Environment
from jinja2.ext import i18n

from appliance import web
from appliance.store.alerts import Alarm
from appliance.store.device_commands import CommandName
from appliance.store.sync_state.directions import DIRECTIONS
from appliance.translations import read
from appliance.web.i18n import TRANSLATIONS
from appliance.web.words import alert_advice, alert_name, command_name, sync_direction

WEB = Path(web.__file__).resolve().parent
APPLIANCE = WEB.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
#: Text a template may write as it is: units, symbols, product names of the code.
UNTRANSLATED = re.compile(r"^[\s·,.:;()×→/%°€\-]*$|^(Comptoir|sha256|Français|English)$")


def messages_in_code() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, method_map, keywords=KEYWORDS
    ):
        found.add(message)
    return found


def said_by_the_box() -> set[str | tuple[str, ...]]:
    """What other parts of the box say to people with `said(...)` (appliance/said.py)."""
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            APPLIANCE, [("**.py", "python")], keywords={"said": None}
        )
    }


def test_every_text_of_the_admin_has_a_french_translation() -> None:
    french = read(TRANSLATIONS / "fr/LC_MESSAGES/messages.po")
    translated = {
        m.id
        for m in french
        if m.id and not m.fuzzy and (all(m.string or ()) if isinstance(m.id, tuple) else m.string)
    }
    found = messages_in_code() | said_by_the_box()
    assert len(found) > 100
    assert sorted(map(str, found - translated)) == []


def test_no_template_writes_text_outside_the_catalogue() -> None:
    """Text between tags must come from `_()`: a bare word would stay English in French.
    What a person types on the box (`<code>comptoir ...</code>`) stays as it is."""
    env = Environment(extensions=[i18n])
    bare = []
    for path in sorted((WEB / "templates").glob("*.html")):
        source = re.sub(r"<code>[^<{]*</code>", "", path.read_text(encoding="utf-8"))
        in_tag = False  # inside <...>: attributes, which may be split by {{ }}
        for lineno, kind, value in env.lex(source):
            if kind != "data":
                continue
            outside = []
            for char in value:
                if char == "<":
                    in_tag = True
                elif char == ">":
                    in_tag = False
                    outside.append(" ")
                elif not in_tag:
                    outside.append(char)
            for piece in "".join(outside).split():
                if not UNTRANSLATED.match(piece) and re.search(r"[A-Za-z]", piece):
                    bare.append(f"{path.name}:{lineno}: {piece}")
    assert bare == []


def in_french(name: Callable[[str], str], codes: Iterable[str]) -> dict[str, str]:
    app = Flask(__name__)
    Babel(app, default_translation_directories=str(TRANSLATIONS), locale_selector=lambda: "fr")
    with app.test_request_context():
        return {code: name(code) for code in codes}


def test_every_alarm_kind_has_a_name_in_french() -> None:
    """An alarm added elsewhere (a new device, the till gateway) must not show as its code."""
    named = in_french(alert_name, Alarm)
    assert [kind for kind, name in named.items() if name == kind.replace("_", " ")] == []
    assert named[Alarm.DATABASE_DAMAGED] == "Base de données endommagée"
    assert named[Alarm.PASTEQUE_UNREACHABLE] == "La caisse (Pastèque) ne répond pas"


def test_every_alarm_kind_says_what_to_do_in_french() -> None:
    """The alert's own message is the English detail of what raised it: the advice is what a
    French producer reads first."""
    advice = in_french(alert_advice, Alarm)
    assert [kind for kind, said in advice.items() if not said] == []
    assert advice[Alarm.DOOR_LEFT_OPEN].startswith("Fermez la porte")


def test_every_marketplace_sync_direction_is_named_in_french() -> None:
    assert in_french(sync_direction, DIRECTIONS) == {
        "catalogue": "catalogue",
        "orders": "commandes",
        "pickups": "retraits",
        "stock": "stock",
    }


def test_every_device_command_is_named_in_french() -> None:
    """The commands page says what the kiosk was asked, not the command's code."""
    named = in_french(command_name, CommandName)
    assert [name for name, said in named.items() if said == name.replace("_", " ")] == []
    assert named[CommandName.OPEN_DOOR] == "ouvrir la porte"
