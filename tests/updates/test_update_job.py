"""The agent's `update` job over MQTT: every refusal is a `failed` state with the reason, and
nothing on the box changes; the job waits for a quiet kiosk, a closed door, its window.

The agent runs in the test process against a real mosquitto; the bundle comes from the HTTPS
file server; the box's current release is a marker folder (nothing is switched here: the whole
cycle is test_update_cycle.py).
"""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import tarfile
import threading
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import pytest

from appliance import __version__
from appliance import clock as box_clock
from appliance import config as config_module
from appliance.agent.remote_command import parse
from appliance.agent.update_job import Order, RealBox, in_window, parse_order, run_job
from appliance.kiosk.commands import CommandExecutor, CommandRefused
from appliance.release import keys as release_keys
from appliance.release.bundle import bundle_name, sha256_of
from appliance.release.layout import Layout
from appliance.store import agent_state, lockers, update_jobs
from appliance.store.db import open_database
from appliance.store.device_commands import CommandName
from tests.agent_support import RunningAgent, Watcher, start_agent, stop_process, write_config
from tests.release_support import COMPTOIR, NEXT, bundle, file_server, make_keys, rewritten, url_of

RUNNING = "0.0.1"


@pytest.fixture(scope="module")
def good():
    return bundle(make_keys(), __version__)


@pytest.fixture
def box(tmp_path, broker, tls, keys):
    layout = Layout(tmp_path / "root")
    layout.folder(RUNNING).mkdir(parents=True)
    layout.mark_complete(RUNNING)
    layout.point(layout.current_link, RUNNING)
    config = write_config(
        tmp_path / "comptoir.toml",
        tmp_path / "data",
        "box-1",
        broker,
        sections={
            "updates": {
                "root": str(layout.root),
                "trusted_keys": [str(keys.public)],
                "ca_file": str(tls["ca"]),
                "services": "supervisor",
                "keep_free_mb": 0,
            }
        },
    )
    return layout, config


def _online(broker) -> Watcher:
    """The admin, once the box said it is online (commands sent before would be lost)."""
    admin = Watcher(broker, subscribe=("comptoir/v1/box-1/#",)).ready()
    admin.wait_for(lambda t, p, r: t.endswith("/status") and p.get("state") == "online", 30)
    return admin


def _run_update(box, broker, tls, served, args_extra=None, *, config_edit=None, job="j1"):
    _layout, config = box
    if config_edit:
        config.write_text(config.read_text().replace(*config_edit))
    agent = RunningAgent(config)
    admin = _online(broker)
    try:
        with file_server(served.parent, tls) as server:
            args = {
                "url": url_of(server, served),
                "sha256": sha256_of(served),
                "version": __version__,
                **(args_extra or {}),
            }
            answer = admin.command("box-1", "update", args, id=job)
            states = []

            def ended(topic, payload, retained):
                if topic.endswith("/event/update_state"):
                    states.append(payload["data"])
                    return payload["data"]["state"] in ("failed", "succeeded", "rolled_back")
                return False

            if answer["ok"]:
                admin.wait_for(ended, 60)
            again = admin.command("box-1", "update", args, id=job)
    finally:
        admin.close()
        agent.stop()
    return answer, states, again


def test_a_job_taken_up_again_resumes_its_percent_instead_of_showing_downloading_0():
    """The fleet saw `downloading 50`, the agent restarted: it goes on from 50, never 0."""
    from tests.updates.simulated_fleet import FastBox

    class Resumed(FastBox):
        def download(self, order, progress):
            for percent in (50, 60, 70, 80, 90, 100, 100):  # the partial file, then the rest
                progress(percent)
            return Path("/nonexistent")

        def hand_over(self, order):
            said.append(("handed over", None))

    class Sim:
        version, offered = "0.1.0", "0.2.0"

    said: list[tuple[str, int | None]] = []
    order = Order("j1", "https://files/b", "0" * 64, "0.2.0", 60)
    for downloaded in (50, None):
        said.clear()
        box = Resumed(Sim())
        run_job(box, order, lambda s, percent=None, reason="": said.append((s, percent)),
                wait=lambda s: False, downloaded=downloaded)  # fmt: skip
        shown = [percent for state, percent in said if state == "downloading"]
        assert shown == ([60, 70, 80, 90, 100] if downloaded else [0, 50, 60, 70, 80, 90, 100])
        assert said[-3:] == [("verifying", None), ("installing", None), ("handed over", None)]


