"""`comptoir fleet update` over 20 simulated boxes: canaries first, then the rest a few at a
time, stopping by itself after --max-failures; `fleet releases` says who runs what."""

from __future__ import annotations

import io
import json
import re

import pytest

from appliance.commands.fleet import ProgressTable
from appliance.release.rollout import Rollout
from tests.release_support import run_comptoir
from tests.updates.simulated_fleet import fleet, wait_online

FAILING = {"box-03", "box-08", "box-14"}
SHA = "ab" * 32


@pytest.fixture
def boxes(broker):
    sims = fleet(broker.port, 20, FAILING, offered="0.2.0")
    wait_online(sims)
    yield sims
    for sim in sims:
        sim.close()


def test_a_canary_rollout_stops_by_itself_after_max_failures(broker, boxes):
    done = run_comptoir(
        "fleet",
        "update",
        "--url",
        broker.url,
        "--bundle",
        "https://files.example/c.bundle",
        "--sha256",
        SHA,
        "--version",
        "0.2.0",
        "--boxes",
        "all",
        "--canary",
        "5",
        "--max-failures",
        "2",
        "--parallel",
        "3",
        "--timeout",
        "60",
        check=False,
    )
    assert done.returncode == 1, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last == (
        "6 succeeded, 2 failed or rolled back, 12 not sent: stopped after 2 failures "
        "(--max-failures 2)"
    )
    reached = {sim.device for sim in boxes if sim.commands}
    assert reached == {f"box-{n:02d}" for n in range(1, 9)}  # 5 canaries, then 3 at a time
    assert "box-14" not in reached  # the third bad box never got it: the rollout had stopped
    # Piped, the console writes a line for each step of each box, in the order it happened.
    steps = [line.split()[1:3] for line in done.stdout.splitlines() if line.startswith("box-01 ")]
    assert steps == [
        ["sent"],
        ["queued"],
        ["downloading", "0"],
        ["downloading", "50"],
        ["downloading", "100"],
        ["verifying"],
        ["installing"],
        ["switching"],
        ["health_check"],
        ["succeeded"],
    ], done.stdout
    for bad in ("box-03", "box-08"):
        assert re.search(
            rf"^{bad} +rolled_back +the kiosk wrote no fresh heartbeat", done.stdout, re.MULTILINE
        )

    listed = json.loads(run_comptoir("fleet", "releases", "--url", broker.url, "--json").stdout)
    versions = {box["device"]: box["version"] for box in listed}
    assert versions["box-01"] == "0.2.0" and versions["box-03"] == "0.1.0"
    assert versions["box-20"] == "0.1.0"
    assert {box["device"]: box.get("update", {}).get("state") for box in listed}["box-08"] == (
        "rolled_back"
    )


def test_boxes_offline_are_left_for_the_next_rollout_and_not_counted_as_failures(broker):
    sims = fleet(broker.port, 5, set(), offered="0.2.0", offline=frozenset({"box-01", "box-04"}))
    wait_online(sims)
    try:
        done = run_comptoir(
            *("fleet", "update", "--url", broker.url, "--bundle", "https://files.example/c.bundle"),
            *("--sha256", SHA, "--version", "0.2.0", "--boxes", "all", "--canary", "1"),
            *("--max-failures", "1", "--timeout", "60"),
            check=False,
        )
    finally:
        for sim in sims:
            sim.close()
    assert done.returncode == 1, done.stderr  # not every box has it yet
    assert done.stdout.strip().splitlines()[-1] == (
        "3 succeeded, 0 failed or rolled back, 0 not sent, "
        "2 offline (send the rollout again when they are back)"
    )
    assert {sim.device for sim in sims if sim.commands} == {"box-02", "box-03", "box-05"}
    rows = [line.split()[:2] for line in done.stdout.splitlines() if line.startswith("box-")]
    # The canary is the first box online; the rest goes once it succeeded.
    assert rows.index(["box-02", "succeeded"]) < rows.index(["box-03", "sent"])
    assert re.search(r"^box-04 +offline +offline when the rollout started", done.stdout, re.M)


def test_the_rest_waits_until_every_canary_is_done():
    plan = Rollout([f"b{n}" for n in range(6)], canary=2, max_failures=2, parallel=2)
    assert plan.next_to_send() == ["b0", "b1"]
    plan.update("b0", "sent")
    plan.update("b1", "sent")
    plan.update("b0", "succeeded")
    assert plan.next_to_send() == []  # b1 is still on trial
    plan.update("b1", "succeeded")
    assert plan.next_to_send() == ["b2", "b3"]


def test_no_canary_and_no_failure_limit_sends_to_all_at_the_parallel_pace():
    plan = Rollout(["a", "b", "c"], canary=0, max_failures=0, parallel=2)
    assert plan.next_to_send() == ["a", "b"]
    plan.update("a", "failed")
    plan.update("b", "failed")
    assert plan.next_to_send() == ["c"] and not plan.stopped


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_table_of_every_box_is_redrawn_in_place():
    plan = Rollout(["box-1", "box-2"], canary=1, max_failures=1)
    out = Terminal()
    table = ProgressTable(out)
    table.show(plan)
    plan.update("box-1", "downloading", 40)
    table.show(plan)
    table.show(plan)  # nothing changed: nothing drawn
    first, second = out.getvalue().split("\x1b[4F\x1b[J")  # up over header, 2 boxes, summary
    assert first.splitlines()[1].split() == ["box-1", "not_sent"]
    assert [line.split()[:3] for line in second.splitlines()[1:3]] == [
        ["box-1", "downloading", "40"],
        ["box-2", "not_sent"],
    ]
    assert second.splitlines()[-1] == "-- 0 succeeded, 0 failed or rolled back, 1 not sent"
