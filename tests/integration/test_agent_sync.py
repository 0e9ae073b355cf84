"""The agent runs the marketplace sync (fake OFN over real HTTP) and survives its failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.agent.sync_loop import SyncLoop
from appliance.marketplace.fake import FakeState, Fault, seed, serve
from appliance.store import orders
from appliance.store.db import open_database
from tests.agent_support import Mosquitto, RunningAgent, Watcher, wait_until, write_config

BOX = "ferme-sync-1"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path_factory.mktemp("broker"))
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def box_config(
    tmp_path: Path, data_dir: Path, broker: Mosquitto, fake: FakeState
) -> Iterator[Path]:
    key = tmp_path / "ofn.key"
    key.write_text(seed.DEMO_KEY + "\n")
    with serve(fake) as url:
        marketplace = {
            "url": url,
            "api_key_file": str(key),
            "hub_id": seed.HUB_ID,
            "shipping_method_ids": [seed.LOCKER_METHOD_ID],
            "timeout_s": 5,
            "sync_interval_s": 30,
        }
        yield write_config(
            tmp_path / "comptoir.toml",
            data_dir,
            BOX,
            broker,
            sections={"marketplace": marketplace},
            log_file=str(data_dir / "comptoir.log"),
        )


@pytest.fixture
def admin(broker: Mosquitto) -> Iterator[Watcher]:
    watcher = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    yield watcher
    watcher.close()


def start_agent(box_config: Path, admin: Watcher) -> RunningAgent:
    running = RunningAgent(box_config)
    admin.wait_for(lambda t, p, r: t.endswith("/status") and p["state"] == "online" and not r)
    return running


def telemetry_now(admin: Watcher, wanted: Any = lambda sync: True) -> dict[str, Any]:
    """Ask for a report at once (a new period is reported at once) and return its sync part."""
    assert admin.command(BOX, "set_telemetry_period", {"seconds": 60})["ok"] is True
    _, tele, _ = admin.wait_for(lambda t, p, r: t.endswith("/tele/state") and wanted(p["sync"]))
    return tele["sync"]


def test_the_agent_syncs_the_marketplace_in_the_background_and_says_so_in_telemetry(
    box_config: Path, admin: Watcher, data_dir: Path
) -> None:
    db = open_database(data_dir / "comptoir.db")
    running = start_agent(box_config, admin)
    try:
        # No command asked for it: the agent's own sync loop brought the locker orders.
        wait_until(lambda: orders.list_orders(db), 30, "orders synced by the agent's loop")
        sync = telemetry_now(admin, lambda s: s["state"] == "ok")
        answer = admin.command(BOX, "sync_now")
    finally:
        running.stop()
    assert sync["configured"] is True and sync["loop"] == "running"
    assert sync["loop_crashes"] == 0
    assert sync["last_round_at"]
    assert answer["ok"] is True
    assert {d["direction"] for d in answer["result"]["directions"]} == {
        "catalogue",
        "orders",
        "pickups",
        "stock",
    }


def test_a_failing_marketplace_never_stops_the_agent(
    box_config: Path, admin: Watcher, fake: FakeState
) -> None:
    fake.fail_next(Fault.UNAUTHORIZED, times=10_000)  # the key was revoked
    running = start_agent(box_config, admin)
    try:
        refused = admin.command(BOX, "sync_now")
        sync = telemetry_now(admin, lambda s: s["state"] == "failing")
        pong = admin.command(BOX, "ping")
        with fake.lock:
            fake.faults.clear()  # the hub's manager gave a new key
        again = admin.command(BOX, "sync_now")
        healed = telemetry_now(admin, lambda s: s["state"] == "ok")
    finally:
        running.stop()
    assert refused["ok"] is False and "sync incomplete" in refused["error"]
    assert sync["loop"] == "running"
    assert "refused the API key" in sync["last_error"]
    assert pong["ok"] is True
    assert again["ok"] is True
    assert healed["last_error"] == ""


def test_a_crashed_sync_is_started_again_and_counted() -> None:
    stop = threading.Event()
    runs: list[int] = []

    def sync_that_crashes_once(stop_event: threading.Event) -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("database disk image is malformed")
        stop_event.wait()

    loop = SyncLoop(sync_that_crashes_once, stop, restart_after_s=0.05)
    assert loop.state().state == "off"
    loop.start()
    try:
        wait_until(lambda: len(runs) == 2, 10, "the sync started again")
        state = loop.state()
    finally:
        stop.set()
    assert state.state == "running"
    assert state.crashes == 1
    assert "database disk image is malformed" in state.last_crash
