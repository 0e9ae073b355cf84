"""Whole updates on one box: real bundles built from this checkout, real processes restarted.

The box runs its three units under `comptoir supervise` (as systemd would), the bundle comes
from an HTTPS file server on 127.0.0.1 whose certificate the test made, and the admin speaks
over a real mosquitto. Slow (a release is installed each time): `make test-updates`.
"""

from __future__ import annotations

import time

import pytest

from appliance import __version__
from appliance.release import apply
from appliance.release.bundle import sha256_of
from appliance.release.services import Supervised
from appliance.store import technical_events, update_jobs
from appliance.store.db import open_database
from tests.agent_support import Watcher
from tests.release_support import (
    AGENT_EXITS,
    KIOSK_SILENT,
    NEW_MIGRATION,
    NEXT,
    Box,
    bundle,
    file_server,
    sell_with,
    url_of,
)

pytestmark = [pytest.mark.system, pytest.mark.timeout(900)]


def _states(watcher: Watcher, job: str, until: tuple[str, ...], timeout_s: float) -> list[dict]:
    """Every state the box sent for `job` (its update_state events), up to one of `until`."""
    seen: list[dict] = []

    def matches(topic: str, payload, retained: bool) -> bool:
        if topic.endswith("/event/update_state") and payload["data"]["job"] == job:
            seen.append(payload["data"])
            return payload["data"]["state"] in until
        return False

    watcher.wait_for(matches, timeout_s)
    return seen


@pytest.fixture
def new_box(tmp_path, keys, tls, broker, display):
    """A box on the first release; `new_box(env)` starts its units with `env` added."""
    boxes = []

    def make(extra_env=None) -> Box:
        box = Box(
            tmp_path / "box",
            keys,
            tls,
            broker.url,
            health_s=20,
            display=display,
            extra_env=extra_env or {},
        )
        box.write_config()
        box.install_first(bundle(keys, __version__))
        box.start()
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.stop()


@pytest.fixture
def box(new_box):
    return new_box()


def _online(broker) -> Watcher:
    admin = Watcher(broker, subscribe=("comptoir/v1/box-1/#",)).ready()
    admin.wait_for(lambda t, p, r: t.endswith("/status") and p.get("state") == "online", 90)
    return admin


def test_an_update_succeeds_and_the_box_then_runs_the_new_version(box, keys, tls, broker):
    admin = _online(broker)
    states = _update(box, admin, tls, bundle(keys, NEXT), "job-1")
    names = [s["state"] for s in states]
    assert names == [
        "queued",
        *["downloading"] * 11,
        "verifying",
        "installing",
        "switching",
        "health_check",
        "succeeded",
    ], (names, box.logs())
    assert [s["percent"] for s in states[1:12]] == list(range(0, 101, 10))
    assert box.layout.current() == NEXT and box.layout.previous() == __version__
    admin.wait_for(lambda t, p, r: t.endswith("/status") and p.get("version") == NEXT, 30)
    updated = admin.wait_for(lambda t, p, r: t.endswith("/event/software_updated"), 30)[1]
    assert updated["data"] == {"job": "job-1", "from": __version__, "to": NEXT}


def _update(
    box: Box,
    admin: Watcher,
    tls,
    new,
    job: str,
    until=("rolled_back", "succeeded", "failed"),
    timeout_s: float = 400,
) -> list[dict]:
    with file_server(new.parent, tls) as server:
        args = {"url": url_of(server, new), "sha256": sha256_of(new), "version": NEXT}
        answer = admin.command("box-1", "update", args, id=job)
        assert answer["ok"], answer
        try:
            return _states(admin, job, until, timeout_s)
        except AssertionError:
            print(box.logs())
            raise


def test_a_release_whose_agent_exits_is_rolled_back_and_the_fleet_is_told_why(
    tmp_path, keys, tls, broker, display
):
    """The short variant of the next test: both releases run this checkout (no bundle is
    installed) and the update starts at the hand-over to the updater, as the agent does it."""
    box = Box(tmp_path / "box", keys, tls, broker.url, health_s=20, display=display)
    box.write_config()
    layout = box.layout
    box.link_release(__version__)
    box.link_release(NEXT, agent_exit=3)
    layout.point(layout.current_link, __version__)
    box.start()
    try:
        admin = _online(broker)
        db = open_database(box.data_dir / "comptoir.db")
        files = {"url": "https://files.example/c.bundle", "sha256": "ab" * 32}
        update_jobs.create(
            db, "bad-s", version=NEXT, from_version=__version__, requested_by="alice", **files
        )
        db.close()
        apply.prepare(layout, "bad-s", NEXT, box.health_s)
        Supervised(box.root).start_updater()
        states = _states(admin, "bad-s", ("rolled_back", "succeeded", "failed"), 180)
        assert [s["state"] for s in states] == [
            "queued",
            "switching",
            "health_check",
            "rolled_back",
        ], (states, box.logs())
        assert "agent stopped by itself" in states[-1]["reason"]
        assert layout.current() == __version__
        rolled = admin.wait_for(lambda t, p, r: t.endswith("/event/software_rolled_back"), 30)
        assert rolled[1]["data"]["from"] == __version__ and rolled[1]["data"]["to"] == NEXT
        # The box's latest update state, retained for an admin who looks later.
        later = Watcher(broker, subscribe=("comptoir/v1/box-1/update",)).ready()
        try:
            retained = later.wait_for(lambda t, p, r: r and p["state"] == "rolled_back", 30)[1]
        finally:
            later.close()
        assert retained["job"] == "bad-s"
        admin.close()
    finally:
        box.stop()


