"""The Caisse-AP driver against the simulated terminal over a real TCP socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import Payment
from appliance.devices.payment.base import PaymentOutcome
from appliance.devices.payment.caisse_ap import CaisseApTerminal, request_id
from appliance.devices.payment.factory import open_terminal
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from tests.found import found

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def simulator() -> Iterator[TerminalSimulator]:
    with TerminalSimulator() as sim:
        yield sim


def terminal_for(sim: TerminalSimulator, timeout_s: float = 30) -> CaisseApTerminal:
    return CaisseApTerminal(sim.host, sim.port, timeout_s=timeout_s)


@pytest.mark.parametrize(
    ("scenario", "outcome", "reason"),
    [
        (Scenario.APPROVED, PaymentOutcome.APPROVED, ""),
        (Scenario.DECLINED, PaymentOutcome.DECLINED, "04"),
        (Scenario.ABANDONED, PaymentOutcome.ABANDONED, "06"),
        (Scenario.TIMEOUT, PaymentOutcome.TIMEOUT, "08"),
        (Scenario.NOT_COMPLETED, PaymentOutcome.UNKNOWN, "07"),
        (Scenario.MALFORMED, PaymentOutcome.UNKNOWN, ""),
        (Scenario.WRONG_ECHO, PaymentOutcome.UNKNOWN, ""),
        (Scenario.CLOSED_AFTER_APPROVAL, PaymentOutcome.UNKNOWN, ""),
        (Scenario.CHUNKED, PaymentOutcome.APPROVED, ""),
        (Scenario.REFUSED, PaymentOutcome.ERROR, ""),
    ],
)
def test_each_terminal_behaviour_gives_the_documented_outcome(
    simulator: TerminalSimulator, scenario: Scenario, outcome: PaymentOutcome, reason: str
) -> None:
    simulator.scenario = scenario
    result = terminal_for(simulator).pay(1590, "attempt-42")
    assert result.outcome is outcome, result.message
    assert result.reason_code == reason
    assert result.amount_cents == 1590


def test_an_approval_carries_the_authorisation_and_a_masked_card(
    simulator: TerminalSimulator,
) -> None:
    result = terminal_for(simulator).pay(1590, "attempt-7")
    record = simulator.ledger[-1]
    assert result.result_code == "10"
    assert result.authorisation == record.authorisation != ""
    assert "#" in result.masked_pan
    assert (record.request_id, record.amount_cents, record.charged) == (
        request_id("attempt-7"),
        1590,
        True,
    )


def test_an_approval_lost_in_transit_was_charged_but_is_unknown(
    simulator: TerminalSimulator,
) -> None:
    simulator.scenario = Scenario.CLOSED_AFTER_APPROVAL
    result = terminal_for(simulator).pay(250, "attempt-lost")
    assert result.outcome is PaymentOutcome.UNKNOWN
    assert "closed the connection" in result.message
    assert simulator.ledger[-1].charged


def test_a_refused_connection_sends_nothing_and_the_terminal_charges_nothing(
    simulator: TerminalSimulator,
) -> None:
    simulator.scenario = Scenario.REFUSED
    result = terminal_for(simulator).pay(100, "attempt-r")
    assert result.outcome is PaymentOutcome.ERROR
    assert "cannot reach" in result.message
    assert simulator.ledger == []
    simulator.scenario = Scenario.APPROVED
    assert terminal_for(simulator).pay(100, "attempt-r2").outcome is PaymentOutcome.APPROVED


def test_a_terminal_that_never_answers_is_unknown_after_the_timeout(
    simulator: TerminalSimulator,
) -> None:
    simulator.delay_s = 30
    result = terminal_for(simulator, timeout_s=0.5).pay(100, "attempt-slow")
    assert result.outcome is PaymentOutcome.UNKNOWN
    assert "no answer" in result.message


def test_an_answer_that_comes_after_a_delay_is_read(simulator: TerminalSimulator) -> None:
    simulator.delay_s = 0.5
    assert terminal_for(simulator).pay(100, "attempt-d").outcome is PaymentOutcome.APPROVED


def test_the_simulator_says_which_request_it_is_charging(simulator: TerminalSimulator) -> None:
    """What the soak waits for to kill the kiosk in the middle of a charge."""
    simulator.delay_s = 1.0
    answers: list[PaymentOutcome] = []
    payer = threading.Thread(
        target=lambda: answers.append(terminal_for(simulator).pay(100, "attempt-held").outcome)
    )
    assert simulator.charging is None
    payer.start()
    seen: set[str | None] = set()
    while payer.is_alive():
        seen.add(simulator.charging)
        payer.join(0.01)
    assert request_id("attempt-held") in seen
    assert answers == [PaymentOutcome.APPROVED] and simulator.charging is None


def test_a_terminal_that_stays_silent_and_closes_is_unknown() -> None:
    """A bare listener that reads the request and closes without a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def close_after_request() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)

        thread = threading.Thread(target=close_after_request)
        thread.start()
        result = CaisseApTerminal("127.0.0.1", port, timeout_s=30).pay(100, "attempt-s")
        thread.join()
    assert result.outcome is PaymentOutcome.UNKNOWN
    assert "no answer" in result.message


