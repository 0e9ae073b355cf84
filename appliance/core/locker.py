"""Compartments of a locker wall, and choosing a free one of the right size and temperature.

A compartment is what people see: the number on the door, its size, whether it is chilled and
which temperature zone it belongs to. How it is wired (board and lock, or GPIO pins) is the lock
controller's business, not the shop's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Size(StrEnum):
    S = "S"
    M = "M"
    L = "L"

    @property
    def rank(self) -> int:
        return "SML".index(self.value)


class Use(StrEnum):
    """What a compartment holds now."""

    FREE = "free"
    ORDER = "order"  # an online order waiting for its customer
    WALKIN = "walkin"  # produce for sale on the spot
    OUT_OF_ORDER = "out_of_order"  # a door that failed: never offered until someone checks it


@dataclass(frozen=True)
class Compartment:
    number: int
    size: Size = Size.M
    chilled: bool = False
    zone: str = ""


def compartments_from(settings: Iterable[Any]) -> tuple[Compartment, ...]:
    """The shop's view of configured compartments (anything with number, size, chilled, zone)."""
    return tuple(
        Compartment(int(s.number), Size(s.size), bool(s.chilled), str(s.zone))
        for s in sorted(settings, key=lambda s: s.number)
    )


def choose_compartment(
    compartments: Iterable[Compartment],
    busy: Collection[int],
    size: Size,
    chilled: bool,
) -> Compartment | None:
    """The smallest free compartment at least `size` big with the same temperature, lowest
    number first; None when there is none. A chilled order never goes in a warm compartment, and
    a dry one never takes a chilled place that a chilled order may need."""
    fitting = [
        c
        for c in compartments
        if c.number not in busy and c.chilled == chilled and c.size.rank >= size.rank
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (c.size.rank, c.number))
