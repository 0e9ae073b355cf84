"""The agent logs the fridges' temperatures and tells the fleet when a zone stays too warm."""

from __future__ import annotations

from pathlib import Path

from appliance.devices.sensors.simulator import W1Folder
from appliance.store.db import open_database
from appliance.store.temperatures import temperatures
from tests.agent_support import Mosquitto, RunningAgent, Watcher, wait_until, write_config

BOX = "box-fridge"
SENSOR = "28-00000a1b2c3d"


def test_a_zone_above_its_limit_is_logged_and_reported_once(
    tmp_path: Path, data_dir: Path, broker: Mosquitto
) -> None:
    w1 = W1Folder(tmp_path / "w1")
    w1.set(SENSOR, 9500)  # 9.5 °C in a fridge whose limit is 4 °C
    config = write_config(tmp_path / "comptoir.toml", data_dir, BOX, broker)
    with config.open("a") as toml:
        toml.write(
            f'[haccp]\nw1_root = "{tmp_path / "w1"}"\ninterval_s = 10\n'
            f'[[haccp.zones]]\nname = "frigo-1"\nlimit_c = 4\nallowed_min = 0\n'
            f'sensors = ["{SENSOR}"]\n'
        )
    admin = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/event/#",)).ready()
    agent = RunningAgent(config)
    try:
        # Two readings an interval apart make the excursion (allowed 0 min, so any duration).
        topic, payload, _ = admin.wait_for(lambda t, p, r: "/event/" in t, timeout_s=60)
        assert topic.endswith("/event/temperature_excursion")
        assert "frigo-1" in str(payload) and "9500" in str(payload), payload
        db = open_database(data_dir / "comptoir.db")
        stored = wait_until(lambda: temperatures(db, "frigo-1", 0, 2**31), 10)
        assert stored[0][1] == 9500
        db.close()
    finally:
        agent.stop()
        admin.close()
