"""The locker visits through the kiosk's one dispatcher, without a window: starting a visit,
idle abandonment, the pages each step shows, the keyboard-wedge scanner, and a new catalogue
that waits for the customer to finish weighing."""

from __future__ import annotations

from appliance.core.catalogue import Product, SoldBy
from appliance.core.locker import Compartment, Size
from appliance.core.payment import PaymentOutcome
from appliance.core.pickup_code import Verdict
from appliance.core.weighing import Reading, ReadingStatus, ScaleSpec
from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    CodeChecked,
    CompartmentChosen,
    CompartmentPicked,
    Confirmed,
    DigitPressed,
    DoorClosed,
    DoorOpened,
    DoorWarning,
    LockFailed,
    MenuChosen,
    OrderChosen,
    OrderReread,
    PaymentAnswered,
    PinEntered,
    ProducerIdentified,
    ReadingArrived,
    ShelfLoaded,
    TimerFired,
    Touched,
    WalkinDetails,
    WallLoaded,
)
from appliance.kiosk.flows.intentions import (
    LoadShelf,
)
from appliance.kiosk.flows.journey import Journey, Screen
from appliance.kiosk.flows.kiosk import IDLE_GRACE_S, KioskFlow
from appliance.kiosk.flows.values import (
    ForSale,
    MenuChoice,
    OrderToDeposit,
    Settings,
    VisitKind,
)
from appliance.kiosk.i18n import translator
from appliance.kiosk.locker_view import Layout, Page, page
from appliance.kiosk.wedge import Wedge

SPEC = ScaleSpec(2, 15000, 20)
FR = translator("fr")
EN = translator("en")


def kiosk(start: Action | None = None) -> KioskFlow:
    """A kiosk with lockers, at home; `start` touches one of the home screen's locker buttons."""
    settings = Settings(SPEC, 60, lockers=True, phone="04 75 00 00 00", code_digits=6)
    flow = KioskFlow(settings)
    if start is not None:
        flow.handle(Touched(start), 0.0)
    return flow


def shown(flow: KioskFlow, now: float = 1.0, language: str = "fr", products=()) -> Page:
    assert flow.visit is not None
    return page(flow.visit, now, language, FR if language == "fr" else EN, products)


def test_the_home_buttons_start_each_visit_and_a_walk_in_first_reads_the_shelf():
    assert kiosk().visit is None
    assert kiosk(Action.PICKUP).visit.kind is VisitKind.PICKUP
    flow = kiosk()
    assert flow.handle(Touched(Action.WALKIN), 0.0) == [LoadShelf()]
    assert flow.visit.kind is VisitKind.WALKIN


def test_a_kiosk_without_lockers_starts_no_visit():
    flow = KioskFlow(Settings(SPEC, 60))
    flow.handle(Touched(Action.PICKUP), 0.0)
    assert flow.visit is None and flow.journey.screen is Screen.HOME


def test_a_half_typed_code_is_asked_about_then_abandoned_after_the_idle_time():
    flow = kiosk(Action.PICKUP)
    flow.handle(DigitPressed("1"), 10.0)
    flow.handle(TimerFired(), 69.0)
    assert not flow.idle_prompt
    flow.handle(TimerFired(), 70.0)
    assert flow.idle_prompt and flow.visit is not None
    flow.handle(TimerFired(), 70.0 + IDLE_GRACE_S)
    assert flow.visit is None and not flow.idle_prompt


def test_a_visit_is_never_abandoned_while_the_door_is_open():
    flow = kiosk(Action.PICKUP)
    for digit in "123456":
        flow.handle(DigitPressed(digit), 1.0)
    flow.handle(CodeChecked(Verdict.OK, "R1", 4, 9), 1.0)
    flow.handle(OrderReread("R1", None), 1.0)
    flow.handle(DoorOpened(4), 1.0)
    assert flow.visit.step == "take_order"
    flow.handle(TimerFired(), 1000.0)
    flow.handle(TimerFired(), 2000.0)
    assert flow.visit is not None and not flow.idle_prompt


def test_door_events_with_nobody_at_the_lockers_change_nothing():
    flow = kiosk()
    assert flow.handle(DoorClosed(2), 1.0) == []
    assert flow.visit is None and flow.journey.screen is Screen.HOME


def test_the_journey_keeps_hearing_the_scale_during_a_visit():
    flow = kiosk(Action.PICKUP)
    flow.handle(ReadingArrived(Reading(ReadingStatus.STABLE, 500)), 1.0)
    assert flow.journey.panel.raw == Reading(ReadingStatus.STABLE, 500)


def test_the_keypad_masks_the_code_and_the_open_door_shows_its_number():
    flow = kiosk(Action.PICKUP)
    flow.handle(DigitPressed("4"), 1.0)
    flow.handle(DigitPressed("2"), 1.0)
    keypad = shown(flow)
    assert (keypad.layout, keypad.entry, keypad.title) == (
        Layout.KEYPAD,
        "••",
        "Retirer une commande",
    )
    for digit in "1234":
        flow.handle(DigitPressed(digit), 1.0)
    flow.handle(CodeChecked(Verdict.OK, "R1", 12, 3), 1.0)
    flow.handle(OrderReread("R1", None), 1.0)
    flow.handle(DoorOpened(12), 1.0)
    notice = shown(flow, language="en")
    assert (notice.big, notice.body) == ("12", "Take your order and close the door.")
    flow.handle(DoorWarning(12), 1.0)
    assert shown(flow, language="en").tone == "warning"


