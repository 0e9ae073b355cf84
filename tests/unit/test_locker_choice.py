"""Choosing a free compartment of the right size and temperature."""

from __future__ import annotations

from types import SimpleNamespace

from appliance.core.locker import Compartment, Size, choose_compartment, compartments_from

WALL = (
    Compartment(1, Size.S),
    Compartment(2, Size.M),
    Compartment(3, Size.L),
    Compartment(4, Size.S, chilled=True, zone="frigo"),
    Compartment(5, Size.L, chilled=True, zone="frigo"),
)


def test_the_smallest_compartment_that_fits_is_offered() -> None:
    assert choose_compartment(WALL, set(), Size.M, chilled=False) == WALL[1]
    assert choose_compartment(WALL, {2}, Size.M, chilled=False) == WALL[2]


def test_a_chilled_order_never_goes_in_a_warm_compartment() -> None:
    assert choose_compartment(WALL, {4, 5}, Size.S, chilled=True) is None
    assert choose_compartment(WALL, {4}, Size.S, chilled=True) == WALL[4]


def test_a_dry_order_never_takes_a_chilled_place() -> None:
    assert choose_compartment(WALL, {1, 2, 3}, Size.S, chilled=False) is None


def test_compartments_come_from_config_entries_in_door_order() -> None:
    entries = [
        SimpleNamespace(number=9, size="L", chilled=True, zone="z"),
        SimpleNamespace(number=2, size="S", chilled=False, zone=""),
    ]
    assert compartments_from(entries) == (
        Compartment(2, Size.S),
        Compartment(9, Size.L, True, "z"),
    )
