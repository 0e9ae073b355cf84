"""A customer buying produce from a walk-in compartment, with no window, clock or I/O.

choose a compartment -> confirm the price -> pay by card -> the door opens -> take the produce
and close the door -> done. Like the French "casiers": type or touch the locker, pay, it opens.
If the door does not open after one retry, the paid amount is flagged for a refund and the
site's phone number is shown: a customer never pays for a door that stayed shut unnoticed.
"""

from __future__ import annotations

from enum import StrEnum

from appliance.core.payment import PaymentOutcome
from appliance.kiosk.flows.door_opening import DoorOpening
from appliance.kiosk.flows.events import (
    Back,
    CompartmentPicked,
    Confirmed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    Event,
    LockFailed,
    PaymentAnswered,
    ShelfLoaded,
    TimerFired,
)
from appliance.kiosk.flows.intentions import (
    Charge,
    FlagRefund,
    Intention,
    RecordWalkinSold,
    ReportProblem,
)
from appliance.kiosk.flows.values import BasketLine, ForSale, Problem

DONE_S = 6.0


class Step(StrEnum):
    CHOOSE = "choose"
    CONFIRM = "confirm"
    PAYING = "paying"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_UNKNOWN = "payment_unknown"  # maybe charged: do not pay again, call the site
    OPENING = "opening"
    TAKE = "take"
    DONE = "done"
    CALL_SITE = "call_site"  # paid, door stayed shut: refund flagged, phone shown


class Walkin:
    """One walk-in purchase; screens render `step`, `items`, `item`, `problem`, `phone`."""

    def __init__(self, phone: str = "") -> None:
        self.phone = phone
        self.step = Step.CHOOSE
        self.items: tuple[ForSale, ...] = ()
        self.item: ForSale | None = None
        self.reference = ""
        self.problem: Problem | None = None
        self.finished = False
        self._deadline = 0.0
        self._opening: DoorOpening | None = None

    def handle(self, event: Event, now: float) -> list[Intention]:
        match self.step, event:
            case _, ShelfLoaded(items=items):
                self.items = items
            case Step.CHOOSE, CompartmentPicked(compartment=n):
                self.item = next((i for i in self.items if i.compartment == n), None)
                if self.item:
                    self.step = Step.CONFIRM
            case Step.CONFIRM, Confirmed():
                assert self.item is not None
                self.step = Step.PAYING
                line = BasketLine(self.item.product, 1, self.item.price_cents)
                return [Charge(self.item.price_cents, (line,))]
            case Step.PAYING, PaymentAnswered(outcome=outcome, receipt_number=reference):
                return self._paid(outcome, reference)
            case Step.OPENING, DoorOpened(compartment=c) if self._mine(c):
                self.step = Step.TAKE
            case Step.OPENING, DoorNotOpened(compartment=c) if self._mine(c):
                assert self._opening is not None
                return self._opening.retry() or self._refund(Problem.DOOR_FAILED)
            case Step.OPENING, LockFailed(compartment=c) if self._mine(c):
                return self._refund(Problem.LOCK_FAULT)
            case Step.TAKE, DoorClosed(compartment=c) if self._mine(c):
                self.step = Step.DONE
                self._deadline = now + DONE_S
                return [RecordWalkinSold(c, self.reference)]
            case Step.DONE, TimerFired() if now >= self._deadline:
                self.finished = True
            case Step.CONFIRM | Step.PAYMENT_FAILED, Back():
                self.step, self.item = Step.CHOOSE, None
            case Step.CHOOSE | Step.DONE | Step.CALL_SITE | Step.PAYMENT_UNKNOWN, Back():
                self.finished = True
        return []

    def _mine(self, compartment: int) -> bool:
        return self.item is not None and self.item.compartment == compartment

    def _paid(self, outcome: PaymentOutcome, reference: str) -> list[Intention]:
        assert self.item is not None
        if outcome is PaymentOutcome.APPROVED:
            self.reference = reference
            self.step = Step.OPENING
            self._opening = DoorOpening(self.item.compartment, f"walk-in sale {reference}")
            return self._opening.start()
        self.step = (
            Step.PAYMENT_UNKNOWN if outcome is PaymentOutcome.UNKNOWN else (Step.PAYMENT_FAILED)
        )
        return []

    def _refund(self, problem: Problem) -> list[Intention]:
        assert self.item is not None
        self.step = Step.CALL_SITE
        self.problem = problem
        n = self.item.compartment
        return [
            FlagRefund(self.item.price_cents, self.reference, n),
            ReportProblem(problem, n),
        ]
