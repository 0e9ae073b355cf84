"""The periodic health report on `tele/state`, and whether the box needs a technician.

Process liveness comes from the heartbeats each process writes; the health of the scale,
printer, terminal, locks and sensors comes from the kiosk's heartbeat detail (the kiosk owns the
hardware; the agent never opens a device). What nobody reported is said "unknown", never left
out, so a consumer can tell "not reported" from "fine".
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance import __version__, clock
from appliance.agent import forwarding
from appliance.agent.restart import PROCESSES
from appliance.agent.sync_loop import LoopState
from appliance.config import Config
from appliance.kiosk.checkout import RESERVE_BYTES
from appliance.provisioning import CARD_NAME, PROBLEMS_NAME
from appliance.store import agent_state, device_commands, outbox

DEVICES = ("scale", "printer", "terminal", "locks", "sensors")
SYNC = "sync"  # the heartbeat the marketplace sync writes after each round
UNKNOWN = "unknown"
LOW_DISK_PCT = 5
SYSTEMD = Path("/run/systemd/system")
# systemd-timesyncd touches it once the clock is synchronised (NTP), and removes it at boot.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


def snapshot(
    config: Config,
    db: sqlite3.Connection,
    *,
    session: int,
    period_s: int,
    forwarded: int,
    sync_loop: LoopState | None = None,
    pasteque_loop: LoopState | None = None,
) -> dict[str, Any]:
    """One telemetry message."""
    now = clock.now()
    beats = agent_state.heartbeats(db)
    processes = {name: _process(beats.get(name), now) for name in PROCESSES}
    kiosk = beats.get("kiosk")
    devices = {d: _device(kiosk.detail.get(d) if kiosk else None) for d in DEVICES}
    usage = shutil.disk_usage(config.device.data_dir)
    body = {
        "ts": clock.iso(now),
        "version": __version__,
        "session": session,
        "period_s": period_s,
        "processes": processes,
        "devices": devices,
        "devices_reported_at": kiosk.beat_at if kiosk else None,
        "disk": {
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "free_pct": round(100 * usage.free / usage.total, 1),
        },
        "sync": _sync(config, beats.get(SYNC), sync_loop, now),
        "clock": clock_state(),
        "provisioning": provisioning_state(config),
        "pasteque": _pasteque(config, db, pasteque_loop),
        "counters": {
            "outbox_pending": outbox.pending_count(db, forwarding.DESTINATION),
            "events_forwarded": forwarded,
            "commands_handled": agent_state.commands_handled(db),
            "device_commands_queued": device_commands.queued_count(db),
        },
    }
    body["alerts"] = alerts(body)
    body["warnings"] = warnings(body)
    return body


def alerts(body: dict[str, Any]) -> list[str]:
    """Why the box needs a technician (status "alert"), if it does.

    Each reason is worded the same for as long as its cause lasts (no figure that moves with
    every report): the status is republished when the reasons change, and only then.
    """
    found = []
    kiosk = body["processes"]["kiosk"]
    if kiosk["state"] == "dead":
        found.append(f"kiosk silent since {kiosk['last_beat']}")
    card = body.get("provisioning") or {}
    if card.get("state") == "card_refused":
        found.append(f"{CARD_NAME} refused at boot, last good settings kept: {card['problems']}")
    disk = body["disk"]
    if disk["free_bytes"] < RESERVE_BYTES:
        found.append(
            f"disk full (under {RESERVE_BYTES // 2**20} MB free): sales are refused, "
            "free space in the data directory"
        )
    elif disk["free_pct"] < LOW_DISK_PCT:
        found.append(f"disk almost full (under {LOW_DISK_PCT}% free)")
    till = body.get("pasteque") or {}
    if till.get("state") == "stopped":
        found.append(f"Pastèque gateway stopped: {till['stopped']}")
    return found


def warnings(body: dict[str, Any]) -> list[str]:
    """What the remote admin should know but that does not stop the shop (status stays
    `online`): an unsynced clock, typical of a box whose network has no NTP yet."""
    found = []
    if body.get("clock") == "unsynced":
        found.append("clock not synchronised: check the box reaches an NTP server")
    return found


def provisioning_state(config: Config) -> dict[str, str]:
    """`ok`, or `card_refused` with what `comptoir provision` said of the card at boot."""
    if config.source is None:
        return {"state": UNKNOWN}
    try:
        problems = (config.source.parent / PROBLEMS_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return {"state": "ok"}
    except OSError as exc:
        return {"state": "card_refused", "problems": f"(cannot read {PROBLEMS_NAME}: {exc})"}
    return {"state": "card_refused", "problems": problems}


def clock_state() -> str:
    """`synced`, `unsynced` (labels and records may carry a wrong time), or `unknown` off
    systemd (a desk, a test)."""
    if not SYSTEMD.is_dir():
        return UNKNOWN
    return "synced" if TIMESYNC_FLAG.exists() else "unsynced"


def _device(health: Any) -> Any:
    """What the kiosk said of one device, or "unknown" when it said nothing."""
    return UNKNOWN if health is None or health == "" or health == {} else health


def _sync(
    config: Config, beat: agent_state.Heartbeat | None, loop: LoopState | None, now: datetime
) -> dict[str, Any]:
    """The marketplace sync: `off`, `never` (no round finished yet), `ok`, `failing`, or
    `stalled` (a round has not finished for far longer than the interval), with what the sync
    said after its last round (its heartbeat)."""
    if not config.marketplace.url:
        return {"configured": False, "state": "off"}
    body: dict[str, Any] = {
        "configured": True,
        "loop": loop.state if loop else "off",
        "loop_crashes": loop.crashes if loop else 0,
    }
    if beat is None:
        return {**body, "state": "never"}
    body["last_round_at"] = beat.beat_at
    if beat.alive(now):
        return {**beat.detail, **body, "state": "ok" if beat.detail.get("ok") else "failing"}
    return {**beat.detail, **body, "state": "stalled"}


def _pasteque(config: Config, db: sqlite3.Connection, loop: LoopState | None) -> dict[str, Any]:
    """The till gateway (docs/pasteque.md): its state and queue, from the database."""
    from appliance.pasteque.status import telemetry

    body = telemetry(config, db)
    if config.pasteque.enabled:
        body["loop"] = loop.state if loop else "off"
        body["loop_crashes"] = loop.crashes if loop else 0
    return body


def _process(beat: agent_state.Heartbeat | None, now: datetime) -> dict[str, Any]:
    if beat is None:
        return {"state": "unknown"}
    return {
        "state": "alive" if beat.alive(now) else "dead",
        "pid": beat.pid,
        "last_beat": beat.beat_at,
        "age_s": round(beat.age_s(now), 1),
    }
