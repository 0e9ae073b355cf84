"""TLS, one identity per box and the fleet ACL on a real mosquitto; the admin's fleet console."""

from __future__ import annotations

import json
import os
import queue
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from appliance.agent.identity import Identity, new_identity, write_password_file
from appliance.store import agent_state, outbox
from appliance.store.db import open_database, transaction
from tests.agent_support import (
    ROOT,
    Mosquitto,
    Watcher,
    make_tls,
    start_agent,
    stop_process,
    wait_until,
    write_config,
)
from tests.found import found

pytestmark = pytest.mark.system

BOX_A, BOX_B = "box-a", "box-b"


class Fleet:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ids = {
            name: new_identity(name, admin=name == "comptoir-admin")
            for name in (BOX_A, BOX_B, "intruder", "comptoir-admin")
        }
        self.broker = Mosquitto(
            folder / "broker", tls=make_tls(folder / "tls"), identities=tuple(self.ids.values())
        )
        self.admin_password = folder / "admin.pass"
        write_password_file(self.admin_password, self.ids["comptoir-admin"])
        self.box_dir = folder / "box-b"
        self.box_dir.mkdir()
        password = self.box_dir / "mqtt.pass"
        write_password_file(password, self.ids[BOX_B])
        self.config = write_config(
            self.box_dir / "comptoir.toml",
            self.box_dir / "data",
            BOX_B,
            self.broker,
            username=BOX_B,
            password_file=str(password),
        )

    def client(self, name: str | None, *topics: str) -> Watcher:
        identity = self.ids[name] if name else None
        return Watcher(self.broker, identity, subscribe=topics or ("comptoir/v1/#",))

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            **os.environ,
            "COMPTOIR_FLEET_URL": self.broker.url,
            "COMPTOIR_FLEET_USERNAME": "comptoir-admin",
            "COMPTOIR_FLEET_PASSWORD_FILE": str(self.admin_password),
            "COMPTOIR_FLEET_CA_FILE": str(found(self.broker.tls)["ca"]),
            **overrides,
        }

    def fleet(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "appliance", "fleet", *args],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def emit_events(self, count: int) -> list[str]:
        db = open_database(self.box_dir / "data" / "comptoir.db")
        try:
            with transaction(db):
                return [outbox.emit(db, "sale", {"n": n}).event_id for n in range(count)]
        finally:
            db.close()

    def box_db_has_command(self, command_id: str) -> bool:
        db = open_database(self.box_dir / "data" / "comptoir.db")
        try:
            return agent_state.recorded_command(db, command_id) is not None
        finally:
            db.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    world = Fleet(tmp_path_factory.mktemp("fleet"))
    world.broker.start()
    agent = start_agent(world.config, world.box_dir / "agent.log")
    admin = world.client("comptoir-admin", f"comptoir/v1/{BOX_B}/status").ready()
    try:
        admin.wait_for(lambda t, p, r: p and p["state"] == "online", 30)
        yield world
    finally:
        admin.close()
        stop_process(agent)
        world.broker.stop()


@pytest.fixture
def admin(fleet: Fleet) -> Iterator[Watcher]:
    watcher = fleet.client("comptoir-admin").ready()
    yield watcher
    watcher.close()


def test_a_client_without_credentials_is_refused(fleet: Fleet) -> None:
    anonymous = fleet.client(None)
    wrong = Watcher(fleet.broker, Identity(BOX_A, "not-the-password"))
    try:
        assert not anonymous.subscribed.wait(3)
        assert not wrong.subscribed.wait(0.5)
    finally:
        anonymous.close()
        wrong.close()
    assert anonymous.connack and all(r.is_failure for r in anonymous.connack)
    assert wrong.connack and all(r.is_failure for r in wrong.connack)


def test_a_box_cannot_read_another_box(fleet: Fleet, admin: Watcher) -> None:
    nosy = fleet.client(BOX_A).ready()
    try:
        assert admin.command(BOX_B, "ping")["ok"] is True
        # Barrier: nosy sees its own message, so anything of box-b would have come before.
        nosy.publish(f"comptoir/v1/{BOX_A}/tele/state", {"barrier": True})
        nosy.wait_for(lambda t, p, r: t == f"comptoir/v1/{BOX_A}/tele/state")
        seen = [t for t, _, _ in nosy.drain()]
    finally:
        nosy.close()
    assert not [t for t in seen if f"/{BOX_B}/" in t]


@pytest.mark.parametrize("sender", [BOX_A, "intruder"])
def test_a_command_from_a_client_without_the_admin_role_never_reaches_the_box(
    fleet: Fleet, admin: Watcher, sender: str
) -> None:
    forger = fleet.client(sender, f"comptoir/v1/{sender}/#").ready()
    forged = f"forged-{uuid.uuid4().hex[:8]}"
    try:
        forger.publish(f"comptoir/v1/{BOX_B}/cmd/ping", {"id": forged})
        # The admin's command, sent after the forged one was acknowledged, is answered...
        assert admin.command(BOX_B, "ping")["ok"] is True
    finally:
        forger.close()
    # ...and the box never heard of the forged one.
    assert not [t for t, _, _ in admin.drain() if t.endswith(forged)]
    assert not fleet.box_db_has_command(forged)


def test_fleet_send_waits_for_the_result_and_fails_on_error_or_timeout(fleet: Fleet) -> None:
    ping = fleet.fleet("send", BOX_B, "ping")
    refused = fleet.fleet("send", BOX_B, "restart", "process=printer")
    silent = fleet.fleet("send", "no-such-box", "ping", "--timeout", "2")
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["result"]["pong"] is True
    assert refused.returncode == 1
    assert "kiosk, agent, web" in json.loads(refused.stdout)["error"]
    assert silent.returncode != 0
    assert "did not answer ping within 2 s" in silent.stderr


