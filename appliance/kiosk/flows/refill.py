"""A producer refilling the lockers, as a state machine with no window, clock or I/O.

identify (PIN or badge) -> menu -> deposit orders: choose an order -> a free compartment of the
right size and temperature is offered (or the producer picks one) -> the marketplace is asked
again (a cancelled order is never deposited) -> the door opens -> on closing, the order is
recorded in the locker and the customer is sent the code. Or: fill a walk-in compartment with
produce for sale. The store checks the PIN and records the deposit; the flow only asks.
"""

from __future__ import annotations

from enum import StrEnum

from appliance.core.locker import Compartment, Size, choose_compartment
from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.kiosk.flows.door_opening import DoorOpening
from appliance.kiosk.flows.events import (
    Back,
    CodeSent,
    CompartmentChosen,
    DepositRecorded,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    Erase,
    Event,
    LockFailed,
    MenuChosen,
    OrderChosen,
    OrderReread,
    PinEntered,
    ProducerIdentified,
    Scanned,
    SizeChosen,
    WalkinDetails,
    WallLoaded,
)
from appliance.kiosk.flows.intentions import (
    IdentifyProducer,
    Intention,
    LoadWall,
    RecordDeposit,
    RecordWalkinFill,
    ReportProblem,
    RereadOrder,
    SendCode,
)
from appliance.kiosk.flows.values import MenuChoice, OrderToDeposit, Problem

PIN_MAX = 8


class Step(StrEnum):
    IDENTIFY = "identify"
    CHECKING = "checking"
    LOCKED = "locked"
    MENU = "menu"
    CHOOSE_ORDER = "choose_order"
    CHOOSE_PLACE = "choose_place"
    NO_PLACE = "no_place"  # no free compartment of that size and temperature
    CONFIRMING = "confirming"
    OPENING = "opening"
    DEPOSITING = "depositing"  # door open: put the order in and close the door
    RECORDING = "recording"
    SENDING = "sending"
    DEPOSITED = "deposited"  # `code_sent` says whether the customer got the code
    WALKIN_PLACE = "walkin_place"
    WALKIN_DETAILS = "walkin_details"
    FILLING = "filling"
    REFUSED = "refused"  # a message (`problem` or `message`), OK goes back to the menu
    CALL_SITE = "call_site"


