"""The lock controller described by `[lockers]`: Kerong boards, GPIO pins, or none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.devices import registry
from appliance.devices.locks.base import LockController

if TYPE_CHECKING:
    from appliance import config

#: `[lockers] controller` -> what opens it from the [lockers] section.
CONTROLLERS = {
    "kerong": "appliance.devices.locks.kerong:KerongLocks.from_settings",
    "gpio": "appliance.devices.locks.gpio:GpioLocks.from_settings",
}


def open_locks(settings: config.Lockers) -> LockController | None:
    """Open the configured controller (None when `controller = "none"`)."""
    if settings.controller == "none":
        return None
    opener = registry.load("lockers.controller", settings.controller, CONTROLLERS)
    controller: LockController = opener(settings)
    return controller
