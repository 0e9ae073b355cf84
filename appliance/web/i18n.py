"""The admin's language: French by default, English available, per user or by the browser.

Message ids are the English text (as in the kiosk); `translations/fr/LC_MESSAGES/messages.po`
translates them. Dates, numbers and euros are formatted by Babel (`context`) for the chosen
language, in the shop's time zone. A user's choice (the account page) wins over the browser's
Accept-Language, which wins over `[device] language`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, get_locale

from appliance.web.context import settings

LANGUAGES = ("fr", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def init(app: Flask) -> None:
    Babel(
        app,
        locale_selector=language,
        timezone_selector=lambda: settings().device.timezone,
        default_translation_directories=str(TRANSLATIONS),
        default_domain="messages",
    )
    app.jinja_env.globals.update(html_lang=lambda: str(get_locale() or "fr"))


def language() -> str:
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    fallback = settings().device.language
    return request.accept_languages.best_match(LANGUAGES, default=fallback) or fallback
