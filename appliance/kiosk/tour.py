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
from appliance.core.payment import PaymentOutcome
from appliance.core.weighing import Reading, ReadingStatus
from appliance.kiosk.app import KioskApp, journey_settings
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


STEP_COUNT = len(steps("", ""))


class Tour:
    """Steps through STEPS for each language, one screenshot per step, then stops the app."""

    def __init__(self, app: KioskApp, folder: Path, products: tuple[Product, ...]) -> None:
        self.app = app
        self.folder = folder
        self.products = products
        weighed = next(p.sku for p in products if p.by_weight)
        piece = next(p.sku for p in products if not p.by_weight)
        self.plan = [(lang, step) for lang in ("fr", "en") for step in steps(weighed, piece)]
        self.saved: list[Path] = []
        self._drawn_from = 0

    def start(self, _app: KioskApp) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
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
        language, (name, _events, _payment) = self.plan.pop(0)
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
        db.conn.close()
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
