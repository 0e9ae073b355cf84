"""Closings (Z): listed, and each downloadable as PDF and CSV for the accountant (docs/fiscal.md),
or printed on the kiosk's roll (a `print_closing` device command: the web never prints itself).

The figures are the signed closing records' own; the documents add nothing to them but layout.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext

from appliance.core.closing_paper import FIGURES, KINDS, MONEY
from appliance.core.fiscal import RecordType
from appliance.core.money import format_euros
from appliance.core.receipt import MODE_MARKS
from appliance.store import closings, device_commands, fiscal
from appliance.store.device_commands import CommandName
from appliance.web.auth import actor, record_action
from appliance.web.context import db, settings
from appliance.web.pdf import Document

bp = Blueprint("closings", __name__, url_prefix="/closings")


@bp.route("/")
def show() -> str:
    found = [closings.as_document(r) for r in reversed(closings.closings(db()))]
    periods = {"day": gettext("day"), "month": gettext("month"), "year": gettext("year")}
    modes = {"demo": gettext("demo"), "training": gettext("training"), "live": ""}
    return render_template(
        "closings.html", closings=found[:400], euros=format_euros, periods=periods, modes=modes
    )


@bp.route("/<int:number>/print", methods=["POST"])
def print_on_kiosk(number: int) -> Any:
    """Ask the kiosk to print closing `number` on its roll; the commands page shows the result."""
    _closing(number)
    device_commands.queue(
        db(), CommandName.PRINT_CLOSING, {"closing": number}, requested_by=actor(), reason="Z"
    )
    record_action("command_queued", command=CommandName.PRINT_CLOSING, closing=number)
    flash(gettext("Closing %(number)d goes to the kiosk's printer within seconds.", number=number))
    return redirect(url_for("closings.show"))


def _closing(number: int) -> dict[str, Any]:
    record = fiscal.get(db(), RecordType.CLOSING, number)
    if record is None:
        abort(404)
    return closings.as_document(record)


def _name(z: dict[str, Any], ext: str) -> str:
    return f"cloture-{settings().device.id}-{z['number']:05d}-{z['period']}-{z['label']}.{ext}"


@bp.route("/<int:number>.csv")
def download_csv(number: int) -> Response:
    """Key, value lines, then one line per VAT rate and per payment method (cents)."""
    z = _closing(number)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["key", "value"])
    for key in (
        "number",
        "period",
        "label",
        "start",
        "end",
        "box",
        "siret",
        "mode",
        "first_ticket",
        "last_ticket",
        *(k for _, k in FIGURES),
        "training_tickets",
        "training_total_cents",
        "hash",
        "signature",
    ):
        writer.writerow([key, z.get(key, "")])
    for vat in z["by_vat"]:
        writer.writerow([f"vat_{vat['rate_bp']}_total_cents", vat["total_cents"]])
        writer.writerow([f"vat_{vat['rate_bp']}_vat_cents", vat["vat_cents"]])
    for payment in z["by_payment"]:
        writer.writerow([f"payment_{payment['method']}_total_cents", payment["total_cents"]])
    return Response(
        out.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_name(z, "csv")}"'},
    )


def _training_fact(z: dict[str, Any]) -> list[tuple[str, str]]:
    """The period's training tickets, in none of the figures, when there were any."""
    if not z.get("training_tickets"):
        return []
    total = format_euros(z["training_total_cents"])
    return [("Formation (hors chiffres)", f"{z['training_tickets']} tickets, {total}")]


@bp.route("/<int:number>.pdf")
def download_pdf(number: int) -> Response:
    z = _closing(number)
    mark = MODE_MARKS.get(z.get("mode", ""), "")
    title = f"Clôture {KINDS[z['period']]} n° {z['number']} — {z['label']}"
    document = Document(
        f"{title} ({mark})" if mark else title,
        footer=f"Comptoir · {z['box']} · clôture {z['number']}",
    )
    document.facts(
        [
            ("Boutique", z.get("shop", "")),
            ("Borne", z["box"]),
            *([("SIRET", z["siret"])] if z.get("siret") else []),
            ("Période", f"{z['start']} → {z['end']} (exclu)"),
            ("Tickets", f"n° {z['first_ticket']} à {z['last_ticket']}"),
            ("Clôture faite le", f"{z['ts']} (UTC) par {z['made_by']}"),
            *_training_fact(z),
        ]
    )
    document.table(
        ["Chiffre", "Montant"],
        [[label, format_euros(z[key]) if key in MONEY else str(z[key])] for label, key in FIGURES],
        widths=(3, 2),
        align=("LEFT", "RIGHT"),
    )
    document.heading("Par taux de TVA")
    document.table(
        ["Taux", "TTC", "TVA", "HT"],
        [
            [
                f"{v['rate_bp'] / 100:g} %",
                format_euros(v["total_cents"]),
                format_euros(v["vat_cents"]),
                format_euros(v["total_cents"] - v["vat_cents"]),
            ]
            for v in z["by_vat"]
        ]
        or [["—", "", "", ""]],
        align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
    )
    document.heading("Par moyen de paiement")
    document.table(
        ["Moyen", "Montant"],
        [[p["method"], format_euros(p["total_cents"])] for p in z["by_payment"]] or [["—", ""]],
        align=("LEFT", "RIGHT"),
    )
    document.paragraph(
        f"Empreinte SHA-256 : {z['hash']}\nSignature Ed25519 : {z['signature']}\n"
        "Vérifiable avec la clé publique de la borne (comptoir version --legal) : "
        "voir docs/fiscal.md.",
        small=True,
    )
    return Response(
        document.bytes(),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_name(z, "pdf")}"'},
    )
