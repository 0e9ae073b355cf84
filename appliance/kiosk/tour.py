"""`comptoir kiosk --tour DIR`: every screen in French and English, saved as PNG screenshots.

The tour needs no hardware: it steps a fresh journey into each state with scripted events (its
own clock, so "unstable for too long" takes no time), renders it, and takes a screenshot of the
window. Products come from the database, or a small sample when it has none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window

from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.locker import Compartment, Size
from appliance.core.payment import PaymentOutcome
from appliance.core.pickup_code import Verdict
from appliance.core.weighing import Reading, ReadingStatus
from appliance.kiosk.app import KioskApp, kiosk_settings
from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    CodeChecked,
    CodeSent,
    CompartmentChosen,
    CompartmentPicked,
    Confirmed,
    DepositRecorded,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    DoorWarning,
    Event,
    LockFailed,
    MenuChosen,
    OrderChosen,
    OrderReread,
    PaymentAnswered,
    PinEntered,
    PrinterChanged,
    ProducerIdentified,
    ReadingArrived,
    ShelfLoaded,
    StoreDamaged,
    TimerFired,
    Touched,
    WallLoaded,
)
from appliance.kiosk.flows.kiosk import KioskFlow
from appliance.kiosk.flows.values import ForSale, MenuChoice, OrderToDeposit, PaperState
from appliance.kiosk.flows.weigh import UNSTABLE_LIMIT_S
from appliance.kiosk.pictures import for_site

log = logging.getLogger(__name__)

SAMPLE = (
    Product("TOMATE", "Tomate cœur de bœuf", SoldBy.WEIGHT, 590, 550, category="Légumes"),
    Product("POMMES", "Pommes Gala", SoldBy.WEIGHT, 349, 550, category="Fruits"),
    Product("CAROTTE", "Carottes des sables", SoldBy.WEIGHT, 190, 550, category="Légumes"),
    Product("OEUFS", "Œufs plein air x6", SoldBy.PIECE, 320, 550, category="Crèmerie"),
    Product("MIEL", "Miel de printemps 500 g", SoldBy.PIECE, 890, 550, category="Épicerie"),
    Product("CHEVRE", "Crottin de chèvre", SoldBy.PIECE, 290, 550, category="Crèmerie"),
    Product(
        "COURGE", "Courge butternut du jardin 1 kg", SoldBy.PIECE, 350, 550, "", 0, 0, "", "Légumes"
    ),
    Product("CIDRE", "Cidre brut fermier 75 cl", SoldBy.PIECE, 450, 550, category="Boissons"),
    Product("BAGUETTE", "Baguette tradition", SoldBy.PIECE, 130, 550, category="Boulangerie"),
    Product("TOMME", "Tomme de vache fermière", SoldBy.WEIGHT, 1890, 550, category="Fromages"),
)


def _stable(grams: int) -> ReadingArrived:
    return ReadingArrived(Reading(ReadingStatus.STABLE, grams))


def _touch(action: Action, argument: str = "") -> Touched:
    return Touched(action, argument)


#: One screenshot: its name, the events that lead there from a fresh kiosk, and whether the
#: kiosk takes payments.
Step = tuple[str, list[Event], bool]


def _two_pieces(piece: str) -> list[Event]:
    return [_touch(Action.START), _touch(Action.PRODUCT, piece), _touch(Action.MORE)]


def steps(weighed: str, piece: str) -> list[Step]:
    """The shop's screens; `weighed` and `piece` are the skus of a product sold by weight and
    one sold by the piece."""
    weigh: list[Event] = [
        _stable(0),
        _touch(Action.START),
        _touch(Action.PRODUCT, weighed),
        _stable(1234),
    ]
    basket: list[Event] = [
        *weigh,
        _touch(Action.ADD),
        _touch(Action.START),
        _touch(Action.PRODUCT, piece),
        _touch(Action.MORE),
        _touch(Action.ADD),
    ]
    paying: list[Event] = [*basket, _touch(Action.PAY)]

    def answered(outcome: PaymentOutcome) -> list[Event]:
        return [
            *paying,
            PaymentAnswered(outcome, 1048, "42", "", "https://example.org/r/42?t=demo"),
        ]

    return [
        ("home", [], True),
        ("about", [_touch(Action.ABOUT)], True),
        ("catalogue", [_touch(Action.START)], True),
        ("weigh", weigh, True),
        ("weigh-moving", [*weigh, ReadingArrived(Reading(ReadingStatus.MOTION))], True),
        ("weigh-tare", [*weigh[:3], _stable(150), _touch(Action.TARE), _stable(1384)], True),
        ("pieces", _two_pieces(piece), True),
        ("basket", basket, True),
        ("paper-out", [PrinterChanged(PaperState.OUT), *basket, _touch(Action.PAY)], True),
        ("paying", paying, True),
        ("receipt", answered(PaymentOutcome.APPROVED), True),
        ("thank-you", [*answered(PaymentOutcome.APPROVED), _touch(Action.DONE)], True),
        ("payment-declined", answered(PaymentOutcome.DECLINED), True),
        ("payment-unknown", answered(PaymentOutcome.UNKNOWN), True),
        ("terminal-unavailable", answered(PaymentOutcome.ERROR), True),
        ("scale-missing", [*weigh, ReadingArrived(Reading(ReadingStatus.TIMEOUT))], True),
        ("scale-overload", [*weigh, ReadingArrived(Reading(ReadingStatus.OVERLOAD))], True),
        ("scale-unstable", [*weigh, ReadingArrived(Reading(ReadingStatus.MOTION))], True),
        ("idle-prompt", [*basket, TimerFired()], True),
        ("no-payment", [*weigh[:3], _stable(640)], False),
    ]


def _code(verdict: Verdict = Verdict.OK, locked_for_s: float = 0.0) -> list[Event]:
    typed: list[Event] = [_touch(Action.PICKUP), *(DigitPressed(d) for d in "482913")]
    if verdict is Verdict.OK:
        return [*typed, CodeChecked(verdict, "R100", 12, 1), OrderReread("R100", None)]
    return [*typed, CodeChecked(verdict, locked_for_s=locked_for_s)]


def _signed_in() -> list[Event]:
    """A producer signed in with a PIN, two orders to deposit and three free compartments."""
    return [
        _touch(Action.REFILL),
        *(DigitPressed(d) for d in "4321"),
        PinEntered(),
        ProducerIdentified(Verdict.OK, "Ferme des Lilas"),
        WallLoaded(
            (OrderToDeposit("R200", "Alice Martin", 3), OrderToDeposit("R201", "Paul", 1)),
            (Compartment(1, Size.S), Compartment(2, Size.M, True), Compartment(3, Size.L)),
            frozenset({3}),
        ),
    ]


def locker_steps() -> list[Step]:
    """The locker wall's screens, each from a fresh kiosk."""
    opened: list[Event] = [*_code(), DoorOpened(12)]
    refill: list[Event] = [_touch(Action.REFILL)]
    signed_in = _signed_in()
    place: list[Event] = [*signed_in, MenuChosen(MenuChoice.DEPOSIT), OrderChosen("R200")]
    depositing: list[Event] = [
        *place,
        CompartmentChosen(1),
        OrderReread("R200", None),
        DoorOpened(1),
    ]
    basket = Product("PANIER", "Panier de légumes", SoldBy.PIECE, 1200, 550)
    eggs = Product("OEUFS12", "Œufs x12", SoldBy.PIECE, 560, 550)
    shelf: list[Event] = [
        _touch(Action.WALKIN),
        ShelfLoaded((ForSale(3, basket), ForSale(5, eggs))),
    ]
    paid: list[Event] = [
        *shelf,
        CompartmentPicked(3),
        Confirmed(),
        PaymentAnswered(PaymentOutcome.APPROVED, 1200),
    ]
    return [
        ("pickup-code", [_touch(Action.PICKUP), DigitPressed("4"), DigitPressed("8")], True),
        ("pickup-open", opened, True),
        ("pickup-door-warning", [*opened, DoorWarning(12)], True),
        ("pickup-refused", _code(Verdict.EXPIRED), True),
        ("pickup-locked", _code(Verdict.UNKNOWN, 30), True),
        ("pickup-call-site", [*_code(), DoorNotOpened(12), DoorNotOpened(12)], True),
        ("pickup-item-left", [*opened, DoorClosed(12, True)], True),
        ("pickup-done", [*opened, DoorClosed(12, False)], True),
        ("refill-pin", [*refill, DigitPressed("4"), DigitPressed("3")], True),
        ("refill-menu", signed_in, True),
        ("refill-orders", [*signed_in, MenuChosen(MenuChoice.DEPOSIT)], True),
        ("refill-place", place, True),
        ("refill-door-open", depositing, True),
        (
            "refill-deposited",
            [
                *depositing,
                DoorClosed(1),
                DepositRecorded("R200", True),
                CodeSent("R200", True),
            ],
            True,
        ),
        ("walkin-choose", shelf, True),
        ("walkin-confirm", [*shelf, CompartmentPicked(3)], True),
        ("walkin-take", [*paid, DoorOpened(3)], True),
        ("walkin-refund", [*paid, LockFailed(3, "silent board")], True),
    ]


