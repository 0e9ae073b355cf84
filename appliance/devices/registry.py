"""One way to open a device of any kind from its config section: a table, loaded when used.

Like gpiozero's pin factories, each kind of device names its implementations in one table of
its `factory` module (`"kerong": "appliance.devices.locks.kerong:KerongLocks.from_settings"`),
and only the configured one's module is imported: a box without pyusb never imports the USB
printer, and a missing module is a clear ConfigError instead of an import crash. Adding a scale
protocol or a lock board is its module plus its line in the table (and its name in the
config key's list of values, which a test checks against the table).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from appliance.errors import ConfigError


def load(key: str, name: str, table: Mapping[str, str]) -> Any:
    """What `table[name]` names ("package.module:attribute.path"), its module imported now.

    `key` is the config key that chose `name`, for the error a person can act on."""
    if name not in table:
        raise ConfigError(f"{key} = {name!r} is wrong: expected one of {', '.join(table)}")
    module_name, _, path = table[name].partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(
            f"{key} = {name!r} is not available in this build ({module_name} is missing)"
        ) from None
    for attribute in path.split("."):
        found = getattr(found, attribute)
    return found
