"""The database's health: a quick check at start and every day, a full check weekly at night.

A damaged table raises a `database_damaged` alert naming it (forwarded over MQTT like every
alarm, and shown on the web admin), once per table until someone resolves it. The box keeps
running: what reads a sound table works on, and the web admin says which pages cannot be shown.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.said import said
from appliance.store import alerts
from appliance.store.alerts import Alarm
from appliance.store.db import damaged_tables, open_database, transaction

log = logging.getLogger(__name__)

QUICK_EVERY_S = 24 * 3600
FULL_EVERY_S = 7 * 24 * 3600
#: The full check reads every page: it runs in the night's quiet hours, local time.
NIGHT_HOURS = range(2, 5)


class DatabaseCheck:
    def __init__(
        self,
        db_path: Path,
        timezone: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db_path = db_path
        self.zone = ZoneInfo(timezone)
        self._monotonic = monotonic
        self._quick_at = 0.0  # at once at start
        self._full_at = monotonic() + 3600  # not at start: the first quiet night

    def tick(self) -> None:
        now = self._monotonic()
        full = now >= self._full_at and clock.now().astimezone(self.zone).hour in NIGHT_HOURS
        if not full and now < self._quick_at:
            return
        self._quick_at = now + QUICK_EVERY_S
        if full:
            self._full_at = now + FULL_EVERY_S
        db = open_database(self.db_path, migrate=False)
        try:
            check(db, full=full)
        except sqlite3.Error:
            log.exception("the database check could not run; the agent goes on")
        finally:
            db.close()


def check(db: sqlite3.Connection, *, full: bool = False) -> dict[str, str]:
    """Check the database and alert once per damaged table; returns what was found."""
    damaged = damaged_tables(db, full=full)
    if not damaged:
        log.info("database %s: ok", "integrity_check" if full else "quick_check")
        return damaged
    already = {a.subject for a in alerts.open_alerts(db, Alarm.DATABASE_DAMAGED)}
    for table, problem in damaged.items():
        log.error("database table %s is damaged: %s", table, problem)
        if table in already:
            continue
        with transaction(db):
            alerts.raise_alarm(
                db,
                Alarm.DATABASE_DAMAGED,
                said(
                    "table %(table)s of the database is damaged (%(problem)s): restore it from "
                    "a backup or call the installer",
                    table=table,
                    problem=problem[:200],
                ),
                subject=table,
                table=table,
            )
    return damaged
