"""The cold-chain page: one local day's HACCP report per zone, and its CSV for an inspector.

The figures are those of `comptoir haccp report` (the same report and the same CSV columns), so
what a producer downloads here and what an installer prints on the box always agree. Open
temperature alarms come first: they are what someone must act on today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, render_template
from flask_babel import format_date, format_time, gettext
from markupsafe import Markup

from appliance import clock
from appliance.core import haccp
from appliance.store import alerts, temperatures
from appliance.store.alerts import Alarm, Alert
from appliance.web import charts, haccp_pdf
from appliance.web.context import (
    BadDay,
    day_asked,
    db,
    local_zone,
    long_day,
    settings,
    today,
)
from appliance.web.words import celsius

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


def _charts(day: date, record: haccp.DayRecord, lines: list[haccp.ZoneDay]) -> list[ZoneCharts]:
    """Each zone's day (with the report's excursions) and the week ending that day."""
    zone = local_zone()
    week_start = clock.day_span(day - timedelta(days=6), zone)[0]
    hours = [record.start + timedelta(hours=h) for h in range(0, 25, 6)]
    day_ticks = [charts.Tick(t, str(format_time(t, "HH:mm"))) for t in hours[:-1]]
    days = [clock.day_span(day - timedelta(days=n), zone)[0] for n in range(6, -1, -1)]
    week_ticks = [charts.Tick(t, str(format_date(t.astimezone(zone), "EEE d"))) for t in days]
    found = []
    for zone_record, line in zip(record.zones, lines, strict=True):
        rule = zone_record.rule
        limit = gettext("limit %(temp)s", temp=celsius(rule.limit_mc))
        week = temperatures.zone_readings(
            db(), rule.zone, haccp.lookback(rule, week_start), record.end
        )
        found.append(
            ZoneCharts(
                rule.zone,
                charts.temperature_chart(
                    gettext(
                        "Temperatures of %(zone)s on %(day)s", zone=rule.zone, day=long_day(day)
                    ),
                    zone_record.readings,
                    rule.limit_mc,
                    line.excursions,
                    record.start,
                    record.end,
                    day_ticks,
                    celsius,
                    limit,
                ),
                charts.temperature_chart(
                    gettext(
                        "Temperatures of %(zone)s, the week to %(day)s",
                        zone=rule.zone,
                        day=long_day(day),
                    ),
                    week,
                    rule.limit_mc,
                    haccp.excursions(rule, week),
                    week_start,
                    record.end,
                    week_ticks,
                    celsius,
                    limit,
                ),
            )
        )
    return found


@dataclass(frozen=True)
class ZoneCharts:
    zone: str
    day: Markup
    week: Markup


def _page(day: date, error: str = "") -> tuple[str, int]:
    """The page for `day`; with `error`, said at the top with status 400."""
    cfg = settings()
    lines: list[haccp.ZoneDay] = []
    zone_charts: list[ZoneCharts] = []
    if not error:
        record = temperatures.day_record(cfg, db(), day)
        lines = haccp.report(record)
        zone_charts = _charts(day, record, lines)
    page = render_template(
        "temperatures.html",
        day=day,
        zones=cfg.haccp.zones,
        charts=zone_charts,
        lines=[(line, haccp.report_row(line)) for line in lines],
        alerts=_temperature_alerts(),
        config_path=cfg.source or "/etc/comptoir/comptoir.toml",
        error=error,
    )
    return page, 400 if error else 200
