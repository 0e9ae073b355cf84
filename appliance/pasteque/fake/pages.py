"""The fake's own Z read-out (not an API route): every closed session of every register, what
the client sent at the close beside what the fake's tickets add up to, so a person can compare
the till's Z with the box's daily closing (`/fake/z`, and `/fake/z.json` for scripts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from appliance.pasteque.fake import api
from appliance.pasteque.fake.state import FakeState, Struct


def z_report(state: FakeState) -> list[Struct]:
    """One entry per session that has tickets or is closed, oldest first."""
    report = []
    for (register_id, sequence), session in sorted(state.sessions.items()):
        counted = api.summary(state, register_id, sequence)
        if session["closeDate"] is None and not counted["ticketCount"]:
            continue
        register = state.registers[register_id]
        modes = state.payment_modes
        report.append(
            {
                "register": register.reference,
                "sequence": sequence,
                "open_date": session["openDate"],
                "close_date": session["closeDate"],
                "closed": session["closeDate"] is not None,
                "ticket_count": session["ticketCount"],
                "cs": session["cs"],
                "cs_period": session["csPeriod"],
                "cs_fyear": session["csFYear"],
                "cs_perpetual": session["csPerpetual"],
                "payments": [
                    {
                        "reference": modes[p["paymentMode"]].reference,
                        "label": modes[p["paymentMode"]].label,
                        "amount": p["amount"],
                    }
                    for p in session["payments"]
                ],
                "taxes": [
                    {
                        "label": state.taxes[t["tax"]].label,
                        "rate": t["taxRate"],
                        "base": t["base"],
                        "amount": t["amount"],
                    }
                    for t in session["taxes"]
                ],
                "from_tickets": counted,
            }
        )
    return report


def z_page(state: FakeState) -> str:
    rows = []
    for z in z_report(state):
        state_text = "clôturée" if z["closed"] else "ouverte"
        payments = "".join(
            f"<li>{escape(p['label'])} ({escape(p['reference'])}) : {_eur(p['amount'])}</li>"
            for p in z["payments"]
        )
        taxes = "".join(
            f"<li>{escape(t['label'])} : base {_eur(t['base'])}, TVA {_eur(t['amount'])}</li>"
            for t in z["taxes"]
        )
        counted = z["from_tickets"]
        rows.append(
            f"<section><h2>Caisse {escape(z['register'])}, session {z['sequence']} "
            f"({state_text})</h2><p>Ouverte {_when(z['open_date'])}, clôturée "
            f"{_when(z['close_date'])}. Tickets : {z['ticket_count'] or counted['ticketCount']}. "
            f"CA HT : {_eur(z['cs'])} (période {_eur(z['cs_period'])}, exercice "
            f"{_eur(z['cs_fyear'])}, perpétuel {_eur(z['cs_perpetual'])}).</p>"
            f"<h3>Par mode de paiement</h3><ul>{payments or '<li>—</li>'}</ul>"
            f"<h3>Par taux de TVA</h3><ul>{taxes or '<li>—</li>'}</ul>"
            f"<p>Selon les tickets reçus : {counted['ticketCount']} tickets, CA HT "
            f"{_eur(counted['cs'])}.</p></section>"
        )
    body = "".join(rows) or "<p>Aucune session n'a encore de ticket.</p>"
    return (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>Pastèque (fausse) "
        "— clôtures Z</title></head><body><h1>Pastèque (serveur factice) — clôtures Z</h1>"
        f"{body}</body></html>"
    )


def _eur(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} €".replace(".", ",")


def _when(stamp: Any) -> str:
    if stamp is None:
        return "—"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
