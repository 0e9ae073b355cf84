"""The customer's journey at the kiosk, as one state machine with no window and no clock.

home -> catalogue -> weigh (or pieces) -> basket -> pay -> receipt -> thank you -> home. Devices
that fail become screens (scale missing, unstable, overloaded; paper out; terminal unavailable)
and the journey resumes by itself when they return. `handle(event, now)` returns the intentions
the kiosk's effects carry out; the screens read the flow's state after each event.

A new catalogue (prices edited in the admin, an import, a sync) is shown on the home and product
screens only: a customer who is weighing, paying or reading the basket keeps what they chose,
and the new list waits until they are back among the products.
"""

from __future__ import annotations

from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.money import piece_price_cents
from appliance.core.payment import PaymentOutcome
from appliance.kiosk.flows.browse import Browse
from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    Event,
    PaymentAnswered,
    PrinterChanged,
    ReadingArrived,
    StoreDamaged,
    TerminalChanged,
    TimerFired,
    Touched,
)
from appliance.kiosk.flows.intentions import (
    Charge,
    Intention,
    PrintLabel,
    PrintReceipt,
    RecordAbandoned,
    RecordWeighing,
    SetArticle,
)
from appliance.kiosk.flows.values import BasketLine, PaperState, Settings
from appliance.kiosk.flows.weigh import ScaleProblem, WeighPanel

#: The thank-you screen goes home by itself after this long.
THANK_YOU_S = 6.0
MAX_PIECES = 99
LABEL_PRINTED = "Label printed: stick it on your produce. It is in your basket."
LABEL_TO_COUNTER = "Label printed: stick it on your produce and pay at the counter."


class Screen(StrEnum):
    ATTRACT = "attract"  # nobody there: the shop, today's products and how it works
    HOME = "home"
    ABOUT = "about"
    CATALOGUE = "catalogue"
    WEIGH = "weigh"
    PIECES = "pieces"
    BASKET = "basket"
    PAPER_OUT = "paper_out"
    PAYING = "paying"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_UNKNOWN = "payment_unknown"
    TERMINAL_UNAVAILABLE = "terminal_unavailable"
    NO_PAYMENT = "no_payment"
    RECEIPT = "receipt"
    THANK_YOU = "thank_you"
    SCALE_MISSING = "scale_missing"
    SCALE_UNSTABLE = "scale_unstable"
    SCALE_OVERLOAD = "scale_overload"
    OUT_OF_ORDER = "out_of_order"  # the database is damaged: nothing can be recorded


_SCALE_SCREENS = {
    ScaleProblem.MISSING: Screen.SCALE_MISSING,
    ScaleProblem.UNSTABLE: Screen.SCALE_UNSTABLE,
    ScaleProblem.OVERLOAD: Screen.SCALE_OVERLOAD,
}
_FAILED = (PaymentOutcome.DECLINED, PaymentOutcome.ABANDONED, PaymentOutcome.TIMEOUT)


