"""The one time format: every stored or sent time is aware UTC and compares correctly as text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from appliance import clock


def test_a_local_time_is_written_in_utc_so_times_compare_as_text() -> None:
    paris_morning = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    utc_later = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert clock.iso(paris_morning) == "2026-07-01T07:00:00.000000+00:00"
    assert clock.iso(paris_morning) < clock.iso(utc_later)


def test_a_time_without_a_zone_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        clock.iso(datetime(2026, 7, 1, 9, 0))


def test_now_is_aware_utc_with_microseconds() -> None:
    written = clock.now_iso()
    assert datetime.fromisoformat(written).utcoffset() == timedelta(0)
    assert len(written) == len("2026-07-01T07:00:00.000000+00:00")


def test_the_shops_day_is_its_local_day_even_when_the_clocks_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    start, end = clock.day_span(date(2026, 3, 29), paris)  # clocks go forward at 2:00
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    start, end = clock.day_span(date(2026, 10, 25), timezone(timedelta(hours=-3)))
    assert (start.hour, end - start) == (3, timedelta(hours=24))


def test_the_console_shows_a_stored_time_in_its_local_zone_to_the_minute() -> None:
    paris = ZoneInfo("Europe/Paris")
    this_year = clock.now().year
    assert clock.console_time(f"{this_year}-12-03T13:05:42.123456+00:00", paris) == "03/12 14:05"
    assert clock.console_time("2020-07-01T06:00:00.000000+00:00", paris) == "01/07/2020 08:00"
    assert clock.console_time("not a time") == "not a time"
