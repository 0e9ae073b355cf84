"""Cold-chain rules: excursions above a zone's limit, and the daily report for an inspector.

Temperatures are integer millidegrees Celsius, as DS18B20 sensors report them; times are aware
datetimes. An excursion is judged by temperature *and* duration (reference §3.4): a zone above its
limit for longer than its allowed duration. A door left open is the usual cause, so the report
also gives each zone's door-open minutes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ZoneRule:
    zone: str
    limit_mc: int
    allowed: timedelta


@dataclass(frozen=True)
class Reading:
    ts: datetime
    temp_mc: int


@dataclass(frozen=True)
class Excursion:
    zone: str
    start: datetime
    end: datetime | None  # None: still above the limit at the last reading
    peak_mc: int
    last_seen: datetime  # the last reading above the limit

    @property
    def duration(self) -> timedelta:
        return (self.end or self.last_seen) - self.start


@dataclass(frozen=True)
class DoorOpening:
    compartment: int
    opened: datetime
    closed: datetime | None  # None: still open


@dataclass(frozen=True)
class ZoneDay:
    """One line of the daily report."""

    zone: str
    limit_mc: int
    readings: int
    min_mc: int | None
    max_mc: int | None
    mean_mc: int | None
    excursions: tuple[Excursion, ...]
    door_open_minutes: int


@dataclass(frozen=True)
class ZoneRecord:
    """What the store kept of one zone for a day's report."""

    rule: ZoneRule
    readings: tuple[Reading, ...]  # from `lookback(rule, day start)` to the day's end
    openings: tuple[DoorOpening, ...]  # of the zone's doors, overlapping the day


@dataclass(frozen=True)
class DayRecord:
    """The rows one day's report is computed from: the day as UTC [start, end), each zone's."""

    start: datetime
    end: datetime
    zones: tuple[ZoneRecord, ...]


def lookback(rule: ZoneRule, start: datetime) -> datetime:
    """From when readings count for a day starting at `start`: an excursion that began the
    day before is seen whole (its start and duration), not cut at midnight."""
    return start - rule.allowed - timedelta(hours=1)


def report(record: DayRecord) -> list[ZoneDay]:
    """The inspector's day, one line per zone: min, max, mean, excursions, door-open minutes."""
    return [
        zone_day(z.rule, z.readings, z.openings, record.start, record.end) for z in record.zones
    ]


def excursions(rule: ZoneRule, readings: Sequence[Reading]) -> list[Excursion]:
    """Runs of readings above the limit that lasted longer than allowed, in time order.

    A run lasts from its first reading above the limit to the first reading back at or below
    it (or to its last reading when it has not come back yet)."""
    found = []
    run: list[Reading] = []
    for reading in sorted(readings, key=lambda r: r.ts):
        if reading.temp_mc > rule.limit_mc:
            run.append(reading)
            continue
        if run:
            found += _judged(rule, run, end=reading.ts)
            run = []
    if run:
        found += _judged(rule, run, end=None)
    return found


def _judged(rule: ZoneRule, run: list[Reading], end: datetime | None) -> list[Excursion]:
    excursion = Excursion(
        rule.zone, run[0].ts, end, max(r.temp_mc for r in run), last_seen=run[-1].ts
    )
    return [excursion] if excursion.duration > rule.allowed else []


def door_open_minutes(openings: Iterable[DoorOpening], start: datetime, end: datetime) -> int:
    """Minutes doors stood open within [start, end), each door counted on its own, rounded up."""
    seconds = 0.0
    for o in openings:
        opened = max(o.opened, start)
        closed = min(o.closed or end, end)
        if closed > opened:
            seconds += (closed - opened).total_seconds()
    return int(-(-seconds // 60))


def zone_day(
    rule: ZoneRule,
    readings: Sequence[Reading],
    openings: Iterable[DoorOpening],
    start: datetime,
    end: datetime,
) -> ZoneDay:
    """The report line of one zone for the day [start, end): readings outside are ignored
    for min/max/mean, but an excursion that began the day before and lasted into it counts."""
    today = [r.ts for r in readings if start <= r.ts < end]
    temps = [r.temp_mc for r in readings if start <= r.ts < end]
    kept = tuple(
        e for e in excursions(rule, readings) if e.start < end and (e.end or e.last_seen) >= start
    )
    return ZoneDay(
        rule.zone,
        rule.limit_mc,
        len(today),
        min(temps) if temps else None,
        max(temps) if temps else None,
        round(sum(temps) / len(temps)) if temps else None,
        kept,
        door_open_minutes(openings, start, end),
    )


def format_mc(temp_mc: int | None) -> str:
    """1 decimal in °C for people: 4125 -> '4.1'; None -> '-'."""
    if temp_mc is None:
        return "-"
    tenths = (abs(temp_mc) + 50) // 100
    sign = "-" if temp_mc < 0 and tenths else ""
    return f"{sign}{tenths // 10}.{tenths % 10}"


REPORT_COLUMNS = (
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


def report_row(line: ZoneDay) -> dict[str, object]:
    """A report line as people and inspectors read it (the CLI's JSON and CSV, the admin's
    download): temperatures in °C to one decimal, keyed by `REPORT_COLUMNS`."""
    return {
        "zone": line.zone,
        "limit_c": format_mc(line.limit_mc),
        "readings": line.readings,
        "min_c": format_mc(line.min_mc),
        "max_c": format_mc(line.max_mc),
        "mean_c": format_mc(line.mean_mc),
        "excursions": len(line.excursions),
        "excursion_minutes": sum(int(e.duration.total_seconds() // 60) for e in line.excursions),
        "door_open_minutes": line.door_open_minutes,
    }


def report_csv(lines: Iterable[ZoneDay]) -> str:
    """The day's report as CSV for an inspector: a header of `REPORT_COLUMNS`, a row per zone."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report_row(line) for line in lines)
    return out.getvalue()
