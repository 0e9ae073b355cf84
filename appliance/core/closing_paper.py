"""A closing (Z) as printed on the kiosk's roll, and the figures every closing document shows.
Pure.

The paper holds the signed record's own figures (`closings.as_document`), nothing computed
again: period, tickets covered, totals per VAT rate and per payment method, the running and
perpetual totals, then the hash and the whole signature, so the paper can be checked against
the box's public key. French, like the receipts; each line fits `width` characters.
"""

from __future__ import annotations

import textwrap
from typing import Any

from appliance.core.money import format_euros
from appliance.core.receipt import MODE_MARKS, spread

#: (label, key) of the figures every closing document shows, in order.
FIGURES = (
    ("Tickets", "tickets"),
    ("Total TTC", "total_cents"),
    ("Total HT", "total_excl_vat_cents"),
    ("TVA", "vat_cents"),
    ("Cumul de la période (mois)", "period_total_cents"),
    ("Cumul de l'exercice", "year_total_cents"),
    ("Grand total perpétuel", "perpetual_total_cents"),
    ("Grand total perpétuel (valeur absolue)", "perpetual_abs_total_cents"),
)
MONEY = frozenset(key for _, key in FIGURES if key.endswith("_cents"))
KINDS = {"day": "journalière", "month": "mensuelle", "year": "annuelle"}


def closing_lines(z: dict[str, Any], width: int = 32) -> list[str]:
    """The closing `z` (a closing document), top to bottom."""
    rule = "-" * width
    mark = MODE_MARKS.get(z.get("mode", ""), "")
    marks = [f"*** {mark} ***".center(width).rstrip()] if mark else []
    lines = [*marks, f"CLÔTURE {KINDS[z['period']].upper()}".center(width).rstrip()]
    lines += [f"Z n° {z['number']} - {z['label']}".center(width).rstrip(), rule]
    if z.get("shop"):
        lines.append(z["shop"][:width])
    lines.append(spread("Borne", z["box"], width))
    if z.get("siret"):
        lines.append(spread("SIRET", z["siret"], width))
    lines += [
        f"Du {_local(z['start'])}",
        f"au {_local(z['end'])} (exclu)",
        spread("Tickets n°", f"{z['first_ticket']} à {z['last_ticket']}", width),
        rule,
    ]
    for label, key in FIGURES:
        value = format_euros(z[key]) if key in MONEY else str(z[key])
        lines += _figure(label, value, width)
    lines += [rule, spread("TVA", "HT / TVA / TTC", width)]
    for vat in z["by_vat"]:
        rate = f"{vat['rate_bp'] / 100:g}".replace(".", ",") + " %"
        amounts = (vat["total_cents"] - vat["vat_cents"], vat["vat_cents"], vat["total_cents"])
        lines.append(
            spread(rate, " / ".join(format_euros(c, symbol=False) for c in amounts), width)
        )
    if z.get("training_tickets"):
        lines += [
            rule,
            f"Formation : {z['training_tickets']} tickets"[:width],
            spread("hors chiffres", format_euros(z["training_total_cents"]), width),
        ]
    lines += [rule, "Par moyen de paiement"]
    for payment in z["by_payment"]:
        lines.append(
            spread(_method(payment["method"]), format_euros(payment["total_cents"]), width)
        )
    lines += [
        rule,
        *textwrap.wrap(f"Faite le {_local(z['ts'])} UTC par {z['made_by']}", width),
        "Empreinte SHA-256 :",
        *_cut(z["hash"], width),
        "Signature Ed25519 :",
        *_cut(z["signature"], width),
        *marks,
    ]
    return lines


def _figure(label: str, value: str, width: int) -> list[str]:
    """One figure on one line, or its label (wrapped) above its value when both do not fit."""
    if len(label) + len(value) + 1 <= width:
        return [spread(label, value, width)]
    return [*textwrap.wrap(label, width), value.rjust(width)]


def _local(moment: str) -> str:
    """`2026-11-03T00:00:00+01:00` as `03/11/2026 00:00` (the offset is the document's)."""
    day, _, rest = moment.partition("T")
    year, month, dom = day.split("-")
    return f"{dom}/{month}/{year} {rest[:5]}"


def _method(method: str) -> str:
    return {"card": "Carte bancaire"}.get(method, method)


def _cut(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]
