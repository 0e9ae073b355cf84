"""Daily, monthly and yearly closings (Z) as signed records of the `closing` chain.

`close(db, settings, Period.DAY, day)` closes that day and every earlier day not closed yet, in
order (a closing missed while the box was off is made later for the right period); a month
first closes its days, a year its months. A period is closed once: asking again returns the
closing already made. Only finished periods close. Each closing also writes a technical event
and a `closing` outbox event (sent over MQTT), in the same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.config import Config
from appliance.core.closing import (
    Period,
    Span,
    closing_data,
    previous_running,
    span,
    totals_of,
)
from appliance.core.fiscal import FiscalRecord, RecordType
from appliance.errors import ComptoirError
from appliance.store import fiscal, outbox, technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind
from appliance.store.tickets import current_mode

#: The smaller period a closing first closes (a month its days, a year its months).
_PARTS = {Period.MONTH: Period.DAY, Period.YEAR: Period.MONTH}


class ClosingError(ComptoirError):
    """The period asked cannot be closed (not over yet, or before this box began)."""


@dataclass(frozen=True)
class ClosingSettings:
    box: str
    zone: ZoneInfo
    fiscal_year_start_month: int
    shop_name: str = ""
    siret: str = ""

    @classmethod
    def of(cls, config: Config) -> ClosingSettings:
        return cls(
            config.device.id,
            ZoneInfo(config.device.timezone),
            config.shop.fiscal_year_start_month,
            config.device.name,
            config.shop.siret,
        )

    def span(self, period: Period, day: date) -> Span:
        return span(period, day, self.fiscal_year_start_month)


def close(
    db: sqlite3.Connection,
    settings: ClosingSettings,
    period: Period,
    day: date,
    *,
    by: str,
    now: datetime | None = None,
) -> list[FiscalRecord]:
    """Close the period holding `day` and any earlier one still open, in one transaction;
    returns the closings made (empty when it was closed already)."""
    now = now or clock.now()
    target = settings.span(period, day)
    if target.end(settings.zone) > now:
        raise ClosingError(
            f"the {period} {target.label} is not over yet: it can be closed from "
            f"{target.end(settings.zone):%Y-%m-%d %H:%M}"
        )
    with transaction(db):
        return _close_up_to(db, settings, target, by)


def run_due(
    db: sqlite3.Connection, settings: ClosingSettings, now: datetime, hour: int, *, by: str
) -> list[FiscalRecord]:
    """What the agent does once the local time is past `hour`: close every finished day, and
    the month and the fiscal year that ended with it. Cheap when nothing is due."""
    local = now.astimezone(settings.zone)
    yesterday = (local - timedelta(days=1 if local.hour >= hour else 2)).date()
    done = closed_until(db)
    if (done is not None and done >= yesterday) or _first_day(db, settings) is None:
        return []
    made = close(db, settings, Period.DAY, yesterday, by=by, now=now)
    for period in (Period.MONTH, Period.YEAR):
        whole = settings.span(period, yesterday)
        if whole.last_day == yesterday:
            made += close(db, settings, period, yesterday, by=by, now=now)
    return made


def _close_up_to(
    db: sqlite3.Connection, settings: ClosingSettings, target: Span, by: str
) -> list[FiscalRecord]:
    made: list[FiscalRecord] = []
    for when in list(_open_spans(db, settings, target)):
        part = _PARTS.get(when.period)
        if part is not None:
            made += _close_up_to(db, settings, settings.span(part, when.last_day), by)
        made.append(_close_one(db, settings, when, by))
    return made


def closings(db: sqlite3.Connection, period: Period | None = None) -> list[FiscalRecord]:
    found = fiscal.records(db, RecordType.CLOSING)
    return [r for r in found if period is None or r.data["period"] == period.value]


def last_closing(db: sqlite3.Connection, period: Period) -> FiscalRecord | None:
    row = db.execute(
        "SELECT number FROM fiscal_records WHERE type = 'closing' "
        "AND json_extract(body, '$.data.period') = ? ORDER BY number DESC LIMIT 1",
        (period.value,),
    ).fetchone()
    return fiscal.get(db, RecordType.CLOSING, row[0]) if row else None


def as_document(record: FiscalRecord) -> dict[str, Any]:
    """A closing as `comptoir closing show --json` prints it and an accountant's tool reads it."""
    return {
        **record.data,
        "number": record.number,
        "ts": record.ts,
        "hash": record.hash,
        "signature": record.signature,
    }


