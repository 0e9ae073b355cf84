"""What a lock controller is, whatever drives the locks (gpiozero style: the device, then its pins).

A controller knows compartments by the number on the door. `unlock` energises the lock and then
watches the door: it answers whether the door was seen open, so a jammed lock is told apart from
an opened door. A board or port that does not answer raises `LockUnavailable`, never a guess.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from appliance.errors import DeviceUnavailable


class LockUnavailable(DeviceUnavailable):
    """The lock board or the GPIO chip does not answer; the message says which."""


class UnknownCompartment(DeviceUnavailable):
    """A door number that is not wired in [[lockers.compartments]]."""


class Door(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class DoorStatus:
    """One compartment as the sensors see it; `item` is None without an item sensor."""

    number: int
    door: Door
    item: bool | None = None


class LockController(ABC):
    """The locks and door sensors of one locker wall."""

    @property
    @abstractmethod
    def numbers(self) -> tuple[int, ...]:
        """The door numbers this controller drives, in order."""

    @abstractmethod
    def unlock(self, number: int) -> bool:
        """Release door `number`; True once the door is seen open, False if it stayed shut."""

    @abstractmethod
    def status(self, numbers: Iterable[int] | None = None) -> dict[int, DoorStatus]:
        """The doors' current state (all of them by default), read from the hardware now."""

    def close(self) -> None:  # noqa: B027 - controllers without resources need nothing
        """Release the port or pins."""

    def check(self, number: int) -> None:
        if number not in self.numbers:
            known = ", ".join(map(str, self.numbers)) or "none"
            raise UnknownCompartment(
                f"compartment {number} is not in [[lockers.compartments]] (known: {known})"
            )
