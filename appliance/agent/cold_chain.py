"""Temperature logging in the agent: every `[haccp] interval_s`, read each DS18B20 once.

Good readings are stored; a sensor that cannot be read and a zone above its limit longer than
allowed each raise one alarm (alert + outbox event) while that alert stays open, so the fleet and
the shop hear about it once, not every minute.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.core import haccp
from appliance.devices.sensors.ds18b20 import SensorReading, read_sensor
from appliance.said import Said, said
from appliance.store import alerts
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.temperatures import record_temperatures, rule_of, zone_readings


@dataclass(frozen=True)
class ZoneReading:
    zone: str
    reading: SensorReading


def log_once(cfg: Config, db: sqlite3.Connection, now: datetime) -> list[ZoneReading]:
    """Read, store, and alarm once per problem; returns what each sensor gave."""
    read = [
        ZoneReading(zone.name, read_sensor(cfg.haccp.w1_root, sensor))
        for zone in cfg.haccp.zones
        for sensor in zone.sensors
    ]
    ts = int(now.timestamp())
    record_temperatures(
        db,
        [
            (r.zone, ts, r.reading.sensor, r.reading.temp_mc)
            for r in read
            if r.reading.temp_mc is not None
        ],
    )
    for r in read:
        if r.reading.temp_mc is None:
            _alarm_once(
                db,
                Alarm.TEMPERATURE_SENSOR_FAULT,
                f"sensor {r.reading.sensor}",
                said(
                    "sensor %(sensor)s (%(zone)s): %(problem)s",
                    sensor=r.reading.sensor,
                    zone=r.zone,
                    problem=r.reading.problem,
                ),
                now,
                zone=r.zone,
                sensor=r.reading.sensor,
            )
    for zone in cfg.haccp.zones:
        rule = rule_of(zone)
        since = now - rule.allowed - timedelta(hours=24)
        readings = zone_readings(db, zone.name, since, now + timedelta(seconds=1))
        for excursion in haccp.excursions(rule, readings):
            if excursion.end is None:
                minutes = int(excursion.duration.total_seconds() // 60)
                _alarm_once(
                    db,
                    Alarm.TEMPERATURE_EXCURSION,
                    f"zone {zone.name}",
                    said(
                        "zone %(zone)s above %(limit)s °C for %(minutes)s min (peak %(peak_mc)s)",
                        zone=zone.name,
                        limit=zone.limit_c,
                        minutes=minutes,
                        peak_mc=excursion.peak_mc,
                    ),
                    now,
                    zone=zone.name,
                    peak_mc=excursion.peak_mc,
                )
    return read


def _alarm_once(
    db: sqlite3.Connection,
    alarm: Alarm,
    subject: str,
    message: Said,
    now: datetime,
    **details: Any,
) -> None:
    with transaction(db):
        if any(a.subject == subject for a in alerts.open_alerts(db, alarm)):
            return
        alerts.raise_alarm(db, alarm, message, subject=subject, ts=clock.iso(now), **details)