def later_steps(weighed: str, piece: str) -> list[Step]:
    """Screens added since: numbered after the others, so earlier screenshots keep their
    names."""
    accessible = _touch(Action.ACCESSIBLE)
    chosen: list[Event] = [_stable(0), _touch(Action.START), _touch(Action.PRODUCT, weighed)]
    labelled: list[Event] = [*chosen, _stable(1234), _touch(Action.PRINT_LABEL)]
    return [
        ("weigh-empty-pan", chosen, True),
        ("basket-label-printed", labelled, True),
        ("help", [*chosen, _stable(640), _touch(Action.HELP)], True),
        ("idle-attract", [_stable(0), TimerFired()], True),
        ("accessible-home", [accessible], True),
        ("accessible-catalogue", [accessible, *chosen[:2]], True),
        ("accessible-weigh", [accessible, *chosen, _stable(1234)], True),
        ("accessible-basket", [accessible, *labelled], True),
        ("out-of-order", [StoreDamaged(frozenset({"sales"})), _touch(Action.START)], True),
        ("accessible-pieces", [accessible, *_two_pieces(piece)], True),
        ("accessible-pickup-code", [accessible, *_code()[:3]], True),
        (
            "accessible-refill-orders",
            [accessible, *_signed_in(), MenuChosen(MenuChoice.DEPOSIT)],
            True,
        ),
    ]


