"""Which driver and simulator speak each scale protocol, and opening the configured scale.

Classes are named by dotted path and imported only when asked for, so a protocol's module is
loaded only on a box that uses it (and a missing one is a clear error, not an import crash).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from appliance.devices.scales.serial_port import open_port
from appliance.errors import ConfigError

if TYPE_CHECKING:
    from appliance import config
    from appliance.devices.scales.base import Scale
    from appliance.devices.scales.simulator.base import ScaleSimulator

_SCALES = "appliance.devices.scales"

#: Protocol name (as in [scale] protocol and --protocol) -> (driver class, simulator class).
PROTOCOLS: dict[str, tuple[str, str]] = {
    "toledo8217": (
        f"{_SCALES}.toledo8217.Toledo8217Scale",
        f"{_SCALES}.simulator.toledo8217.Toledo8217Simulator",
    ),
    "dialog06": (
        f"{_SCALES}.dialog06.Dialog06Scale",
        f"{_SCALES}.simulator.dialog06.Dialog06Simulator",
    ),
    "cas": (
        f"{_SCALES}.cas.CasScale",
        f"{_SCALES}.simulator.cas.CasSimulator",
    ),
}


def driver_class(protocol: str) -> type[Scale]:
    """The driver class of `protocol`; ConfigError when it is unknown or not in this build."""
    return _load(protocol, 0)


def simulator_class(protocol: str) -> type[ScaleSimulator]:
    """The simulator class of `protocol`; ConfigError when it is unknown or not in this build."""
    return _load(protocol, 1)


def open_scale(settings: config.Scale) -> Scale:
    """Open the port of [scale] with the protocol's line settings (unless configured) and driver.

    Raises ScaleUnavailable when the port cannot be opened, ConfigError for a bad protocol.
    """
    cls = driver_class(settings.protocol)
    port = open_port(
        settings.port,
        settings.baud or cls.default_baud,
        settings.framing or cls.default_framing,
        settings.timeout_ms / 1000,
    )
    try:
        return cls.from_settings(port, settings)
    except BaseException:
        port.close()
        raise


def _load(protocol: str, which: int) -> type:
    if protocol not in PROTOCOLS:
        raise ConfigError(
            f"unknown scale protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}"
        )
    module_name, _, class_name = PROTOCOLS[protocol][which].rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(
            f"scale protocol {protocol!r} is not available in this build ({module_name} is missing)"
        ) from None
    return getattr(module, class_name)
