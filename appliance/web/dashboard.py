"""The first page: which box this is, which software, and whether anything needs a person."""

from __future__ import annotations

from flask import Blueprint, render_template

from appliance import clock
from appliance.legal import legal_identity
from appliance.store import agent_state, alerts, journal, sync_state
from appliance.web.context import db

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def show() -> str:
    store = db()
    entries, broken = journal.verify(store, since_last_check=True)
    now = clock.now()
    return render_template(
        "dashboard.html",
        legal=legal_identity(),
        open_alerts=len(alerts.open_alerts(store)),
        syncs=sync_state.directions.states(store),
        journal_entries=entries,
        journal_broken=broken,
        processes=[
            (name, beat.beat_at, beat.alive(now))
            for name, beat in sorted(agent_state.heartbeats(store).items())
        ],
    )
