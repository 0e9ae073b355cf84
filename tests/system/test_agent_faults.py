"""The agent as a real process through faults: broker away, agent killed, kiosk dead."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.store import agent_state, outbox
from appliance.store.db import open_database, transaction
from tests.agent_support import (
    Mosquitto,
    Watcher,
    start_agent,
    stop_process,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.system

BOX = "box-faults"
OUTAGE_S = 60  # the "broker stopped for a minute"

# Stands in for `systemctl restart comptoir-kiosk`: starts a detached fake kiosk that beats.
FAKE_KIOSK = """
import os, subprocess, sys, time
if sys.argv[1] == "start":
    subprocess.Popen([sys.executable, __file__, "run", sys.argv[2]], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sys.exit(0)
from appliance.store import agent_state
from appliance.store.db import open_database
db = open_database(__import__("pathlib").Path(sys.argv[2]))
while True:
    agent_state.beat(db, "kiosk", stale_after_s=2, detail={"scale": "ok", "printer": "ok"})
    time.sleep(0.3)
"""


@dataclass
class Box:
    broker: Mosquitto
    config: Path
    data_dir: Path
    log: Path

    def db_path(self) -> Path:
        return self.data_dir / "comptoir.db"


@pytest.fixture
def box(tmp_path: Path, data_dir: Path) -> Iterator[Box]:
    broker = Mosquitto(tmp_path / "broker", persistent=True)
    broker.start()
    script = tmp_path / "fake_kiosk.py"
    script.write_text(FAKE_KIOSK)
    restart = f"{sys.executable} {script} start {data_dir / 'comptoir.db'}"
    config = write_config(
        tmp_path / "comptoir.toml", data_dir, BOX, broker, restart_command=restart
    )
    yield Box(broker, config, data_dir, tmp_path / "agent.log")
    broker.stop()
    db = open_database(data_dir / "comptoir.db")
    kiosk = agent_state.heartbeats(db).get("kiosk")
    if kiosk:
        with_kill(kiosk.pid)


def with_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def agent(box: Box) -> Iterator[object]:
    process = start_agent(box.config, box.log)
    yield process
    stop_process(process)


def status(state: str, after_session: int = 0):
    return lambda t, p, r: (
        t.endswith("/status") and p and p["state"] == state and p["session"] > after_session
    )


def test_events_produced_while_the_broker_is_away_are_all_delivered(
    box: Box, agent: object
) -> None:
    consumer = Watcher(
        box.broker, subscribe=(f"comptoir/v1/{BOX}/event/#",), client_id="backend-1"
    ).ready()
    db = open_database(box.db_path())
    produced = []

    def sell(first: int, count: int) -> None:
        for n in range(first, first + count):
            with transaction(db):
                produced.append(outbox.emit(db, "sale", {"n": n}).event_id)

    try:
        sell(0, 10)
        consumer.wait_for(lambda t, p, r: p["event_id"] == produced[9], 30)
        box.broker.stop()
        # Sales go on during the outage, spread over the whole minute.
        pause = threading.Event()
        for batch in range(OUTAGE_S):
            sell(10 + 10 * batch, 10)
            pause.wait(1)
        box.broker.start()
        wait_until(
            # paho retries at most every 30 s ([mqtt] link): allow that and the forwarding.
            lambda: outbox.cursor_of(db, "mqtt") >= len(produced),
            120,
            "outbox fully forwarded",
        )
        received: list[str] = []

        def up_to_the_last(topic: str, payload: dict, retained: bool) -> bool:
            received.append(payload["event_id"])
            return payload["event_id"] == produced[-1]

        consumer.wait_for(up_to_the_last, 30)
    finally:
        consumer.close()
    first_seen = list(dict.fromkeys([*produced[:10], *received]))
    assert first_seen == produced  # every event, in order; copies only as repeated event ids


def test_a_killed_agent_leaves_offline_through_its_will(box: Box) -> None:
    watcher = Watcher(box.broker, subscribe=(f"comptoir/v1/{BOX}/status",)).ready()
    process = start_agent(box.config, box.log)
    try:
        _, online, _ = watcher.wait_for(status("online"), 30)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        _, offline, _ = watcher.wait_for(status("offline", online["session"] - 1), 30)
    finally:
        stop_process(process)
        watcher.close()
    assert offline["session"] == online["session"]


def test_after_a_broker_restart_the_box_is_online_again_in_a_new_session(
    box: Box, agent: object
) -> None:
    watcher = Watcher(box.broker, subscribe=(f"comptoir/v1/{BOX}/status",)).ready()
    try:
        _, before, _ = watcher.wait_for(status("online"), 30)
        box.broker.stop()
        box.broker.start()
        _, after, _ = watcher.wait_for(status("online", before["session"]), 60)
    finally:
        watcher.close()
    assert after["session"] > before["session"]


def test_a_dead_kiosk_shows_in_telemetry_and_restart_brings_it_back(
    box: Box, agent: object
) -> None:
    admin = Watcher(box.broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    db = open_database(box.db_path())

    def kiosk_state(state: str):
        return lambda t, p, r: (
            t.endswith("/tele/state") and p["processes"]["kiosk"]["state"] == state
        )

    try:
        admin.wait_for(status("online"), 30)
        first = admin.command(BOX, "restart", {"process": "kiosk"})
        admin.wait_for(kiosk_state("alive"), 30)
        dead_pid = agent_state.heartbeats(db)["kiosk"].pid
        os.kill(dead_pid, signal.SIGKILL)
        _, dead, _ = admin.wait_for(kiosk_state("dead"), 30)
        _, alert, _ = admin.wait_for(status("alert"), 30)
        again = admin.command(BOX, "restart", {"process": "kiosk"})
        _, alive, _ = admin.wait_for(kiosk_state("alive"), 30)
        admin.wait_for(status("online"), 30)
    finally:
        admin.close()
    assert first["ok"] is True and again["ok"] is True
    assert dead["devices"]["scale"] == "ok"  # last word of the kiosk before it died
    assert "kiosk silent" in alert["reasons"][0]
    assert alive["processes"]["kiosk"]["pid"] != dead_pid
