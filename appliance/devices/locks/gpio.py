"""Locks on the Pi's own pins through gpiozero: one relay and one door switch per compartment.

The relay (an `OutputDevice`) powers the lock for `unlock_pulse_ms`; the door switch is a
`Button` wired to ground, pressed while the door is shut; an optional item sensor is an input
that reads active (low) while something is inside. Which pin library drives them is the pin
factory from config: lgpio on a Raspberry Pi, MockFactory in unit tests (reference §4.2), and
pigpio's socket for pins in another process: `comptoir locker simulate --gpio`'s bank, which is
how an installer tries the wiring without hardware.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from gpiozero import Button, DigitalInputDevice, OutputDevice
from gpiozero.exc import GPIOZeroError
from gpiozero.pins import Factory

from appliance.config import split_host_port
from appliance.devices.locks.base import Door, DoorStatus, LockController, LockUnavailable
from appliance.errors import ConfigError

if TYPE_CHECKING:
    from appliance import config


@dataclass(frozen=True)
class GpioWiring:
    relay_pin: str
    door_pin: str
    item_pin: str = ""


#: Seconds a pigpio bank has to answer one command before the pins count as unavailable.
PIGPIO_TIMEOUT_S = 2.0
#: What a pin library raises when its chip or its bank stops answering (struct.error: a pigpio
#: socket closed in the middle of a reply).
_PIN_FAILURES = (GPIOZeroError, OSError, struct.error)


def pin_factory(name: str, pigpio_address: str = "127.0.0.1:8888") -> Factory:
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
        if name == "pigpio":
            return _pigpio_factory(pigpio_address)
    except (ImportError, GPIOZeroError, OSError) as exc:
        hint = (
            "is `comptoir locker simulate --gpio` or pigpiod running there?"
            if name == "pigpio"
            else "on a Pi, install python3-lgpio"
        )
        raise LockUnavailable(f"cannot use the {name} GPIO pins: {exc} ({hint})") from None
    raise LockUnavailable(f"unknown pin factory {name!r}: lgpio, native, mock or pigpio")


def _pigpio_factory(address: str) -> Factory:
    """gpiozero's pins over a pigpio daemon's socket, with a deadline on every command (pigpio
    waits forever on a bank that hangs) and without the box pigpio prints when it cannot
    connect (the LockUnavailable says it once)."""
    from gpiozero.pins.pigpio import PiGPIOFactory

    parts = split_host_port(address)
    if parts is None:
        raise ConfigError(f"lockers.pigpio_address {address!r}: host:port, such as 127.0.0.1:8888")
    with contextlib.redirect_stdout(io.StringIO()):
        factory = PiGPIOFactory(*parts)
    factory.connection.sl.s.settimeout(PIGPIO_TIMEOUT_S)
    return factory


def _abandon_pigpio(factory: Factory) -> None:
    """Let go of a pigpio bank that stopped answering: its notification thread would spin on the
    closed socket, and closing the pins would talk to it again. Reaches into the pinned pigpio
    client (1.78), which offers no other way."""
    connection: Any = getattr(factory, "_connection", None)
    if connection is None or connection.sl.s is None:
        return
    notify = connection._notify
    if notify is not None:
        notify.go = False  # its loop ends at the next (empty) read and closes its socket
        with contextlib.suppress(OSError):
            notify.sl.s.shutdown(socket.SHUT_RDWR)
        connection._notify = None
    connection.sl.s.close()
    connection.sl.s = None  # gpiozero's pins then skip the daemon when they close


def _pins_name(factory: Factory) -> str:
    host, port = getattr(factory, "host", None), getattr(factory, "port", None)
    return f"the GPIO bank at {host}:{port}" if host else "the GPIO pins"


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
        reopen = partial(pin_factory, settings.pin_factory, settings.pigpio_address)
        return cls(
            {
                c.number: GpioWiring(c.relay_pin, c.door_pin, c.item_pin)
                for c in settings.compartments
            },
            reopen(),
            pulse_s=settings.unlock_pulse_ms / 1000,
            confirm_s=settings.unlock_confirm_ms / 1000,
            reopen=reopen,
        )

    def __init__(
        self,
        wiring: Mapping[int, GpioWiring],
        factory: Factory,
        *,
        pulse_s: float = 0.5,
        confirm_s: float = 3.0,
        poll_s: float = 0.01,
        reopen: Callable[[], Factory] | None = None,
    ) -> None:
        """`reopen`: how the controller made `factory` for itself; it then closes the factory,
        and makes a new one when the pins stopped answering (a pigpio bank restarted)."""
        self.pulse_s = pulse_s
        self.confirm_s = confirm_s
        self.poll_s = poll_s
        self._wiring = dict(sorted(wiring.items()))
        self._factory = factory
        self._reopen = reopen
        self._lost = ""  # why the pins stopped answering, while they do
        self._guard = threading.RLock()  # losing and reopening the pins, one thread at a time
        self._lock = threading.Lock()
        self._compartments: dict[int, _Compartment] = {}
        self._set_up()

    def _set_up(self) -> None:
        try:
            for number, wiring in self._wiring.items():
                self._compartments[number] = _Compartment(wiring, self._factory)
        except _PIN_FAILURES as exc:
            self.close()
            raise LockUnavailable(f"cannot set up the lock pins: {exc}") from None

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(self._wiring)

    def unlock(self, number: int) -> bool:
        self.check(number)
        start = time.monotonic()
        with self._answering(), self._lock:
            compartment = self._compartments[number]
            compartment.relay.on()
            try:
                seen_open = self._wait_open(compartment, start + self.pulse_s)
            finally:
                compartment.relay.off()
        with self._answering():
            return seen_open or self._wait_open(compartment, start + self.confirm_s)

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """Turn pins that stopped answering (a pigpio bank that went away) into LockUnavailable
        until they answer again: the kiosk alarms, then sees them back."""
        with self._guard:
            if self._lost:
                self._reconnect()
            factory = self._factory
        try:
            yield
        except _PIN_FAILURES as exc:
            reason = "it closed the connection" if isinstance(exc, struct.error) else str(exc)
            with self._guard:
                if factory is self._factory:  # not already lost (and reopened) by another call
                    _abandon_pigpio(factory)
                    self.close()
                    self._lost = (
                        f"{_pins_name(factory)} does not answer"
                        f" ({reason or type(exc).__name__}): check it runs"
                    )
            raise LockUnavailable(self._lost or f"{_pins_name(factory)}: {reason}") from None

    def _reconnect(self) -> None:
        """Set the pins up again on a new factory, or raise why they still do not answer."""
        if self._reopen is not None:
            with contextlib.suppress(LockUnavailable):
                self._factory = self._reopen()
                self._set_up()
                self._lost = ""
                return
        raise LockUnavailable(self._lost)

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
        with self._answering():
            return {n: self._compartments[n].status(n) for n in wanted}

    def close(self) -> None:
        closing = list(self._compartments.values())
        self._compartments.clear()
        for closable in closing + ([self._factory] if self._reopen is not None else []):
            try:
                closable.close()
            except _PIN_FAILURES:  # a bank gone away: let go of it, the pins then close here
                _abandon_pigpio(self._factory)
                with contextlib.suppress(*_PIN_FAILURES):
                    closable.close()