@pytest.mark.parametrize(
    ("patches", "why"),
    [
        (AGENT_EXITS, "agent stopped by itself"),
        ({**KIOSK_SILENT, **NEW_MIGRATION}, "the kiosk wrote no fresh heartbeat since the switch"),
    ],
    ids=["agent-exits-at-start", "kiosk-never-heartbeats"],
)
@pytest.mark.long
def test_a_broken_release_is_rolled_back_by_the_box_and_no_sale_is_lost(
    box, keys, tls, broker, patches, why
):
    broken = bundle(keys, NEXT, patches)
    admin = _online(broker)
    old_python = box.layout.folder(__version__) / "venv" / "bin" / "python"
    receipts = [sell_with(old_python, box.config)]
    with file_server(broken.parent, tls) as server:
        args = {"url": url_of(server, broken), "sha256": sha256_of(broken), "version": NEXT}
        assert admin.command("box-1", "update", args, id="bad-1")["ok"]
        _states(admin, "bad-1", ("health_check",), 300)
        switched = time.monotonic()
        # Customers keep buying on the new release while it is being judged.
        new_python = box.layout.folder(NEXT) / "venv" / "bin" / "python"
        receipts.append(sell_with(new_python, box.config))
        states = _states(admin, "bad-1", ("rolled_back", "succeeded", "failed"), 200)
    took = time.monotonic() - switched
    assert states[-1]["state"] == "rolled_back", (states, box.logs())
    assert why in states[-1]["reason"]
    assert took < 2 * box.health_s + 30  # the gate, then its settling for what is late
    assert box.layout.current() == __version__
    # Back on the old release: it runs on the database the new one migrated, sells again, and
    # every sale is there.
    admin.wait_for(
        lambda t, p, r: (
            t.endswith("/status") and p.get("version") == __version__ and p.get("state") == "online"
        ),
        60,
    )
    receipts.append(sell_with(old_python, box.config))
    db = open_database(box.data_dir / "comptoir.db")
    try:
        kept = [row[0] for row in db.execute("SELECT receipt_number FROM sales ORDER BY 1")]
        events = [e.kind for e in technical_events.events(db)]
    finally:
        db.close()
    assert kept == receipts == [1, 2, 3]
    assert "rollback" in events
    rolled = admin.wait_for(lambda t, p, r: t.endswith("/event/software_rolled_back"), 30)[1]
    assert rolled["data"]["from"] == __version__ and rolled["data"]["to"] == NEXT


@pytest.mark.long
@pytest.mark.parametrize(
    ("point", "bad", "ends_on"),
    [
        ("download:half", False, NEXT),  # the agent, restarted by its unit, resumes the job
        ("install:pip", False, NEXT),
        ("apply:restarted", False, __version__),
        ("apply:gated", False, __version__),
        ("apply:committed", False, NEXT),
        ("apply:rolling_back", True, __version__),
    ],
)
def test_the_agent_or_the_updater_killed_at_any_step_goes_on_and_leaves_a_working_box(
    new_box, keys, tls, broker, tmp_path, point, bad, ends_on
):
    box = new_box(
        {"COMPTOIR_FAILPOINT": point, "COMPTOIR_FAILPOINT_ONCE": str(tmp_path / "killed")}
    )
    admin = _online(broker)
    new = bundle(keys, NEXT, AGENT_EXITS if bad else None)
    states = _update(box, admin, tls, new, "job-k")
    assert (tmp_path / "killed").read_text() == point  # it was killed there, and went on
    assert states[-1]["state"] == ("succeeded" if ends_on == NEXT else "rolled_back"), states
    assert box.layout.current() == ends_on
    admin.wait_for(
        lambda t, p, r: (
            t.endswith("/status") and p.get("version") == ends_on and p.get("state") == "online"
        ),
        90,
    )
    db = open_database(box.data_dir / "comptoir.db")
    try:
        outcomes = [e.kind for e in technical_events.events(db) if e.kind in ("update", "rollback")]
        ends = [
            state
            for (state,) in db.execute(
                "SELECT json_extract(payload, '$.state') FROM outbox WHERE type = 'update_state'"
            )
            if state in ("succeeded", "rolled_back", "failed")
        ]
    finally:
        db.close()
    assert outcomes == ["update" if ends_on == NEXT else "rollback"]  # recorded once
    assert ends == [states[-1]["state"]]  # and the job ended once


@pytest.mark.long
def test_a_box_that_loses_power_during_the_health_gate_comes_back_on_the_old_release(
    box, keys, tls, broker
):
    admin = _online(broker)
    new = bundle(keys, NEXT)
    with file_server(new.parent, tls) as server:
        args = {"url": url_of(server, new), "sha256": sha256_of(new), "version": NEXT}
        assert admin.command("box-1", "update", args, id="job-p")["ok"]
        _states(admin, "job-p", ("health_check",), 300)
    box.power_cut()
    assert box.layout.current() == NEXT  # the power went with the new release on trial
    box.start()  # the boot: the supervisor's recovery, as comptoir-update-check does
    states = _states(admin, "job-p", ("rolled_back", "succeeded"), 120)
    assert states[-1]["state"] == "rolled_back"
    assert states[-1]["reason"] == "the box restarted during gating"
    assert box.layout.current() == __version__
    admin.wait_for(
        lambda t, p, r: (
            t.endswith("/status") and p.get("version") == __version__ and p.get("state") == "online"
        ),
        90,
    )