def test_a_tampered_bundle_fails_with_the_reason_and_nothing_changes(
    box, broker, tls, good, tmp_path
):
    served = tmp_path / "files" / good.name
    served.parent.mkdir()
    with tarfile.open(good) as tar:
        wheel = next(m for m in tar.getmembers() if m.name.startswith("wheels/comptoir-"))
    data = bytearray(good.read_bytes())
    data[wheel.offset_data + wheel.size // 2] ^= 1  # one bit of Comptoir's own wheel
    served.write_bytes(bytes(data))
    answer, states, again = _run_update(box, broker, tls, served)
    assert answer["ok"] and answer["result"]["state"] == "queued"
    assert [s["state"] for s in states][-2:] == ["verifying", "failed"], states
    assert "SHA-256 differs from the manifest" in states[-1]["reason"]
    layout, _ = box
    assert layout.installed() == [RUNNING] and layout.state() is None
    assert list(layout.downloads.iterdir()) == []  # the refused bundle is not kept
    assert again == {"id": "j1", "ok": True, "result": answer["result"]}  # asked again: same


def test_a_bundle_whose_manifest_was_changed_fails_on_its_signature(
    box, broker, tls, good, keys, tmp_path
):
    def lower_the_floor(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), "installs_over": ""}, sort_keys=True).encode()

    served = rewritten(good, tmp_path / "files" / good.name, lower_the_floor)
    _answer, states, _ = _run_update(box, broker, tls, served)
    assert [s["state"] for s in states][-2:] == ["verifying", "failed"], states
    key_id = release_keys.load_public(keys.public).key_id
    assert states[-1]["reason"] == (
        f"bundle refused: bad signature: manifest.json was changed after key {key_id} signed it"
    )
    layout, _ = box
    assert layout.installed() == [RUNNING] and list(layout.downloads.iterdir()) == []


def test_a_bundle_signed_by_an_unknown_key_fails(box, broker, tls, good, tmp_path):
    other = release_keys.keygen(tmp_path / "other")[1]
    layout, _config = box
    _answer, states, _ = _run_update(
        box, broker, tls, good, config_edit=(str(make_keys().public), str(other))
    )
    assert states[-1]["state"] == "failed" and "unknown key" in states[-1]["reason"]
    assert layout.installed() == [RUNNING] and list(layout.downloads.iterdir()) == []


def test_a_downgrade_is_refused_before_anything_is_downloaded(box, broker, tls, good):
    layout, _ = box
    layout.folder("99.0").mkdir()
    layout.mark_complete("99.0")
    layout.point(layout.current_link, "99.0")
    _answer, states, _ = _run_update(box, broker, tls, good)
    assert [s["state"] for s in states] == ["queued", "failed"]
    assert "a downgrade is refused" in states[-1]["reason"]
    assert not layout.downloads.exists()


def test_a_disk_too_full_is_refused_before_the_download(box, broker, tls, good, tmp_path):
    free_mb = shutil.disk_usage(tmp_path).free // 2**20
    _answer, states, _ = _run_update(
        box, broker, tls, good, config_edit=("keep_free_mb = 0", f"keep_free_mb = {free_mb}")
    )
    assert states[-1]["state"] == "failed" and "disk too full" in states[-1]["reason"]
    assert "nothing was changed" in states[-1]["reason"]
    layout, _ = box
    assert not list(layout.downloads.glob("*.part")) and layout.installed() == [RUNNING]


def test_a_truncated_download_fails(box, broker, tls, good, tmp_path):
    served = tmp_path / "files" / good.name
    served.parent.mkdir()
    served.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    agent_sha = sha256_of(good)
    _answer, states, _ = _run_update(box, broker, tls, served, {"sha256": agent_sha})
    assert states[-1]["state"] == "failed" and "SHA-256 differs" in states[-1]["reason"]


