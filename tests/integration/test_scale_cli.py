"""`comptoir scale simulate|read|detect` as an installer runs them: real processes, a real pty."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20


def comptoir(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


class Simulator:
    """A `comptoir scale simulate` process; `tell` waits for its acknowledgement."""

    def __init__(self, protocol: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance", "scale", "simulate", "--protocol", protocol],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        self.path = self.process.stdout.readline().strip()

    def tell(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(WAIT_S)


@pytest.fixture(scope="module")
def running_simulator() -> Iterator[Simulator]:
    running = Simulator("toledo8217")
    yield running
    running.stop()


@pytest.fixture
def simulator(running_simulator: Simulator) -> Simulator:
    """The module's simulator, back to an empty pan and a clean line."""
    assert running_simulator.tell("ok") == "ok ok"
    assert running_simulator.tell("empty") == "ok empty"
    return running_simulator


def read_json(port: str, *extra: str) -> tuple[int, dict]:
    result = comptoir("scale", "read", "--protocol", "toledo8217", "--port", port, "--json", *extra)
    return result.returncode, json.loads(result.stdout)


def test_simulate_prints_the_pty_path_alone_on_the_first_line(simulator):
    assert simulator.path.startswith("/dev/pts/")


def test_read_of_a_stable_load_gives_weight_and_price_and_exit_0(simulator):
    assert simulator.tell("weight 1234") == "ok weight 1234"
    code, reading = read_json(simulator.path, "--unit-price-cents", "450")
    assert code == 0
    assert reading == {
        "status": "stable",
        "weight_g": 1234,
        "tare_g": 0,
        "net": False,
        "unit_price_cents": 450,
        "price_cents": 555,  # 1.234 kg x 4.50 EUR = 5.553 -> 5.55
        "detail": "",
    }


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("motion", "motion"),
        ("overload", "overload"),
        ("underzero", "under_zero"),
        ("silence", "timeout"),
        ("garbage", "error"),
    ],
)
def test_read_of_an_unfit_state_has_no_weight_and_fails(simulator, command, status):
    simulator.tell("weight 1234")
    simulator.tell(command)
    code, reading = read_json(simulator.path, "--unit-price-cents", "450", "--timeout", "0.5")
    assert code != 0
    assert reading["status"] == status
    assert reading["weight_g"] is None
    assert reading["price_cents"] is None


def test_read_below_minimum_load_is_refused(simulator):
    simulator.tell("weight 10")
    code, reading = read_json(simulator.path)
    assert (code, reading["status"], reading["weight_g"]) == (1, "below_min", None)
    assert "minimum" in reading["detail"]


def test_simulator_recovers_when_the_fault_is_cleared(simulator):
    simulator.tell("weight 500")
    simulator.tell("silence")
    assert simulator.tell("ok") == "ok ok"
    code, reading = read_json(simulator.path)
    assert (code, reading["weight_g"]) == (0, 500)


def test_simulator_answers_an_unknown_line_and_keeps_serving(simulator):
    assert simulator.tell("jump").startswith("unknown command 'jump'")
    assert simulator.tell("empty") == "ok empty"
    code, reading = read_json(simulator.path)
    assert reading["status"] == "below_min" and code == 1  # an empty pan is no weighing


@pytest.mark.parametrize("protocol", ["toledo8217", "dialog06", "cas"])
def test_every_protocol_reads_its_simulator_through_the_same_command(protocol):
    simulator = Simulator(protocol)
    try:
        simulator.tell("weight 1234")
        result = comptoir(
            "scale", "read", "--protocol", protocol, "--port", simulator.path, "--json",
            "--unit-price-cents", "450", "--polynomial", "8005",
        )  # fmt: skip
        reading = json.loads(result.stdout)
        assert (result.returncode, reading["weight_g"], reading["price_cents"]) == (0, 1234, 555)
    finally:
        simulator.stop()


def test_read_on_a_missing_port_is_one_line_and_non_zero(tmp_path):
    missing = str(tmp_path / "ttyUSB9")
    result = comptoir("scale", "read", "--protocol", "toledo8217", "--port", missing)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert missing in result.stderr and "no such device" in result.stderr


def test_unknown_protocol_is_one_line_and_non_zero():
    result = comptoir("scale", "read", "--protocol", "bizerba", "--port", "/dev/ttyUSB0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "toledo8217" in result.stderr


def test_detect_finds_the_simulated_scale_on_its_port(simulator):
    result = comptoir("scale", "detect", "--port", simulator.path, "--json")
    assert result.returncode == 0
    ports = {entry["port"]: entry for entry in json.loads(result.stdout)["ports"]}
    assert ports[simulator.path]["protocol"] == "toledo8217"
