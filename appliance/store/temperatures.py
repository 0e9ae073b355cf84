"""The cold-chain record: temperatures of each zone, and the daily HACCP summary of a zone.

Readings are stored here by `record_temperatures` (Unix seconds and millidegrees, for volume);
`day_record` returns what `core.haccp.report` turns into the inspector's day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.config import Config, HaccpZone
from appliance.core import haccp
from appliance.store import lockers
from appliance.store.db import transaction


def record_temperatures(
    db: sqlite3.Connection, readings: Iterable[tuple[str, int, str, int]]
) -> int:
    """Store (zone, Unix seconds, sensor, millidegrees) rows; returns how many."""
    rows = list(readings)
    with transaction(db):
        db.executemany(
            "INSERT OR REPLACE INTO temperature_readings (zone, ts, sensor, temp_mc) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def temperatures(
    db: sqlite3.Connection, zone: str, since: int, until: int
) -> list[tuple[int, int]]:
    """(Unix seconds, millidegrees) of a zone in [since, until), oldest first; with several
    sensors in a zone, the warmest one at each time (the food at risk)."""
    return db.execute(
        "SELECT ts, max(temp_mc) FROM temperature_readings WHERE zone = ? AND ts >= ? "
        "AND ts < ? GROUP BY ts ORDER BY ts",
        (zone, since, until),
    ).fetchall()


def rule_of(zone: HaccpZone) -> haccp.ZoneRule:
    return haccp.ZoneRule(zone.name, zone.limit_c * 1000, timedelta(minutes=zone.allowed_min))


def day_record(cfg: Config, db: sqlite3.Connection, day: date) -> haccp.DayRecord:
    """What `haccp.report` needs for the shop's local `day`: each configured zone's readings
    from its `haccp.lookback`, and the openings of the compartments it chills."""
    start, end = clock.day_span(day, ZoneInfo(cfg.device.timezone))
    zones = []
    for zone in cfg.haccp.zones:
        rule = rule_of(zone)
        doors = [c.number for c in cfg.lockers.compartments if c.zone == zone.name]
        readings = zone_readings(db, zone.name, haccp.lookback(rule, start), end)
        openings = lockers.door_openings(db, doors, clock.iso(start), clock.iso(end))
        zones.append(haccp.ZoneRecord(rule, tuple(readings), tuple(openings)))
    return haccp.DayRecord(start, end, tuple(zones))


def zone_readings(
    db: sqlite3.Connection, zone: str, since: datetime, until: datetime
) -> list[haccp.Reading]:
    rows = temperatures(db, zone, int(since.timestamp()), int(until.timestamp()))
    return [haccp.Reading(datetime.fromtimestamp(ts, UTC), temp) for ts, temp in rows]
