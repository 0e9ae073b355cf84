"""One person's visit to the locker wall: which locker flow runs, and when it may be abandoned.

The pickup, refill and walk-in flows know nothing of the screen's idle timer; the kiosk's flow
(`flows.kiosk`) does, and asks `resting` first: a visit may be abandoned only while it waits for
a person's touch (a code half typed, a producer's menu left open), never while a door is open, a
card is being charged or the store is writing, where the flow must hear the answer first.
"""

from __future__ import annotations

from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w
from appliance.kiosk.flows.events import Event
from appliance.kiosk.flows.intentions import Intention, LoadShelf
from appliance.kiosk.flows.values import VisitKind

#: Steps that wait for a person's touch, where a visit may be abandoned.
RESTING: dict[VisitKind, set] = {
    VisitKind.PICKUP: {
        p.Step.ENTER_CODE,
        p.Step.REFUSED,
        p.Step.LOCKED,
        p.Step.CALL_SITE,
        p.Step.ITEM_LEFT,
        p.Step.DONE,
    },
    VisitKind.REFILL: {
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
    VisitKind.WALKIN: {
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
    """Wraps one locker flow; `finished` says the kiosk goes home."""

    def __init__(self, kind: VisitKind, *, phone: str = "", code_digits: int = 6) -> None:
        self.kind = kind
        self.phone = phone
        self.flow: Flow
        if kind is VisitKind.PICKUP:
            self.flow = p.Pickup(digits=code_digits, phone=phone)
        elif kind is VisitKind.REFILL:
            self.flow = r.Refill()
        else:
            self.flow = w.Walkin(phone=phone)

    def start(self) -> list[Intention]:
        """What the kiosk must read before the first screen makes sense."""
        return [LoadShelf()] if self.kind is VisitKind.WALKIN else []

    @property
    def finished(self) -> bool:
        return self.flow.finished

    @property
    def step(self) -> str:
        return self.flow.step.value

    @property
    def resting(self) -> bool:
        """Waiting for a person's touch: the idle rule may send the kiosk home."""
        return self.flow.step in RESTING[self.kind]

    @property
    def paying(self) -> bool:
        return isinstance(self.flow, w.Walkin) and self.flow.step is w.Step.PAYING

    def handle(self, event: Event, now: float) -> list[Intention]:
        return self.flow.handle(event, now)
