"""Every value a device key accepts opens something, and every table line is a real opener."""

from __future__ import annotations

import typing

import pytest

from appliance import config
from appliance.devices import registry
from appliance.devices.locks.factory import CONTROLLERS
from appliance.devices.payment.factory import TERMINALS
from appliance.devices.printers.factory import BACKENDS
from appliance.devices.scales.factory import PROTOCOLS, SIMULATORS
from appliance.errors import ConfigError

TABLES = [
    ("scale.protocol", config.Scale, "protocol", PROTOCOLS),
    ("scale.protocol", config.Scale, "protocol", SIMULATORS),
    ("lockers.controller", config.Lockers, "controller", CONTROLLERS),
    ("payment.terminal", config.Payment, "terminal", TERMINALS),
    ("printer.backend", config.Printer, "backend", BACKENDS),
]


@pytest.mark.parametrize("key, section, field, table", TABLES, ids=[t[0] for t in TABLES])
def test_each_value_the_config_accepts_has_its_line_in_the_factory_table(
    key: str, section: type, field: str, table: dict[str, str]
) -> None:
    accepted = set(typing.get_args(typing.get_type_hints(section)[field])) - {"none"}
    assert accepted == set(table) - {"none"}
    for name in table:
        assert callable(registry.load(key, name, table))


def test_an_unknown_value_names_the_key_and_what_is_expected() -> None:
    with pytest.raises(ConfigError, match=r"lockers.controller = 'abc' is wrong: .*kerong, gpio"):
        registry.load("lockers.controller", "abc", CONTROLLERS)


def test_a_module_missing_from_this_build_is_a_clear_error() -> None:
    table = {"x9": "appliance.devices.scales.x9000:X9000Scale"}
    with pytest.raises(ConfigError, match=r"not available in this build .*x9000 is missing"):
        registry.load("scale.protocol", "x9", table)
