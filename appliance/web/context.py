"""What every page needs: the request's database connection, the config, and shared filters."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, request

from appliance.config import Config
from appliance.core.money import format_euros
from appliance.store.db import open_database


def settings() -> Config:
    return current_app.config["COMPTOIR"]


def db() -> sqlite3.Connection:
    """One connection per request (waitress serves requests in threads), closed at its end."""
    if "db" not in g:
        g.db = open_database(current_app.config["COMPTOIR_DB"], migrate=False)
    return g.db


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
    return datetime.now(local_zone()).date()


def day_asked() -> date:
    """The `day` of the query string, today when there is none; BadDay when it is not a day
    from 2000 to today (far dates would overflow the time conversions)."""
    text = request.args.get("day", "").strip()
    now = today()
    if not text:
        return now
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadDay(f"{text[:40]} is not a date: pick one, such as {now}.") from None
    if not FIRST_DAY <= day <= now:
        raise BadDay(f"{day} cannot be shown: pick a day from {FIRST_DAY} to today ({now}).")
    return day


def local_time(iso: str | None) -> str:
    """A stored UTC time as the shop's local time, to the minute; '' when there is none."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def euros(cents: int | None) -> str:
    return "" if cents is None else format_euros(cents)
