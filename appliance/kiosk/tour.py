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
from appliance.kiosk.app import KioskApp, journey_settings
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w
from appliance.kiosk.flows.events import (
    CatalogueLoaded,
    Event,
    PaperState,
    PaymentAnswered,
    PrinterChanged,
    ReadingArrived,
    TimerFired,
    Touched,
)
from appliance.kiosk.flows.journey import Action, Journey
from appliance.kiosk.flows.visit import Kind, Visit
from appliance.kiosk.flows.weigh import UNSTABLE_LIMIT_S

log = logging.getLogger(__name__)

SAMPLE = (
    Product("TOMATE", "Tomate cœur de bœuf", SoldBy.WEIGHT, 590, 550, category="Légumes"),
    Product("POMMES", "Pommes Gala", SoldBy.WEIGHT, 349, 550, category="Fruits"),
    Product("CAROTTE", "Carottes des sables", SoldBy.WEIGHT, 190, 550, category="Légumes"),
    Product("OEUFS", "Œufs plein air x6", SoldBy.PIECE, 320, 550, category="Crèmerie"),
    Product("MIEL", "Miel de printemps 500 g", SoldBy.PIECE, 890, 550, category="Épicerie"),
    Product("CHEVRE", "Crottin de chèvre", SoldBy.PIECE, 290, 550, category="Crèmerie"),
)


def _stable(grams: int) -> ReadingArrived:
    return ReadingArrived(Reading(ReadingStatus.STABLE, grams))


def _touch(action: Action, argument: str = "") -> Touched:
    return Touched(action.value, argument)


def steps(weighed: str, piece: str) -> list[tuple[str, list[Event], bool]]:
    """(name, events, payment enabled) for each screenshot; each starts from a fresh journey.
    `weighed` and `piece` are the skus of a product sold by weight and one sold by the piece."""
    weigh = [_stable(0), _touch(Action.START), _touch(Action.PRODUCT, weighed), _stable(1234)]
    basket = [
        *weigh,
        _touch(Action.ADD),
        _touch(Action.START),
        _touch(Action.PRODUCT, piece),
        _touch(Action.MORE),
        _touch(Action.ADD),
    ]
    paying = [*basket, _touch(Action.PAY)]

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
        (
            "pieces",
            [_touch(Action.START), _touch(Action.PRODUCT, piece), _touch(Action.MORE)],
            True,
        ),
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


def _code(verdict: Verdict = Verdict.OK, locked_for_s: float = 0.0) -> list[object]:
    typed: list[object] = [p.DigitPressed(d) for d in "482913"]
    if verdict is Verdict.OK:
        return [*typed, p.CodeChecked(verdict, "R100", 12, 1), p.OrderReread("R100", None)]
    return [*typed, p.CodeChecked(verdict, locked_for_s=locked_for_s)]


