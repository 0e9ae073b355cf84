"""The box's clock and its one way to write a time: aware UTC, ISO 8601 with microseconds.

Stored times, outbox and MQTT timestamps and marketplace cursors are all written by `iso`, so
any two compare correctly as text. `core` never reads the clock: code that must be testable at a
chosen time takes `now` as an argument, and its caller passes `clock.now()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def _wall() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _wall


def now() -> datetime:
    """The current time, aware, in UTC."""
    return _source()


def iso(moment: datetime) -> str:
    """`moment` as every stored or sent time is written: 2026-07-01T08:30:00.000000+00:00."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment} has no time zone: pass an aware datetime (clock.now())")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    return iso(now())


@contextmanager
def simulated(source: Callable[[], datetime]) -> Iterator[None]:
    """Make `now()` read `source()` instead of the wall clock in this process: only for
    `comptoir sales simulate --date`, which records sales as if made on a past day."""
    global _source
    _source = source
    try:
        yield
    finally:
        _source = _wall


def day_span(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The shop's local `day` as UTC [start, end): 23 or 25 hours on a clock-change day."""
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def console_time(stamp: str, tz: tzinfo | None = None) -> str:
    """A stored time as a person at the console reads it: '03/12 14:05' in its local zone (or
    `tz`), with the year only when it is not this year's; the text itself when it is no time."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        return stamp
    local = moment.astimezone(tz)
    this_year = now().astimezone(tz).year
    return local.strftime("%d/%m %H:%M" if local.year == this_year else "%d/%m/%Y %H:%M")