class Journey:
    """State of the kiosk's screens; mutated only through `handle`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.browse = Browse()
        self.panel = WeighPanel(settings.spec)
        self.language = settings.language
        self.accessible = False  # larger text, high contrast, spoken prompts: per customer
        self.lines: list[BasketLine] = []
        self.product: Product | None = None
        self.quantity = 1
        self.paper = PaperState.OK
        self.terminal_available = True
        self.paper_out_for_label = False
        self.skip_receipt = False
        self.outcome: PaymentOutcome | None = None
        self.paid_cents = 0
        self.receipt_number = ""
        self.receipt_url = ""
        self.pending_catalogue: tuple[Product, ...] | None = None
        self.notice = ""  # one line for the screen's message place ("Label printed…")
        self.damaged: frozenset[str] = frozenset()  # tables the database check found damaged
        self._screen = Screen.HOME
        self._entered_at = 0.0

    # -- what the screens read ------------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        if self._screen is Screen.WEIGH and self.panel.problem is not ScaleProblem.NONE:
            return _SCALE_SCREENS[self.panel.problem]
        return self._screen

    @property
    def resting(self) -> bool:
        """Someone is choosing (not at home, not paying): the idle rule may start afresh."""
        return self._screen not in (Screen.ATTRACT, Screen.HOME, Screen.PAYING)

    @property
    def welcoming(self) -> bool:
        """Home or the attract screen: nobody has started anything."""
        return self._screen in (Screen.ATTRACT, Screen.HOME)

    def attract(self, now: float) -> None:
        if self._screen is Screen.HOME:
            self._go(Screen.ATTRACT, now)

    def wake(self, now: float) -> None:
        if self._screen is Screen.ATTRACT:
            self._go(Screen.HOME, now)

    @property
    def total_cents(self) -> int:
        return sum(line.price_cents for line in self.lines)

    @property
    def pieces_price_cents(self) -> int:
        product = self.product
        return piece_price_cents(self.quantity, product.unit_price_cents) if product else 0

    # -- events ---------------------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Intention]:
        match event:
            case Touched():
                return self._touched(event, now)
            case ReadingArrived(reading):
                self.panel.observe(reading, self.product if self._weighing else None, now)
            case TimerFired():
                self._tick(now)
            case PrinterChanged(paper):
                self.paper = paper
                if self._screen is Screen.PAPER_OUT and self._paper_ok:
                    self._go(Screen.WEIGH if self.paper_out_for_label else Screen.BASKET, now)
            case TerminalChanged(available):
                self.terminal_available = available
                if available and self._screen is Screen.TERMINAL_UNAVAILABLE:
                    self._go(Screen.BASKET, now)
            case PaymentAnswered():
                return self._answered(event, now)
            case CatalogueLoaded(products):
                self.pending_catalogue = products
                self._apply_catalogue()
            case StoreDamaged(tables):
                self.damaged = tables
                if not tables and self._screen is Screen.OUT_OF_ORDER:
                    self.reset(now)
        return []

    def out_of_order(self, now: float) -> list[Intention]:
        """Refuse to sell: nothing could be recorded (the basket, unpaid, is dropped)."""
        self.lines.clear()
        self.product = None
        self._go(Screen.OUT_OF_ORDER, now)
        return []

    @property
    def _weighing(self) -> bool:
        return self.product is not None and self.product.by_weight

    @property
    def _paper_ok(self) -> bool:
        return self.paper in (PaperState.OK, PaperState.NEAR_END)

    def _touched(self, touch: Touched, now: float) -> list[Intention]:
        action, arg = touch.action, touch.argument
        self.notice = ""  # a message stays until the next touch
        screen = self.screen
        if action is Action.LANGUAGE:
            self.language = arg if arg in ("fr", "en") else self.settings.language
        elif action is Action.ACCESSIBLE:
            self.accessible = not self.accessible
        elif action is Action.BACK:
            self._back(screen, now)
        elif screen is Screen.HOME:
            if action is Action.START and self.damaged:
                return self.out_of_order(now)
            if action is Action.START:
                self._go(Screen.CATALOGUE, now)
            elif action is Action.ABOUT:
                self._go(Screen.ABOUT, now)
        elif screen is Screen.CATALOGUE:
            return self._in_catalogue(action, arg, now)
        elif screen is Screen.WEIGH:
            return self._in_weigh(action, now)
        elif screen is Screen.PIECES:
            return self._in_pieces(action, now)
        elif screen is Screen.BASKET:
            return self._in_basket(action, arg, now)
        elif screen is Screen.PAPER_OUT and action is Action.CONTINUE_WITHOUT:
            if self.paper_out_for_label:
                return self._add(now, labelled=False)
            self.skip_receipt = True
            return self._pay(now)
        elif action is Action.RETRY and screen in (
            Screen.PAYMENT_FAILED,
            Screen.TERMINAL_UNAVAILABLE,
        ):
            return self._pay(now)
        elif action is Action.DONE:
            if screen is Screen.RECEIPT:
                self._go(Screen.THANK_YOU, now)
            elif screen in (
                Screen.THANK_YOU,
                Screen.PAYMENT_UNKNOWN,
                Screen.NO_PAYMENT,
                Screen.OUT_OF_ORDER,
            ):
                self.reset(now)
        return []

    def _back(self, screen: Screen, now: float) -> None:
        if screen in (Screen.ABOUT, Screen.NO_PAYMENT, Screen.THANK_YOU):
            self.reset(now)
        elif screen is Screen.CATALOGUE:
            self._go(Screen.BASKET if self.lines else Screen.HOME, now)
        elif screen is Screen.BASKET:
            self._go(Screen.CATALOGUE, now)
        elif screen is Screen.PAPER_OUT:
            self._go(Screen.WEIGH if self.paper_out_for_label else Screen.BASKET, now)
        elif screen in (Screen.PAYMENT_FAILED, Screen.TERMINAL_UNAVAILABLE):
            self._go(Screen.BASKET, now)
        elif screen in (Screen.WEIGH, Screen.PIECES) or screen in _SCALE_SCREENS.values():
            self.product = None
            self._go(Screen.CATALOGUE, now)

    def _in_catalogue(self, action: Action, arg: str, now: float) -> list[Intention]:
        if action is Action.CATEGORY:
            self.browse.category = arg if arg in self.browse.categories else ""
        elif action is Action.SEARCH:
            self.browse.search = arg
        elif action is Action.BASKET and self.settings.payment_enabled:
            self._go(Screen.BASKET, now)
        elif action is Action.PRODUCT:
            product = self.browse.find(arg)
            if product is None:
                return []
            self.product = product
            self.quantity = 1
            self.panel.notice = ""
            if product.by_weight:
                if self.panel.raw is not None:
                    self.panel.observe(self.panel.raw, product, now)
                self._go(Screen.WEIGH, now)
                return [SetArticle(product)]
            self._go(Screen.PIECES, now)
        return []

    def _in_weigh(self, action: Action, now: float) -> list[Intention]:
        if action is Action.TARE:
            self.panel.tare()
        elif action is Action.CLEAR_TARE:
            self.panel.clear_tare()
        elif action in (Action.ADD, Action.PRINT_LABEL):
            return self._add_or_label(action, now)
        return []

    def _in_pieces(self, action: Action, now: float) -> list[Intention]:
        if action is Action.MORE:
            self.quantity = min(MAX_PIECES, self.quantity + 1)
        elif action is Action.LESS:
            self.quantity = max(1, self.quantity - 1)
        elif action in (Action.ADD, Action.PRINT_LABEL):
            return self._add_or_label(action, now)
        return []

    def _add_or_label(self, action: Action, now: float) -> list[Intention]:
        if self.damaged:
            return self.out_of_order(now)
        labelled = action is Action.PRINT_LABEL or not self.settings.payment_enabled
        if labelled and not self._paper_ok:
            self.paper_out_for_label = True
            self._go(Screen.PAPER_OUT, now)
            return []
        return self._add(now, labelled=labelled)

    def _add(self, now: float, *, labelled: bool) -> list[Intention]:
        product = self.product
        assert product is not None
        if product.by_weight:
            weighing = self.panel.accept(product)
            if weighing is None:
                self._go(Screen.WEIGH, now)
                return []
            line = BasketLine(product, 1, weighing.price_cents, weighing, labelled)
        else:
            line = BasketLine(product, self.quantity, self.pieces_price_cents, None, labelled)
        self.product = None
        if self.settings.payment_enabled:
            self.lines.append(line)
            self._go(Screen.BASKET, now)
        else:
            self._go(Screen.CATALOGUE, now)
        if labelled:
            self.notice = LABEL_PRINTED if self.settings.payment_enabled else LABEL_TO_COUNTER
        records: list[Intention] = [RecordWeighing(line)] if line.weighing else []
        return records + ([PrintLabel(line)] if labelled else [])

    def _in_basket(self, action: Action, arg: str, now: float) -> list[Intention]:
        if action is Action.REMOVE and arg.isdigit() and int(arg) < len(self.lines):
            del self.lines[int(arg)]
        elif action is Action.START:
            self._go(Screen.CATALOGUE, now)
        elif action is Action.CANCEL:
            return self.abandon(now, "cancelled")
        elif action is Action.PAY and self.lines and self.damaged:
            return self.out_of_order(now)
        elif action is Action.PAY and self.lines:
            self.skip_receipt = False
            return self._pay(now)
        return []

    def _pay(self, now: float) -> list[Intention]:
        if not self.settings.payment_enabled:
            self._go(Screen.NO_PAYMENT, now)
            return []
        if not self.terminal_available:
            self._go(Screen.TERMINAL_UNAVAILABLE, now)
            return []
        if not self.skip_receipt and not self._paper_ok:
            self.paper_out_for_label = False
            self._go(Screen.PAPER_OUT, now)
            return []
        self.outcome = None
        self._go(Screen.PAYING, now)
        return [Charge(self.total_cents, tuple(self.lines))]

    def _answered(self, answer: PaymentAnswered, now: float) -> list[Intention]:
        if self._screen is not Screen.PAYING:
            return []
        self.outcome = answer.outcome
        if answer.cannot_record:  # nothing charged, and the next customer would fare no better
            return self.out_of_order(now)
        if answer.outcome is PaymentOutcome.APPROVED:
            self.paid_cents = answer.amount_cents
            self.receipt_number = answer.receipt_number
            self.receipt_url = answer.receipt_url
            self.lines.clear()
            self._go(Screen.RECEIPT, now)
            if self.skip_receipt or not self._paper_ok:
                return []
            return [PrintReceipt(answer.receipt_number)]
        if answer.outcome is PaymentOutcome.UNKNOWN:
            self.lines.clear()  # the customer may have paid: never offer to pay this again
            self._go(Screen.PAYMENT_UNKNOWN, now)
        elif answer.outcome in _FAILED:
            self._go(Screen.PAYMENT_FAILED, now)
        else:
            self._go(Screen.TERMINAL_UNAVAILABLE, now)
        return []

    def _tick(self, now: float) -> None:
        self.panel.check_time(now)
        if self._screen is Screen.THANK_YOU and now - self._entered_at >= THANK_YOU_S:
            self.reset(now)

    def _go(self, screen: Screen, now: float) -> None:
        self._screen = screen
        self.notice = ""
        self._entered_at = now
        self._apply_catalogue()

    def _apply_catalogue(self) -> None:
        """The waiting catalogue replaces the shown one, keeping the search and category."""
        products = self.pending_catalogue
        if products is None or self._screen not in (Screen.ATTRACT, Screen.HOME, Screen.CATALOGUE):
            return
        shown = self.browse
        self.browse = Browse(products)
        self.browse.search = shown.search
        if shown.category in self.browse.categories:
            self.browse.category = shown.category
        self.pending_catalogue = None

    def abandon(self, now: float, why: str) -> list[Intention]:
        """Home without paying: the basket's lines (and labels printed for them) are recorded
        as abandoned, so an unpaid label is accounted for."""
        lines = tuple(self.lines)
        self.reset(now)
        return [RecordAbandoned(lines, why)] if lines else []

    def reset(self, now: float) -> None:
        """Back home for the next customer: basket, product, search and language cleared."""
        self.lines.clear()
        self.product = None
        self.browse.reset()
        self.language = self.settings.language
        self.accessible = False
        self.outcome = None
        self.receipt_number = ""
        self.receipt_url = ""
        self._go(Screen.HOME, now)
