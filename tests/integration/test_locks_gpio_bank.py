"""The real GPIO lock driver on gpiozero's pigpio pins, over a socket to the simulated bank."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from appliance import config
from appliance.devices.locks.base import Door, LockUnavailable
from appliance.devices.locks.door_watch import DoorNotice, DoorWatch, DoorWatcher, Notice
from appliance.devices.locks.factory import open_locks
from appliance.devices.locks.gpio import GpioLocks, GpioWiring, pin_factory
from appliance.devices.locks.gpio_simulator import GpioBank, PigpioServer, SimDoor

WIRING = {1: GpioWiring("GPIO17", "GPIO27", "GPIO22"), 2: GpioWiring("GPIO5", "GPIO6")}


@pytest.fixture
def bank() -> Iterator[tuple[GpioBank, PigpioServer]]:
    sim = GpioBank([SimDoor(17, 27, 22), SimDoor(5, 6)], open_delay_s=0.01)
    with PigpioServer(sim, 0) as server:
        yield sim, server


@pytest.fixture
def locks(bank: tuple[GpioBank, PigpioServer]) -> Iterator[GpioLocks]:
    reopen = partial(pin_factory, "pigpio", bank[1].path)
    controller = GpioLocks(WIRING, reopen(), pulse_s=0.1, confirm_s=1.0, reopen=reopen)
    yield controller
    controller.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition the bank's threads make true (a deadline only against a hang)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"waited 10 s for {what}"
        time.sleep(0.01)


def test_unlock_energises_the_relay_and_the_door_switch_sees_it_open(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    sim, _ = bank
    assert locks.status()[1].door is Door.CLOSED
    assert locks.unlock(1) is True
    assert [pin for pin, _ in sim.energised] == [17]
    assert sim.outputs[17] == 0  # the pulse ended
    assert sim.door(27).open and locks.status()[1].door is Door.OPEN
    assert locks.status()[2].door is Door.CLOSED
    sim.change(27, open=False)
    assert locks.status()[1].door is Door.CLOSED


def test_a_jammed_lock_is_reported_as_not_opened(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    bank[0].change(6, jammed=True)
    assert locks.unlock(2) is False
    assert locks.status()[2].door is Door.CLOSED


def test_the_item_sensor_reads_through_the_bank(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    assert locks.status([1])[1].item is False
    bank[0].change(27, holding=True)
    assert locks.status([1])[1].item is True


def test_door_switch_changes_reach_the_door_watch(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    sim, _ = bank
    notices: list[DoorNotice] = []
    watcher = DoorWatcher(locks, DoorWatch(debounce_s=0), notices.append, interval_s=0.02)
    watcher.start()
    try:
        wait_for(lambda: watcher.watch.state(1) is Door.CLOSED, "the first poll")
        watcher.expect_open(1, 5)
        assert locks.unlock(1) is True
        wait_for(lambda: watcher.watch.state(1) is Door.OPEN, "door 1 seen open")
        sim.change(27, open=False)
        sim.change(6, open=True)  # nobody unlocked door 2: forced
        wait_for(lambda: watcher.watch.state(2) is Door.OPEN, "door 2 seen open")
    finally:
        watcher.stop()
    assert [(n.notice, n.compartment) for n in notices] == [
        (Notice.OPENED, 1),
        (Notice.CLOSED, 1),
        (Notice.OPENED, 2),
        (Notice.FORCED, 2),
    ]


def test_gpiozero_edge_events_arrive_on_the_notification_socket(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    """gpiozero's callbacks (when_released: the switch let go) come from the bank's reports."""
    from gpiozero import Button
    from gpiozero.pins.pigpio import PiGPIOFactory

    factory = PiGPIOFactory("127.0.0.1", bank[1].port)
    opened = threading.Event()
    switch = Button("GPIO6", pull_up=True, pin_factory=factory)
    switch.when_released = opened.set
    try:
        bank[0].change(6, open=True)
        assert opened.wait(10)
    finally:
        switch.close()
        factory.close()


def test_a_bank_that_stops_gives_lock_unavailable_and_a_board_down_alarm(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    server = bank[1]
    watcher = DoorWatcher(locks, DoorWatch(), lambda notice: None)
    assert watcher.poll_once() == []
    server.stop()
    with pytest.raises(LockUnavailable) as stopped:
        locks.unlock(1)
    assert str(stopped.value) == (
        f"the GPIO bank at {server.path} does not answer (it closed the connection): check it runs"
    )
    assert [(n.notice, n.message) for n in watcher.poll_once()] == [
        (Notice.BOARD_DOWN, str(stopped.value))
    ]
    with pytest.raises(LockUnavailable, match="does not answer"):
        locks.status()
    locks.close()
    # pigpio's notification thread ended instead of spinning on the closed socket
    assert not [t for t in threading.enumerate() if type(t).__name__ == "_callback_thread"]


def test_the_driver_connects_again_when_a_bank_answers_on_the_same_port(
    bank: tuple[GpioBank, PigpioServer], locks: GpioLocks
) -> None:
    sim, server = bank
    watcher = DoorWatcher(locks, DoorWatch(debounce_s=0), lambda notice: None)
    watcher.poll_once()
    server.stop()
    down = watcher.poll_once()
    still_down = watcher.poll_once()
    with PigpioServer(sim, server.port):
        back = watcher.poll_once()
        assert locks.unlock(2) is True
        assert sim.door(6).open
    assert [n.notice for n in down] == [Notice.BOARD_DOWN] and still_down == []
    assert [n.notice for n in back] == [Notice.BOARD_BACK]


def test_no_bank_listening_is_one_clear_error_and_nothing_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with PigpioServer(GpioBank(), 0) as gone:
        address = gone.path
    with pytest.raises(LockUnavailable) as refused:
        pin_factory("pigpio", address)
    assert str(refused.value) == (
        f"cannot use the pigpio GPIO pins: failed to connect to {address} (is `comptoir locker"
        " simulate --gpio` or pigpiod running there?)"
    )
    assert capsys.readouterr().out == ""


def test_config_opens_the_gpio_controller_on_a_pigpio_bank(
    bank: tuple[GpioBank, PigpioServer],
) -> None:
    settings = config.from_dict(
        {
            "lockers": {
                "controller": "gpio",
                "pin_factory": "pigpio",
                "pigpio_address": bank[1].path,
                "unlock_pulse_ms": 100,
                "compartments": [{"number": 7, "relay_pin": "GPIO5", "door_pin": "GPIO6"}],
            }
        }
    ).lockers
    controller = open_locks(settings)
    assert controller is not None
    try:
        assert controller.unlock(7) is True
        assert bank[0].door(6).open
    finally:
        controller.close()


def test_a_pigpio_address_that_is_not_host_port_is_refused_by_the_config() -> None:
    with pytest.raises(config.ConfigError, match="pigpio_address"):
        config.from_dict({"lockers": {"pin_factory": "pigpio", "pigpio_address": "8888"}})