def locker_steps() -> list[tuple[str, Kind, list[object]]]:
    """(name, kind of visit, events) for each locker screenshot, from a fresh visit."""
    opened = [*_code(), p.DoorOpened(12)]
    signed_in = [
        *(p.DigitPressed(d) for d in "4321"),
        r.PinEntered(),
        r.ProducerIdentified(Verdict.OK, "Ferme des Lilas"),
        r.WallLoaded(
            (r.OrderToDeposit("R200", "Alice Martin", 3), r.OrderToDeposit("R201", "Paul", 1)),
            (Compartment(1, Size.S), Compartment(2, Size.M, True), Compartment(3, Size.L)),
            frozenset({3}),
        ),
    ]
    place = [*signed_in, r.MenuChosen(r.Choice.DEPOSIT), r.OrderChosen("R200")]
    depositing = [*place, r.CompartmentChosen(1), p.OrderReread("R200", None), p.DoorOpened(1)]
    shelf = w.ShelfLoaded((w.ForSale(3, "Panier de légumes", 1200), w.ForSale(5, "Œufs x12", 560)))
    paid = [shelf, w.CompartmentPicked(3), w.Confirmed(), w.PaymentDone(PaymentOutcome.APPROVED)]
    return [
        ("pickup-code", Kind.PICKUP, [p.DigitPressed("4"), p.DigitPressed("8")]),
        ("pickup-open", Kind.PICKUP, opened),
        ("pickup-door-warning", Kind.PICKUP, [*opened, p.DoorWarning(12)]),
        ("pickup-refused", Kind.PICKUP, _code(Verdict.EXPIRED)),
        ("pickup-locked", Kind.PICKUP, _code(Verdict.UNKNOWN, 30)),
        ("pickup-call-site", Kind.PICKUP, [*_code(), p.DoorNotOpened(12), p.DoorNotOpened(12)]),
        ("pickup-item-left", Kind.PICKUP, [*opened, p.DoorClosed(12, True)]),
        ("pickup-done", Kind.PICKUP, [*opened, p.DoorClosed(12, False)]),
        ("refill-pin", Kind.REFILL, [p.DigitPressed("4"), p.DigitPressed("3")]),
        ("refill-menu", Kind.REFILL, signed_in),
        ("refill-orders", Kind.REFILL, [*signed_in, r.MenuChosen(r.Choice.DEPOSIT)]),
        ("refill-place", Kind.REFILL, place),
        ("refill-door-open", Kind.REFILL, depositing),
        (
            "refill-deposited",
            Kind.REFILL,
            [
                *depositing,
                p.DoorClosed(1),
                r.DepositRecorded("R200", True),
                r.CodeSent("R200", True),
            ],
        ),
        ("walkin-choose", Kind.WALKIN, [shelf]),
        ("walkin-confirm", Kind.WALKIN, [shelf, w.CompartmentPicked(3)]),
        ("walkin-take", Kind.WALKIN, [*paid, p.DoorOpened(3)]),
        ("walkin-refund", Kind.WALKIN, [*paid, p.LockFailed(3, "silent board")]),
    ]


STEP_COUNT = len(steps("", "")) + len(locker_steps())


class Tour:
    """Steps through STEPS for each language, one screenshot per step, then stops the app."""

    def __init__(self, app: KioskApp, folder: Path, products: tuple[Product, ...]) -> None:
        self.app = app
        self.folder = folder
        self.products = products
        weighed = next(p.sku for p in products if p.by_weight)
        piece = next(p.sku for p in products if not p.by_weight)
        plan = [*steps(weighed, piece), *((n, k, e) for n, k, e in locker_steps())]
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
        language, (name, second, events) = self.plan[0]
        if isinstance(second, Kind):
            self._stage_visit(language, second, events)
        else:
            payment, events = events, second  # journey steps are (name, events, payment)
            self._stage(language, events, payment, slow=name == "scale-unstable")
        self._drawn_from = Clock.frames_displayed
        Clock.schedule_once(self._capture, 0)

    def _stage_visit(self, language: str, kind: Kind, events: list[object]) -> None:
        app = self.app
        app.journey = Journey(journey_settings(app.site))
        app.journey.handle(CatalogueLoaded(self.products), 0.0)
        app.journey.handle(_touch(Action.LANGUAGE, language), 0.0)
        now = time.monotonic()
        visit = Visit(kind, now, idle_s=3600, phone=app.site.device.phone or "04 75 00 00 00")
        for event in events:
            visit.handle(event, now)
        app.visit = visit
        app.render()

    def _stage(self, language: str, events: list[Event], payment: bool, *, slow: bool) -> None:
        app = self.app
        app.visit = None
        settings = replace(journey_settings(app.site), payment_enabled=payment, idle_timeout_s=60)
        journey = Journey(settings)
        app.journey = journey
        now = time.monotonic()  # the app's own tick must find nothing due
        for event in [CatalogueLoaded(self.products), _touch(Action.LANGUAGE, language), *events]:
            now += 1.0
            if isinstance(event, TimerFired):
                now += settings.idle_timeout_s
            journey.handle(event, now)
        if slow:
            journey.handle(TimerFired(), now + UNSTABLE_LIMIT_S)
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
    app = KioskApp(site)
    tour = Tour(app, folder.resolve(), products)
    app.on_ready = tour.start
    app.run()
    print(f"{len(tour.saved)} screenshots in {folder}")
    if on_done:
        on_done(tour.saved)
    return 0 if len(tour.saved) == 2 * STEP_COUNT else 1
