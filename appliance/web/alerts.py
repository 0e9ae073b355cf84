"""Open alerts and their resolution by an installer.

An unknown card payment is resolved as charged (its sale is recorded then) or not charged,
through `sales.resolve_unknown`, which closes the alert in the same transaction. Any other
alert is closed with a note saying what was done.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.errors import ComptoirError
from appliance.store import alerts, sales
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.web_users import Role
from appliance.web import words
from appliance.web.auth import actor, record_action, requires
from appliance.web.context import db, settings

log = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
bp.before_request(requires(Role.INSTALLER))

MAX_NOTE = 500


@bp.route("/")
def show() -> tuple[str, int]:
    return _page()


@bp.route("/<id:alert_id>/resolve", methods=["POST"])
def resolve(alert_id: int) -> Any:
    store = db()
    alert = next((a for a in alerts.open_alerts(store) if a.id == alert_id), None)
    if alert is None:
        flash(gettext("Alert %(id)d is no longer open: someone resolved it already.", id=alert_id))
        return redirect(url_for("alerts.show"))
    by = actor()
    if alert.kind == Alarm.PAYMENT_UNKNOWN:
        outcome = request.form.get("outcome", "")
        if outcome not in ("charged", "not_charged"):
            return _page(gettext("Say whether the customer was charged or not."))
        try:
            sale = sales.resolve_unknown(
                store, alert.subject, outcome == "charged", by, device_id=settings().device.id
            )
        except ComptoirError as exc:
            return _page(words.error(exc))
        if sale is None:
            flash(gettext("Alert %(id)d resolved: not charged, no sale recorded.", id=alert_id))
        else:
            flash(
                gettext(
                    "Alert %(id)d resolved: payment charged, sale recorded, receipt %(receipt)d.",
                    id=alert_id,
                    receipt=sale.receipt_number,
                )
            )
    else:
        note = request.form.get("note", "").strip()
        if not note or len(note) > MAX_NOTE:
            return _page(
                gettext("Say what was done (1 to %(max)d characters) to resolve it.", max=MAX_NOTE)
            )
        with transaction(store):
            alerts.resolve_about(store, alert.kind, alert.subject, by, note)
        flash(gettext("Alert %(id)d resolved.", id=alert_id))
    record_action("alert_resolved", alert=alert.kind, subject=alert.subject)
    log.info("alert %s (%s) resolved by %s", alert_id, alert.kind, by)
    return redirect(url_for("alerts.show"))


def _page(error: str = "") -> tuple[str, int]:
    """The page; with `error`, said at the top with status 400 (nothing was resolved)."""
    page = render_template("alerts.html", error=error, alerts=alerts.open_alerts(db()))
    return page, 400 if error else 200
