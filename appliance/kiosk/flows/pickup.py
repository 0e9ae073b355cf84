"""The customer's pickup at the locker, as a state machine with no window, clock or I/O.

enter code (typed, or a QR token scanned) -> checking -> confirming with the marketplace ->
opening the door -> "take your order and close the door" -> done. The code is checked by the
store (which records every attempt and locks the keypad after five wrong codes); the flow only
asks (`CheckCode`) and hears back (`CodeChecked`). An order is recorded as collected only when
its door closed again with nothing left inside.
"""

from __future__ import annotations

from enum import StrEnum

from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.kiosk.flows.door_opening import DoorOpening
from appliance.kiosk.flows.events import (
    Back,
    CodeChecked,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    DoorWarning,
    Erase,
    Event,
    LockFailed,
    OrderReread,
    Scanned,
    TimerFired,
)
from appliance.kiosk.flows.intentions import (
    CheckCode,
    Intention,
    RecordPickup,
    ReportProblem,
    RereadOrder,
)
from appliance.kiosk.flows.values import Problem

#: A refusal message stays this long before the keypad comes back; "done" goes home after this.
MESSAGE_S = 8.0
DONE_S = 6.0

_REFUSALS = {
    Verdict.UNKNOWN: Problem.UNKNOWN_CODE,
    Verdict.EXPIRED: Problem.EXPIRED,
    Verdict.ALREADY_COLLECTED: Problem.ALREADY_COLLECTED,
    Verdict.CANCELLED: Problem.CANCELLED,
    Verdict.LOCKED: Problem.LOCKED,
}


class Step(StrEnum):
    ENTER_CODE = "enter_code"
    CHECKING = "checking"
    CONFIRMING = "confirming"
    OPENING = "opening"
    TAKE_ORDER = "take_order"
    REFUSED = "refused"
    LOCKED = "locked"
    CALL_SITE = "call_site"  # door failed or board down: the screen shows `phone`
    ITEM_LEFT = "item_left"
    DONE = "done"


class Pickup:
    """One customer's pickup; screens render `step`, `entered`, `problem`, `compartment`."""

    def __init__(self, digits: int = 6, phone: str = "") -> None:
        self.digits = digits
        self.phone = phone
        self.step = Step.ENTER_CODE
        self.entered = ""
        self.problem: Problem | None = None
        self.order_number: str | None = None
        self.compartment: int | None = None
        self.code_id: int | None = None
        self.door_warning = False
        self.locked_until = 0.0
        self.finished = False  # the kiosk goes home
        self._deadline: float | None = None
        self._opening: DoorOpening | None = None

    @property
    def masked(self) -> str:
        """What the screen shows of the code being typed."""
        return "•" * len(self.entered)

    def handle(self, event: Event, now: float) -> list[Intention]:
        if isinstance(event, TimerFired):
            return self._tick(now)
        match self.step, event:
            case Step.ENTER_CODE, DigitPressed(digit=d) if d.isdigit() and len(d) == 1:
                self.entered += d
                if len(self.entered) == self.digits:
                    return self._check(self.entered)
            case Step.ENTER_CODE, Erase():
                self.entered = self.entered[:-1]
            case Step.ENTER_CODE, Scanned(text=text) if text.strip():
                return self._check(text.strip())
            case Step.ENTER_CODE, Back():
                self.finished = True
            case Step.CHECKING, CodeChecked() as checked:
                return self._checked(checked, now)
            case Step.CONFIRMING, OrderReread(order_number=n, state=state) if (
                n == self.order_number
            ):
                if state is OrderState.CANCELLED:
                    self._refuse(Problem.CANCELLED, now)
                    return [ReportProblem(Problem.CANCELLED, self.compartment, n)]
                return self._open()
            case Step.OPENING, DoorOpened(compartment=c) if c == self.compartment:
                self.step = Step.TAKE_ORDER
            case Step.OPENING, DoorNotOpened(compartment=c) if c == self.compartment:
                assert self._opening is not None
                return self._opening.retry() or self._call_site(Problem.DOOR_FAILED)
            case Step.OPENING, LockFailed(compartment=c) if c == self.compartment:
                return self._call_site(Problem.LOCK_FAULT)
            case Step.TAKE_ORDER, DoorWarning(compartment=c) if c == self.compartment:
                self.door_warning = True
            case Step.TAKE_ORDER, DoorClosed(compartment=c, item_present=item) if (
                c == self.compartment
            ):
                return self._closed(item, now)
            case Step.REFUSED | Step.CALL_SITE | Step.ITEM_LEFT | Step.DONE, Back():
                self.finished = True
        return []

    def _check(self, text: str) -> list[Intention]:
        self.step = Step.CHECKING
        self.entered = ""
        return [CheckCode(text)]

    def _checked(self, checked: CodeChecked, now: float) -> list[Intention]:
        if checked.verdict is Verdict.OK and checked.order_number and checked.compartment:
            self.order_number = checked.order_number
            self.compartment = checked.compartment
            self.code_id = checked.code_id
            self.step = Step.CONFIRMING
            return [RereadOrder(checked.order_number)]
        if checked.locked_for_s > 0:
            self.step = Step.LOCKED
            self.problem = Problem.LOCKED
            self.locked_until = now + checked.locked_for_s
            return []
        self._refuse(_REFUSALS.get(checked.verdict, Problem.UNKNOWN_CODE), now)
        return []

    def _open(self) -> list[Intention]:
        assert self.compartment is not None
        self.step = Step.OPENING
        self._opening = DoorOpening(self.compartment, f"pickup {self.order_number}")
        return self._opening.start()

    def _closed(self, item_present: bool | None, now: float) -> list[Intention]:
        assert self.order_number is not None and self.compartment is not None
        if item_present:
            self.step = Step.ITEM_LEFT
            self.problem = Problem.ITEM_LEFT
            self._deadline = now + MESSAGE_S
            return [ReportProblem(Problem.ITEM_LEFT, self.compartment, self.order_number)]
        self.step = Step.DONE
        self._deadline = now + DONE_S
        return [RecordPickup(self.order_number, self.compartment, self.code_id)]

    def _refuse(self, problem: Problem, now: float) -> None:
        self.step = Step.REFUSED
        self.problem = problem
        self._deadline = now + MESSAGE_S

    def _call_site(self, problem: Problem) -> list[Intention]:
        self.step = Step.CALL_SITE
        self.problem = problem
        return [ReportProblem(problem, self.compartment, self.order_number)]

    def _tick(self, now: float) -> list[Intention]:
        deadline = self.locked_until if self.step is Step.LOCKED else self._deadline
        if deadline is None or now < deadline:
            return []
        if self.step in (Step.LOCKED, Step.REFUSED):
            self.step = Step.ENTER_CODE
            self.problem = None
        elif self.step in (Step.DONE, Step.ITEM_LEFT):
            self.finished = True
        return []
