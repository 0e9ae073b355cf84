"""The periodic health report on `tele/state`, and whether the box needs a technician.

Process liveness comes from the heartbeats each process writes; the health of the scale,
printer, terminal, locks and sensors comes from the kiosk's heartbeat detail (the kiosk owns the
hardware; the agent never opens a device).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from appliance import __version__
from appliance.config import Config
from appliance.store import agent_state, outbox

DEVICES = ("scale", "printer", "terminal", "locks", "sensors")
LOW_DISK_PCT = 5


def snapshot(
    config: Config, db: sqlite_utils.Database, *, session: int, period_s: int, forwarded: int
) -> dict[str, Any]:
    """One telemetry message."""
    now = datetime.now(UTC)
    beats = agent_state.heartbeats(db)
    processes = {name: _process(beats.get(name), now) for name in ("kiosk", "agent", "web", "sync")}
    kiosk = beats.get("kiosk")
    devices = {d: (kiosk.detail.get(d, "unknown") if kiosk else "unknown") for d in DEVICES}
    usage = shutil.disk_usage(config.device.data_dir)
    body = {
        "ts": now.isoformat(timespec="seconds"),
        "version": __version__,
        "session": session,
        "period_s": period_s,
        "processes": processes,
        "devices": devices,
        "disk": {
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "free_pct": round(100 * usage.free / usage.total, 1),
        },
        "sync": {
            "configured": bool(config.marketplace.url),
            **(beats["sync"].detail if "sync" in beats else {}),
        },
        "counters": {
            "outbox_pending": _pending(db),
            "events_forwarded": forwarded,
            "commands_handled": agent_state.commands_handled(db),
            "device_commands_queued": db.execute(
                "SELECT count(*) FROM device_commands WHERE state = 'queued'"
            ).fetchone()[0],
        },
    }
    body["alerts"] = alerts(body)
    return body


def alerts(body: dict[str, Any]) -> list[str]:
    """Why the box needs a technician (status "alert"), if it does."""
    found = []
    kiosk = body["processes"]["kiosk"]
    if kiosk["state"] == "dead":
        found.append(f"kiosk silent for {kiosk['age_s']:.0f} s")
    if body["disk"]["free_pct"] < LOW_DISK_PCT:
        found.append(f"disk almost full ({body['disk']['free_pct']}% free)")
    return found


def _process(beat: agent_state.Heartbeat | None, now: datetime) -> dict[str, Any]:
    if beat is None:
        return {"state": "unknown"}
    return {
        "state": "alive" if beat.alive(now) else "dead",
        "pid": beat.pid,
        "last_beat": beat.beat_at,
        "age_s": round(beat.age_s(now), 1),
    }


def _pending(db: sqlite_utils.Database) -> int:
    return db.execute(
        "SELECT count(*) FROM outbox WHERE id > ?", (outbox.cursor_of(db, "mqtt"),)
    ).fetchone()[0]