def test_a_terminal_answering_in_pieces_without_closing_is_approved_without_waiting() -> None:
    """The OCA test: answer in 3 pieces, socket left open; the driver must not wait for EOF."""
    answer = b"CZ0040300CA00201CB0041590CD0010CE003978AE00210AC006654321"
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        done = threading.Event()

        def answer_in_pieces() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)
                for piece in (answer[:4], answer[4:30], answer[30:]):
                    conn.sendall(piece)
                done.wait(60)

        thread = threading.Thread(target=answer_in_pieces)
        thread.start()
        result = CaisseApTerminal("127.0.0.1", port, timeout_s=60).pay(1590, "attempt-p")
        done.set()
        thread.join()
    assert result.outcome is PaymentOutcome.APPROVED
    assert result.authorisation == "654321"


def test_a_request_missing_fields_is_refused_by_the_simulator_with_af_09(
    simulator: TerminalSimulator,
) -> None:
    with socket.create_connection((simulator.host, simulator.port), timeout=30) as conn:
        conn.sendall(b"CZ0040300CB003100")
        data = b""
        while chunk := conn.recv(1024):
            data += chunk
    assert b"AE00201" in data and b"AF00209" in data


def test_availability_check_does_not_charge(simulator: TerminalSimulator) -> None:
    assert terminal_for(simulator).available()
    simulator.scenario = Scenario.REFUSED
    assert not terminal_for(simulator).available()
    assert simulator.ledger == []


def test_no_payment_here_means_no_terminal() -> None:
    assert open_terminal(Payment(terminal="none")) is None
    terminal = open_terminal(Payment(terminal="caisse-ap", address="10.0.0.5:8888"))
    assert isinstance(terminal, CaisseApTerminal)
    assert (terminal.host, terminal.port) == ("10.0.0.5", 8888)


def comptoir(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=90,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_installer_test_command_reports_approval_as_json(simulator: TerminalSimulator) -> None:
    done = comptoir(
        "payment", "test", "--terminal", simulator.address, "--amount-cents", "100", "--json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outcome"] == "approved"
    assert report["result_code"] == "10"
    assert report["authorisation"] == simulator.ledger[-1].authorisation


def test_installer_test_command_exits_non_zero_on_a_decline(simulator: TerminalSimulator) -> None:
    simulator.scenario = Scenario.DECLINED
    done = comptoir("payment", "test", "--terminal", simulator.address, "--amount-cents", "100")
    assert done.returncode == 1
    assert done.stdout.startswith("declined") and "AF=04" in done.stdout


def test_installer_test_command_names_a_bad_address() -> None:
    done = comptoir("payment", "test", "--terminal", "terminal", "--amount-cents", "100")
    assert done.returncode == 2
    assert "host:port" in done.stderr and "Traceback" not in done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_simulate_command_serves_and_changes_outcome_from_stdin() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appliance",
            "payment",
            "simulate",
            "--port",
            str(port),
            "--delay",
            "0",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    said, told = found(process.stdout), found(process.stdin)
    try:
        assert "terminal simulator on" in said.readline()
        said.readline()
        terminal = CaisseApTerminal("127.0.0.1", port, timeout_s=30)
        assert terminal.pay(100, "a").outcome is PaymentOutcome.APPROVED
        told.write("declined\n")
        told.flush()
        assert said.readline().strip() == "outcome declined"
        assert terminal.pay(100, "b").outcome is PaymentOutcome.DECLINED
        told.write("quit\n")
        told.flush()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()


def test_installer_test_command_with_no_terminal_listening_prints_one_error() -> None:
    port = free_port()
    done = comptoir("payment", "test", "--terminal", f"127.0.0.1:{port}", "--amount-cents", "100")
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "WARNING" not in lines[0] and "no payment made" in lines[0]
    assert "cannot reach the terminal" in lines[0] and f"port {port}" in lines[0]
