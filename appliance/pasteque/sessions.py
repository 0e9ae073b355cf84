"""Cash sessions that follow the box's daily closing: what opens one and what closes it (§2.3).

The client computes the running totals the server stores (`csPeriod`, `csFYear`, `csPerpetual`
and the per-tax period and year sums): the values the server carried into the session when it
made it, plus this session's. A session in a new month (or fiscal year) than the one before it
starts that level again even if the last Z of the period did not say so, so a month whose last
day had no sale still restarts. `closeType` follows the calendar: 1 on the last day of a month,
2 on the last day of the fiscal year, else 0 (the server then resets what it carries next).
The box holds no cash: opening, closing and expected cash are 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from appliance.pasteque import euros
from appliance.pasteque.mapping import Mapping
from appliance.pasteque.tickets import Figures


@dataclass(frozen=True)
class Running:
    """Sums at one level (period, fiscal year, perpetual) in cents: revenue excl. VAT, and per
    tax its base and VAT."""

    cs_cents: int = 0
    taxes: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Carried:
    """What the server carried into a session before it opened (from `GET /api/cashsession`)."""

    period: Running
    year: Running
    perpetual_cents: int

    @classmethod
    def of(cls, session: dict[str, Any] | None) -> Carried:
        if not session:
            return cls(Running(), Running(), 0)
        return cls(
            _level(session, "csPeriod", "Period"),
            _level(session, "csFYear", "FYear"),
            euros.cents(session.get("csPerpetual") or 0),
        )


def _level(session: dict[str, Any], cs: str, suffix: str) -> Running:
    taxes = [t for t in session.get("taxes") or [] if isinstance(t, dict)]
    return Running(
        euros.cents(session.get(cs) or 0),
        {
            int(t["tax"]): (
                euros.cents(t.get(f"base{suffix}") or 0),
                euros.cents(t.get(f"amount{suffix}") or 0),
            )
            for t in taxes
        },
    )


@dataclass(frozen=True)
class Totals:
    """A session's own figures in cents: what its Z says, for the status and for comparing with
    the box's closing."""

    ticket_count: int
    total_cents: int
    net_cents: int
    taxes: dict[int, tuple[int, int]]  # tax id -> (base, VAT)
    payments: dict[int, int]  # payment mode id -> amount

    @classmethod
    def of(cls, figures: list[Figures]) -> Totals:
        taxes: dict[int, tuple[int, int]] = {}
        payments: dict[int, int] = {}
        for f in figures:
            for t in f.taxes:
                base, vat = taxes.get(t.tax, (0, 0))
                taxes[t.tax] = (base + t.base_cents, vat + t.vat_cents)
            for mode, cents in f.payments:
                payments[mode] = payments.get(mode, 0) + cents
        return cls(
            len(figures),
            sum(f.total_cents for f in figures),
            sum(f.net_cents for f in figures),
            taxes,
            payments,
        )


def close_type(day: date, fiscal_year_start: tuple[int, int] = (1, 1)) -> int:
    """0 a day's Z, 1 the last Z of a month, 2 the last Z of the fiscal year."""
    tomorrow = day + timedelta(days=1)
    if (tomorrow.month, tomorrow.day) == fiscal_year_start:
        return 2
    return 1 if tomorrow.day == 1 else 0


def fiscal_year_of(day: date, fiscal_year_start: tuple[int, int] = (1, 1)) -> int:
    """The year the fiscal year holding `day` starts in."""
    return day.year if (day.month, day.day) >= fiscal_year_start else day.year - 1


def open_body(
    mapping: Mapping, sequence: int, *, continuous: bool, open_date_s: int
) -> dict[str, Any]:
    return {
        "cashRegister": mapping.register_id,
        "sequence": sequence,
        "continuous": continuous,
        "openDate": open_date_s,
        "openCash": 0.0,
    }


