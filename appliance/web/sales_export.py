"""The accountant's export: one CSV row per ticket line, with its VAT rate and amounts.

Each line's VAT is its share of its ticket's VAT at that rate, the ticket's VAT being computed
on the rate's total as the receipt prints it (`money.vat_included_cents`); the cent a split
leaves over goes to the ticket's largest line at that rate, so the lines of a ticket always add
up to its receipt. Semicolons and decimal commas, with a BOM: a French spreadsheet opens it as
it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from appliance.core.money import vat_included_cents
from appliance.store.sales_report import TicketLine

COLUMNS = (
    "receipt",
    "date",
    "time",
    "line",
    "sku",
    "product",
    "weight_g",
    "quantity",
    "unit_price",
    "vat_rate",
    "total_incl_vat",
    "vat",
    "total_excl_vat",
)


def line_vat(lines: list[TicketLine]) -> list[int]:
    """The VAT of each line of one ticket, adding up per rate to the receipt's VAT."""
    shares = [vat_included_cents(line.price_cents, line.vat_rate_bp) for line in lines]
    for rate in {line.vat_rate_bp for line in lines}:
        at_rate = [i for i, line in enumerate(lines) if line.vat_rate_bp == rate]
        total = vat_included_cents(sum(lines[i].price_cents for i in at_rate), rate)
        largest = max(at_rate, key=lambda i: (abs(lines[i].price_cents), -i))
        shares[largest] += total - sum(shares[i] for i in at_rate)
    return shares


def rows(lines: Iterable[TicketLine], zone: ZoneInfo) -> Iterator[list[str]]:
    for _receipt, ticket in groupby(lines, key=lambda line: line.receipt_number):
        ticket_lines = list(ticket)
        for line, vat in zip(ticket_lines, line_vat(ticket_lines), strict=True):
            when = datetime.fromisoformat(line.created_at).astimezone(zone)
            yield [
                str(line.receipt_number),
                when.date().isoformat(),
                when.strftime("%H:%M:%S"),
                str(line.line_no),
                line.sku,
                line.name,
                "" if line.weight_g is None else str(line.weight_g),
                str(line.quantity),
                _decimal(line.unit_price_cents),
                _decimal(line.vat_rate_bp).rstrip("0").rstrip(","),
                _decimal(line.price_cents),
                _decimal(vat),
                _decimal(line.price_cents - vat),
            ]


def csv_text(lines: Iterable[TicketLine], zone: ZoneInfo) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(lines, zone))
    return out.getvalue()


def _decimal(hundredths: int) -> str:
    """Cents (or basis points) as a French decimal: 1250 -> '12,50', -5 -> '-0,05'."""
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole},{part:02d}"
