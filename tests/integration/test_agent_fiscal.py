"""What the fleet gets of the box's fiscal records over a real mosquitto: the public signing key
(retained), each closing as an event, and each monthly archive (retained), which an outside
script checks with the key from MQTT alone."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from appliance.store import fiscal_key
from appliance.store.db import open_database
from tests.agent_support import Mosquitto, RunningAgent, Watcher, write_config
from tests.integration.test_closings import PARIS, REPO, at, sell

BOX = "box-1"


def test_the_fleet_gets_the_key_the_closings_and_an_archive_it_can_check(
    tmp_path: Path, data_dir: Path, broker: Mosquitto
) -> None:
    today = datetime.now(PARIS).date()
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    db = open_database(data_dir / "comptoir.db")
    sell(db, at(first_of_last_month, 12))
    config = write_config(
        tmp_path / "comptoir.toml", data_dir, BOX, broker, sections={"shop": {"closing_hour": 0}}
    )
    fleet = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    agent = RunningAgent(config)
    try:
        _, closing, _ = fleet.wait_for(
            lambda t, p, r: t.endswith("/event/closing") and p["data"]["period"] == "day", 60
        )
        _, archive, retained = fleet.wait_for(lambda t, p, r: t.endswith("/archive/1"), 120)
    finally:
        agent.stop()
        fleet.close()
    assert closing["data"]["tickets"] == 1 and closing["data"]["signature"]
    assert isinstance(archive, bytes) and archive.startswith(b"PK")

    late = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/fiscal/public_key",)).ready()
    try:
        _, published, retained = late.wait_for(lambda t, p, r: True, 20)
    finally:
        late.close()
    assert retained and published["algorithm"] == "Ed25519" and published["box"] == BOX
    assert published["public_key"] == fiscal_key.public_key(data_dir)

    (tmp_path / "archive-1.zip").write_bytes(archive)
    checked = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "fiscal_archive_check.py"),
            published["public_key"],
            str(tmp_path / "archive-1.zip"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr
    db.close()
