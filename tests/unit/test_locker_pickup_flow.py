"""The pickup flow stepped by hand: events in, state and intentions out."""

from __future__ import annotations

from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.kiosk.flows.events import (
    Back,
    CodeChecked,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    DoorWarning,
    Erase,
    LockFailed,
    OrderReread,
    Scanned,
    TimerFired,
)
from appliance.kiosk.flows.intentions import (
    CheckCode,
    Intention,
    OpenDoor,
    RecordPickup,
    ReportProblem,
    RereadOrder,
)
from appliance.kiosk.flows.pickup import Pickup, Step
from appliance.kiosk.flows.values import (
    Problem,
)

OK = CodeChecked(Verdict.OK, "R100", 7, code_id=3)


def typed(flow: Pickup, code: str) -> list[Intention]:
    out: list[Intention] = []
    for d in code:
        out = flow.handle(DigitPressed(d), 0.0)
    return out


def opened(flow: Pickup) -> None:
    assert typed(flow, "123456") == [CheckCode("123456")]
    assert flow.handle(OK, 1.0) == [RereadOrder("R100")]
    assert flow.handle(OrderReread("R100", None), 1.0) == [OpenDoor(7, "pickup R100")]
    flow.handle(DoorOpened(7), 1.5)


def test_the_last_digit_sends_the_code_to_be_checked_and_the_code_is_not_shown() -> None:
    flow = Pickup()
    typed(flow, "12345")
    assert flow.masked == "•••••"
    assert flow.handle(Erase(), 0.0) == []
    assert flow.entered == "1234"
    assert typed(flow, "56") == [CheckCode("123456")]
    assert flow.step is Step.CHECKING and flow.entered == ""
    assert "123456" not in repr(CheckCode("123456"))


def test_a_good_code_opens_its_door_and_closing_it_collects_the_order() -> None:
    flow = Pickup()
    opened(flow)
    assert flow.step is Step.TAKE_ORDER
    assert flow.handle(DoorClosed(7, item_present=False), 9.0) == [RecordPickup("R100", 7, 3)]
    assert flow.step is Step.DONE
    flow.handle(TimerFired(), 20.0)
    assert flow.finished


def test_a_scanned_qr_token_is_checked_like_a_code() -> None:
    flow = Pickup()
    assert flow.handle(Scanned("CPT1.R100.3.1.abc\n"), 0.0) == [CheckCode("CPT1.R100.3.1.abc")]


def test_an_order_cancelled_on_the_marketplace_is_never_handed_out() -> None:
    flow = Pickup()
    typed(flow, "123456")
    flow.handle(OK, 1.0)
    out = flow.handle(OrderReread("R100", OrderState.CANCELLED), 1.0)
    assert out == [ReportProblem(Problem.CANCELLED, 7, "R100")]
    assert flow.step is Step.REFUSED and flow.problem is Problem.CANCELLED


def test_unknown_expired_and_collected_codes_give_their_own_message_then_the_keypad() -> None:
    for verdict, problem in [
        (Verdict.UNKNOWN, Problem.UNKNOWN_CODE),
        (Verdict.EXPIRED, Problem.EXPIRED),
        (Verdict.ALREADY_COLLECTED, Problem.ALREADY_COLLECTED),
    ]:
        flow = Pickup()
        typed(flow, "000000")
        assert flow.handle(CodeChecked(verdict, "R1"), 0.0) == []
        assert (flow.step, flow.problem) == (Step.REFUSED, problem)
        flow.handle(TimerFired(), 100.0)
        assert flow.step is Step.ENTER_CODE


def test_a_locked_keypad_ignores_digits_until_the_delay_is_over() -> None:
    flow = Pickup()
    typed(flow, "000000")
    flow.handle(CodeChecked(Verdict.UNKNOWN, locked_for_s=30), 10.0)
    assert flow.step is Step.LOCKED
    assert typed(flow, "1") == [] and flow.entered == ""
    flow.handle(TimerFired(), 39.0)
    assert flow.step is Step.LOCKED
    flow.handle(TimerFired(), 40.0)
    assert flow.step is Step.ENTER_CODE


def test_a_door_that_stays_shut_is_tried_once_more_then_the_site_phone_is_shown() -> None:
    flow = Pickup(phone="04 00 00 00 00")
    typed(flow, "123456")
    flow.handle(OK, 1.0)
    flow.handle(OrderReread("R100", OrderState.IN_LOCKER), 1.0)
    assert flow.handle(DoorNotOpened(7), 2.0) == [OpenDoor(7, "pickup R100 (retry)")]
    assert flow.handle(DoorNotOpened(7), 3.0) == [ReportProblem(Problem.DOOR_FAILED, 7, "R100")]
    assert flow.step is Step.CALL_SITE and flow.phone == "04 00 00 00 00"


def test_a_silent_lock_board_shows_the_phone_and_collects_nothing() -> None:
    flow = Pickup()
    typed(flow, "123456")
    flow.handle(OK, 1.0)
    flow.handle(OrderReread("R100", None), 1.0)
    out = flow.handle(LockFailed(7, "lock board 0 does not answer"), 2.0)
    assert out == [ReportProblem(Problem.LOCK_FAULT, 7, "R100")]
    assert flow.step is Step.CALL_SITE


def test_an_item_still_inside_after_the_door_closed_is_not_collected() -> None:
    flow = Pickup()
    opened(flow)
    out = flow.handle(DoorClosed(7, item_present=True), 5.0)
    assert out == [ReportProblem(Problem.ITEM_LEFT, 7, "R100")]
    assert flow.step is Step.ITEM_LEFT


def test_a_door_left_open_shows_a_warning_and_events_for_other_doors_are_ignored() -> None:
    flow = Pickup()
    opened(flow)
    assert flow.handle(DoorClosed(8), 2.0) == []
    flow.handle(DoorWarning(7), 130.0)
    assert flow.door_warning and flow.step is Step.TAKE_ORDER


def test_back_on_the_keypad_goes_home() -> None:
    flow = Pickup()
    flow.handle(Back(), 0.0)
    assert flow.finished
