"""The locker visits without a window: idle abandonment, the pages each step shows, the
keyboard-wedge scanner, and a new catalogue that waits for the customer to finish weighing."""

from __future__ import annotations

from appliance.core.catalogue import Product, SoldBy
from appliance.core.locker import Compartment, Size
from appliance.core.pickup_code import Verdict
from appliance.core.weighing import Reading, ReadingStatus, ScaleSpec
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w
from appliance.kiosk.flows.events import CatalogueLoaded, ReadingArrived, Touched
from appliance.kiosk.flows.journey import Action, Journey, Screen, Settings
from appliance.kiosk.flows.visit import Kind, LoadShelf, Visit
from appliance.kiosk.i18n import translator
from appliance.kiosk.locker_view import Layout, page
from appliance.kiosk.wedge import Wedge

FR = translator("fr")
EN = translator("en")


def visit(kind: Kind, **kwargs) -> Visit:
    return Visit(kind, 0.0, idle_s=60, phone="04 75 00 00 00", **kwargs)


def test_a_half_typed_code_is_abandoned_after_the_idle_time():
    v = visit(Kind.PICKUP)
    v.handle(p.DigitPressed("1"), 10.0, touch=True)
    v.handle(p.Tick(), 69.0)
    assert not v.finished
    v.handle(p.Tick(), 70.0)
    assert v.finished


def test_a_visit_is_never_abandoned_while_the_door_is_open():
    v = visit(Kind.PICKUP, code_digits=6)
    for digit in "123456":
        v.handle(p.DigitPressed(digit), 1.0, touch=True)
    v.handle(p.CodeChecked(Verdict.OK, "R1", 4, 9), 1.0)
    v.handle(p.OrderReread("R1", None), 1.0)
    v.handle(p.DoorOpened(4), 1.0)
    assert v.step == "take_order"
    v.handle(p.Tick(), 1000.0)
    assert not v.finished


def test_a_walk_in_visit_first_reads_the_shelf():
    assert visit(Kind.WALKIN).start() == [LoadShelf()]
    assert visit(Kind.PICKUP).start() == []


def test_the_keypad_masks_the_code_and_the_open_door_shows_its_number():
    v = visit(Kind.PICKUP)
    v.handle(p.DigitPressed("4"), 1.0, touch=True)
    v.handle(p.DigitPressed("2"), 1.0, touch=True)
    shown = page(v, 1.0, "fr", FR)
    assert (shown.layout, shown.entry, shown.title) == (Layout.KEYPAD, "••", "Retirer une commande")
    for digit in "1234":
        v.handle(p.DigitPressed(digit), 1.0, touch=True)
    v.handle(p.CodeChecked(Verdict.OK, "R1", 12, 3), 1.0)
    v.handle(p.OrderReread("R1", None), 1.0)
    v.handle(p.DoorOpened(12), 1.0)
    shown = page(v, 1.0, "en", EN)
    assert (shown.big, shown.body) == ("12", "Take your order and close the door.")
    v.handle(p.DoorWarning(12), 1.0)
    assert page(v, 1.0, "en", EN).tone == "warning"


def test_a_locked_keypad_says_how_long_and_a_failed_door_gives_the_phone():
    v = visit(Kind.PICKUP)
    for digit in "000000":
        v.handle(p.DigitPressed(digit), 1.0, touch=True)
    v.handle(p.CodeChecked(Verdict.UNKNOWN, locked_for_s=30), 1.0)
    assert "30 s" in page(v, 1.0, "fr", FR).body
    assert "20 s" in page(v, 11.0, "fr", FR).body
    v = visit(Kind.WALKIN)
    v.handle(w.ShelfLoaded((w.ForSale(3, "Panier", 1200),)), 1.0)
    v.handle(w.CompartmentPicked(3), 1.0, touch=True)
    v.handle(w.Confirmed(), 1.0, touch=True)
    v.handle(w.PaymentDone(w.PaymentOutcome.APPROVED, "7"), 1.0)
    v.handle(p.LockFailed(3, "silent board"), 1.0)
    shown = page(v, 1.0, "en", EN)
    assert "04 75 00 00 00" in shown.body and "refunded" in shown.body


def signed_in(v: Visit) -> Visit:
    for digit in "4321":
        v.handle(p.DigitPressed(digit), 1.0, touch=True)
    v.handle(r.PinEntered(), 1.0, touch=True)
    v.handle(r.ProducerIdentified(Verdict.OK, "Ferme"), 1.0)
    return v


def test_the_producer_menu_and_places_carry_the_flow_events():
    v = signed_in(visit(Kind.REFILL))
    v.handle(
        r.WallLoaded(
            (r.OrderToDeposit("R5", "Alice", 2),),
            (Compartment(1, Size.S), Compartment(2, Size.M, chilled=True), Compartment(3)),
            frozenset({3}),
        ),
        1.0,
    )
    menu = page(v, 1.0, "en", EN)
    assert menu.choices[0].label == "Deposit orders (1 waiting)"
    v.handle(menu.choices[0].event, 1.0, touch=True)
    order = page(v, 1.0, "en", EN).choices[0]
    assert order.event == r.OrderChosen("R5")
    v.handle(order.event, 1.0, touch=True)
    places = page(v, 1.0, "en", EN).choices
    assert [c.event for c in places] == [r.CompartmentChosen(1), r.CompartmentChosen(2)]
    assert places[0].primary and places[0].detail == "suggested"


def test_walk_in_produce_is_chosen_among_the_products_sold_by_the_piece():
    v = signed_in(visit(Kind.REFILL))
    v.handle(r.WallLoaded((), (Compartment(1),), frozenset()), 1.0)
    v.handle(r.MenuChosen(r.Choice.WALKIN), 1.0, touch=True)
    v.handle(r.CompartmentChosen(1), 1.0, touch=True)
    products = (
        Product("OEUFS", "Œufs x6", SoldBy.PIECE, 320, 550),
        Product("POMMES", "Pommes", SoldBy.WEIGHT, 349, 550),
    )
    shown = page(v, 1.0, "fr", FR, products)
    assert [(c.event, c.detail) for c in shown.choices] == [
        (r.WalkinDetails("Œufs x6", 320), "3,20 €")
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
    journey = Journey(Settings(ScaleSpec(2, 15000, 20), 90))
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
