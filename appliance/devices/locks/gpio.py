"""Locks on the Pi's own pins through gpiozero: one relay and one door switch per compartment.

The relay (an `OutputDevice`) powers the lock for `unlock_pulse_ms`; the door switch is a
`Button` wired to ground, pressed while the door is shut; an optional item sensor is an input
that reads active (low) while something is inside. Which pin library drives them is the pin
factory from config: lgpio on a Raspberry Pi, MockFactory in tests and the demo (reference §4.2).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gpiozero import Button, DigitalInputDevice, OutputDevice
from gpiozero.exc import GPIOZeroError
from gpiozero.pins import Factory

from appliance.devices.locks.base import Door, DoorStatus, LockController, LockUnavailable
from appliance.errors import ConfigError

if TYPE_CHECKING:
    from appliance import config


@dataclass(frozen=True)
class GpioWiring:
    relay_pin: str
    door_pin: str
    item_pin: str = ""


def pin_factory(name: str) -> Factory:
    """The gpiozero pin factory named in `[lockers] pin_factory`."""
    try:
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if name == "native":
            from gpiozero.pins.native import NativeFactory

            return NativeFactory()
        if name == "mock":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
    except (ImportError, GPIOZeroError, OSError) as exc:
        raise LockUnavailable(
            f"cannot use the {name} GPIO pins: {exc} (on a Pi, install python3-lgpio)"
        ) from None
    raise LockUnavailable(f"unknown pin factory {name!r}: lgpio, native or mock")


class _Compartment:
    def __init__(self, wiring: GpioWiring, factory: Factory) -> None:
        self.relay = OutputDevice(
            wiring.relay_pin, active_high=True, initial_value=False, pin_factory=factory
        )
        self.door = Button(wiring.door_pin, pull_up=True, pin_factory=factory)
        self.item = (
            DigitalInputDevice(wiring.item_pin, pull_up=True, pin_factory=factory)
            if wiring.item_pin
            else None
        )

    def status(self, number: int) -> DoorStatus:
        door = Door.CLOSED if self.door.is_pressed else Door.OPEN
        return DoorStatus(number, door, bool(self.item.is_active) if self.item else None)

    def close(self) -> None:
        for device in (self.relay, self.door, self.item):
            if device is not None:
                device.close()


class GpioLocks(LockController):
    """Relays and door switches on GPIO pins; an unlock is confirmed by the door switch."""

    @classmethod
    def from_settings(cls, settings: config.Lockers) -> GpioLocks:
        """Each compartment's relay, door switch and item sensor pins, on the configured chip."""
        missing = [c.number for c in settings.compartments if not (c.relay_pin and c.door_pin)]
        if missing:
            raise ConfigError(
                f"lockers.compartments {missing}: relay_pin and door_pin are needed with "
                f'controller = "gpio"'
            )
        return cls(
            {
                c.number: GpioWiring(c.relay_pin, c.door_pin, c.item_pin)
                for c in settings.compartments
            },
            pin_factory(settings.pin_factory),
            pulse_s=settings.unlock_pulse_ms / 1000,
            confirm_s=settings.unlock_confirm_ms / 1000,
        )

    def __init__(
        self,
        wiring: Mapping[int, GpioWiring],
        factory: Factory,
        *,
        pulse_s: float = 0.5,
        confirm_s: float = 3.0,
        poll_s: float = 0.01,
    ) -> None:
        self.pulse_s = pulse_s
        self.confirm_s = confirm_s
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._compartments: dict[int, _Compartment] = {}
        try:
            for number in sorted(wiring):
                self._compartments[number] = _Compartment(wiring[number], factory)
        except (GPIOZeroError, OSError) as exc:
            self.close()
            raise LockUnavailable(f"cannot set up the lock pins: {exc}") from None

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(self._compartments)

    def unlock(self, number: int) -> bool:
        self.check(number)
        compartment = self._compartments[number]
        start = time.monotonic()
        with self._lock:
            compartment.relay.on()
            try:
                seen_open = self._wait_open(compartment, start + self.pulse_s)
            finally:
                compartment.relay.off()
        return seen_open or self._wait_open(compartment, start + self.confirm_s)

    def _wait_open(self, compartment: _Compartment, until: float) -> bool:
        """Watch the door switch until `until`; the relay stays on for the whole pulse."""
        seen_open = False
        while True:
            seen_open = seen_open or not compartment.door.is_pressed
            if time.monotonic() >= until:
                return seen_open
            time.sleep(self.poll_s)

    def status(self, numbers: Iterable[int] | None = None) -> dict[int, DoorStatus]:
        wanted = self.numbers if numbers is None else tuple(numbers)
        for number in wanted:
            self.check(number)
        return {n: self._compartments[n].status(n) for n in wanted}

    def close(self) -> None:
        for compartment in self._compartments.values():
            compartment.close()
        self._compartments.clear()
