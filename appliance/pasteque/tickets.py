"""A completed sale, a refund or a handed-out online order as a Pastèque ticket (§2.4, §5).

Tickets are in the tax-included form Pastèque's own clients use: each line has its unit price
and price VAT included (`taxedUnitPrice`, `taxedPrice`, `finalTaxedPrice`), the tax-excluded
line fields are left null, and the ticket's `taxes` hold, per rate, the base and VAT of the
rate's total. Those are Comptoir's own figures: the VAT in a rate's total rounded half-up once
(`core.money.vat_included_cents`, as on the receipt), the base the rest; the server stores them
as sent. Quantities are kilograms with three decimals for weighed lines, pieces otherwise.

A ticket is built once, when the gateway takes its event from the outbox, and frozen: only its
session's `sequence` is added when it is sent, and that never changes once given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from appliance.core import money
from appliance.core.order import Order
from appliance.core.sale import Basket, Sale
from appliance.pasteque import euros
from appliance.pasteque.mapping import Mapping, Paid

FEES_LABEL = "Frais et ajustements de la commande en ligne"


@dataclass(frozen=True)
class TillLine:
    """One ticket line: `quantity_milli` in thousandths (of a kg, or of a piece)."""

    label: str
    sku: str
    category: str
    quantity_milli: int
    unit_price_cents: int
    price_cents: int
    vat_rate_bp: int


@dataclass(frozen=True)
class TaxFigure:
    tax: int
    rate_bp: int
    base_cents: int
    vat_cents: int


@dataclass(frozen=True)
class CategoryFigure:
    reference: str
    label: str
    tax: int
    base_cents: int
    vat_cents: int


@dataclass(frozen=True)
class Figures:
    """A ticket's money in cents: what a session's close adds up, never read back from floats."""

    total_cents: int
    taxes: tuple[TaxFigure, ...]
    payments: tuple[tuple[int, int], ...]  # (payment mode id, cents)
    categories: tuple[CategoryFigure, ...]

    @property
    def net_cents(self) -> int:
        return self.total_cents - sum(t.vat_cents for t in self.taxes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Figures:
        raw = json.loads(text)
        return cls(
            raw["total_cents"],
            tuple(TaxFigure(**t) for t in raw["taxes"]),
            tuple((m, c) for m, c in raw["payments"]),
            tuple(CategoryFigure(**c) for c in raw["categories"]),
        )


# -- where lines come from ------------------------------------------------------------------------


def sale_lines(sale: Sale, categories: dict[str, str]) -> list[TillLine]:
    """The lines of a kiosk sale (walk-in locker purchases are kiosk sales too).
    `categories` maps skus to the catalogue's category names."""
    return sale_lines_of_basket(sale.basket, categories)


def sale_lines_of_basket(
    basket: Basket, categories: dict[str, str] | None = None, sign: int = 1
) -> list[TillLine]:
    """The lines of a paid basket; `sign` -1 for lines given back (a refund)."""
    categories = categories or {}
    lines = []
    for line in basket.lines:
        milli = line.weight_g if line.weight_g is not None else line.quantity * 1000
        lines.append(
            TillLine(
                label=line.name,
                sku=line.sku,
                category=categories.get(line.sku, ""),
                quantity_milli=sign * milli,
                unit_price_cents=line.unit_price_cents,
                price_cents=sign * line.price_cents,
                vat_rate_bp=line.vat_rate_bp,
            )
        )
    return lines


def order_lines(
    order: Order, vat_of_variant: dict[int, tuple[str, int, str]], default_vat_bp: int
) -> list[TillLine]:
    """An online order handed out here: its lines at the prices paid, and one line for what the
    order's total holds beyond them (fees, or a discount when negative) at the default rate.
    `vat_of_variant` maps variant ids to (sku, VAT rate, category) from the local catalogue."""
    lines = []
    for line in order.lines:
        sku, rate, category = vat_of_variant.get(line.variant_id or 0, ("", default_vat_bp, ""))
        lines.append(
            TillLine(
                label=line.name,
                sku=sku,
                category=category,
                quantity_milli=line.quantity * 1000,
                unit_price_cents=line.price_cents,
                price_cents=line.quantity * line.price_cents,
                vat_rate_bp=rate,
            )
        )
    rest = order.total_cents - sum(line.price_cents for line in lines)
    if rest and order.total_cents:
        lines.append(TillLine(FEES_LABEL, "", "", 1000, rest, rest, default_vat_bp))
    return lines


# -- the ticket -----------------------------------------------------------------------------------