def test_an_agent_killed_half_way_through_the_download_resumes_it_and_ends_the_job_once(
    box, broker, tls, good, tmp_path, monkeypatch
):
    """The agent SIGKILLed mid-download (a crash, the power): started again, it asks only for
    the missing bytes and the job ends once. The command names another version than the
    bundle's, so the job ends at verifying; the long variant (test_update_cycle) goes on to
    the switch."""
    layout, config = box
    monkeypatch.setenv("COMPTOIR_FAILPOINT", "download:half")
    monkeypatch.setenv("COMPTOIR_FAILPOINT_ONCE", str(tmp_path / "killed"))
    agent = start_agent(config, tmp_path / "agent.log")
    admin = _online(broker)
    part = layout.downloads / f"{bundle_name(NEXT)}.part"
    size = good.stat().st_size
    try:
        with file_server(good.parent, tls) as server:
            args = {"url": url_of(server, good), "sha256": sha256_of(good), "version": NEXT}
            assert admin.command("box-1", "update", args, id="j-cut")["ok"]
            assert agent.wait(120) == -signal.SIGKILL, (tmp_path / "agent.log").read_text()
            kept = part.stat().st_size
            assert size // 2 <= kept < size
            agent = start_agent(config, tmp_path / "agent.log")  # as its unit restarts it

            def ended(topic, payload, retained):
                return topic.endswith("/event/update_state") and payload["data"]["state"] in (
                    "failed",
                    "succeeded",
                    "rolled_back",
                )

            last = admin.wait_for(ended, 120)[1]["data"]
            sent = server.cuts.sent[good.name]
    finally:
        admin.close()
        stop_process(agent)
    assert last["job"] == "j-cut" and last["state"] == "failed"
    assert last["reason"] == f"the bundle is {__version__}, the command said {NEXT}"
    assert sent - size == size - kept  # the first try, then only what the cut left missing
    db = open_database(config_module.load(config).database_path)
    try:
        percents = [
            (json.loads(payload)["state"], json.loads(payload)["percent"])
            for (payload,) in db.execute(
                "SELECT payload FROM outbox WHERE type = 'update_state' ORDER BY id"
            )
        ]
    finally:
        db.close()
    states = [state for state, _ in percents]
    assert states.count("failed") == 1 and states[-1] == "failed"
    assert states.count("verifying") == 1  # verified once, after the whole file was there
    shown = [p for s, p in percents if s == "downloading"]
    assert shown == sorted(shown) and shown.count(0) == 1  # never back to 0 once resumed
    assert list(layout.downloads.iterdir()) == [] and layout.installed() == [RUNNING]


def test_an_agent_restarted_while_the_switch_waits_does_not_fetch_the_bundle_again(
    box, broker, tls, good, tmp_path
):
    """The release is installed (a marker here) and a door is open; the agent restarts."""
    layout, config = box
    layout.folder(__version__).mkdir()
    layout.mark_complete(__version__)
    db = open_database(config_module.load(config).database_path)
    lockers.record_door_event(db, 4, "door_opened")
    db.close()
    agent = start_agent(config, tmp_path / "agent.log")
    admin = _online(broker)

    def waiting_since(since: datetime):
        def waiting(topic, payload, retained):
            if not topic.endswith("/event/update_state"):
                return False
            data = payload["data"]
            return data["state"] == "waiting" and datetime.fromisoformat(data["ts"]) > since

        return waiting

    try:
        with file_server(good.parent, tls) as server:
            args = {"url": url_of(server, good), "sha256": sha256_of(good), "version": __version__}
            assert admin.command("box-1", "update", args, id="j-wait")["ok"]
            first = admin.wait_for(waiting_since(datetime.min.replace(tzinfo=UTC)), 120)
            agent.kill()
            agent.wait(30)
            killed = datetime.now(UTC)
            agent = start_agent(config, tmp_path / "agent.log")
            admin.wait_for(waiting_since(killed), 120)  # the new agent's job
            sent = server.cuts.sent[good.name]
    finally:
        admin.close()
        stop_process(agent)
    assert first[1]["data"]["reason"] == "a locker door is open: 4"
    assert sent == good.stat().st_size  # fetched once: the second agent found it whole
    assert [p.name for p in layout.downloads.iterdir()] == [good.name]  # until the switch


def test_one_update_at_a_time_and_the_version_running_needs_none(box, broker):
    _layout, config = box
    db = open_database(config_module.load(config).database_path)
    files = {"url": "https://files.example/c.bundle", "sha256": "ab" * 32}
    update_jobs.create(
        db, "j-old", version="0.2.0", from_version=RUNNING, requested_by="alice", **files
    )
    update_jobs.set_state(db, "j-old", "health_check")  # the updater has it
    agent = RunningAgent(config)
    admin = _online(broker)
    try:
        other = admin.command("box-1", "update", {**files, "version": "0.3.0"}, id="j-new")
        same = admin.command("box-1", "update", {**files, "version": "0.2.0"}, id="j-same")
        update_jobs.set_state(db, "j-old", "rolled_back", reason="the kiosk wrote no heartbeat")
        running = admin.command("box-1", "update", {**files, "version": RUNNING}, id="j-run")
    finally:
        admin.close()
        agent.stop()
        db.close()
    assert other == {
        "id": "j-new",
        "ok": False,
        "error": "update j-old to 0.2.0 is health_check: wait for it to finish",
    }
    assert same["ok"] and same["result"]["job"] == "j-old"  # the same version: that job
    assert same["result"]["state"] == "health_check"
    assert running["ok"] and running["result"]["state"] == "succeeded"  # nothing to do
    assert running["result"]["reason"] == f"{RUNNING} is already running"


