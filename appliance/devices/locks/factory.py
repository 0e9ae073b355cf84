"""The lock controller described by `[lockers]`: Kerong boards, GPIO pins, or none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.devices.locks.base import LockController
from appliance.devices.locks.gpio import GpioLocks, GpioWiring, pin_factory
from appliance.devices.locks.kerong import KerongLocks, Wiring, open_bus
from appliance.errors import ConfigError

if TYPE_CHECKING:
    from appliance import config


def controller_for(settings: config.Lockers) -> LockController | None:
    """Open the configured controller (None when `controller = "none"`)."""
    confirm_s = settings.unlock_confirm_ms / 1000
    if settings.controller == "kerong":
        wiring = {}
        for c in settings.compartments:
            if c.lock > 15:
                raise ConfigError(
                    f"lockers.compartments number {c.number}: lock = {c.lock} is wrong: a CU16 "
                    f"board has locks 0 to 15"
                )
            wiring[c.number] = Wiring(c.board, c.lock)
        return KerongLocks(
            open_bus(settings.port),
            wiring,
            lock_bit_closed=settings.lock_bit_closed,
            confirm_s=confirm_s,
            poll_s=settings.status_poll_ms / 1000,
        )
    if settings.controller == "gpio":
        missing = [c.number for c in settings.compartments if not (c.relay_pin and c.door_pin)]
        if missing:
            raise ConfigError(
                f"lockers.compartments {missing}: relay_pin and door_pin are needed with "
                f'controller = "gpio"'
            )
        return GpioLocks(
            {
                c.number: GpioWiring(c.relay_pin, c.door_pin, c.item_pin)
                for c in settings.compartments
            },
            pin_factory(settings.pin_factory),
            pulse_s=settings.unlock_pulse_ms / 1000,
            confirm_s=confirm_s,
        )
    return None