def test_fleet_list_shows_each_box_with_its_state(fleet: Fleet) -> None:
    listed = fleet.fleet("list", "--json")
    assert listed.returncode == 0, listed.stderr
    boxes = {b["device"]: b for b in json.loads(listed.stdout)}
    assert boxes[BOX_B]["state"] == "online"
    plain = fleet.fleet("list", TZ="Europe/Paris")
    line = next(line for line in plain.stdout.splitlines() if line.startswith(BOX_B))
    seen = datetime.fromisoformat(boxes[BOX_B]["ts"]).astimezone(ZoneInfo("Europe/Paris"))
    assert line.endswith(f"last seen {seen:%d/%m %H:%M}"), line


def test_fleet_config_changes_a_setting_and_reports_refusals(fleet: Fleet) -> None:
    applied = fleet.fleet("config", BOX_B, "mqtt.telemetry_period_s=9")
    refused = fleet.fleet("config", BOX_B, "device.name=Chez Paul")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["reported"]["applied"] == {"mqtt.telemetry_period_s": 9}
    assert refused.returncode == 1
    assert "device.name" in json.loads(refused.stdout)["reported"]["refused"]


def test_fleet_watch_prints_what_the_box_says(fleet: Fleet) -> None:
    # The retained status comes first, so watching one message ends at once.
    watched = fleet.fleet("watch", BOX_B, "--count", "1")
    assert watched.returncode == 0, watched.stderr
    device, topic, payload = watched.stdout.split(" ", 2)
    assert (device, topic) == (BOX_B, "status")
    assert json.loads(payload)["state"] == "online"


def test_fleet_credentials_writes_a_private_password_file_and_the_broker_line(
    tmp_path: Path,
) -> None:
    output = tmp_path / "box-c.pass"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "fleet",
            "credentials",
            "box-c",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "fleet",
            "credentials",
            "box-c",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    user, _, hashed = made.stdout.strip().partition(":")
    assert user == "box-c" and hashed.startswith("$7$101$")
    assert output.read_text().strip() not in made.stdout
    assert again.returncode != 0 and "--force" in again.stderr


class Consumer:
    """`comptoir fleet watch --share GROUP` as a back-end worker runs it: a real process."""

    def __init__(self, fleet: Fleet, group: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance", "fleet", "watch", "--share", group],
            cwd=ROOT,
            env=fleet.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.ready = threading.Event()
        threading.Thread(target=self._read, args=(self.process.stdout, False), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, True), daemon=True).start()

    def _read(self, stream: Any, is_stderr: bool) -> None:
        for line in stream:
            if is_stderr and line.startswith("# watching"):
                self.ready.set()
            elif not is_stderr:
                self.lines.put(line)

    def event_ids(self) -> list[str]:
        found = []
        while not self.lines.empty():
            _, topic, payload = self.lines.get().split(" ", 2)
            if topic.startswith("event/"):
                found.append(json.loads(payload)["event_id"])
        return found

    def stop(self) -> None:
        stop_process(self.process)  # type: ignore[arg-type]


def test_back_end_consumers_of_one_shared_group_split_the_event_stream(fleet: Fleet) -> None:
    consumers = [Consumer(fleet, "backend"), Consumer(fleet, "backend")]
    try:
        for consumer in consumers:
            assert consumer.ready.wait(30), "fleet watch --share did not subscribe"
        emitted = fleet.emit_events(20)
        got: list[list[str]] = [[], []]

        def all_arrived() -> bool:
            for n, consumer in enumerate(consumers):
                got[n] += consumer.event_ids()
            return set(got[0]) | set(got[1]) >= set(emitted)

        wait_until(all_arrived, 30, "every event at one consumer or the other")
    finally:
        for consumer in consumers:
            consumer.stop()
    assert set(got[0]).isdisjoint(got[1])  # each event went to one member of the group
    assert got[0] and got[1]  # and both members had a share of the work
    assert sorted(got[0] + got[1], key=emitted.index) == emitted


def test_the_console_refuses_a_broker_whose_certificate_its_ca_did_not_sign(
    fleet: Fleet, tmp_path: Path
) -> None:
    other_ca = make_tls(tmp_path / "other")["ca"]
    listed = fleet.fleet("list", COMPTOIR_FLEET_CA_FILE=str(other_ca))
    assert listed.returncode != 0
    assert "cannot reach the broker" in listed.stderr
    assert "certificate verify failed" in listed.stderr
    assert "Traceback" not in listed.stderr


@pytest.mark.parametrize("kind", ["status", "event/sale", "config/reported"])
def test_the_admin_cannot_speak_for_a_box(fleet: Fleet, admin: Watcher, kind: str) -> None:
    topic = f"comptoir/v1/{BOX_B}/{kind}"
    spoof = {"state": "offline", "event_id": "spoofed", "version": 999, "spoofed": True}
    admin.publish(topic, spoof, retain=kind != "event/sale")
    # The admin's command, published after the spoof, is answered: the spoof came first...
    assert admin.command(BOX_B, "ping")["ok"] is True
    # ...and a late subscriber gets what is retained before a barrier published after it.
    barrier = "comptoir/v1/nobody/cmd/barrier"
    late = fleet.client("comptoir-admin", topic, barrier).ready()
    try:
        admin.publish(barrier, {"id": "barrier"})
        late.wait_for(lambda t, p, r: t == barrier)
        retained = [p for t, p, _ in late.drain() if t == topic]
    finally:
        late.close()
    assert not [p for t, p, _ in admin.drain() if t == topic and p and p.get("spoofed")]
    assert not [p for p in retained if p and p.get("spoofed")]