def test_a_rollout_sent_again_follows_the_job_a_box_already_runs(box, broker):
    """The admin's console was cut mid-rollout (a laptop shut); the rollout is sent again."""
    _layout, config = box
    db = open_database(config_module.load(config).database_path)
    files = {"url": "https://files.example/c.bundle", "sha256": "ab" * 32}
    update_jobs.create(
        db, "rollout-1", version="0.2.0", from_version=RUNNING, requested_by="alice", **files
    )
    update_jobs.set_state(db, "rollout-1", "health_check")
    agent = RunningAgent(config)
    _online(broker).close()
    console = subprocess.Popen(
        [
            *(str(COMPTOIR), "fleet", "update", "--url", broker.url, "--bundle", files["url"]),
            *("--sha256", files["sha256"], "--version", "0.2.0", "--boxes", "box-1"),
            *("--timeout", "120"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert console.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in console.stdout])
    reader.start()
    seen: list[str] = []
    try:
        while not any(line.split()[:2] == ["box-1", "health_check"] for line in seen):
            seen.append(lines.get(timeout=60))  # the console shows the job under way
        update_jobs.set_state(db, "rollout-1", "succeeded")  # as the updater ends it
        assert console.wait(120) == 0, seen
    finally:
        if console.poll() is None:
            console.kill()
        reader.join(30)
        agent.stop()
        db.close()
    while not lines.empty():
        seen.append(lines.get())
    assert seen[-1].strip() == "1 succeeded, 0 failed or rolled back, 0 not sent", seen


def test_a_wrong_command_is_answered_with_what_is_expected(box, broker, tls, good):
    _layout, config = box
    agent = RunningAgent(config)
    admin = _online(broker)
    try:
        answer = admin.command("box-1", "update", {"url": "http://x/b", "version": "1.0"})
    finally:
        admin.close()
        agent.stop()
    assert answer == {
        "id": answer["id"],
        "ok": False,
        "error": "update needs args.url, the bundle's https:// address",
    }


# -- when the switch may happen -----------------------------------------------------------------


@pytest.fixture
def real_box(box):
    _layout, config = box
    site = config_module.load(config)
    db = open_database(site.database_path)
    yield RealBox(site, db), db
    db.close()


ORDER = Order("j1", "https://x/b", "0" * 64, "9.9.9", 60)


def test_the_switch_waits_while_a_customer_is_at_the_kiosk(real_box):
    box, db = real_box
    agent_state.beat(db, "kiosk", stale_after_s=15)
    customer = threading.Event()
    customer.set()

    def pause(command):
        if customer.is_set():
            raise CommandRefused("a customer is at the kiosk: the update waits")
        return {"paused_s": command.args["hold_s"]}

    kiosk = CommandExecutor(
        box.config.database_path, {CommandName.PAUSE_FOR_UPDATE: pause}, interval_s=0.05
    ).start()
    try:
        assert box.busy(ORDER) == "a customer is at the kiosk: the update waits"
        customer.clear()
        assert box.busy(ORDER) == ""
    finally:
        kiosk.stop()


def test_the_switch_waits_for_a_locker_door_to_close(real_box):
    box, db = real_box
    lockers.record_door_event(db, 4, "door_opened")
    assert box.busy(ORDER) == "a locker door is open: 4"
    lockers.record_door_event(db, 4, "door_closed")
    assert box.busy(ORDER) == ""  # and no kiosk heartbeat: nobody can be mid-sale


def test_the_update_window_may_span_midnight():
    night = (clock(21, 0), clock(7, 0))
    assert in_window(night, clock(23, 30)) and in_window(night, clock(6, 59))
    assert not in_window(night, clock(12, 0))
    assert in_window(None, clock(12, 0))
    assert in_window((clock(0, 0), clock(0, 0)), clock(12, 0))  # the whole day


def test_a_box_switches_in_its_own_shop_window_unless_the_command_gives_one(box):
    _layout, config = box
    shop_hours = 'keep_free_mb = 0\nwindow = "20:00-07:00"'  # [updates]: switch out of them
    config.write_text(config.read_text().replace("keep_free_mb = 0", shop_hours))
    site = config_module.load(config)
    db = open_database(site.database_path)
    real = RealBox(site, db)

    def order(**extra):
        args = {"url": "https://x/b", "sha256": "0" * 64, "version": "9.9.9", **extra}
        payload = json.dumps({"id": "j1", "args": args}).encode()
        command = parse("update", payload, retained=False, now=datetime.now(UTC))
        return parse_order(command, site.updates.health_s, site.updates.window)

    try:
        with box_clock.simulated(lambda: datetime(2026, 7, 1, 10, 0, tzinfo=UTC)):  # noon, Paris
            assert real.busy(order()) == "waiting for the update window 20:00-07:00"
            assert real.busy(order(window="11:00-13:00")) == ""  # the admin's window goes first
            assert real.busy(order(window="00:00-00:00")) == ""  # any time
        with box_clock.simulated(lambda: datetime(2026, 7, 1, 20, 30, tzinfo=UTC)):
            assert real.busy(order()) == ""  # 22:30 in Paris: the shop is shut
    finally:
        db.close()
