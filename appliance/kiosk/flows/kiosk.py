"""The whole kiosk as one flow: the shop journey, a visit to the lockers when one runs, and the
idle rule over both.

`KioskFlow.handle(event, now)` is the kiosk's one dispatcher: every event (a touch, a reading, a
store's answer, the tick) comes in here and the intentions the flows answer go out. The journey
always hears the devices' state, the catalogue and the language buttons, so it is current when a
visit ends; every other event goes to the visit while one runs, else to the journey.
No Kivy, no clock, no I/O.
"""

from __future__ import annotations

from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    Event,
    PersonEvent,
    PrinterChanged,
    ReadingArrived,
    StoreDamaged,
    TerminalChanged,
    TimerFired,
    Touched,
)
from appliance.kiosk.flows.intentions import AskForHelp, Intention, LoadCatalogue
from appliance.kiosk.flows.journey import Journey, Screen
from appliance.kiosk.flows.values import Settings, VisitKind
from appliance.kiosk.flows.visit import Visit

#: After "Are you still there?", this long without a touch goes home for the next customer.
IDLE_GRACE_S = 20.0
#: A second "Need help?" within this long shows the panel again without a second alert.
HELP_REPEAT_S = 120.0
#: The help panel closes by itself after this long (the phone number has been read).
HELP_SHOWN_S = 60.0

_VISITS = {
    Action.PICKUP: VisitKind.PICKUP,
    Action.REFILL: VisitKind.REFILL,
    Action.WALKIN: VisitKind.WALKIN,
}


class KioskFlow:
    """The state of everything on the screen; mutated only through `handle`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.journey = Journey(settings)
        self.visit: Visit | None = None
        self.idle_prompt = False  # "Are you still there?" is shown
        self.help_shown = False  # the "Help is on its way" panel, with the shop's phone
        self._help_asked_at: float | None = None
        self._help_since = 0.0
        self._waiting_since = 0.0  # since when the kiosk waits for a person's touch
        self._touched_at: float | None = None  # the last touch of anybody (None: since start)
        self._prompt_since = 0.0

    def start(self) -> list[Intention]:
        """What the kiosk reads before the first customer."""
        return [LoadCatalogue()]

    @property
    def language(self) -> str:
        return self.journey.language

    @property
    def accessible(self) -> bool:
        return self.journey.accessible

    @property
    def busy(self) -> bool:
        """A customer is paying or someone is at the lockers: not the moment for a restart."""
        return self.journey.screen is Screen.PAYING or self.visit is not None

    @property
    def idle(self) -> bool:
        """Nobody at the kiosk: home, an empty basket, no visit (an update may restart it)."""
        journey = self.journey
        return journey.welcoming and not journey.lines and self.visit is None

    def handle(self, event: Event, now: float) -> list[Intention]:
        if self._touched_at is None:
            self._touched_at = now  # the kiosk's first event: it has just started
        if isinstance(event, PersonEvent):
            self._waiting_since = self._touched_at = now
            self.idle_prompt = False
            self.journey.wake(now)  # a touch on the attract screen is home's
        match event:
            case TimerFired():
                if self.help_shown and now - self._help_since >= HELP_SHOWN_S:
                    self.help_shown = False
                journey = self.journey.handle(event, now)
                return [*journey, *self._to_visit(event, now), *self._idle(now)]
            case Touched(action=Action.STILL_HERE):
                return []
            case Touched(action=Action.HELP):
                return self._help(now)
            case Touched(action=Action.CLOSE_HELP):
                self.help_shown = False
                return []
            case Touched(action=action) if action in _VISITS:
                return self._start_visit(_VISITS[action], now)
            case (
                Touched(action=Action.LANGUAGE | Action.ACCESSIBLE)
                | ReadingArrived()
                | PrinterChanged()
                | TerminalChanged()
                | CatalogueLoaded()
                | StoreDamaged()
            ):
                return self.journey.handle(event, now)
        if self.visit is not None:
            return self._to_visit(event, now)
        return self.journey.handle(event, now)

    def restart(self, now: float) -> list[Intention]:
        """Screens from home again with a fresh catalogue; the scale's one-weighing memory and
        the devices' state are kept."""
        journey = Journey(self.settings)
        journey.panel = self.journey.panel
        journey.paper = self.journey.paper
        journey.terminal_available = self.journey.terminal_available
        self.journey = journey
        self.visit = None
        self.idle_prompt = False
        self._waiting_since = now
        return [LoadCatalogue()]

    def _help(self, now: float) -> list[Intention]:
        self.help_shown = True
        self._help_since = now
        asked = self._help_asked_at
        if asked is not None and now - asked < HELP_REPEAT_S:
            return []
        self._help_asked_at = now
        journey = self.journey
        visit = self.visit
        doing = f"{visit.kind.value}/{visit.step}" if visit else journey.screen.value
        return [
            AskForHelp(
                doing,
                journey.product.name if journey.product and not visit else "",
                len(journey.lines),
                journey.total_cents,
                journey.language,
            )
        ]

    def _start_visit(self, kind: VisitKind, now: float) -> list[Intention]:
        if not self.settings.lockers or self.visit is not None:
            return []
        if not self.journey.welcoming:
            return []
        if self.journey.damaged:
            return self.journey.out_of_order(now)
        if kind is VisitKind.WALKIN and not self.settings.payment_enabled:
            return []
        settings = self.settings
        self.visit = Visit(kind, phone=settings.phone, code_digits=settings.code_digits)
        return self.visit.start()

    def _to_visit(self, event: Event, now: float) -> list[Intention]:
        visit = self.visit
        if visit is None:
            return []  # a door closed with nobody at the screen: the effects recorded it
        intentions = visit.handle(event, now)
        if visit.finished:
            self.visit = None
            self.journey.reset(now)
        return intentions

    def _idle(self, now: float) -> list[Intention]:
        """Nobody touched the screen for a while: ask, then start afresh for the next customer.
        The clock runs only while the kiosk waits for a touch (not at home, paying, or while a
        door is open), so a long payment never ends in the prompt."""
        resting = self.visit.resting if self.visit is not None else self.journey.resting
        quiet = self.visit is None and not self.help_shown
        touched = now if self._touched_at is None else self._touched_at
        if quiet and now - touched >= self.settings.idle_timeout_s:
            self.journey.attract(now)
        if not resting:
            self.idle_prompt = False
            self._waiting_since = now
        elif self.idle_prompt and now - self._prompt_since >= IDLE_GRACE_S:
            self.idle_prompt = False
            self.help_shown = False
            self.visit = None
            return self.journey.abandon(now, "idle")
        elif not self.idle_prompt and now - self._waiting_since >= self.settings.idle_timeout_s:
            self.idle_prompt = True
            self._prompt_since = now
        return []
