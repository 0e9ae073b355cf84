"""One person's visit to the locker wall: which locker flow runs, and when it is abandoned.

The pickup, refill and walk-in flows know nothing of the screen's idle timer; a visit does. A
person who walks away while the kiosk waits for a touch (a code half typed, a producer's menu
left open) is sent home after `idle_s`; never while a door is open, a card is being charged or
the store is writing, where the flow must hear the answer first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w


class Kind(StrEnum):
    PICKUP = "pickup"
    REFILL = "refill"
    WALKIN = "walkin"


@dataclass(frozen=True)
class LoadShelf:
    """Read the walk-in compartments holding produce; answer `walkin.ShelfLoaded`."""


#: Steps that wait for a person's touch, where a visit may be abandoned.
RESTING = {
    Kind.PICKUP: {
        p.Step.ENTER_CODE,
        p.Step.REFUSED,
        p.Step.LOCKED,
        p.Step.CALL_SITE,
        p.Step.ITEM_LEFT,
        p.Step.DONE,
    },
    Kind.REFILL: {
        r.Step.IDENTIFY,
        r.Step.LOCKED,
        r.Step.MENU,
        r.Step.CHOOSE_ORDER,
        r.Step.CHOOSE_PLACE,
        r.Step.NO_PLACE,
        r.Step.DEPOSITED,
        r.Step.WALKIN_PLACE,
        r.Step.WALKIN_DETAILS,
        r.Step.REFUSED,
        r.Step.CALL_SITE,
    },
    Kind.WALKIN: {
        w.Step.CHOOSE,
        w.Step.CONFIRM,
        w.Step.PAYMENT_FAILED,
        w.Step.PAYMENT_UNKNOWN,
        w.Step.CALL_SITE,
        w.Step.DONE,
    },
}

Flow = p.Pickup | r.Refill | w.Walkin


class Visit:
    """Wraps one locker flow; `handle` steps it, `finished` says the kiosk goes home."""

    def __init__(
        self, kind: Kind, now: float, *, idle_s: float, phone: str = "", code_digits: int = 6
    ) -> None:
        self.kind = kind
        self.idle_s = idle_s
        self.phone = phone
        self.flow: Flow
        if kind is Kind.PICKUP:
            self.flow = p.Pickup(digits=code_digits, phone=phone)
        elif kind is Kind.REFILL:
            self.flow = r.Refill()
        else:
            self.flow = w.Walkin(phone=phone)
        self.abandoned = False
        self._last_touch = now

    def start(self) -> list[object]:
        """What the kiosk must read before the first screen makes sense."""
        return [LoadShelf()] if self.kind is Kind.WALKIN else []

    @property
    def finished(self) -> bool:
        return self.abandoned or self.flow.finished

    @property
    def step(self) -> str:
        return self.flow.step.value

    def handle(self, event: object, now: float, *, touch: bool = False) -> list[object]:
        if touch:
            self._last_touch = now
        intentions = self.flow.handle(event, now)
        if (
            isinstance(event, p.Tick)
            and self.flow.step in RESTING[self.kind]
            and now - self._last_touch >= self.idle_s
        ):
            self.abandoned = True
        return intentions