def close_body(
    mapping: Mapping,
    sequence: int,
    *,
    continuous: bool,
    open_date_s: int,
    close_date_s: int,
    figures: list[Figures],
    carried: Carried,
    new_period: bool,
    new_year: bool,
    kind: int,
) -> dict[str, Any]:
    """The close of session `sequence` with the totals the server expects."""
    own = Totals.of(figures)
    period = _plus(Running() if new_period else carried.period, own)
    year = _plus(Running() if new_year else carried.year, own)
    categories: dict[tuple[str, str], int] = {}
    cat_taxes: dict[tuple[int, str, str], tuple[int, int]] = {}
    for f in figures:
        for c in f.categories:
            categories[(c.reference, c.label)] = (
                categories.get((c.reference, c.label), 0) + c.base_cents
            )
            base, vat = cat_taxes.get((c.tax, c.reference, c.label), (0, 0))
            cat_taxes[(c.tax, c.reference, c.label)] = (base + c.base_cents, vat + c.vat_cents)
    rates = {t.tax: t.rate_bp for f in figures for t in f.taxes}
    rates.update({tax: rate for rate, tax in mapping.taxes.items() if tax not in rates})
    tax_ids = sorted(set(own.taxes) | set(period.taxes) | set(year.taxes))
    return {
        "cashRegister": mapping.register_id,
        "sequence": sequence,
        "continuous": continuous,
        "openDate": open_date_s,
        "openCash": 0.0,
        "closeDate": close_date_s,
        "closeCash": 0.0,
        "expectedCash": 0.0,
        "ticketCount": own.ticket_count,
        "custCount": None,
        "cs": euros.euros(own.net_cents),
        "csPeriod": euros.euros(period.cs_cents),
        "csFYear": euros.euros(year.cs_cents),
        "csPerpetual": euros.euros(carried.perpetual_cents + own.net_cents),
        "closeType": kind,
        "payments": [
            {
                "paymentMode": mode,
                "currency": mapping.currency_id,
                "amount": euros.euros(cents),
                "currencyAmount": euros.euros(cents),
            }
            for mode, cents in sorted(own.payments.items())
        ],
        "taxes": [
            {
                "tax": tax,
                "taxRate": euros.rate(rates.get(tax, 0)),
                "base": euros.euros(own.taxes.get(tax, (0, 0))[0]),
                "amount": euros.euros(own.taxes.get(tax, (0, 0))[1]),
                "basePeriod": euros.euros(period.taxes.get(tax, (0, 0))[0]),
                "amountPeriod": euros.euros(period.taxes.get(tax, (0, 0))[1]),
                "baseFYear": euros.euros(year.taxes.get(tax, (0, 0))[0]),
                "amountFYear": euros.euros(year.taxes.get(tax, (0, 0))[1]),
            }
            for tax in tax_ids
        ],
        "catSales": [
            {"reference": reference, "label": label, "amount": euros.euros(cents)}
            for (reference, label), cents in sorted(categories.items())
        ],
        "catTaxes": [
            {
                "tax": tax,
                "reference": reference,
                "label": label,
                "base": euros.euros(base),
                "amount": euros.euros(vat),
            }
            for (tax, reference, label), (base, vat) in sorted(cat_taxes.items())
        ],
        "custBalances": [],
    }


def _plus(level: Running, own: Totals) -> Running:
    taxes = dict(level.taxes)
    for tax, (base, vat) in own.taxes.items():
        old_base, old_vat = taxes.get(tax, (0, 0))
        taxes[tax] = (old_base + base, old_vat + vat)
    return Running(level.cs_cents + own.net_cents, taxes)


def render(body: dict[str, Any]) -> str:
    """The `session` form field, in the same bytes every time it is sent."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class ServerZ:
    """A closed session as the server holds it, read back into cents and basis points, to be
    compared with the box's daily closing."""

    sequence: int
    open_date_s: int
    close_date_s: int
    tickets: int
    net_cents: int
    perpetual_cents: int
    by_payment: dict[str, int]  # payment mode reference -> amount
    by_vat: dict[int, tuple[int, int]]  # VAT rate in basis points -> (base, VAT)

    @property
    def total_cents(self) -> int:
        return sum(self.by_payment.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "open_date": self.open_date_s,
            "close_date": self.close_date_s,
            "tickets": self.tickets,
            "total_cents": self.total_cents,
            "total_excl_vat_cents": self.net_cents,
            "perpetual_excl_vat_cents": self.perpetual_cents,
            "by_payment": [
                {"mode": m, "total_cents": c} for m, c in sorted(self.by_payment.items())
            ],
            "by_vat": [
                {"rate_bp": rate, "total_cents": base + vat, "vat_cents": vat, "base_cents": base}
                for rate, (base, vat) in sorted(self.by_vat.items())
            ],
        }


def read_z(session: dict[str, Any], mapping: Mapping) -> ServerZ:
    rates = {tax: rate for rate, tax in mapping.taxes.items()}
    by_payment: dict[str, int] = {}
    for p in session.get("payments") or []:
        mode = mapping.mode_references.get(int(p["paymentMode"]), str(p["paymentMode"]))
        by_payment[mode] = by_payment.get(mode, 0) + euros.cents(p.get("amount") or 0)
    by_vat: dict[int, tuple[int, int]] = {}
    for t in session.get("taxes") or []:
        base, vat = euros.cents(t.get("base") or 0), euros.cents(t.get("amount") or 0)
        if base or vat:
            rate = rates.get(int(t["tax"]), euros.basis_points(t.get("taxRate") or 0))
            old_base, old_vat = by_vat.get(rate, (0, 0))
            by_vat[rate] = (old_base + base, old_vat + vat)
    return ServerZ(
        int(session.get("sequence") or 0),
        int(session.get("openDate") or 0),
        int(session.get("closeDate") or 0),
        int(session.get("ticketCount") or 0),
        euros.cents(session.get("cs") or 0),
        euros.cents(session.get("csPerpetual") or 0),
        by_payment,
        by_vat,
    )
