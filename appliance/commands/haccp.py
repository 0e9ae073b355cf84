"""`comptoir haccp log` and `comptoir haccp report --date D [--csv]`: the cold-chain record.

`log` reads every configured DS18B20 once, stores the good readings, raises an alarm for a
sensor that cannot be read and for a zone above its limit longer than allowed (once per
excursion, while its alert is open). Run it every `[haccp] interval_s` (the agent or a timer).
`report` prints one line per zone for a local calendar day: readings, min, max, mean,
excursions and door-open minutes, as a table or as CSV for an inspector.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.config import Config, HaccpZone
from appliance.core import haccp
from appliance.devices.sensors.ds18b20 import SensorReading, read_sensor
from appliance.errors import UsageError
from appliance.store import alerts, lockers
from appliance.store.db import open_database

EXCURSION = "temperature_excursion"
SENSOR_FAULT = "temperature_sensor_fault"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("haccp", help="temperature log and daily cold-chain report")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    log = actions.add_parser("log", help="read every sensor once and store the readings")
    add_json_flag(log)
    log.set_defaults(func=run_log)
    report = actions.add_parser("report", help="one line per zone for a day")
    report.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="local day")
    report.add_argument("--csv", action="store_true", help="CSV for an inspector")
    add_json_flag(report)
    report.set_defaults(func=run_report)


@dataclass(frozen=True)
class ZoneReading:
    zone: str
    reading: SensorReading


def rule_of(zone: HaccpZone) -> haccp.ZoneRule:
    return haccp.ZoneRule(zone.name, zone.limit_c * 1000, timedelta(minutes=zone.allowed_min))


def log_once(cfg: Config, db: sqlite_utils.Database, now: datetime) -> list[ZoneReading]:
    """Read, store, and alarm once per problem; returns what each sensor gave."""
    read = [
        ZoneReading(zone.name, read_sensor(cfg.haccp.w1_root, sensor))
        for zone in cfg.haccp.zones
        for sensor in zone.sensors
    ]
    ts = int(now.timestamp())
    lockers.record_temperatures(
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
                SENSOR_FAULT,
                f"sensor {r.reading.sensor}",
                f"sensor {r.reading.sensor} ({r.zone}): {r.reading.problem}",
                now,
            )
    for zone in cfg.haccp.zones:
        rule = rule_of(zone)
        since = now - rule.allowed - timedelta(hours=24)
        readings = _readings(db, zone.name, since, now + timedelta(seconds=1))
        for excursion in haccp.excursions(rule, readings):
            if excursion.end is None:
                minutes = int(excursion.duration.total_seconds() // 60)
                _alarm_once(
                    db,
                    EXCURSION,
                    f"zone {zone.name}",
                    f"zone {zone.name} above {zone.limit_c} °C for {minutes} min "
                    f"(peak {haccp.format_mc(excursion.peak_mc)} °C)",
                    now,
                    zone=zone.name,
                    peak_mc=excursion.peak_mc,
                )
    return read


def report(cfg: Config, db: sqlite_utils.Database, day: date) -> list[haccp.ZoneDay]:
    tz = ZoneInfo(cfg.device.timezone)
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    lines = []
    for zone in cfg.haccp.zones:
        rule = rule_of(zone)
        doors = [c.number for c in cfg.lockers.compartments if c.zone == zone.name]
        # Readings from before the day too, so an excursion that started earlier is seen whole.
        readings = _readings(db, zone.name, start - rule.allowed - timedelta(hours=1), end)
        openings = [
            haccp.DoorOpening(
                c, datetime.fromisoformat(o), datetime.fromisoformat(e) if e else None
            )
            for c, o, e in lockers.door_openings(db, doors, start.isoformat(), end.isoformat())
        ]
        lines.append(haccp.zone_day(rule, readings, openings, start, end))
    return lines


def run_log(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if not cfg.haccp.zones:
        raise UsageError("no [[haccp.zones]] configured: nothing to read")
    read = log_once(cfg, open_database(cfg.database_path), datetime.now(UTC))
    if args.json:
        print_json(
            [
                {
                    "zone": r.zone,
                    "sensor": r.reading.sensor,
                    "temp_mc": r.reading.temp_mc,
                    "problem": r.reading.problem,
                }
                for r in read
            ]
        )
    else:
        for r in read:
            shown = (
                f"{haccp.format_mc(r.reading.temp_mc)} °C"
                if r.reading.temp_mc is not None
                else r.reading.problem
            )
            print(f"{r.zone:<12} {r.reading.sensor:<18} {shown}")
    return 0 if all(r.reading.temp_mc is not None for r in read) else 1


def run_report(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        raise UsageError(f"--date {args.date!r} is not a date like 2026-05-04") from None
    cfg = load_config(args)
    lines = report(cfg, open_database(cfg.database_path), day)
    rows = [_row(line) for line in lines]
    if args.json:
        print_json({"date": day.isoformat(), "zones": rows})
    elif args.csv:
        out = csv.DictWriter(sys.stdout, fieldnames=list(_row_header()), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    else:
        print(f"HACCP {day.isoformat()} ({cfg.device.name}, {cfg.device.timezone})")
        for row in rows:
            print(
                f"{row['zone']:<12} limit {row['limit_c']:>5} °C  {row['readings']:>5} readings  "
                f"min {row['min_c']:>5}  max {row['max_c']:>5}  mean {row['mean_c']:>5}  "
                f"excursions {row['excursions']}  door open {row['door_open_minutes']} min"
            )
    return 0


def _row_header() -> tuple[str, ...]:
    return (
        "zone",
        "limit_c",
        "readings",
        "min_c",
        "max_c",
        "mean_c",
        "excursions",
        "excursion_minutes",
        "door_open_minutes",
    )


def _row(line: haccp.ZoneDay) -> dict[str, object]:
    return {
        "zone": line.zone,
        "limit_c": haccp.format_mc(line.limit_mc),
        "readings": line.readings,
        "min_c": haccp.format_mc(line.min_mc),
        "max_c": haccp.format_mc(line.max_mc),
        "mean_c": haccp.format_mc(line.mean_mc),
        "excursions": len(line.excursions),
        "excursion_minutes": sum(int(e.duration.total_seconds() // 60) for e in line.excursions),
        "door_open_minutes": line.door_open_minutes,
    }


def _readings(
    db: sqlite_utils.Database, zone: str, since: datetime, until: datetime
) -> list[haccp.Reading]:
    rows = lockers.temperatures(db, zone, int(since.timestamp()), int(until.timestamp()))
    return [haccp.Reading(datetime.fromtimestamp(ts, UTC), temp) for ts, temp in rows]


def _alarm_once(
    db: sqlite_utils.Database,
    kind: str,
    subject: str,
    message: str,
    now: datetime,
    **details: object,
) -> None:
    if any(a.subject == subject for a in alerts.open_alerts(db, kind)):
        return
    lockers.raise_alarm(db, kind, None, message, now=now, subject=subject, **details)
