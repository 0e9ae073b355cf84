"""Closings (Z): the periods they cover and the figures they hold. Pure.

A day, a month or a fiscal year in the shop's local time. A closing covers a contiguous run of
ticket numbers: every ticket after the previous closing of the same period, up to the last one
stamped before the period's end, so no ticket is ever left out or counted twice, even when the
clock went backwards. Its figures are the sums of those tickets; the running totals (month to
date, fiscal year to date, perpetual) carry on from the previous closing of the same period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Span:
    """One period: its first local day and the day after its last."""

    period: Period
    first: date
    after: date
    label: str

    def start(self, zone: tzinfo) -> datetime:
        return datetime.combine(self.first, time(), zone)

    def end(self, zone: tzinfo) -> datetime:
        return datetime.combine(self.after, time(), zone)

    def start_utc(self, zone: tzinfo) -> str:
        return self.start(zone).astimezone(UTC).isoformat(timespec="microseconds")

    def end_utc(self, zone: tzinfo) -> str:
        return self.end(zone).astimezone(UTC).isoformat(timespec="microseconds")

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.after.toordinal() - 1)


def span(period: Period, day: date, fiscal_year_start_month: int = 1) -> Span:
    """The day, calendar month or fiscal year holding `day`."""
    if period is Period.DAY:
        return Span(period, day, date.fromordinal(day.toordinal() + 1), day.isoformat())
    if period is Period.MONTH:
        first = day.replace(day=1)
        return Span(period, first, _add_months(first, 1), f"{first:%Y-%m}")
    start_year = day.year if day.month >= fiscal_year_start_month else day.year - 1
    first = date(start_year, fiscal_year_start_month, 1)
    after = _add_months(first, 12)
    label = str(start_year) if fiscal_year_start_month == 1 else f"{start_year}-{start_year + 1}"
    return Span(period, first, after, label)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Totals:
    """Sums over tickets: count, incl. VAT, per VAT rate (total, VAT), per payment method."""

    tickets: int = 0
    total_cents: int = 0
    abs_total_cents: int = 0
    by_vat: dict[int, tuple[int, int]] = field(default_factory=dict)
    by_payment: dict[str, int] = field(default_factory=dict)

    @property
    def vat_cents(self) -> int:
        return sum(vat for _, vat in self.by_vat.values())

    @property
    def total_excl_vat_cents(self) -> int:
        return self.total_cents - self.vat_cents


def totals_of(tickets: Iterable[dict[str, Any]]) -> Totals:
    """The sums of tickets' `data` (as recorded by store/tickets.py)."""
    count = total = absolute = 0
    by_vat: dict[int, tuple[int, int]] = {}
    by_payment: dict[str, int] = {}
    for data in tickets:
        count += 1
        total += data["total_cents"]
        absolute += abs(data["total_cents"])
        for vat in data["vat"]:
            seen = by_vat.get(vat["rate_bp"], (0, 0))
            by_vat[vat["rate_bp"]] = (seen[0] + vat["total_cents"], seen[1] + vat["vat_cents"])
        for payment in data["payments"]:
            method = payment["method"]
            by_payment[method] = by_payment.get(method, 0) + payment["total_cents"]
    return Totals(count, total, absolute, by_vat, by_payment)


@dataclass(frozen=True)
class Running:
    """What a closing carries on from the previous closing of the same period."""

    last_ticket: int = 0
    month_total_cents: int = 0  # month to date, for daily closings
    month: str = ""
    year_total_cents: int = 0
    year: str = ""
    perpetual_total_cents: int = 0
    perpetual_abs_total_cents: int = 0


def previous_running(data: dict[str, Any] | None) -> Running:
    """The running totals a closing record left (none before the first)."""
    if data is None:
        return Running()
    return Running(
        data["last_ticket"],
        data["period_total_cents"],
        data["month"],
        data["year_total_cents"],
        data["fiscal_year"],
        data["perpetual_total_cents"],
        data["perpetual_abs_total_cents"],
    )


def closing_data(
    when: Span,
    zone: tzinfo,
    fiscal_year: str,
    totals: Totals,
    tickets: tuple[int, int],
    before: Running,
    **extra: Any,
) -> dict[str, Any]:
    """The `data` of a closing record; `tickets` is the (first, last) ticket number covered
    (last < first when none)."""
    month = f"{when.first:%Y-%m}"
    if when.period is Period.DAY:
        carried = before.month_total_cents if before.month == month else 0
        period_total = carried + totals.total_cents
    else:
        period_total = totals.total_cents
    year_carried = before.year_total_cents if before.year == fiscal_year else 0
    return {
        **extra,
        "period": when.period.value,
        "label": when.label,
        "start": when.start(zone).isoformat(),
        "end": when.end(zone).isoformat(),
        "month": month,
        "fiscal_year": fiscal_year,
        "first_ticket": tickets[0],
        "last_ticket": tickets[1],
        "tickets": totals.tickets,
        "total_cents": totals.total_cents,
        "total_excl_vat_cents": totals.total_excl_vat_cents,
        "vat_cents": totals.vat_cents,
        "by_vat": [
            {"rate_bp": rate, "total_cents": total, "vat_cents": vat}
            for rate, (total, vat) in sorted(totals.by_vat.items())
        ],
        "by_payment": [
            {"method": method, "total_cents": total}
            for method, total in sorted(totals.by_payment.items())
        ],
        "period_total_cents": period_total,
        "year_total_cents": year_carried + totals.total_cents,
        "perpetual_total_cents": before.perpetual_total_cents + totals.total_cents,
        "perpetual_abs_total_cents": before.perpetual_abs_total_cents + totals.abs_total_cents,
    }
