"""The agent on a data directory that fills up (a small tmpfs of its own), against a real
mosquitto: what the fleet reads in the box's status, and that the agent holds on."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance import clock
from appliance import config as config_module
from appliance.provisioning import PROBLEMS_NAME
from appliance.store import agent_state, catalogue, closings, fiscal, journal, outbox, web_users
from appliance.store.db import open_database, transaction
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.agent_support import (
    Mosquitto,
    Watcher,
    start_agent,
    stop_process,
    wait_until,
    write_config,
)
from tests.disk_support import fill, small_disk
from tests.found import found
from tests.integration.test_checkout_disk_full import EGGS
from tests.integration.test_closings import PARIS, at, sell
from tests.integration.test_web_admin import PASSWORD, log_in, post, text

BOX = "ferme-disque-1"
DISK_KB = 64 * 1024


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


def test_a_disk_full_to_the_last_byte_leaves_the_agent_linked_and_loses_nothing(
    tmp_path: Path, disk: Path, broker: Mosquitto, admin: Watcher
) -> None:
    """Found filling the data directory to 0 bytes: the agent died at its next heartbeat
    (SQLITE_FULL), and the web admin answered every form with a 500 traceback."""
    config = write_config(tmp_path / "comptoir.toml", disk, BOX, broker)
    settings = config_module.load(config)
    db = open_database(disk / "comptoir.db")  # kept open: its WAL stays, as the kiosk's does
    yesterday = (datetime.now(PARIS) - timedelta(days=1)).date()
    sell(db, at(yesterday, 10))  # the day the agent must close at its first round
    with transaction(db):
        outbox.emit(db, "sale", {"receipt": "T-1"}, event_id="sale-before-the-fill")
        catalogue.save(db, EGGS)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    web = create_app(settings, settings.database_path).test_client()
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    assert log_in(web, "paul").status_code == 302
    entries_before, _ = journal.verify(db)
    fill(disk / "filler")
    agent = start_agent(config, tmp_path / "agent.log")
    try:
        _, full, _ = admin.wait_for(_says("disk full"), 30)
        event = admin.wait_for(lambda t, p, r: t.endswith("/event/sale"), 30)[1]
        assert admin.command(BOX, "ping")["error"].startswith("the box's disk is full")
        # The web admin: a price change refused in French, nothing changed; reads go on.
        refused = post(web, "/catalogue/1", "/catalogue/1", price="4,00", active="on")
        assert refused.status_code == 507
        assert "Le disque du boîtier est plein : rien n'a été enregistré." in html.unescape(
            text(refused)
        )
        assert web.get("/sales/").status_code == 200
        with create_app(settings, settings.database_path).test_client() as other:
            assert log_in(other, "paul").status_code == 507  # a login records its session
        broker.stop()  # the link comes back while the disk is still full
        broker.start()
        _, again, _ = admin.wait_for(_says("disk full"), 60)
        assert closings.closings(db) == []  # due, but the disk refused it
        (disk / "filler").unlink()
        closing = admin.wait_for(lambda t, p, r: t.endswith("/event/closing"), 60)[1]
        admin.wait_for(lambda t, p, r: _status(t, p, r) and p["state"] == "online", 30)
        assert (
            post(web, "/catalogue/1", "/catalogue/1", price="4,00", active="on").status_code == 302
        )
        wait_until(lambda: agent_state.heartbeats(db)["agent"].alive(clock.now()), 30)
        assert agent.poll() is None
    finally:
        stop_process(agent)
    assert full["state"] == "alert" and again["session"] > full["session"]
    assert event["event_id"] == "sale-before-the-fill"
    assert closing["data"]["period"] == "day" and closing["data"]["label"] == str(yesterday)
    assert [c.data["label"] for c in closings.closings(db)] == [str(yesterday)]
    assert found(catalogue.get(db, 1)).unit_price_cents == 400
    entries, broken = journal.verify(db)
    assert broken is None and entries == entries_before + 1  # the price change, once
    assert all(report.broken is None for report in fiscal.verify(db))
    assert "Traceback" not in (tmp_path / "agent.log").read_text()
    db.close()
