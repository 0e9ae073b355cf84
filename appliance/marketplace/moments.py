"""Timestamps of the sync, and where the next incremental read starts.

Incremental reads start from the server's clock (HTTP Date of the first page) minus an
overlap, so the box's clock never matters and a change made while a read ran is read again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance import clock
from appliance.marketplace.client import Answer

OVERLAP = timedelta(minutes=2)


def next_cursor(first: list[Answer], now: datetime) -> str:
    """The server's clock at the first page, minus the overlap (the box's clock if no Date)."""
    base = datetime.fromisoformat(first[0].date) if first and first[0].date else now
    return clock.iso(base - OVERLAP)


def older_than(moment: str, now: datetime, age: timedelta) -> bool:
    return not moment or now - datetime.fromisoformat(moment) >= age
