"""The walk-in compartment sale stepped by hand."""

from __future__ import annotations

from appliance.core.catalogue import Product, SoldBy
from appliance.core.payment import PaymentOutcome
from appliance.kiosk.flows.events import (
    Back,
    CompartmentPicked,
    Confirmed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    LockFailed,
    PaymentAnswered,
    ShelfLoaded,
    TimerFired,
)
from appliance.kiosk.flows.intentions import (
    Charge,
    FlagRefund,
    OpenDoor,
    RecordWalkinSold,
    ReportProblem,
)
from appliance.kiosk.flows.values import (
    BasketLine,
    ForSale,
    Problem,
)
from appliance.kiosk.flows.walkin import Step, Walkin

APPLES = ForSale(4, Product("POM2", "Pommes 2 kg", SoldBy.PIECE, 650, 550))


def paying() -> Walkin:
    flow = Walkin(phone="04 75 00 00 00")
    flow.handle(ShelfLoaded((APPLES,)), 0)
    flow.handle(CompartmentPicked(9), 0)
    assert flow.step is Step.CHOOSE
    flow.handle(CompartmentPicked(4), 0)
    assert flow.handle(Confirmed(), 0) == [Charge(650, (BasketLine(APPLES.product, 1, 650),))]
    return flow


def test_paying_opens_the_door_and_closing_it_frees_the_compartment() -> None:
    flow = paying()
    assert flow.handle(PaymentAnswered(PaymentOutcome.APPROVED, 650, "42"), 0) == [
        OpenDoor(4, "walk-in sale 42")
    ]
    flow.handle(DoorOpened(4), 1)
    assert flow.handle(DoorClosed(4), 5) == [RecordWalkinSold(4, "42")]
    flow.handle(TimerFired(), 20)
    assert flow.finished


def test_a_declined_card_opens_nothing() -> None:
    flow = paying()
    assert flow.handle(PaymentAnswered(PaymentOutcome.DECLINED, 650), 0) == []
    assert flow.step is Step.PAYMENT_FAILED
    flow.handle(Back(), 0)
    assert flow.step is Step.CHOOSE


def test_an_unknown_payment_outcome_opens_nothing() -> None:
    flow = paying()
    assert flow.handle(PaymentAnswered(PaymentOutcome.UNKNOWN, 650), 0) == []
    assert flow.step is Step.PAYMENT_UNKNOWN


def test_a_paid_door_that_stays_shut_flags_a_refund_and_shows_the_phone() -> None:
    flow = paying()
    flow.handle(PaymentAnswered(PaymentOutcome.APPROVED, 650, "42"), 0)
    assert flow.handle(DoorNotOpened(4), 1) == [OpenDoor(4, "walk-in sale 42 (retry)")]
    assert flow.handle(DoorNotOpened(4), 2) == [
        FlagRefund(650, "42", 4),
        ReportProblem(Problem.DOOR_FAILED, 4),
    ]
    assert flow.step is Step.CALL_SITE and flow.phone


def test_a_silent_lock_board_after_payment_flags_a_refund() -> None:
    flow = paying()
    flow.handle(PaymentAnswered(PaymentOutcome.APPROVED, 650, "42"), 0)
    out = flow.handle(LockFailed(4, "lock board 0 does not answer"), 1)
    assert out[0] == FlagRefund(650, "42", 4)