STEP_COUNT = len(steps("", "")) + len(locker_steps()) + len(later_steps("", ""))
#: Staged events are this far apart, ahead of the real clock: the app's own tick finds nothing
#: due on a staged screen (a thank-you never goes home before its screenshot).
EVENT_GAP_S = 0.01


class Tour:
    """Steps through every screen for each language, one screenshot each, then stops the app."""

    def __init__(self, app: KioskApp, folder: Path, products: tuple[Product, ...]) -> None:
        self.app = app
        self.folder = folder
        self.products = products
        weighed = next(p.sku for p in products if p.by_weight)
        piece = next(p.sku for p in products if not p.by_weight)
        plan = [*steps(weighed, piece), *locker_steps(), *later_steps(weighed, piece)]
        self.plan = [(lang, step) for lang in ("fr", "en") for step in plan]
        self.saved: list[Path] = []
        self._drawn_from = 0

    def start(self, _app: KioskApp) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.app.lockers = self.app.walkin = True  # the home screen as a site with lockers
        Clock.schedule_once(self._next, 0.2)

    def _next(self, _dt: float) -> None:
        if not self.plan:
            self.app.stop()
            return
        language, (name, events, payment) = self.plan[0]
        self._stage(language, events, payment, slow=name == "scale-unstable")
        self._drawn_from = Clock.frames_displayed
        Clock.schedule_once(self._capture, 0)

    def _stage(self, language: str, events: list[Event], payment: bool, *, slow: bool) -> None:
        app = self.app
        settings = replace(
            kiosk_settings(app.site),
            payment_enabled=payment,
            idle_timeout_s=60,
            lockers=True,
            phone=app.site.device.phone or "04 75 00 00 00",
        )
        flow = KioskFlow(settings)
        app.flow = flow
        now = time.monotonic() + 1.0
        for event in [CatalogueLoaded(self.products), _touch(Action.LANGUAGE, language), *events]:
            now += EVENT_GAP_S
            if isinstance(event, TimerFired):
                now += settings.idle_timeout_s
            flow.handle(event, now)
        if slow:
            flow.handle(TimerFired(), now + UNSTABLE_LIMIT_S)
        app.render()

    def _capture(self, _dt: float) -> None:
        if Clock.frames_displayed < self._drawn_from + 3:  # the staged screen is not drawn yet
            Clock.schedule_once(self._capture, 0)
            return
        language, (name, *_rest) = self.plan.pop(0)
        number = len(self.saved) % STEP_COUNT + 1
        target = self.folder / f"{language}-{number:02d}-{name}.png"
        taken = Path(Window.screenshot(name=str(self.folder / "shot.png")))
        taken.replace(target)
        self.saved.append(target)
        Clock.schedule_once(self._next, 0)


def run_tour(
    site: Config, folder: Path, on_done: Callable[[list[Path]], None] | None = None
) -> int:
    from appliance.store.catalogue import list_products
    from appliance.store.db import open_database

    db = open_database(site.database_path)
    try:
        products = tuple(list_products(db, active_only=True))
    finally:
        db.close()
    kinds = {p.by_weight for p in products}
    if kinds != {True, False}:  # the tour needs one product of each kind to show every screen
        products = SAMPLE
    products = for_site(site).dress(products)
    app = KioskApp(site)
    tour = Tour(app, folder.resolve(), products)
    app.on_ready = tour.start
    app.run()
    print(f"{len(tour.saved)} screenshots in {folder}")
    if on_done:
        on_done(tour.saved)
    return 0 if len(tour.saved) == 2 * STEP_COUNT else 1
