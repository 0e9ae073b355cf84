"""What telemetry says of the marketplace sync, from the heartbeat the sync writes each round."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appliance.agent import telemetry
from appliance.agent.sync_loop import LoopState
from appliance.config import from_dict
from appliance.store import agent_state
from appliance.store.db import transaction

RUNNING = LoopState("running", 0, "")


def sync_report(db: sqlite3.Connection, data_dir: Path, url: str = "http://ofn") -> Any:
    config = from_dict({"device": {"data_dir": str(data_dir)}, "marketplace": {"url": url}})
    body = telemetry.snapshot(config, db, session=1, period_s=60, forwarded=0, sync_loop=RUNNING)
    return body["sync"]


def test_without_a_marketplace_the_sync_is_off(db: sqlite3.Connection, data_dir: Path) -> None:
    assert sync_report(db, data_dir, url="") == {"configured": False, "state": "off"}


def test_before_its_first_round_the_sync_has_never_run(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    assert sync_report(db, data_dir) == {
        "configured": True,
        "loop": "running",
        "loop_crashes": 0,
        "state": "never",
    }


def test_the_last_round_decides_between_ok_and_failing(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    agent_state.beat(db, "sync", stale_after_s=900, detail={"ok": False, "last_error": "401"})
    failing = sync_report(db, data_dir)
    agent_state.beat(db, "sync", stale_after_s=900, detail={"ok": True, "last_error": ""})
    ok = sync_report(db, data_dir)
    assert (failing["state"], failing["last_error"]) == ("failing", "401")
    assert (ok["state"], ok["last_error"]) == ("ok", "")
    assert ok["last_round_at"] == agent_state.heartbeats(db)["sync"].beat_at


def test_a_round_that_never_ends_shows_as_stalled(db: sqlite3.Connection, data_dir: Path) -> None:
    agent_state.beat(db, "sync", stale_after_s=900, detail={"ok": True})
    with transaction(db):
        db.execute("UPDATE process_heartbeats SET beat_at = '2020-01-01T00:00:00+00:00'")
    assert sync_report(db, data_dir)["state"] == "stalled"


def test_a_box_whose_clock_is_not_synchronised_is_online_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "systemd").mkdir()
    monkeypatch.setattr(telemetry, "SYSTEMD", tmp_path / "systemd")
    monkeypatch.setattr(telemetry, "TIMESYNC_FLAG", tmp_path / "synchronized")
    assert telemetry.clock_state() == "unsynced"
    body = {
        "processes": {"kiosk": {"state": "alive"}},
        "disk": {"free_pct": 50, "free_bytes": 2**30},
    }
    unsynced = {**body, "clock": "unsynced"}
    assert telemetry.alerts(unsynced) == []
    assert telemetry.warnings(unsynced) == [
        "clock not synchronised: check the box reaches an NTP server"
    ]
    (tmp_path / "synchronized").touch()
    assert telemetry.clock_state() == "synced"
    assert telemetry.warnings({**body, "clock": "synced"}) == []


def test_a_refused_card_needs_a_technician_and_names_its_line(tmp_path: Path) -> None:
    config = dataclasses.replace(from_dict({}), source=tmp_path / "comptoir.toml")
    assert telemetry.provisioning_state(config) == {"state": "ok"}
    (tmp_path / "provision-problems.txt").write_text("comptoir.txt line 12: unknown key 'hub'\n")
    state = telemetry.provisioning_state(config)
    assert state == {"state": "card_refused", "problems": "comptoir.txt line 12: unknown key 'hub'"}
    body = {
        "processes": {"kiosk": {"state": "alive"}},
        "disk": {"free_pct": 50, "free_bytes": 2**30},
    }
    assert telemetry.alerts({**body, "provisioning": state}) == [
        "comptoir.txt refused at boot, last good settings kept: "
        "comptoir.txt line 12: unknown key 'hub'"
    ]


def test_a_stopped_till_gateway_needs_a_technician() -> None:
    body = {
        "processes": {"kiosk": {"state": "alive"}},
        "disk": {"free_pct": 50, "free_bytes": 2**30},
        "pasteque": {"state": "stopped", "stopped": "Pastèque has no tax at 10 %"},
    }
    assert telemetry.alerts(body) == ["Pastèque gateway stopped: Pastèque has no tax at 10 %"]
    assert telemetry.alerts({**body, "pasteque": {"state": "failing"}}) == []


@pytest.mark.parametrize(
    ("free_bytes", "free_pct", "reasons"),
    [
        (2**30, 50.0, []),
        (3 * 2**20, 4.1, ["disk almost full (under 5% free)"]),
        (3 * 2**20, 3.7, ["disk almost full (under 5% free)"]),  # same words: no new status
        (
            0,
            0.0,
            ["disk full (under 2 MB free): sales are refused, free space in the data directory"],
        ),
    ],
)
def test_a_filling_disk_is_said_in_words_that_move_only_with_the_threshold(
    free_bytes: int, free_pct: float, reasons: list[str]
) -> None:
    body = {
        "processes": {"kiosk": {"state": "alive"}},
        "disk": {"free_pct": free_pct, "free_bytes": free_bytes},
    }
    assert telemetry.alerts(body) == reasons
