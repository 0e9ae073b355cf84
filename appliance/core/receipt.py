"""The customer's receipt as lines of text, and the link its QR code points to. Pure.

French, like the shop's labels. Each line fits `width` characters (32 on a 58 mm roll, 48 on
80 mm). The card is shown by its last four digits only, whatever the terminal sent. The link
carries the sale's random token: a receipt number alone would let anyone read other receipts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from appliance.core.money import format_euros
from appliance.core.sale import Sale, SaleLine
from appliance.core.weighing import format_weight

#: Caisse-AP CC values a customer recognises (payments-fiscal.md §1.1).
CARD_APPLICATIONS = {
    "001": "CB",
    "00B": "CB sans contact",
    "002": "American Express",
    "00D": "American Express sans contact",
}


@dataclass(frozen=True)
class ReceiptHeader:
    """Who sells, and what identifies the kiosk and its legally relevant software."""

    shop_name: str
    shop_address: str
    device_id: str
    legal_hash: str  # comptoir version --legal; the receipt shows its first 8 characters
    software_version: str


#: What a training or demo box prints on every receipt and label, and shows on every screen.
MODE_MARKS = {"training": "FORMATION", "demo": "DÉMO"}


@dataclass(frozen=True)
class FiscalMark:
    """The signed ticket behind a receipt: its number, a signature extract, the box's mode,
    and the copy number of a reprint (0 for the original)."""

    ticket_number: int
    signature_extract: str
    mode: str = "live"
    copy: int = 0


def receipt_url(base_url: str, sale: Sale) -> str:
    """Where the QR code points; empty when no base URL is configured."""
    if not base_url:
        return ""
    return f"{base_url.rstrip('/')}/{sale.receipt_number}?t={quote(sale.token)}"


def receipt_lines(
    sale: Sale,
    header: ReceiptHeader,
    local_time: str,
    width: int = 32,
    fiscal: FiscalMark | None = None,
) -> list[str]:
    """The receipt, top to bottom; `local_time` is the sale time as the shop reads it."""
    rule = "-" * width
    marks = _marks(fiscal, width)
    lines = [*marks, header.shop_name.center(width).rstrip()]
    lines += [part.strip().center(width).rstrip() for part in header.shop_address.split(",")]
    lines += [rule, spread(f"Ticket n° {sale.receipt_number}", local_time, width), rule]
    for line in sale.basket.lines:
        lines += _sale_line(line, width)
    lines += [rule, spread("TOTAL TTC", format_euros(sale.total_cents), width), ""]
    lines.append(spread("TVA", "HT / TVA / TTC", width))
    for vat in sale.basket.vat_breakdown():
        rate = f"{vat.rate_bp // 100},{vat.rate_bp % 100:02d}".rstrip("0").rstrip(",") + " %"
        amounts = " / ".join(
            format_euros(c, symbol=False) for c in (vat.net_cents, vat.vat_cents, vat.total_cents)
        )
        lines.append(spread(rate, amounts, width))
    card = CARD_APPLICATIONS.get(sale.payment.card_application, "Carte bancaire")
    ending = sale.payment.card_ending
    lines += [
        "",
        spread(card, f"**** {ending}" if ending else "", width),
        spread("Réf. paiement", sale.payment.reference[-12:], width),
        spread("Borne", header.device_id, width),
        spread(f"Logiciel {header.software_version}", header.legal_hash[:8], width),
    ]
    if fiscal is not None:
        lines.append(
            spread(f"N° fiscal {fiscal.ticket_number}", f"sig. {fiscal.signature_extract}", width)
        )
    lines += ["", "Merci de votre visite !".center(width).rstrip(), *marks]
    return lines


def _marks(fiscal: FiscalMark | None, width: int) -> list[str]:
    """DUPLICATA on a reprint, FORMATION or DÉMO on a training or demo box: top and bottom."""
    if fiscal is None:
        return []
    marks = []
    if fiscal.mode in MODE_MARKS:
        marks.append(f"*** {MODE_MARKS[fiscal.mode]} ***".center(width).rstrip())
    if fiscal.copy:
        marks.append(f"*** DUPLICATA n° {fiscal.copy} ***".center(width).rstrip())
    return marks


def _sale_line(line: SaleLine, width: int) -> list[str]:
    if line.weight_g is not None:
        detail = f"{format_weight(line.weight_g, 1)} x {format_euros(line.unit_price_cents)}/kg"
    else:
        detail = f"{line.quantity} x {format_euros(line.unit_price_cents)}"
    return [line.name[:width], spread(f"  {detail}", format_euros(line.price_cents), width)]


def spread(left: str, right: str, width: int) -> str:
    """`left` and `right` on one line, the left cut short when both do not fit."""
    room = max(width - len(right) - 1, 0)
    return f"{left[:room]:<{room}} {right}".rstrip() if right else left[:width]
