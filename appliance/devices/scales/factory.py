"""Which driver and simulator speak each scale protocol, and opening the configured scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.devices import registry
from appliance.devices.scales.serial_port import open_port

if TYPE_CHECKING:
    from appliance import config
    from appliance.devices.scales.base import Scale
    from appliance.devices.scales.simulator.base import ScaleSimulator

#: `[scale] protocol` (and `--protocol`) -> its driver class.
PROTOCOLS = {
    "toledo8217": "appliance.devices.scales.toledo8217:Toledo8217Scale",
    "dialog06": "appliance.devices.scales.dialog06:Dialog06Scale",
    "cas": "appliance.devices.scales.cas:CasScale",
}
#: The same protocols' simulators, which write their own answers (style.md: never shared code).
SIMULATORS = {
    "toledo8217": "appliance.devices.scales.simulator.toledo8217:Toledo8217Simulator",
    "dialog06": "appliance.devices.scales.simulator.dialog06:Dialog06Simulator",
    "cas": "appliance.devices.scales.simulator.cas:CasSimulator",
}


def driver_class(protocol: str) -> type[Scale]:
    """The driver class of `protocol`; ConfigError when it is unknown or not in this build."""
    found: type[Scale] = registry.load("scale.protocol", protocol, PROTOCOLS)
    return found


def simulator_class(protocol: str) -> type[ScaleSimulator]:
    """The simulator class of `protocol`; ConfigError when it is unknown or not in this build."""
    found: type[ScaleSimulator] = registry.load("scale.protocol", protocol, SIMULATORS)
    return found


def open_scale(settings: config.Scale) -> Scale | None:
    """The scale of [scale], or None when `protocol = "none"` (see `open_driver`)."""
    if settings.protocol == "none":
        return None
    return open_driver(settings)


def open_driver(settings: config.Scale) -> Scale:
    """Open the port of [scale] with the protocol's line settings (unless configured) and driver.

    Raises ScaleUnavailable when the port cannot be opened, ConfigError for a protocol without
    a driver (among them "none").
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