def build(
    mapping: Mapping, lines: list[TillLine], paid: Paid, *, number: int, date_s: int
) -> tuple[dict[str, Any], Figures]:
    """The ticket's JSON (all but `sequence`) and its figures in cents."""
    by_rate: dict[int, int] = {}
    for line in lines:
        by_rate[line.vat_rate_bp] = by_rate.get(line.vat_rate_bp, 0) + line.price_cents
    taxes = tuple(
        TaxFigure(
            mapping.tax_for(rate, _users_of(lines, rate)),
            rate,
            total - vat_in(total, rate),
            vat_in(total, rate),
        )
        for rate, total in sorted(by_rate.items())
    )
    total = sum(by_rate.values())
    mode = mapping.mode_for(paid)
    figures = Figures(total, taxes, ((mode, total),), _categories(mapping, lines, taxes))
    content: dict[str, Any] = {
        "cashRegister": mapping.register_id,
        "number": number,
        "date": date_s,
        "user": mapping.cashier_id,
        "custCount": None,
        "customer": None,
        "tariffArea": None,
        "discountProfile": None,
        "discountRate": 0.0,
        "custBalance": 0.0,
        "price": euros.euros(figures.net_cents),
        "taxedPrice": euros.euros(total),
        "finalPrice": euros.euros(figures.net_cents),
        "finalTaxedPrice": euros.euros(total),
        "lines": [
            {
                "dispOrder": i,
                "product": mapping.products.get(line.sku) if line.sku else None,
                "productLabel": line.label,
                "unitPrice": None,
                "taxedUnitPrice": euros.euros(line.unit_price_cents),
                "quantity": euros.kilograms(line.quantity_milli),
                "price": None,
                "taxedPrice": euros.euros(line.price_cents),
                "tax": mapping.tax_for(line.vat_rate_bp, line.label),
                "taxRate": euros.rate(line.vat_rate_bp),
                "discountRate": 0.0,
                "finalPrice": None,
                "finalTaxedPrice": euros.euros(line.price_cents),
            }
            for i, line in enumerate(lines, start=1)
        ],
        "taxes": [
            {
                "tax": t.tax,
                "taxRate": euros.rate(t.rate_bp),
                "base": euros.euros(t.base_cents),
                "amount": euros.euros(t.vat_cents),
            }
            for t in taxes
        ],
        "payments": [
            {
                "dispOrder": 1,
                "paymentMode": mode,
                "currency": mapping.currency_id,
                "amount": euros.euros(total),
                "currencyAmount": euros.euros(total),
            }
        ],
    }
    return content, figures


def render(contents: Iterable[dict[str, Any]], sequence: int) -> str:
    """The `tickets` form field: the frozen tickets with their session, in the same bytes every
    time they are sent (sorted keys, no spaces)."""
    return "[" + ",".join(_one(c, sequence) for c in contents) + "]"


def _one(content: dict[str, Any], sequence: int) -> str:
    return json.dumps(
        {**content, "sequence": sequence}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def vat_in(total_cents: int, rate_bp: int) -> int:
    """The VAT in a VAT-inclusive total, half-up away from zero (a refund mirrors its sale)."""
    vat = money.vat_included_cents(abs(total_cents), rate_bp)
    return vat if total_cents >= 0 else -vat


def _categories(
    mapping: Mapping, lines: list[TillLine], taxes: tuple[TaxFigure, ...]
) -> tuple[CategoryFigure, ...]:
    """Per category and rate, the rate's VAT shared out by largest remainder, so that the
    categories of a rate add up to the rate's figures to the cent."""
    out: list[CategoryFigure] = []
    for tax in taxes:
        totals: dict[tuple[str, str], int] = {}
        for line in lines:
            if line.vat_rate_bp == tax.rate_bp:
                c = mapping.category_for(line.category)
                totals[(c.reference, c.label)] = totals.get((c.reference, c.label), 0) + (
                    line.price_cents
                )
        for (reference, label), vat in zip(
            totals, share(tax.vat_cents, list(totals.values())), strict=True
        ):
            total = totals[(reference, label)]
            out.append(CategoryFigure(reference, label, tax.tax, total - vat, vat))
    return tuple(out)


def share(amount: int, weights: list[int]) -> list[int]:
    """`amount` split in proportion to `weights`, whole cents, adding up exactly."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    if whole < 0:  # a refund: share the mirror image
        return [-p for p in share(-amount, [-w for w in weights])]
    exact = [amount * w for w in weights]
    parts = [e // whole for e in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] % whole, reverse=True)
    for i in order[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def _users_of(lines: list[TillLine], rate: int) -> str:
    names = sorted({line.label for line in lines if line.vat_rate_bp == rate})
    return ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
