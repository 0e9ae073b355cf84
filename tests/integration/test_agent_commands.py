"""The agent against a real mosquitto: status, commands, desired config, outbox forwarding."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, SaleLine
from appliance.store import agent_state, device_commands, fiscal, outbox
from appliance.store.db import open_database, transaction
from tests.agent_support import Mosquitto, RunningAgent, Watcher, wait_until, write_config

BOX = "ferme-lilas-1"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path_factory.mktemp("broker"))
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def box_config(tmp_path: Path, data_dir: Path, broker: Mosquitto) -> Path:
    secret = tmp_path / "mqtt.pass"
    secret.write_text("not-used-by-an-anonymous-broker\n")
    path = write_config(
        tmp_path / "comptoir.toml",
        data_dir,
        BOX,
        broker,
        password_file=str(secret),
        log_file=str(data_dir / "comptoir.log"),
        sections={"lockers": {"controller": "kerong"}},
    )
    path.write_text(
        path.read_text() + "".join(f"[[lockers.compartments]]\nnumber = {n}\n" for n in (2, 3, 12))
    )
    return path


@pytest.fixture
def admin(broker: Mosquitto) -> Iterator[Watcher]:
    watcher = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/#",)).ready()
    yield watcher
    watcher.close()


@pytest.fixture
def agent(box_config: Path, admin: Watcher) -> Iterator[RunningAgent]:
    running = RunningAgent(box_config)
    admin.wait_for(lambda t, p, r: t.endswith("/status") and p["state"] == "online")
    yield running
    running.stop()


class Kiosk:
    """Stands in for the kiosk process: executes queued device commands, counts them."""

    def __init__(self, data_dir: Path) -> None:
        self.db = open_database(data_dir / "comptoir.db")
        self.done: list[device_commands.DeviceCommand] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.wait(0.05):
            command = device_commands.take_next(self.db)
            if command:
                self.done.append(command)
                device_commands.finish(self.db, command.id, True, {"opened": command.args})

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def test_box_announces_itself_online_with_a_session_and_answers_ping(
    agent: RunningAgent, admin: Watcher
) -> None:
    answer = admin.command(BOX, "ping")
    assert answer["ok"] is True
    assert answer["result"]["pong"] is True
    assert answer["result"]["session"] >= 1


def test_a_clean_stop_leaves_the_box_offline(box_config: Path, admin: Watcher) -> None:
    running = RunningAgent(box_config)
    _, online, _ = admin.wait_for(lambda t, p, r: t.endswith("/status") and p["state"] == "online")
    running.stop()
    _, offline, _ = admin.wait_for(
        lambda t, p, r: t.endswith("/status") and p["state"] == "offline"
    )
    assert offline["session"] == online["session"]


def test_door_opening_goes_through_the_kiosk_once_even_when_the_command_is_redelivered(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    kiosk = Kiosk(data_dir)
    try:
        args = {"compartment": 12, "reason": "customer stuck, phoned the hotline"}
        first = admin.command(BOX, "open_door", args, id="door-12-a", by="alice")
        again = admin.command(BOX, "open_door", args, id="door-12-a", by="alice")
    finally:
        kiosk.stop()
    assert first == again
    assert first["ok"] is True and first["result"] == {"opened": {"compartment": 12}}
    assert len(kiosk.done) == 1
    assert kiosk.done[0].requested_by == "mqtt:alice"
    assert kiosk.done[0].reason == "customer stuck, phoned the hotline"


def test_door_opening_without_a_kiosk_says_it_is_queued(
    agent: RunningAgent, admin: Watcher
) -> None:
    answer = admin.command(BOX, "open_door", {"compartment": 3, "reason": "test", "wait_s": 1})
    assert answer == {
        "id": answer["id"],
        "ok": False,
        "error": "queued, kiosk did not answer within 1 s",
    }


def _expired() -> str:
    return (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("ping", {"id": "old-1", "expires_at": _expired()}, "expired"),
        ("fly_away", {"id": "x-1"}, "unknown command 'fly_away'"),
        ("ping", {"id": "bad id with spaces"}, "command id missing or wrong"),
        ("ping", "not a json object", "not a JSON object"),
        ("ping", {"id": "big-1", "args": {"pad": "x" * 20000}}, "command too large"),
        ("open_door", {"id": "door-no-reason", "args": {"compartment": 2}}, "needs a reason"),
        (
            "open_door",
            {"id": "door-9", "args": {"compartment": 9, "reason": "x"}},
            "compartment 9 is not one of this box's: 2, 3, 12",
        ),
        ("ping", {"id": "naive-1", "expires_at": "2030-01-01T00:00:00"}, "UTC offset"),
        ("get_logs", {"id": "logs-1", "args": {"lines": -3}}, "args.lines"),
    ],
)
def test_a_bad_command_gets_a_reason_and_the_agent_keeps_running(
    agent: RunningAgent, admin: Watcher, name: str, body: object, reason: str
) -> None:
    admin.publish(f"comptoir/v1/{BOX}/cmd/{name}", body)
    answer_id = body["id"] if isinstance(body, dict) and " " not in body["id"] else "invalid"
    answer = admin.result(BOX, answer_id)
    assert answer["ok"] is False
    assert reason in answer["error"]
    assert admin.command(BOX, "ping")["ok"] is True


def test_a_retained_command_is_refused_and_cleared_when_it_replays_on_connect(
    box_config: Path, admin: Watcher, data_dir: Path, broker: Mosquitto
) -> None:
    topic = f"comptoir/v1/{BOX}/cmd/print_test_label"
    admin.publish(topic, {"id": "ghost-1"}, retain=True)
    try:
        running = RunningAgent(box_config)
        answer = admin.result(BOX, "ghost-1")
        running.stop()
    finally:
        admin.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
    assert answer["ok"] is False and "retained" in answer["error"]
    db = open_database(data_dir / "comptoir.db")
    assert device_commands.get(db, "ghost-1") is None


def test_a_retained_command_published_while_connected_is_refused_too_and_cleared(
    agent: RunningAgent, admin: Watcher, broker: Mosquitto, data_dir: Path
) -> None:
    """One rule at both moments: retained means refused, and the agent clears it."""
    topic = f"comptoir/v1/{BOX}/cmd/print_test_label"
    admin.publish(topic, {"id": "ghost-2"}, retain=True)
    answer = admin.result(BOX, "ghost-2")
    assert answer["ok"] is False and "retained" in answer["error"]
    assert device_commands.get(open_database(data_dir / "comptoir.db"), "ghost-2") is None
    # nothing is left on the broker to replay at the next connection
    barrier = f"comptoir/v1/{BOX}/test/barrier-{uuid.uuid4().hex[:6]}"
    late = Watcher(broker, subscribe=(topic, barrier)).ready()
    try:
        admin.client.publish(barrier, b"{}", qos=1).wait_for_publish(10)
        first_topic, _, _ = late.wait_for(lambda t, p, r: True)
    finally:
        late.close()
    assert first_topic == barrier


def test_a_command_on_a_deeper_topic_is_answered_with_an_error(
    agent: RunningAgent, admin: Watcher
) -> None:
    admin.publish(f"comptoir/v1/{BOX}/cmd/ping/extra/level", {"id": "deep-1"})
    answer = admin.result(BOX, "deep-1")
    assert answer["ok"] is False
    assert "cmd/<name>, with one level" in answer["error"]


def test_events_produced_before_and_while_running_arrive_in_order_with_their_ids(
    box_config: Path, admin: Watcher, data_dir: Path
) -> None:
    db = open_database(data_dir / "comptoir.db")
    emitted = []
    with transaction(db):
        emitted += [outbox.emit(db, "sale", {"n": n}) for n in range(30)]
    running = RunningAgent(box_config)
    try:
        with transaction(db):
            emitted += [outbox.emit(db, "door_alarm", {"n": n}) for n in range(30, 40)]
        received = [admin.wait_for(lambda t, p, r: "/event/" in t) for _ in range(len(emitted))]
        wait_until(lambda: outbox.cursor_of(db, "mqtt") == emitted[-1].id, what="cursor")
    finally:
        running.stop()
    assert [p["event_id"] for _, p, _ in received] == [e.event_id for e in emitted]
    assert [p["seq"] for _, p, _ in received] == [e.id for e in emitted]
    assert received[0][0] == f"comptoir/v1/{BOX}/event/sale"
    assert received[-1][1]["data"] == {"n": 39}
    assert not any(retained for _, _, retained in received)


def test_desired_config_is_applied_reported_kept_and_reread_on_connect(
    box_config: Path, admin: Watcher, data_dir: Path, broker: Mosquitto
) -> None:
    desired_topic = f"comptoir/v1/{BOX}/config/desired"
    settings = {"mqtt.telemetry_period_s": 7, "device.name": "Chez Paul", "mqtt.telemetry_x": 1}
    admin.publish(desired_topic, {"version": 3, "settings": settings}, retain=True)
    try:
        running = RunningAgent(box_config)
        _, reported, _ = admin.wait_for(lambda t, p, r: t.endswith("/config/reported"))
        admin.wait_for(lambda t, p, r: t.endswith("/tele/state") and p["period_s"] == 7)
        running.stop()
        # Restarted: the override comes back from the database, desired is read again.
        running = RunningAgent(box_config)
        _, again, _ = admin.wait_for(lambda t, p, r: t.endswith("/config/reported"))
        config = admin.command(BOX, "get_config")
        running.stop()
        late = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/config/reported",)).ready()
        _, _, retained = late.wait_for(lambda t, p, r: True)
        late.close()
    finally:
        for topic in (desired_topic, f"comptoir/v1/{BOX}/config/reported"):
            admin.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
    assert retained is True
    assert reported["version"] == 3
    assert reported["applied"] == {"mqtt.telemetry_period_s": 7}
    assert set(reported["refused"]) == {"device.name", "mqtt.telemetry_x"}
    assert "cannot be changed remotely" in reported["refused"]["device.name"]
    assert again["applied"] == reported["applied"]
    assert config["result"]["overrides"] == {"mqtt.telemetry_period_s": 7}
    assert agent_state.overrides(open_database(data_dir / "comptoir.db")) == {
        "mqtt.telemetry_period_s": 7
    }


def test_a_desired_value_out_of_range_is_refused_with_why(
    agent: RunningAgent, admin: Watcher
) -> None:
    desired_topic = f"comptoir/v1/{BOX}/config/desired"
    admin.publish(desired_topic, {"version": 1, "settings": {"mqtt.telemetry_period_s": 1}})
    _, reported, _ = admin.wait_for(
        lambda t, p, r: t.endswith("/config/reported") and p and p["version"] == 1
    )
    admin.client.publish(f"comptoir/v1/{BOX}/config/reported", b"", qos=1, retain=True)
    assert reported["applied"] == {}
    assert "from 5 to 86400" in reported["refused"]["mqtt.telemetry_period_s"]


def test_set_telemetry_period_reports_at_once_with_the_new_period(
    agent: RunningAgent, admin: Watcher
) -> None:
    answer = admin.command(BOX, "set_telemetry_period", {"seconds": 30})
    _, tele, _ = admin.wait_for(lambda t, p, r: t.endswith("/tele/state") and p["period_s"] == 30)
    assert answer["ok"] is True
    assert tele["processes"]["agent"]["state"] == "alive"
    assert tele["processes"]["kiosk"] == {"state": "unknown"}


def test_logs_come_back_without_passwords_api_keys_or_pickup_codes(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    (data_dir / "comptoir.log").write_text(
        "".join(f"line {n}\n" for n in range(200))
        + "login password=hunter2 ok\n"
        + 'sync headers {"X-Api-Token": "abcdef123"}\n'
        + "pickup_code: 483920 accepted\n"
        + "broker mqtts://box:s3cret@fleet.example:8883\n"
    )
    answer = admin.command(BOX, "get_logs", {"lines": 10})
    text = "\n".join(answer["result"]["lines"])
    assert len(answer["result"]["lines"]) == 10
    for secret in ("hunter2", "abcdef123", "483920", "s3cret"):
        assert secret not in text
    assert "password=***" in text and "line 199" in text


def test_logs_never_show_the_boxs_own_secrets_or_a_pickup_code_whatever_the_line(
    agent: RunningAgent, admin: Watcher, data_dir: Path, tmp_path: Path
) -> None:
    mqtt_password = (tmp_path / "mqtt.pass").read_text().strip()
    (data_dir / "comptoir.log").write_text(
        f"{mqtt_password}\n"
        f"connect failed with {mqtt_password}!\n"
        "customer typed 048213 at door 3\n"
        "scanned CPT1.R100.4.1767225600.0123456789abcdef0123456789abcdef\n"
        "sale 12 total 1250 cents at 2026-07-01T08:00:00+00:00\n"
    )
    lines = admin.command(BOX, "get_logs", {"lines": 10})["result"]["lines"]
    text = "\n".join(lines)
    for secret in (mqtt_password, "048213", "0123456789abcdef0123456789abcdef"):
        assert secret not in text
    assert lines[0] == "***"
    assert lines[2] == "customer typed *** at door 3"
    assert lines[4] == "sale 12 total 1250 cents at 2026-07-01T08:00:00+00:00"


def test_get_config_hides_secret_files(agent: RunningAgent, admin: Watcher) -> None:
    answer = admin.command(BOX, "get_config")
    assert answer["result"]["config"]["mqtt"]["password_file"] == "(hidden)"
    assert answer["result"]["config"]["device"]["id"] == BOX


def test_sync_now_without_a_marketplace_says_why(agent: RunningAgent, admin: Watcher) -> None:
    answer = admin.command(BOX, "sync_now")
    assert answer["ok"] is False
    assert "marketplace" in answer["error"]


def test_restart_of_an_unknown_process_is_refused(agent: RunningAgent, admin: Watcher) -> None:
    answer = admin.command(BOX, "restart", {"process": "printer"}, id=str(uuid.uuid4()))
    assert answer["ok"] is False and "kiosk, agent, web" in answer["error"]


def test_a_late_subscriber_finds_the_box_online_with_session_version_and_time(
    agent: RunningAgent, broker: Mosquitto
) -> None:
    late = Watcher(broker, subscribe=(f"comptoir/v1/{BOX}/status",)).ready()
    try:
        _, status, retained = late.wait_for(lambda t, p, r: True)
    finally:
        late.close()
    assert retained is True
    assert status["state"] == "online"
    assert isinstance(status["session"], int) and status["session"] >= 1
    assert status["version"]
    assert datetime.fromisoformat(status["ts"]).utcoffset() is not None


def test_telemetry_shows_each_device_as_the_kiosk_reported_it_and_unknown_otherwise(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    db = open_database(data_dir / "comptoir.db")
    detail = {"scale": "ok", "printer": {"state": "paper_out"}, "terminal": "ok", "locks": None}
    agent_state.beat(db, "kiosk", stale_after_s=15, detail=detail)
    # A new period is reported at once: no waiting for the next report.
    assert admin.command(BOX, "set_telemetry_period", {"seconds": 60})["ok"] is True
    _, tele, _ = admin.wait_for(
        lambda t, p, r: t.endswith("/tele/state") and p["processes"]["kiosk"]["state"] == "alive"
    )
    assert tele["devices"] == {
        "scale": "ok",
        "printer": {"state": "paper_out"},
        "terminal": "ok",
        "locks": "unknown",
        "sensors": "unknown",
    }
    assert tele["devices_reported_at"] == tele["processes"]["kiosk"]["last_beat"]
    assert datetime.fromisoformat(tele["ts"]).utcoffset() is not None
    assert tele["disk"]["total_bytes"] > tele["disk"]["free_bytes"] > 0
    assert tele["sync"] == {"configured": False, "state": "off"}
    assert set(tele["counters"]) == {
        "outbox_pending",
        "events_forwarded",
        "commands_handled",
        "device_commands_queued",
    }
    assert tele["alerts"] == []


def test_without_a_kiosk_heartbeat_every_device_is_unknown(
    agent: RunningAgent, admin: Watcher
) -> None:
    assert admin.command(BOX, "set_telemetry_period", {"seconds": 60})["ok"] is True
    _, tele, _ = admin.wait_for(lambda t, p, r: t.endswith("/tele/state"))
    assert tele["processes"]["kiosk"] == {"state": "unknown"}
    assert set(tele["devices"].values()) == {"unknown"}
    assert tele["devices_reported_at"] is None


def test_a_test_label_is_printed_by_the_kiosk_with_the_admins_reason(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    kiosk = Kiosk(data_dir)
    try:
        answer = admin.command(BOX, "print_test_label", {"reason": "new paper roll"}, by="bob")
    finally:
        kiosk.stop()
    assert answer["ok"] is True
    assert [(c.name, c.requested_by, c.reason) for c in kiosk.done] == [
        ("print_test_label", "mqtt:bob", "new paper roll")
    ]


def test_a_closing_is_printed_by_the_kiosk_at_the_fleets_request(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    kiosk = Kiosk(data_dir)
    try:
        answer = admin.command(BOX, "print_closing", {"closing": 3}, by="bob")
        wrong = admin.command(BOX, "print_closing", {"closing": "hier"}, by="bob")
    finally:
        kiosk.stop()
    assert answer["ok"] is True and wrong["ok"] is False and "args.closing" in wrong["error"]
    assert [(c.name, c.args, c.requested_by) for c in kiosk.done] == [
        ("print_closing", {"closing": 3}, "mqtt:bob")
    ]


def test_long_logs_are_cut_to_the_size_limit_keeping_the_newest_lines(
    agent: RunningAgent, admin: Watcher, data_dir: Path
) -> None:
    (data_dir / "comptoir.log").write_text(
        "".join(f"line {n:04d} {'x' * 90}\n" for n in range(1000))
    )
    answer = admin.command(BOX, "get_logs", {"lines": 1000})
    lines = answer["result"]["lines"]
    assert answer["result"]["truncated"] is True
    assert sum(len(line.encode()) + 1 for line in lines) <= 32 * 1024
    assert lines[-1].startswith("line 0999") and len(lines) < 1000


def test_status_reports_the_journal_the_config_files_and_the_sales_to_the_installer(
    agent: RunningAgent, admin: Watcher, box_config: Path, data_dir: Path
) -> None:
    from tests.pasteque_support import sell

    db = open_database(data_dir / "comptoir.db")
    with transaction(db):
        fiscal.set_state(db, "mode", "training")
    sell(db, BOX, Basket((SaleLine.pieces(Product("oeufs", "Œufs", SoldBy.PIECE, 320, 550), 1),)))
    db.close()
    box_config.chmod(0o600)
    (box_config.parent / "mqtt.pass").chmod(0o640)
    answer = admin.command(BOX, "status")
    assert answer["ok"], answer
    status = answer["result"]
    assert status["journal"]["ok"] and status["journal"]["first_bad_entry"] is None
    files = {f["name"]: f["mode"] for f in status["etc_files"]}
    assert files["comptoir.toml"] == "600" and files["mqtt.pass"] == "640"
    assert status["provisioning"] == {"state": "ok"}
    assert status["sales"] == {
        "sales": 0,
        "last_receipt": 0,
        "training_sales": 1,  # paid, and no orphan: its sale is a training one
        "approved_without_sale": 0,
        "sale_events": 0,
    }


@pytest.fixture
def supervised_box_config(tmp_path: Path, data_dir: Path, broker: Mosquitto) -> Path:
    """A box without systemd run by `comptoir supervise --root ROOT`, whose log_file was never
    written (the default one)."""
    return write_config(
        tmp_path / "comptoir.toml",
        data_dir,
        BOX,
        broker,
        sections={"updates": {"root": str(tmp_path / "root")}},
        logs_source="auto",
        log_file=str(data_dir / "logs" / "comptoir.log"),
    )


def test_logs_on_a_box_without_systemd_come_from_the_supervisors_files_or_say_where_to_look(
    supervised_box_config: Path, admin: Watcher, tmp_path: Path, data_dir: Path
) -> None:
    running = RunningAgent(supervised_box_config)
    try:
        admin.wait_for(lambda t, p, r: t.endswith("/status") and p["state"] == "online")
        missing = admin.command(BOX, "get_logs", {"process": "kiosk", "lines": 5})
        (tmp_path / "root" / "logs").mkdir(parents=True)
        (tmp_path / "root" / "logs" / "kiosk.log").write_text("kiosk started\nscale ready\n")
        found = admin.command(BOX, "get_logs", {"process": "kiosk", "lines": 5})
    finally:
        running.stop()
    assert missing["ok"] is False
    assert "No such file" not in missing["error"]
    assert str(data_dir / "logs" / "comptoir.log") in missing["error"]
    assert str(tmp_path / "root" / "logs" / "kiosk.log") in missing["error"]
    assert "log_file" in missing["error"]
    assert found["ok"] is True and found["result"]["lines"] == ["kiosk started", "scale ready"]


def test_a_box_without_lockers_refuses_open_door_at_once(
    tmp_path: Path, data_dir: Path, broker: Mosquitto, admin: Watcher
) -> None:
    """No kiosk to wait for: the agent itself says there is no door (before: a 60 s timeout)."""
    config = write_config(tmp_path / "bare.toml", data_dir, BOX, broker)
    running = RunningAgent(config)
    try:
        admin.wait_for(lambda t, p, r: t.endswith(f"{BOX}/status") and p["state"] == "online", 30)
        answer = admin.command(BOX, "open_door", {"compartment": 1, "reason": "stuck customer"})
        assert answer["ok"] is False
        assert "this box has no lockers" in answer["error"]
    finally:
        running.stop()
