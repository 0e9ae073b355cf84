"""`comptoir locker ...` as a person runs it: real processes, a real pty simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer
from appliance.store import device_commands
from appliance.store.db import open_database


@pytest.fixture
def toml(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "comptoir.toml"
    path.write_text(
        f'[device]\nid = "test-box"\ndata_dir = "{data_dir}"\n'
        '[lockers]\ncontroller = "kerong"\n'
        '[[lockers.compartments]]\nnumber = 1\nsize = "S"\n'
        '[[lockers.compartments]]\nnumber = 2\nchilled = true\nzone = "frigo"\nlock = 1\n'
    )
    return path


def comptoir(toml: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(toml), "locker", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.fixture
def bus() -> Iterator[tuple[Cu16Bus, str]]:
    sim = Cu16Bus((0, 3))
    with Cu16PtyServer(sim) as server:
        yield sim, server.path


def test_status_lists_every_compartment_as_json(toml: Path) -> None:
    done = comptoir(toml, "status", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["number"], r["size"], r["chilled"], r["use"]) for r in rows] == [
        (1, "S", False, "free"),
        (2, "M", True, "free"),
    ]


def test_open_is_queued_with_who_and_why_and_waits_for_the_kiosk(
    toml: Path, data_dir: Path
) -> None:
    db = open_database(data_dir / "comptoir.db")

    def kiosk() -> None:
        for _ in range(400):
            command = device_commands.take_next(db)
            if command:
                device_commands.finish(db, command.id, True, {"opened": True})
                return
            threading.Event().wait(0.05)

    worker = threading.Thread(target=kiosk)
    worker.start()
    done = comptoir(toml, "open", "2", "--reason", "client bloqué", "--by", "web:anne", "--json")
    worker.join()
    assert done.returncode == 0, done.stderr
    [command] = device_commands.recent(db)
    assert (command.name, command.args, command.requested_by, command.reason) == (
        "open_door",
        {"compartment": 2},
        "web:anne",
        "client bloqué",
    )


def test_open_of_an_unknown_door_is_refused_before_queuing(toml: Path, data_dir: Path) -> None:
    done = comptoir(toml, "open", "9", "--reason", "x")
    assert done.returncode == 2 and "no compartment 9" in done.stderr
    assert device_commands.recent(open_database(data_dir / "comptoir.db")) == []


def test_installer_test_unlocks_one_lock_and_reports_the_board(
    toml: Path, bus: tuple[Cu16Bus, str]
) -> None:
    sim, path = bus
    done = comptoir(toml, "test", "--port", path, "--board", "3", "--lock", "7", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["confirmed"] is True
    assert answer["before"]["lock_bits"] == "1" * 16
    assert answer["after"]["lock_bits"] == "1111111101111111"
    assert sim.board(3).open_doors == {7}


def test_installer_test_needs_no_config_file_when_port_board_and_lock_are_given(
    bus: tuple[Cu16Bus, str], tmp_path: Path
) -> None:
    sim, path = bus
    env = {k: v for k, v in os.environ.items() if k != "COMPTOIR_CONFIG"}
    test = ["locker", "test", "--port", path, "--board", "0", "--lock", "4"]
    done = subprocess.run(
        [sys.executable, "-m", "appliance", *test],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "board 0 lock 4: opened (confirmed by the board)" in done.stdout
    assert sim.board(0).open_doors == {4}


def test_installer_test_of_a_silent_board_exits_non_zero(
    toml: Path, bus: tuple[Cu16Bus, str]
) -> None:
    done = comptoir(toml, "test", "--port", bus[1], "--board", "5", "--lock", "0")
    assert done.returncode == 1
    assert "lock board 5" in done.stdout and "does not answer" in done.stdout


def test_installer_test_of_a_jammed_lock_says_it_was_not_confirmed(
    toml: Path, bus: tuple[Cu16Bus, str]
) -> None:
    bus[0].board(0).jammed.add(0)
    done = comptoir(toml, "test", "--port", bus[1], "--board", "0", "--lock", "0")
    assert done.returncode == 1 and "NOT confirmed" in done.stdout


def test_a_lock_index_out_of_range_is_one_clear_line(toml: Path) -> None:
    done = comptoir(toml, "test", "--port", "/dev/null", "--board", "0", "--lock", "16")
    assert done.returncode == 2 and "0 to 15" in done.stderr


def test_a_producer_is_added_with_a_pin_that_is_never_stored_in_clear(
    toml: Path, data_dir: Path
) -> None:
    done = comptoir(toml, "producer", "Ferme des Lilas", "--pin-stdin", stdin="482913\n")
    assert done.returncode == 0, done.stderr
    dump = "\n".join(open_database(data_dir / "comptoir.db").iterdump())
    assert "Ferme des Lilas" in dump and "482913" not in dump
    again = comptoir(toml, "producer", "Ferme des Lilas", "--pin-stdin", stdin="111111\n")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_a_resend_that_cannot_be_mailed_keeps_the_old_code_working(
    toml: Path, data_dir: Path
) -> None:
    from appliance.core.locker import Compartment, Size
    from appliance.core.order import Order, OrderLine, OrderState
    from appliance.core.pickup_code import Verdict
    from appliance.store import lockers, orders, pickup_codes
    from appliance.store.db import transaction

    db = open_database(data_dir / "comptoir.db")
    key = pickup_codes.device_key_for(None, data_dir)
    lockers.sync_compartments(db, [Compartment(1, Size.S)])
    with transaction(db):
        line = OrderLine("Panier", 1)
        orders.save(db, Order("R100", OrderState.WAITING, "Alice", "a@example.org", lines=(line,)))
    issued = lockers.deposit(db, "R100", 1, producer="Ferme", key=key, validity_days=7)
    done = comptoir(toml, "resend", "R100")  # no [smtp] host: nothing can be sent
    assert done.returncode != 0 and "[smtp] host" in done.stderr
    assert pickup_codes.check_code(db, issued.code, key=key).verdict is Verdict.OK
    db.close()


def test_simulate_serves_a_bus_the_installer_test_opens_and_stdin_closes_again(
    tmp_path: Path,
) -> None:
    simulator = subprocess.Popen(
        [sys.executable, "-m", "appliance", "locker", "simulate", "--boards", "0,2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert simulator.stdin is not None and simulator.stdout is not None

    def tell(line: str) -> str:
        assert simulator.stdin is not None and simulator.stdout is not None
        simulator.stdin.write(line + "\n")
        simulator.stdin.flush()
        return simulator.stdout.readline().strip()

    try:
        path = simulator.stdout.readline().strip()
        assert "close B L" in simulator.stdout.readline()

        def unlock(board: str, lock: str) -> subprocess.CompletedProcess[str]:
            command = ["locker", "test", "--port", path, "--board", board, "--lock", lock]
            return without_config(*command, cwd=tmp_path)

        opened = unlock("2", "5")
        status_after_test = tell("status")
        assert tell("close 2 5") == "ok close 2 5"
        assert tell("jam 0 1") == "ok jam 0 1"
        jammed = unlock("0", "1")
        assert tell("silent 2") == "ok silent 2"
        silent = unlock("2", "0")
        refused = tell("open 7 1")
        final = tell("status")
    finally:
        simulator.kill()
        simulator.wait(30)
    assert opened.returncode == 0 and "opened (confirmed by the board)" in opened.stdout
    assert "board 2: open 5 " in status_after_test
    assert jammed.returncode == 1 and "NOT confirmed" in jammed.stdout
    assert silent.returncode == 1 and "does not answer" in silent.stdout
    assert refused.startswith("unknown command 'open 7 1' (boards 0,2;")
    assert final == "board 0: open - items - jammed 1; board 2: open - items - jammed - silent"


class GpioBankProcess:
    """`comptoir locker simulate --gpio ...` as an installer runs it, told commands on stdin."""

    def __init__(self, wiring: str) -> None:
        simulate = ["locker", "simulate", "--gpio", wiring, "--gpio-port", "0"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance", *simulate],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.address = self.line()
        self.help = [self.line(), self.line()]

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def tell(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.line()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(30)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def without_config(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`comptoir ARGS` where no config file exists, as on an installer's laptop."""
    env = {k: v for k, v in os.environ.items() if k != "COMPTOIR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_simulate_gpio_serves_a_bank_the_installer_test_opens_and_stdin_closes_again(
    tmp_path: Path,
) -> None:
    bank = GpioBankProcess("17:27:22,5:6")
    try:

        def unlock(relay: str, door: str) -> subprocess.CompletedProcess[str]:
            test = ["--relay-pin", relay, "--door-pin", door, "--pigpio", bank.address]
            return without_config("locker", "test", *test, cwd=tmp_path)

        opened = unlock("GPIO17", "GPIO27")
        again = unlock("GPIO17", "GPIO27")
        closed = bank.tell("close 27")
        jammed_ack = bank.tell("jam GPIO6")
        jammed = unlock("5", "6")
        unknown = bank.tell("open 9")
        no_sensor = bank.tell("item 6")
        filled = bank.tell("item 27")
        status = bank.tell("status")
    finally:
        bank.stop()
    assert bank.help[1] == (
        f"try: comptoir locker test --relay-pin GPIO17 --door-pin GPIO27 --pigpio {bank.address}"
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == "relay GPIO17 door GPIO27: opened (seen open by the door switch)\n"
    assert opened.stderr == again.stderr == jammed.stderr == ""
    assert again.returncode == 1
    assert "the door switch reads open: shut the door (is the switch on GPIO27?)" in again.stdout
    assert (closed, jammed_ack, filled) == ("ok close 27", "ok jam GPIO6", "ok item 27")
    assert jammed.returncode == 1 and "NOT confirmed: the door switch stayed shut" in jammed.stdout
    assert unknown.startswith("unknown command 'open 9' (door switch pins 27,6); commands: close P")
    assert no_sensor == "door 6 has no item sensor (wire one with --gpio R:D:I)"
    assert status == "door 27 (relay 17): closed item; door 6 (relay 5): closed jammed"


def test_the_kiosk_driver_watches_the_simulated_bank_in_another_process_until_it_stops(
    tmp_path: Path,
) -> None:
    """What the kiosk does with `pin_factory = "pigpio"`: the real driver in this process, the
    bank in the installer's; a door opened from the bank's stdin is seen, a stopped bank alarms."""
    from appliance.devices.locks.base import LockUnavailable
    from appliance.devices.locks.door_watch import DoorWatch, DoorWatcher, Notice
    from appliance.devices.locks.gpio import GpioLocks, GpioWiring, pin_factory

    bank = GpioBankProcess("17:27")
    reopen = partial(pin_factory, "pigpio", bank.address)
    locks = GpioLocks({3: GpioWiring("GPIO17", "GPIO27")}, reopen(), reopen=reopen)
    watcher = DoorWatcher(locks, DoorWatch(debounce_s=0), lambda notice: None)
    try:
        first = watcher.poll_once()
        assert bank.tell("open 27") == "ok open 27"
        forced = watcher.poll_once()
    finally:
        bank.stop()
    with pytest.raises(LockUnavailable, match=f"the GPIO bank at {bank.address} does not answer"):
        locks.unlock(3)
    down = watcher.poll_once()
    locks.close()
    refused = without_config(
        "locker", "test", "--relay-pin", "17", "--door-pin", "27", "--pigpio", bank.address,
        cwd=tmp_path,
    )  # fmt: skip
    assert first == []
    assert [n.notice for n in forced] == [Notice.OPENED, Notice.FORCED]
    assert [n.notice for n in down] == [Notice.BOARD_DOWN]
    assert refused.returncode == 1 and refused.stderr == ""
    assert refused.stdout == (
        f"relay 17 door 27: cannot use the pigpio GPIO pins: failed to connect to {bank.address}"
        " (is `comptoir locker simulate --gpio` or pigpiod running there?)\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["test", "--relay-pin", "17"], "--relay-pin and --door-pin go together"),
        (
            ["test", "--relay-pin", "17", "--door-pin", "27", "--port", "/dev/ttyUSB1"],
            "give --port/--board/--lock (a CU16 lock) or --relay-pin/--door-pin (GPIO), not both",
        ),
        (["test"], "give --port, --board and --lock (a CU16 lock), or --relay-pin and"),
        (["test", "--relay-pin", "17", "--door-pin", "27", "--pigpio", "8888"], "host:port"),
        (["simulate", "--gpio", "17"], "--gpio '17': give RELAY:DOOR or RELAY:DOOR:ITEM"),
        (["simulate", "--gpio", "17:27,27:5"], "--gpio: pin 27 is wired twice"),
    ],
)
def test_gpio_options_that_do_not_fit_are_one_clear_line(
    args: list[str], error: str, tmp_path: Path
) -> None:
    done = without_config("locker", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert error in done.stderr and done.stderr.count("\n") == 1
