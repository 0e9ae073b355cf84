"""How the till gateway is doing, from what it keeps in the database (so it is true even when
the agent is down): for `comptoir pasteque status`, the MQTT telemetry and the command.

States: `off` (not enabled), `never` (no round yet), `ok`, `failing` (the last round failed:
the server down, slow or refusing the login), `stopped` (a mapping it cannot make: a missing
tax or payment mode), `waiting_closing` (tickets of a later day wait for the box's closing of
an earlier one).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from appliance.config import Config
from appliance.pasteque import intake
from appliance.pasteque.mapping import Mapping, register_reference
from appliance.pasteque.tickets import Figures
from appliance.store import pasteque


def report(config: Config, db: sqlite3.Connection, *, refused_limit: int = 20) -> dict[str, Any]:
    """The whole status, JSON-ready."""
    if not config.pasteque.enabled:
        return {"enabled": False, "state": "off"}
    state = pasteque.gateway(db)
    mapping = Mapping.from_json(state.mapping) if state.mapping else None
    waiting_sessions = pasteque.sessions(db, open_only=True)
    current = next((s for s in waiting_sessions if s.closing is None), None)
    blocked = [s for s in waiting_sessions if s.closing is None]
    counts = pasteque.counts(db)
    body: dict[str, Any] = {
        "enabled": True,
        "state": _state(state, len(blocked) > 1),
        "server": config.pasteque.url,
        "register": register_reference(config),
        "server_version": mapping.server_version if mapping else "",
        "last_attempt_at": state.last_attempt_at,
        "last_success_at": state.last_success_at,
        "last_failure_at": state.last_failure_at,
        "last_failure": state.last_failure,
        "failures_in_row": state.failures_in_row,
        "retry_at": state.retry_at,
        "stopped": state.stopped,
        "events_not_taken": intake.waiting(db),
        **counts,
        "sessions_to_close": sum(1 for s in waiting_sessions if s.closing is not None),
        "current_session": _session(db, current) if current else None,
        "refused": [
            {"number": t.number, "source": t.source, "error": t.last_error[:500]}
            for t in pasteque.tickets(db, state="refused", limit=refused_limit)
        ],
    }
    if len(blocked) > 1:
        body["waiting_for_closing_of"] = blocked[0].day
    return body


def telemetry(config: Config, db: sqlite3.Connection) -> dict[str, Any]:
    """The short form for `tele/state`: enough to see that something waits, and why."""
    full = report(config, db, refused_limit=0)
    keys = (
        "enabled",
        "state",
        "register",
        "last_success_at",
        "last_failure_at",
        "last_failure",
        "tickets_queued",
        "queued_total_cents",
        "tickets_refused",
        "events_not_taken",
        "stopped",
    )
    return {k: full[k] for k in keys if k in full}


def _state(state: pasteque.GatewayState, waiting_closing: bool) -> str:
    if state.stopped:
        return "stopped"
    if not state.last_attempt_at:
        return "never"
    if state.failures_in_row:
        return "failing"
    return "waiting_closing" if waiting_closing else "ok"


def _session(db: sqlite3.Connection, s: pasteque.Session) -> dict[str, Any]:
    sent = pasteque.tickets(db, session_id=s.id, state="sent")
    queued = pasteque.tickets(db, session_id=s.id, state="queued")
    return {
        "day": s.day,
        "sequence": s.sequence,
        "opened": s.opened_at is not None,
        "tickets_sent": len(sent),
        "tickets_queued": len(queued),
        "total_cents": sum(Figures.from_json(t.figures).total_cents for t in sent + queued),
    }


def z_of(s: pasteque.Session) -> dict[str, Any] | None:
    return json.loads(s.z) if s.z else None
