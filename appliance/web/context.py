"""What every page needs: the request's database connection, the config, and shared filters."""

from __future__ import annotations

import functools
import re
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import numbers
from flask import current_app, g, request
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
)

from appliance import clock
from appliance.config import Config
from appliance.store.db import open_database


def settings() -> Config:
    return current_app.config["COMPTOIR"]


def db() -> sqlite3.Connection:
    """One connection per request (waitress serves requests in threads), closed at its end."""
    if "db" not in g:
        g.db = open_database(current_app.config["COMPTOIR_DB"], migrate=False)
        # A connection lives one request: a small page cache (the kernel caches the file) keeps
        # the web process's peak, and so its resident memory, down.
        g.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return g.db


#: SQLite's page cache per request, in KiB (its default is 2,000).
CACHE_KIB = 256


def close_db(_error: BaseException | None = None) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings().device.timezone)


FIRST_DAY = date(2000, 1, 1)


class BadDay(ValueError):
    """The day asked for is not one a page can show; the message says what to pick."""


def today() -> date:
    """The shop's local day."""
    return clock.now().astimezone(local_zone()).date()


def day_asked(name: str = "day") -> date:
    """The `day` of the query string, today when there is none; BadDay when it is not a day
    from 2000 to today (far dates would overflow the time conversions). A browser's date field
    sends 2026-12-03; one without a date picker sends what was typed, read in the French order
    (03/12/2026, 3.12.2026)."""
    text = request.args.get(name, "").strip()
    now = today()
    if not text:
        return now
    day = parse_day(text)
    if day is None:
        raise BadDay(
            gettext(
                "%(text)s is not a date: pick one, such as %(today)s.",
                text=text[:40],
                today=short_day(now),
            )
        )
    if not FIRST_DAY <= day <= now:
        raise BadDay(
            gettext(
                "%(day)s cannot be shown: pick a day from %(first)s to today (%(today)s).",
                day=text[:40],
                first=short_day(FIRST_DAY),
                today=short_day(now),
            )
        )
    return day


_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_day(text: str) -> date | None:
    """2026-12-03 (ISO, what date fields send) or 3/12/2026 (day first); None otherwise."""
    try:
        if found := _DAY_FIRST.fullmatch(text):
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(text)
    except ValueError:
        return None


def short_day(day: date) -> str:
    """'3 déc. 2026' in French, 'Dec 3, 2026' in English: a day its reader cannot misread."""
    return str(format_date(day, "medium"))


def local_time(iso: str | None) -> str:
    """A stored UTC time as the shop's local time, to the minute, the language's way."""
    if not iso:
        return ""
    return str(format_datetime(datetime.fromisoformat(iso), "short"))


def local_hour(iso: str) -> str:
    """A stored UTC time as the shop's local hour and minute ('07:05'), for a list of one day."""
    return str(format_time(datetime.fromisoformat(iso), "short"))


def euros(cents: int | None) -> str:
    """Exact cents as the language writes euros: '4,50 €' in French, '€4.50' in English."""
    return "" if cents is None else _euros(cents, str(get_locale()))


@functools.lru_cache(maxsize=1024)
def _euros(cents: int, language: str) -> str:
    """Remembered: Babel takes a third of a millisecond an amount, and a day's receipts and
    charts write hundreds, most of them the same few prices."""
    return str(numbers.format_currency(Decimal(cents).scaleb(-2), "EUR", locale=language))


def number(amount: int) -> str:
    """A count as the language groups digits: '1 000 000' in French, '1,000,000' in English."""
    return str(format_decimal(amount))


def long_day(day: date) -> str:
    """'mercredi 1 juillet 2026' / 'Wednesday, July 1, 2026'."""
    return str(format_date(day, "full"))
