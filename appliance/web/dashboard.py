"""The first page, for the farmer checking the shop from their phone at 7 am: what needs doing
first (alerts), whether the cold chain held overnight, what sold, what waits in the lockers;
then the box itself (processes, sync, the Pastèque till, journal, software)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext

from appliance import clock
from appliance.certificate import web_fingerprint
from appliance.core.locker import Use
from appliance.core.order import OrderState
from appliance.legal import legal_identity
from appliance.store import agent_state, alerts, journal, lockers, orders, sales_report, sync_state
from appliance.store import temperatures as temperature_store
from appliance.store.alerts import Alarm
from appliance.web.context import db, local_zone, settings, today

bp = Blueprint("dashboard", __name__)

#: "Overnight": the cold chain of the last 12 hours.
NIGHT = timedelta(hours=12)
#: Journal entries checked per load at most (about a tenth of a second on a Pi 4): a journal
#: never checked before (a restored box) is checked a little more at each load.
CHECK_PER_LOAD = 2_000


@dataclass(frozen=True)
class ZoneNight:
    zone: str
    limit_mc: int
    last_mc: int | None
    max_mc: int | None
    alarm: bool  # an excursion or sensor alarm is open for the zone

    @property
    def ok(self) -> bool:
        return not self.alarm and self.max_mc is not None and self.max_mc <= self.limit_mc


@dataclass(frozen=True)
class DaySales:
    count: int
    total_cents: int


@bp.route("/")
def show() -> str:
    store = db()
    checked = journal.check_more(store, CHECK_PER_LOAD)
    now = clock.now()
    open_alerts = alerts.open_alerts(store)
    return render_template(
        "dashboard.html",
        dashboard_title=title(),
        legal=legal_identity(),
        certificate=web_fingerprint(settings().device.data_dir),
        open_alerts=open_alerts,
        zones=_night(open_alerts),
        yesterday=_sales_of(1),
        today_sales=_sales_of(0),
        waiting=len(orders.list_orders(store, OrderState.WAITING)),
        in_lockers=len(orders.list_orders(store, OrderState.IN_LOCKER)),
        free=_free_compartments(),
        syncs=sync_state.directions.states(store),
        till=_till(),
        journal=checked,
        processes=[
            (name, beat.beat_at, beat.alive(now))
            for name, beat in sorted(agent_state.heartbeats(store).items())
        ],
    )


def title() -> str:
    """The shop's name, marked once when the box is a demo or in training."""
    cfg = settings()
    mark = {"demo": gettext("(demo)"), "training": gettext("(training)")}.get(cfg.shop.mode, "")
    name = cfg.device.name
    return name if not mark or mark.lower() in name.lower() else f"{name} {mark}"


def _night(open_alerts: list[alerts.Alert]) -> list[ZoneNight]:
    until = clock.now()
    since = until - NIGHT
    alarmed = {
        a.subject
        for a in open_alerts
        if a.kind in (Alarm.TEMPERATURE_EXCURSION, Alarm.TEMPERATURE_SENSOR_FAULT)
    }
    found = []
    for zone in settings().haccp.zones:
        rows = temperature_store.temperatures(
            db(), zone.name, int(since.timestamp()), int(until.timestamp()) + 1
        )
        rule = temperature_store.rule_of(zone)
        found.append(
            ZoneNight(
                zone.name,
                rule.limit_mc,
                rows[-1][1] if rows else None,
                max(t for _, t in rows) if rows else None,
                bool(alarmed & {f"zone {zone.name}", *(f"sensor {s}" for s in zone.sensors)}),
            )
        )
    return found


def _sales_of(days_ago: int) -> DaySales | None:
    """None when the sales cannot be read (a damaged table): the rest of the page still shows."""
    start, end = clock.day_span(today() - timedelta(days=days_ago), local_zone())
    try:
        rows = sales_report.sale_times(db(), settings().device.id, clock.iso(start), clock.iso(end))
    except sqlite3.DatabaseError:
        return None
    return DaySales(len(rows), sum(total for _, total in rows))


def _till() -> dict[str, Any] | None:
    """The Pastèque till link (docs/pasteque.md) when the box is one of its registers: whether
    it sends, what waits, and why not."""
    if not settings().pasteque.enabled:
        return None
    from appliance.pasteque import status

    return status.report(settings(), db(), refused_limit=0)


def _free_compartments() -> tuple[int, int] | None:
    configured = [c.number for c in settings().lockers.compartments]
    if not configured:
        return None
    states = lockers.states(db())
    free = sum(1 for n in configured if n not in states or states[n].use is Use.FREE)
    return free, len(configured)
