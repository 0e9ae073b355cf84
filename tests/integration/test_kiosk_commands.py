"""The kiosk runs the device commands other processes queue, and records every outcome."""

from __future__ import annotations

import pytest

from appliance.errors import ComptoirError
from appliance.kiosk.commands import CommandExecutor, CommandRefused
from appliance.store import device_commands
from appliance.store.device_commands import CommandName


@pytest.fixture
def executor(db, data_dir):
    calls = []

    def zero(command):
        calls.append(("scale_zero", command.args))
        return {"zeroed": True}

    def restart(command):
        raise CommandRefused("a payment is in progress: try again in a minute")

    def label(command):
        raise ComptoirError("the label printer is out of paper: load a new roll")

    handlers = {
        CommandName.SCALE_ZERO: zero,
        CommandName.RESTART_UI: restart,
        CommandName.PRINT_TEST_LABEL: label,
    }
    runner = CommandExecutor(data_dir / "comptoir.db", handlers)
    runner.calls = calls
    yield runner
    if runner._db is not None:
        runner._db.close()


def test_a_queued_command_runs_once_and_its_result_is_recorded(db, executor):
    command = device_commands.queue(
        db, CommandName.SCALE_ZERO, {"why": "drift"}, requested_by="web"
    )
    assert executor.check() == 1
    assert executor.calls == [("scale_zero", {"why": "drift"})]
    done = device_commands.get(db, command.id)
    assert (done.state, done.result) == ("done", {"zeroed": True})
    assert executor.check() == 0


def test_nothing_is_read_again_until_another_process_commits(db, executor):
    assert executor.check() == 0
    assert executor.check() == 0
    device_commands.queue(db, CommandName.SCALE_ZERO, requested_by="agent")
    assert executor.check() == 1


def test_an_unknown_command_is_refused_with_the_known_ones(db, executor):
    command = device_commands.queue(db, "open_everything", requested_by="agent")
    executor.check()
    refused = device_commands.get(db, command.id)
    assert refused.state == "refused"
    assert "unknown command 'open_everything'" in refused.result["error"]
    assert "scale_zero" in refused.result["error"]


def test_an_expired_command_is_refused_and_never_run(db, executor):
    command = device_commands.queue(
        db, CommandName.SCALE_ZERO, requested_by="agent", expires_at="2000-01-01T00:00:00+00:00"
    )
    executor.check()
    assert executor.calls == []
    assert device_commands.get(db, command.id).result["error"] == "expired before it could run"


def test_a_command_the_kiosk_cannot_run_now_is_refused_with_why(db, executor):
    command = device_commands.queue(db, CommandName.RESTART_UI, requested_by="agent")
    executor.check()
    refused = device_commands.get(db, command.id)
    assert (refused.state, refused.result["error"]) == (
        "refused",
        "a payment is in progress: try again in a minute",
    )


def test_a_device_failure_is_recorded_as_failed_and_the_queue_goes_on(db, executor):
    first = device_commands.queue(db, CommandName.PRINT_TEST_LABEL, requested_by="web")
    second = device_commands.queue(db, CommandName.SCALE_ZERO, requested_by="web")
    assert executor.check() == 2
    failed = device_commands.get(db, first.id)
    assert failed.state == "failed" and "out of paper" in failed.result["error"]
    assert device_commands.get(db, second.id).state == "done"


def test_the_executor_thread_notices_a_command_by_itself(db, executor):
    executor.interval_s = 0.05
    executor.start()
    try:
        command = device_commands.queue(db, CommandName.SCALE_ZERO, requested_by="web")
        finished = device_commands.wait(db, command.id, timeout_s=10)
    finally:
        executor.stop()
    assert finished.state == "done"
