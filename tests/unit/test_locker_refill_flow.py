"""The producer's refill flow stepped by hand."""

from __future__ import annotations

from appliance.core.locker import Compartment, Size
from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.kiosk.flows.events import (
    Back,
    CodeSent,
    CompartmentChosen,
    DepositRecorded,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
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
    LoadWall,
    OpenDoor,
    RecordDeposit,
    RecordWalkinFill,
    ReportProblem,
    RereadOrder,
    SendCode,
)
from appliance.kiosk.flows.refill import Refill, Step
from appliance.kiosk.flows.values import (
    MenuChoice,
    OrderToDeposit,
    Problem,
)

WALL = WallLoaded(
    (OrderToDeposit("R100", "Alice", 3), OrderToDeposit("R200", "Bob", 1)),
    (
        Compartment(1, Size.S),
        Compartment(2, Size.L),
        Compartment(3, Size.M, chilled=True, zone="frigo"),
    ),
    frozenset({1}),
)


def at_menu() -> Refill:
    flow = Refill()
    for d in "4321":
        flow.handle(DigitPressed(d), 0)
    assert flow.handle(PinEntered(), 0) == [IdentifyProducer("4321")]
    assert flow.handle(ProducerIdentified(Verdict.OK, "Ferme des Lilas"), 0) == [LoadWall()]
    flow.handle(WALL, 0)
    return flow


def test_a_deposit_opens_the_offered_door_and_closing_it_records_and_sends_the_code() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.DEPOSIT), 0)
    flow.handle(OrderChosen("R100"), 0)
    assert flow.offered == Compartment(2, Size.L)  # 1 is busy
    flow.handle(SizeChosen(Size.M, chilled=True), 0)
    assert flow.offered is not None and flow.offered.number == 3
    assert flow.handle(CompartmentChosen(3), 0) == [RereadOrder("R100")]
    assert flow.handle(OrderReread("R100", None), 0) == [
        OpenDoor(3, "deposit R100 by Ferme des Lilas")
    ]
    flow.handle(DoorOpened(3), 0)
    assert flow.step is Step.DEPOSITING
    assert flow.handle(DoorClosed(3), 0) == [RecordDeposit("R100", 3, "Ferme des Lilas")]
    out = flow.handle(DepositRecorded("R100", True, code="123456", token="CPT1.x"), 0)
    assert out == [SendCode("R100", 3, "123456", "CPT1.x")]
    assert "123456" not in repr(out)
    flow.handle(CodeSent("R100", True), 0)
    assert flow.step is Step.DEPOSITED and flow.code_sent
    assert [o.number for o in flow.orders] == ["R200"]
    assert flow.handle(Back(), 0) == [LoadWall()]


def test_a_cancelled_order_is_never_deposited() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.DEPOSIT), 0)
    flow.handle(OrderChosen("R100"), 0)
    flow.handle(CompartmentChosen(2), 0)
    assert flow.handle(OrderReread("R100", OrderState.CANCELLED), 0) == []
    assert flow.step is Step.REFUSED and flow.problem is Problem.CANCELLED


def test_no_free_compartment_of_that_kind_is_said_plainly() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.DEPOSIT), 0)
    flow.handle(OrderChosen("R100"), 0)
    flow.handle(SizeChosen(Size.L, chilled=True), 0)
    assert flow.step is Step.NO_PLACE


def test_a_busy_compartment_cannot_be_picked() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.DEPOSIT), 0)
    flow.handle(OrderChosen("R100"), 0)
    assert flow.handle(CompartmentChosen(1), 0) == []
    assert flow.step is Step.CHOOSE_PLACE


def test_a_door_that_will_not_open_for_a_deposit_is_retried_then_reported() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.DEPOSIT), 0)
    flow.handle(OrderChosen("R100"), 0)
    flow.handle(CompartmentChosen(2), 0)
    flow.handle(OrderReread("R100", None), 0)
    assert len(flow.handle(DoorNotOpened(2), 0)) == 1
    assert flow.handle(DoorNotOpened(2), 0) == [ReportProblem(Problem.DOOR_FAILED, 2, "R100")]


def test_a_walkin_fill_records_the_produce_and_its_price() -> None:
    flow = at_menu()
    flow.handle(MenuChosen(MenuChoice.WALKIN), 0)
    flow.handle(CompartmentChosen(2), 0)
    assert flow.handle(WalkinDetails("Panier de pommes 2 kg", 0), 0) == []
    out = flow.handle(WalkinDetails("Panier de pommes 2 kg", 650), 0)
    assert out == [OpenDoor(2, "walk-in fill by Ferme des Lilas")]
    flow.handle(DoorOpened(2), 0)
    assert flow.handle(DoorClosed(2), 0) == [
        RecordWalkinFill(2, "Panier de pommes 2 kg", 650, "Ferme des Lilas")
    ]
    assert flow.step is Step.MENU and 2 in flow.busy


def test_a_wrong_pin_says_so_and_five_lock_the_keypad() -> None:
    flow = Refill()
    assert flow.handle(Scanned("BADGE-9"), 0) == [IdentifyProducer("BADGE-9", badge=True)]
    flow.handle(ProducerIdentified(Verdict.UNKNOWN), 0)
    assert flow.step is Step.IDENTIFY and flow.problem is Problem.UNKNOWN_CODE
    flow.handle(DigitPressed("1"), 0)
    flow.handle(PinEntered(), 0)
    flow.handle(ProducerIdentified(Verdict.UNKNOWN, locked_for_s=30), 10)
    assert flow.step is Step.LOCKED
    flow.handle(DigitPressed("1"), 20)
    assert flow.step is Step.LOCKED and flow.entered == ""
    flow.handle(DigitPressed("1"), 41)
    assert flow.step is Step.IDENTIFY


def test_a_pin_typed_on_a_keyboard_is_a_pin_not_a_badge() -> None:
    flow = Refill()
    assert flow.handle(Scanned("1234"), 0) == [IdentifyProducer("1234", badge=False)]
    flow = Refill()
    assert flow.handle(Scanned("0012345678"), 0) == [IdentifyProducer("0012345678", badge=True)]
