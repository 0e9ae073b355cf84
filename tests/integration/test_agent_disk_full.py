"""The agent on a data directory that fills up (a small tmpfs of its own), against a real
mosquitto: what the fleet reads in the box's status, and that the agent holds on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.provisioning import PROBLEMS_NAME
from tests.agent_support import Mosquitto, Watcher, start_agent, stop_process, write_config
from tests.disk_support import fill, small_disk

BOX = "ferme-disque-1"
DISK_KB = 64 * 1024


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "data", DISK_KB) as folder:
        yield folder


@pytest.fixture
def admin(broker: Mosquitto) -> Iterator[Watcher]:
    watcher = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    yield watcher
    watcher.close()


def _status(t: str, p: Any, r: bool) -> bool:
    return t.endswith("/status")


def _telemetry(t: str, p: Any, r: bool) -> bool:
    return t.endswith("/tele/state")


def _says(words: str) -> Any:
    return lambda t, p, r: _status(t, p, r) and any(words in x for x in p.get("reasons", []))


def test_a_box_already_in_alert_says_the_disk_filling_once_and_when_it_clears(
    tmp_path: Path, disk: Path, broker: Mosquitto, admin: Watcher
) -> None:
    config = write_config(tmp_path / "comptoir.toml", disk, BOX, broker)
    (tmp_path / PROBLEMS_NAME).write_text("comptoir.txt line 3: unknown key 'hub'\n")
    agent = start_agent(config, tmp_path / "agent.log")
    try:
        _, first, _ = admin.wait_for(lambda t, p, r: _status(t, p, r) and p["state"] == "alert")
        assert first["reasons"] == [
            "comptoir.txt refused at boot, last good settings kept: "
            "comptoir.txt line 3: unknown key 'hub'"
        ]
        # Under 5 % free but room for a sale: the same state, a new reason, said at once.
        fill(disk / "filler", leave=3 * 2**20)
        _, filling, _ = admin.wait_for(_says("disk almost full"), 30)
        assert filling["state"] == "alert" and filling["reasons"][0] == first["reasons"][0]
        # Reports go on with moving figures; the status is not said again while nothing changed.
        admin.drain()
        admin.seen.clear()
        for _ in range(2):
            admin.wait_for(_telemetry, 30)
        assert [p for t, p, r in admin.drain() if _status(t, p, r)] == []
        (disk / "filler").unlink()
        _, cleared, _ = admin.wait_for(_status, 30)
    finally:
        stop_process(agent)
    assert cleared["state"] == "alert" and cleared["reasons"] == first["reasons"]
    assert cleared["session"] == first["session"]
