"""The cold-chain page: one local day's HACCP report per zone, and its CSV for an inspector.

The figures are those of `comptoir haccp report` (the same report and the same CSV columns), so
what a producer downloads here and what an installer prints on the box always agree. Open
temperature alarms come first: they are what someone must act on today.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template

from appliance.core import haccp
from appliance.store import alerts, temperatures
from appliance.store.alerts import Alarm, Alert
from appliance.web import haccp_pdf
from appliance.web.context import BadDay, day_asked, db, settings, today

bp = Blueprint("temperatures", __name__, url_prefix="/temperatures")

ALERT_KINDS = (Alarm.TEMPERATURE_EXCURSION, Alarm.TEMPERATURE_SENSOR_FAULT)


@bp.route("/")
def show() -> tuple[str, int]:
    try:
        day = day_asked()
    except BadDay as bad:
        return _page(today(), str(bad))
    return _page(day)


@bp.route("/report.csv")
def download() -> Response | tuple[str, int]:
    """The day's report as an attachment, the columns of `comptoir haccp report --csv`."""
    try:
        day = day_asked()
    except BadDay as bad:
        return _page(today(), str(bad))
    cfg = settings()
    text = haccp.report_csv(haccp.report(temperatures.day_record(cfg, db(), day)))
    name = f"haccp-{cfg.device.id}-{day.isoformat()}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/report.pdf")
def download_pdf() -> Response | tuple[str, int]:
    """The day's report to print for the HACCP file or hand to an inspector."""
    try:
        day = day_asked()
    except BadDay as bad:
        return _page(today(), str(bad))
    cfg = settings()
    lines = haccp.report(temperatures.day_record(cfg, db(), day))
    name = f"haccp-{cfg.device.id}-{day.isoformat()}.pdf"
    return Response(
        haccp_pdf.report(cfg, day, lines, _temperature_alerts()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _temperature_alerts() -> list[Alert]:
    store = db()
    found = [alert for kind in ALERT_KINDS for alert in alerts.open_alerts(store, kind)]
    return sorted(found, key=lambda alert: (alert.created_at, alert.id))


def _page(day: date, error: str = "") -> tuple[str, int]:
    """The page for `day`; with `error`, said at the top with status 400."""
    cfg = settings()
    lines = [] if error else haccp.report(temperatures.day_record(cfg, db(), day))
    page = render_template(
        "temperatures.html",
        day=day,
        zones=cfg.haccp.zones,
        lines=[(line, haccp.report_row(line)) for line in lines],
        alerts=_temperature_alerts(),
        config_path=cfg.source or "/etc/comptoir/comptoir.toml",
        error=error,
    )
    return page, 400 if error else 200
