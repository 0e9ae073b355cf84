"""What a signed sale ticket says (the `data` of a `ticket` or `training` record). Pure.

Everything an inspector asks of a ticket (LNE exigence 3, BOFiP): the box, the receipt number,
every line (label, quantity or net weight, unit price, price, VAT rate), the total incl. VAT,
excl. VAT and the VAT per rate, each payment with its method and amount, the software version.
A refund is a ticket of its own with negative amounts that names the ticket it refunds.
"""

from __future__ import annotations

from typing import Any

from appliance.core.money import vat_included_cents
from appliance.core.sale import Sale, SaleLine

CARD = "card"


def sale_ticket(sale: Sale, *, mode: str, journal_seq: int, software: str) -> dict[str, Any]:
    """The ticket of a paid sale."""
    vat = [
        {"rate_bp": v.rate_bp, "total_cents": v.total_cents, "vat_cents": v.vat_cents}
        for v in sale.basket.vat_breakdown()
    ]
    return {
        "kind": "sale",
        "box": sale.device_id,
        "mode": mode,
        "receipt": sale.receipt_number,
        "attempt": sale.attempt_id,
        "journal_seq": journal_seq,
        "lines": [_line(line) for line in sale.basket.lines],
        "total_cents": sale.total_cents,
        "total_excl_vat_cents": sale.total_cents - sum(v["vat_cents"] for v in vat),
        "vat": vat,
        "payments": [
            {
                "method": CARD,
                "total_cents": sale.total_cents,
                "reference": sale.payment.reference,
                "card_application": sale.payment.card_application,
            }
        ],
        "refund_of": None,
        "software": software,
    }


def refund_ticket(
    original: dict[str, Any],
    original_number: int,
    line_numbers: list[int],
    *,
    mode: str,
    reason: str,
    by: str,
    software: str,
) -> dict[str, Any]:
    """A negative ticket for some lines (numbered from 1) of `original`, or all of them."""
    lines = original["lines"]
    chosen = line_numbers or list(range(1, len(lines) + 1))
    for number in chosen:
        if not 1 <= number <= len(lines):
            raise ValueError(f"ticket {original_number} has no line {number} (1 to {len(lines)})")
    if len(set(chosen)) != len(chosen):
        raise ValueError("a line is named twice: name each line to refund once")
    refunded = [{**lines[n - 1], "price_cents": -lines[n - 1]["price_cents"]} for n in chosen]
    per_rate: dict[int, int] = {}
    for line in refunded:
        per_rate[line["vat_rate_bp"]] = per_rate.get(line["vat_rate_bp"], 0) + line["price_cents"]
    vat = [
        {"rate_bp": rate, "total_cents": total, "vat_cents": -vat_included_cents(-total, rate)}
        for rate, total in sorted(per_rate.items())
    ]
    total = sum(line["price_cents"] for line in refunded)
    return {
        "kind": "refund",
        "box": original["box"],
        "mode": mode,
        "receipt": None,
        "attempt": None,
        "journal_seq": None,
        "lines": refunded,
        "total_cents": total,
        "total_excl_vat_cents": total - sum(v["vat_cents"] for v in vat),
        "vat": vat,
        "payments": [
            {"method": CARD, "total_cents": total, "reference": "", "card_application": ""}
        ],
        "refund_of": {"number": original_number, "lines": chosen, "reason": reason, "by": by},
        "software": software,
    }


def _line(line: SaleLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "sold_by": line.sold_by.value,
        "quantity": line.quantity,
        "weight_g": line.weight_g,
        "tare_g": line.tare_g,
        "unit_price_cents": line.unit_price_cents,
        "price_cents": line.price_cents,
        "vat_rate_bp": line.vat_rate_bp,
        "scale_computed": line.scale_computed,
    }
