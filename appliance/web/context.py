"""What every page needs: the request's database connection, the config, and shared filters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils
from flask import current_app, g

from appliance.config import Config
from appliance.core.money import format_euros
from appliance.store.db import open_database


def settings() -> Config:
    return current_app.config["COMPTOIR"]


def db() -> sqlite_utils.Database:
    """One connection per request (waitress serves requests in threads), closed at its end."""
    if "db" not in g:
        g.db = open_database(current_app.config["COMPTOIR_DB"], migrate=False)
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.conn.close()


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings().device.timezone)


def local_time(iso: str | None) -> str:
    """A stored UTC time as the shop's local time, to the minute; '' when there is none."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def euros(cents: int | None) -> str:
    return "" if cents is None else format_euros(cents)
