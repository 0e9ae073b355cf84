"""Cold-chain rules: excursions judged by temperature and duration, the daily report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.core.haccp import (
    DayRecord,
    DoorOpening,
    Reading,
    ZoneRecord,
    ZoneRule,
    door_open_minutes,
    excursions,
    format_mc,
    lookback,
    report,
    zone_day,
)

T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
RULE = ZoneRule("frigo", limit_mc=4000, allowed=timedelta(minutes=30))


def minutes(temps: list[int], start: datetime = T0) -> list[Reading]:
    return [Reading(start + timedelta(minutes=i), t) for i, t in enumerate(temps)]


def test_a_short_warm_spell_is_not_an_excursion() -> None:
    assert excursions(RULE, minutes([3000] + [6000] * 20 + [3000])) == []


def test_a_zone_above_its_limit_longer_than_allowed_is_an_excursion() -> None:
    [found] = excursions(RULE, minutes([3000] + [5000] * 20 + [7500] * 20 + [3500]))
    assert found.start == T0 + timedelta(minutes=1)
    assert found.end == T0 + timedelta(minutes=41)
    assert found.peak_mc == 7500 and found.duration == timedelta(minutes=40)


def test_an_excursion_still_going_has_no_end() -> None:
    [found] = excursions(RULE, minutes([2000] + [4500] * 40))
    assert found.end is None and found.duration == timedelta(minutes=39)


def test_exactly_at_the_limit_is_not_above_it() -> None:
    assert excursions(RULE, minutes([4000] * 100)) == []


def test_door_open_minutes_are_clipped_to_the_day_and_rounded_up() -> None:
    day_end = T0 + timedelta(days=1)
    openings = [
        DoorOpening(1, T0 - timedelta(minutes=5), T0 + timedelta(minutes=2)),
        DoorOpening(2, T0 + timedelta(hours=3), T0 + timedelta(hours=3, seconds=30)),
        DoorOpening(3, day_end - timedelta(minutes=1), None),
    ]
    assert door_open_minutes(openings, T0, day_end) == 2 + 1 + 1


def test_the_daily_line_gives_min_max_mean_and_excursions() -> None:
    readings = minutes([3000] * 60 + [6000] * 45 + [2000] * 15)
    line = zone_day(RULE, readings, [], T0, T0 + timedelta(days=1))
    assert (line.readings, line.min_mc, line.max_mc) == (120, 2000, 6000)
    assert line.mean_mc == (3000 * 60 + 6000 * 45 + 2000 * 15) // 120
    assert len(line.excursions) == 1


def test_an_excursion_that_began_before_midnight_counts_with_its_whole_duration() -> None:
    start = T0 + timedelta(days=1)
    since = lookback(RULE, start)
    # Warm from 23:00 the day before until 00:40: 100 minutes, all of them reported.
    assert since == start - timedelta(minutes=90)
    readings = tuple(minutes([3000] * 30 + [6000] * 100 + [3000] * 60, start=since))
    [line] = report(DayRecord(start, start + timedelta(days=1), (ZoneRecord(RULE, readings, ()),)))
    [excursion] = line.excursions
    assert excursion.start == start - timedelta(hours=1)
    assert excursion.duration == timedelta(minutes=100)


def test_a_day_without_readings_says_so() -> None:
    line = zone_day(RULE, [], [], T0, T0 + timedelta(days=1))
    assert (line.readings, line.min_mc, line.mean_mc) == (0, None, None)
    assert format_mc(line.min_mc) == "-"


def test_temperatures_are_shown_to_one_decimal() -> None:
    assert [format_mc(v) for v in (4125, -18000, -40, 0, 3950)] == [
        "4.1",
        "-18.0",
        "0.0",
        "0.0",
        "4.0",
    ]