class Refill:
    """One producer's visit; screens render `step`, `orders`, `offered`, `message`."""

    def __init__(self) -> None:
        self.step = Step.IDENTIFY
        self.entered = ""
        self.producer: str | None = None
        self.orders: tuple[OrderToDeposit, ...] = ()
        self.compartments: tuple[Compartment, ...] = ()
        self.busy: frozenset[int] = frozenset()
        self.order_number: str | None = None
        self.offered: Compartment | None = None
        self.compartment: int | None = None
        self.walkin: WalkinDetails | None = None
        self.code_sent = False
        self.problem: Problem | None = None
        self.message = ""
        self.locked_until = 0.0
        self.finished = False
        self._opening: DoorOpening | None = None

    def handle(self, event: Event, now: float) -> list[Intention]:
        match self.step, event:
            case Step.IDENTIFY, DigitPressed(digit=d) if (
                d.isdigit() and len(self.entered) < PIN_MAX
            ):
                self.entered += d
            case Step.IDENTIFY, Erase():
                self.entered = self.entered[:-1]
            case Step.IDENTIFY, PinEntered() if self.entered:
                pin, self.entered = self.entered, ""
                self.step = Step.CHECKING
                return [IdentifyProducer(pin)]
            case Step.IDENTIFY, Scanned(text=text) if text.strip():
                self.step = Step.CHECKING
                typed = text.strip()  # a PIN typed on a keyboard arrives like a scan
                return [IdentifyProducer(typed, badge=not _looks_like_pin(typed))]
            case Step.IDENTIFY | Step.MENU, Back():
                self.finished = True
            case Step.CHECKING, ProducerIdentified() as who:
                return self._identified(who, now)
            case Step.LOCKED, _ if now >= self.locked_until:
                self.step = Step.IDENTIFY
            case Step.MENU, MenuChosen(choice=MenuChoice.DONE):
                self.finished = True
            case Step.MENU, MenuChosen(choice=choice):
                self.step = Step.CHOOSE_ORDER if choice is MenuChoice.DEPOSIT else Step.WALKIN_PLACE
            case _, WallLoaded() as wall:
                self.orders, self.compartments, self.busy = (
                    wall.orders,
                    wall.compartments,
                    wall.busy,
                )
            case Step.CHOOSE_ORDER, OrderChosen(number=n) if n in {o.number for o in self.orders}:
                self.order_number = n
                self.step = Step.CHOOSE_PLACE
                self.offered = choose_compartment(self.compartments, self.busy, Size.S, False)
            case Step.CHOOSE_PLACE | Step.NO_PLACE, SizeChosen(size=size, chilled=chilled):
                self.offered = choose_compartment(self.compartments, self.busy, size, chilled)
                self.step = Step.CHOOSE_PLACE if self.offered else Step.NO_PLACE
            case Step.CHOOSE_PLACE, CompartmentChosen(number=n) if self._free(n):
                assert self.order_number is not None
                self.compartment = n
                self.step = Step.CONFIRMING
                return [RereadOrder(self.order_number)]
            case Step.CONFIRMING, OrderReread(order_number=n, state=state) if (
                n == self.order_number
            ):
                if state is OrderState.CANCELLED:
                    return self._refuse("cancelled", Problem.CANCELLED)
                return self._open(f"deposit {n} by {self.producer}")
            case Step.WALKIN_PLACE, CompartmentChosen(number=n) if self._free(n):
                self.compartment = n
                self.step = Step.WALKIN_DETAILS
            case Step.WALKIN_DETAILS, WalkinDetails() as details if details.price_cents > 0:
                self.walkin = details
                return self._open(f"walk-in fill by {self.producer}")
            case Step.OPENING, DoorOpened(compartment=c) if c == self.compartment:
                self.step = Step.FILLING if self.walkin else Step.DEPOSITING
            case Step.OPENING, DoorNotOpened(compartment=c) if c == self.compartment:
                assert self._opening is not None
                return self._opening.retry() or self._call_site(Problem.DOOR_FAILED)
            case Step.OPENING, LockFailed(compartment=c) if c == self.compartment:
                return self._call_site(Problem.LOCK_FAULT)
            case Step.DEPOSITING, DoorClosed(compartment=c) if c == self.compartment:
                assert self.order_number is not None and self.producer is not None
                self.step = Step.RECORDING
                return [RecordDeposit(self.order_number, c, self.producer)]
            case Step.FILLING, DoorClosed(compartment=c) if c == self.compartment:
                assert self.walkin is not None and self.producer is not None
                details, self.walkin = self.walkin, None
                self.busy = self.busy | {c}
                self.step = Step.MENU
                return [RecordWalkinFill(c, details.name, details.price_cents, self.producer)]
            case Step.RECORDING, DepositRecorded() as recorded:
                return self._recorded(recorded)
            case Step.SENDING, CodeSent(ok=ok, message=message):
                self.code_sent, self.message = ok, message
                self.step = Step.DEPOSITED
            case Step.DEPOSITED | Step.REFUSED | Step.NO_PLACE | Step.CALL_SITE, Back():
                self.step = Step.MENU
                self.problem, self.message = None, ""
                return [LoadWall()]
            case Step.CHOOSE_ORDER | Step.CHOOSE_PLACE | Step.WALKIN_PLACE, Back():
                self.step = Step.MENU
        return []

    def _free(self, number: int) -> bool:
        return number not in self.busy and number in {c.number for c in self.compartments}

    def _identified(self, who: ProducerIdentified, now: float) -> list[Intention]:
        if who.verdict is Verdict.OK and who.producer:
            self.producer = who.producer
            self.step = Step.MENU
            return [LoadWall()]
        if who.locked_for_s > 0:
            self.step = Step.LOCKED
            self.problem = Problem.LOCKED
            self.locked_until = now + who.locked_for_s
        else:
            self.step = Step.IDENTIFY
            self.problem = Problem.UNKNOWN_CODE
        return []

    def _open(self, reason: str) -> list[Intention]:
        assert self.compartment is not None
        self.step = Step.OPENING
        self._opening = DoorOpening(self.compartment, reason)
        return self._opening.start()

    def _recorded(self, recorded: DepositRecorded) -> list[Intention]:
        assert self.compartment is not None
        if not recorded.ok:
            return self._refuse(recorded.message, None)
        self.busy = self.busy | {self.compartment}
        self.orders = tuple(o for o in self.orders if o.number != recorded.order_number)
        self.step = Step.SENDING
        return [SendCode(recorded.order_number, self.compartment, recorded.code, recorded.token)]

    def _refuse(self, message: str, problem: Problem | None) -> list[Intention]:
        self.step = Step.REFUSED
        self.message, self.problem = message, problem
        return []

    def _call_site(self, problem: Problem) -> list[Intention]:
        self.step = Step.CALL_SITE
        self.problem = problem
        return [ReportProblem(problem, self.compartment, self.order_number)]


def _looks_like_pin(text: str) -> bool:
    """4 to 8 digits, as a PIN is (store/producers.py); a badge reader types more."""
    return text.isdigit() and 4 <= len(text) <= 8
