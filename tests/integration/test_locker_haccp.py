"""Temperature sensors read from a simulated 1-wire folder, logged, alarmed and reported."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import config
from appliance.agent.cold_chain import log_once
from appliance.core import haccp
from appliance.devices.sensors.ds18b20 import parse_w1_slave, read_sensor, sensor_ids
from appliance.devices.sensors.simulator import W1Folder, crc8
from appliance.store import alerts, lockers, outbox
from appliance.store.alerts import Alarm
from appliance.store.db import open_database
from appliance.store.temperatures import day_record, record_temperatures

T0 = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Paris


@pytest.fixture
def w1(tmp_path: Path) -> W1Folder:
    folder = W1Folder(tmp_path / "w1")
    folder.set("28-00000a1b2c3d", 3500)
    folder.set("28-00000e4f5a6b", 3800)
    return folder


@pytest.fixture
def toml(tmp_path: Path, data_dir: Path, w1: W1Folder) -> Path:
    path = tmp_path / "comptoir.toml"
    path.write_text(
        f'[device]\nid = "test-box"\ndata_dir = "{data_dir}"\n'
        f'[haccp]\nw1_root = "{w1.root}"\n'
        '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nallowed_min = 30\n'
        'sensors = ["28-00000a1b2c3d", "28-00000e4f5a6b"]\n'
        '[lockers]\n[[lockers.compartments]]\nnumber = 1\nchilled = true\nzone = "frigo"\n'
    )
    return path


def test_the_w1_file_of_a_real_sensor_is_read() -> None:
    text = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
    assert parse_w1_slave(text) == (23125, "")
    assert crc8(bytes.fromhex("72014b467fff0e10")) == 0x57


def test_bad_reads_are_reported_with_their_reason_never_guessed(w1: W1Folder) -> None:
    w1.set("28-00000a1b2c3d", 3500, crc_ok=False)
    assert "CRC" in str(read_sensor(w1.root, "28-00000a1b2c3d").problem)
    w1.set("28-00000a1b2c3d", 85000)
    assert read_sensor(w1.root, "28-00000a1b2c3d").temp_mc is None
    w1.remove("28-00000a1b2c3d")
    assert str(read_sensor(w1.root, "28-00000a1b2c3d").problem) == "sensor not found on the bus"
    assert sensor_ids(w1.root) == ["28-00000e4f5a6b"]


def test_a_zone_warm_longer_than_allowed_raises_one_alarm(toml: Path, w1: W1Folder) -> None:
    cfg = config.load(toml)
    db = open_database(cfg.database_path)
    for minute in range(0, 60):
        w1.set("28-00000e4f5a6b", 3800 if minute < 10 else 6500)
        log_once(cfg, db, T0 + timedelta(minutes=minute))
    [alert] = alerts.open_alerts(db, Alarm.TEMPERATURE_EXCURSION)
    assert alert.subject == "zone frigo" and "6.5" in alert.message
    events = outbox.pending(db, "t", types=("temperature_excursion",))
    assert [e.payload["zone"] for e in events] == ["frigo"]


def test_a_sensor_that_cannot_be_read_is_an_alarm_and_nothing_is_stored(
    toml: Path, w1: W1Folder
) -> None:
    cfg = config.load(toml)
    db = open_database(cfg.database_path)
    w1.set("28-00000a1b2c3d", 3500, crc_ok=False)
    log_once(cfg, db, T0)
    log_once(cfg, db, T0 + timedelta(minutes=1))
    assert [a.subject for a in alerts.open_alerts(db, Alarm.TEMPERATURE_SENSOR_FAULT)] == [
        "sensor 28-00000a1b2c3d"
    ]
    assert db.execute("SELECT count(*) FROM temperature_readings").fetchone()[0] == 2


def test_the_daily_report_gives_each_zone_and_door_open_minutes(toml: Path) -> None:
    cfg = config.load(toml)
    db = open_database(cfg.database_path)
    start = int(datetime(2026, 6, 30, 22, 0, tzinfo=UTC).timestamp())  # local midnight
    rows = [("frigo", start + 60 * i, "28-00000a1b2c3d", 3000 + (i % 3) * 500) for i in range(1440)]
    record_temperatures(db, rows)
    lockers.sync_compartments(db, [])
    lockers.record_door_event(db, 1, "door_opened", now=T0)
    lockers.record_door_event(db, 1, "door_closed", now=T0 + timedelta(minutes=3, seconds=10))
    [line] = haccp.report(day_record(cfg, db, datetime(2026, 7, 1).date()))
    assert (line.readings, line.min_mc, line.max_mc, line.mean_mc) == (1440, 3000, 4000, 3500)
    assert line.excursions == () and line.door_open_minutes == 4


def test_the_report_command_prints_csv_for_an_inspector(toml: Path) -> None:
    cfg = config.load(toml)
    db = open_database(cfg.database_path)
    record_temperatures(db, [("frigo", int(T0.timestamp()), "28-x", 3125)])
    db.close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "--config",
            str(toml),
            "haccp",
            "report",
            "--date",
            "2026-07-01",
            "--csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["zone"] == "frigo" and row["min_c"] == "3.1" and row["readings"] == "1"


def test_a_wrong_date_is_one_clear_line(toml: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "--config",
            str(toml),
            "haccp",
            "report",
            "--date",
            "01/07/2026",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "not a date like 2026-05-04" in done.stderr
