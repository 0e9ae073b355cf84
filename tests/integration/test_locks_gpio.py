"""The GPIO lock controller on gpiozero's MockFactory pins (the only mocked hardware)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import config
from appliance.devices.locks.base import Door, LockUnavailable, UnknownCompartment
from appliance.devices.locks.factory import open_locks
from appliance.devices.locks.gpio import GpioLocks, GpioWiring
from appliance.errors import ConfigError

WIRING = {
    1: GpioWiring("GPIO17", "GPIO27", "GPIO22"),
    2: GpioWiring("GPIO5", "GPIO6"),
}


class SpringDoor:
    """A door that springs open when its relay is energised, until the test shuts it."""

    def __init__(self, factory: MockFactory, relay: str, door: str) -> None:
        self.relay = factory.pin(relay)
        self.door = factory.pin(door)
        self.door.drive_low()  # shut: the switch to ground is pressed
        self.stuck = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            if self.relay.state and not self.stuck:
                self.door.drive_high()

    def shut(self) -> None:
        self.door.drive_low()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    mock = MockFactory()
    yield mock
    mock.reset()


@pytest.fixture
def locks(factory: MockFactory) -> Iterator[GpioLocks]:
    controller = GpioLocks(WIRING, factory, pulse_s=0.05, confirm_s=0.3)
    yield controller
    controller.close()


@pytest.fixture
def doors(factory: MockFactory, locks: GpioLocks) -> Iterator[dict[int, SpringDoor]]:
    """Shut doors (after the controller set its pull-ups) and an empty item sensor."""
    springs = {n: SpringDoor(factory, w.relay_pin, w.door_pin) for n, w in WIRING.items()}
    yield springs
    for spring in springs.values():
        spring.stop()


def test_unlock_energises_the_relay_for_the_pulse_and_sees_the_door_open(
    locks: GpioLocks, doors: dict[int, SpringDoor], factory: MockFactory
) -> None:
    assert locks.unlock(1) is True
    relay = factory.pin("GPIO17")
    assert [s.state for s in relay.states] == [False, True, False]
    assert relay.states[2].timestamp >= 0.05
    assert locks.status()[1].door is Door.OPEN
    assert locks.status()[2].door is Door.CLOSED


def test_a_door_that_stays_shut_is_reported_as_not_opened(
    locks: GpioLocks, doors: dict[int, SpringDoor], factory: MockFactory
) -> None:
    doors[2].stuck = True
    assert locks.unlock(2) is False
    assert factory.pin("GPIO5").state is False


def test_the_item_sensor_reads_present_when_pulled_low(
    locks: GpioLocks, doors: dict[int, SpringDoor], factory: MockFactory
) -> None:
    assert locks.status([1])[1].item is False
    factory.pin("GPIO22").drive_low()
    assert locks.status([1])[1].item is True
    assert locks.status([2])[2].item is None


def test_an_unknown_door_is_refused(locks: GpioLocks) -> None:
    with pytest.raises(UnknownCompartment):
        locks.unlock(9)


def test_a_pin_used_twice_is_a_clear_error(factory: MockFactory) -> None:
    with pytest.raises(LockUnavailable, match="lock pins"):
        GpioLocks({1: GpioWiring("GPIO17", "GPIO27"), 2: GpioWiring("GPIO17", "GPIO6")}, factory)


def test_config_builds_the_gpio_controller_and_names_missing_pins() -> None:
    settings = config.from_dict(
        {
            "lockers": {
                "controller": "gpio",
                "pin_factory": "mock",
                "compartments": [{"number": 1, "relay_pin": "GPIO17", "door_pin": "GPIO27"}],
            }
        }
    ).lockers
    controller = open_locks(settings)
    assert controller is not None and controller.numbers == (1,)
    controller.close()
    bad = config.from_dict(
        {"lockers": {"controller": "gpio", "pin_factory": "mock", "compartments": [{"number": 4}]}}
    ).lockers
    with pytest.raises(ConfigError, match=r"\[4\]: relay_pin and door_pin"):
        open_locks(bad)