def closed_until(db: sqlite3.Connection) -> date | None:
    """The last day closed, if any (no sale may be recorded as made on or before it)."""
    last = last_closing(db, Period.DAY)
    return date.fromisoformat(last.data["label"]) if last else None


def _close_one(
    db: sqlite3.Connection, settings: ClosingSettings, when: Span, by: str
) -> FiscalRecord:
    before = last_closing(db, when.period)
    running = previous_running(before.data if before else None)
    first = running.last_ticket + 1
    row = db.execute(
        "SELECT max(number) FROM fiscal_records WHERE type = 'ticket' AND number >= ? AND ts < ?",
        (first, when.end_utc(settings.zone)),
    ).fetchone()
    last = row[0] if row[0] is not None else first - 1
    covered = fiscal.records(db, RecordType.TICKET, after=first - 1, until=last)
    totals = totals_of(record.data for record in covered)
    fiscal_year = settings.span(Period.YEAR, when.first).label
    last_hash = _ticket(db, last).hash if last >= 1 else ""
    data = closing_data(
        when,
        settings.zone,
        fiscal_year,
        totals,
        (first, last),
        running,
        box=settings.box,
        shop=settings.shop_name,
        siret=settings.siret,
        mode=current_mode(db),
        last_ticket_hash=last_hash,
        made_by=by,
        **_training_in(db, settings, when),
    )
    record = fiscal.append(db, RecordType.CLOSING, data)
    technical_events.record(
        db,
        EventKind.CLOSING,
        {"closing": record.number, "period": when.period.value, "label": when.label},
        by=by,
    )
    outbox.emit(db, "closing", as_document(record), event_id=f"closing-{record.number}")
    return record


def _training_in(db: sqlite3.Connection, settings: ClosingSettings, when: Span) -> dict[str, int]:
    """How many training tickets were made in the period, and their total: in no figure of
    the closing, but shown on it, so training use is seen where the real figures are."""
    count, total = db.execute(
        "SELECT count(*), coalesce(sum(json_extract(body, '$.data.total_cents')), 0) "
        "FROM fiscal_records WHERE type = 'training' AND ts >= ? AND ts < ?",
        (when.start_utc(settings.zone), when.end_utc(settings.zone)),
    ).fetchone()
    return {"training_tickets": count, "training_total_cents": total}


def _ticket(db: sqlite3.Connection, number: int) -> FiscalRecord:
    """A ticket the closing chains to; missing means the fiscal records were tampered with."""
    record = fiscal.get(db, RecordType.TICKET, number)
    if record is None:
        raise ClosingError(
            f"ticket {number} is missing from the fiscal records, so no closing can be made: "
            "run `comptoir fiscal verify` and call the co-op's support with its output"
        )
    return record


def _open_spans(db: sqlite3.Connection, settings: ClosingSettings, target: Span) -> Iterator[Span]:
    """The periods from the first one not closed up to `target`, in order."""
    period = target.period
    last = last_closing(db, period)
    if last is not None:
        after = date.fromisoformat(last.data["end"][:10])
    else:
        first_day = _first_day(db, settings)
        if first_day is None or first_day >= target.after:
            return  # before this box's first record: nothing to close
        after = settings.span(period, first_day).first
    while after < target.after:
        when = settings.span(period, after)
        yield when
        after = when.after


def _first_day(db: sqlite3.Connection, settings: ClosingSettings) -> date | None:
    """The local day of the box's first ticket or event: its closings start there."""
    row = db.execute(
        "SELECT min(ts) FROM fiscal_records WHERE type IN ('ticket', 'event')"
    ).fetchone()
    if row[0] is None:
        return None
    return datetime.fromisoformat(row[0]).astimezone(settings.zone).date()