def test_a_locked_keypad_says_how_long_and_a_failed_door_gives_the_phone():
    flow = kiosk(Action.PICKUP)
    for digit in "000000":
        flow.handle(DigitPressed(digit), 1.0)
    flow.handle(CodeChecked(Verdict.UNKNOWN, locked_for_s=30), 1.0)
    assert "30 s" in shown(flow, 1.0).body
    assert "20 s" in shown(flow, 11.0).body
    flow = kiosk(Action.WALKIN)
    basket = Product("PANIER", "Panier", SoldBy.PIECE, 1200, 550)
    flow.handle(ShelfLoaded((ForSale(3, basket),)), 1.0)
    flow.handle(CompartmentPicked(3), 1.0)
    flow.handle(Confirmed(), 1.0)
    flow.handle(PaymentAnswered(PaymentOutcome.APPROVED, 1200, "7"), 1.0)
    flow.handle(LockFailed(3, "silent board"), 1.0)
    notice = shown(flow, language="en")
    assert "04 75 00 00 00" in notice.body and "refunded" in notice.body


def signed_in() -> KioskFlow:
    flow = kiosk(Action.REFILL)
    for digit in "4321":
        flow.handle(DigitPressed(digit), 1.0)
    flow.handle(PinEntered(), 1.0)
    flow.handle(ProducerIdentified(Verdict.OK, "Ferme"), 1.0)
    return flow


def test_the_producer_menu_and_places_carry_the_flow_events():
    flow = signed_in()
    flow.handle(
        WallLoaded(
            (OrderToDeposit("R5", "Alice", 2),),
            (Compartment(1, Size.S), Compartment(2, Size.M, chilled=True), Compartment(3)),
            frozenset({3}),
        ),
        1.0,
    )
    menu = shown(flow, language="en")
    assert menu.choices[0].label == "Deposit orders (1 waiting)"
    flow.handle(menu.choices[0].event, 1.0)
    order = shown(flow, language="en").choices[0]
    assert order.event == OrderChosen("R5")
    flow.handle(order.event, 1.0)
    places = shown(flow, language="en").choices
    assert [c.event for c in places] == [CompartmentChosen(1), CompartmentChosen(2)]
    assert places[0].primary and places[0].detail == "suggested"


def test_walk_in_produce_is_chosen_among_the_products_sold_by_the_piece():
    flow = signed_in()
    flow.handle(WallLoaded((), (Compartment(1),), frozenset()), 1.0)
    flow.handle(MenuChosen(MenuChoice.WALKIN), 1.0)
    flow.handle(CompartmentChosen(1), 1.0)
    products = (
        Product("OEUFS", "Œufs x6", SoldBy.PIECE, 320, 550),
        Product("POMMES", "Pommes", SoldBy.WEIGHT, 349, 550),
    )
    assert [(c.event, c.detail) for c in shown(flow, products=products).choices] == [
        (WalkinDetails("Œufs x6", 320), "3,20 €")
    ]


def test_a_scanned_text_is_one_burst_ended_by_enter():
    wedge = Wedge(gap_s=2.0)
    for i, char in enumerate("CPT1.R1"):
        wedge.feed(char, 10.0 + i * 0.01)
    assert wedge.enter(10.1) == "CPT1.R1"
    assert wedge.enter(10.2) is None
    wedge.feed("7", 20.0)
    wedge.feed("4", 30.0)  # a stray key long ago does not join the next text
    assert wedge.enter(30.1) == "4"


def test_a_new_catalogue_waits_until_the_customer_is_back_among_the_products():
    apples = Product("POMMES", "Pommes", SoldBy.WEIGHT, 349, 550, category="Fruits")
    dearer = Product("POMMES", "Pommes", SoldBy.WEIGHT, 399, 550, category="Fruits")
    journey = Journey(Settings(SPEC, 90))
    journey.handle(CatalogueLoaded((apples,)), 0.0)
    journey.handle(ReadingArrived(Reading(ReadingStatus.STABLE, 0)), 0.5)
    journey.handle(Touched(Action.START), 1.0)
    journey.handle(Touched(Action.CATEGORY, "Fruits"), 1.0)
    journey.handle(Touched(Action.PRODUCT, "POMMES"), 2.0)
    assert journey.screen is Screen.WEIGH
    journey.handle(CatalogueLoaded((dearer,)), 3.0)
    assert journey.browse.find("POMMES").unit_price_cents == 349
    journey.handle(Touched(Action.BACK), 4.0)
    assert journey.browse.find("POMMES").unit_price_cents == 399
    assert journey.browse.category == "Fruits" and journey.pending_catalogue is None
