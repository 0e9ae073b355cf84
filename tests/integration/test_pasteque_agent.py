"""The remote admin sees the till gateway over a real mosquitto: the `pasteque` part of the
telemetry, the `pasteque_status` command, and the alert when Pastèque stays away."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.pasteque.fake import FakeState, seed, serve
from tests.agent_support import Mosquitto, RunningAgent, Watcher, write_config
from tests.pasteque_support import basket, sell, stock_shop

BOX = "ferme-lilas-2"


@pytest.fixture
def fake() -> Iterator[tuple[FakeState, str]]:
    state = seed.demo()
    with serve(state) as url:
        yield state, url


def till(topic: str, payload: object, retained: bool) -> dict:
    if not topic.endswith("/tele/state") or not isinstance(payload, dict):
        return {}
    return payload.get("pasteque") or {}


def test_the_remote_admin_sees_the_queue_the_servers_reason_and_the_alert(
    tmp_path: Path,
    data_dir: Path,
    db: sqlite3.Connection,
    broker: Mosquitto,
    fake: tuple[FakeState, str],
) -> None:
    state, url = fake
    password = tmp_path / "pasteque.pass"
    password.write_text(seed.DEMO_PASSWORD + "\n")
    password.chmod(0o600)
    config = write_config(
        tmp_path / "comptoir.toml",
        data_dir,
        BOX,
        broker,
        sections={
            "pasteque": {
                "enabled": True,
                "url": url,
                "user": seed.DEMO_USER,
                "password_file": str(password),
                "cash_register": seed.DEMO_REGISTER,
                "interval_s": 10,
                "alert_after": 1,
            }
        },
    )
    stock_shop(db)
    rng = random.Random(11)
    for _ in range(3):
        sell(db, BOX, basket(rng))
    admin = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    agent = RunningAgent(config)
    try:
        sent = admin.wait_for(
            lambda *m: till(*m).get("state") == "ok" and till(*m).get("tickets_queued") == 0, 60
        )
        assert till(*sent)["register"] == seed.DEMO_REGISTER and len(state.tickets) == 3

        state.down = True
        waiting = sell(db, BOX, basket(rng))
        failing = admin.wait_for(lambda *m: till(*m).get("state") == "failing", 90)
        alert = admin.wait_for(lambda t, p, r: t.endswith("/event/pasteque_unreachable"), 30)
        answer = admin.command(BOX, "pasteque_status")
    finally:
        agent.stop()
        admin.close()
    assert "maintenance" in till(*failing)["last_failure"]
    told = alert[1]["data"]
    assert "Sales go on" in told["message"] and told["register"] == seed.DEMO_REGISTER
    assert answer["ok"] is True
    status = answer["result"]
    assert status["state"] == "failing" and "maintenance" in status["last_failure"]
    waited = status["tickets_queued"] + status["events_not_taken"]
    assert waited == 1 and len(state.tickets) == 3
    if status["tickets_queued"]:
        assert status["queued_total_cents"] == waiting.total_cents
