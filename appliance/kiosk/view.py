"""What each screen says, computed from the journey's state in the customer's language.

Pure functions, no Kivy: the screens copy these texts into their labels, and the tests and the
tour read the same texts. Formatting of money and weight comes from `core`, never re-done here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.core.catalogue import Product
from appliance.core.money import format_euros
from appliance.core.payment import PaymentOutcome
from appliance.core.weighing import ReadingStatus, format_weight
from appliance.kiosk.flows.events import Action
from appliance.kiosk.flows.journey import Journey, Screen
from appliance.kiosk.flows.values import BasketLine
from appliance.kiosk.i18n import Translate

NO_VALUE = "—"
ELLIPSIS = "…"
#: On every title bar of a training or demo box, in the customer's language (FORMATION, DÉMO):
#: the receipts' and labels' marks stay the French MODE_MARKS of core.receipt.
SCREEN_MARKS = {"training": "TRAINING", "demo": "DEMO"}
NAME_LINES = 2


@dataclass(frozen=True)
class FittedName:
    text: str
    font_size: float


def decimal_mark(language: str) -> str:
    return "," if language == "fr" else "."


def money(cents: int, language: str) -> str:
    return format_euros(cents, decimal=decimal_mark(language))


def unit_price(product: Product, language: str, _: Translate) -> str:
    per = _("/kg") if product.by_weight else _("/piece")
    return money(product.unit_price_cents, language) + " " + per


@dataclass(frozen=True)
class WeighTexts:
    """The three values shown together, a line saying what the scale is doing, and whether the
    label and basket buttons can act now (`status` then says why not, beside them)."""

    weight: str
    unit_price: str
    price: str
    status: str
    tare: str
    ready: bool = False


_STATUS = {
    ReadingStatus.STABLE: "Stable weight",
    ReadingStatus.MOTION: "Wait until the weight is stable",
    ReadingStatus.UNDER_ZERO: "The scale is under zero: empty it",
    ReadingStatus.OVERLOAD: "Too heavy for the scale",
    ReadingStatus.BELOW_MIN: "Too light to be weighed here: add some more",
    ReadingStatus.UNCHANGED: "Already weighed: take it off or change the load",
    ReadingStatus.ERROR: "The scale does not answer",
    ReadingStatus.TIMEOUT: "The scale does not answer",
}
EMPTY_PAN = "Put your produce on the scale"


def sentence(text: str) -> str:
    """A refusal from the core ("the load is below…") as the screen's one-line message."""
    return text[:1].upper() + text[1:] if text else text


def weigh_texts(journey: Journey, interval_g: int, _: Translate) -> WeighTexts:
    language = journey.language
    live = journey.panel.live
    product = journey.product
    unit = unit_price(product, language, _) if product else NO_VALUE
    if live is None:
        return WeighTexts(NO_VALUE, unit, NO_VALUE, _("The scale does not answer"), "")
    weight = (
        format_weight(live.weight_g, interval_g, decimal=decimal_mark(language))
        if live.weight_g is not None
        else NO_VALUE
    )
    price = money(live.price_cents, language) if live.price_cents is not None else NO_VALUE
    ready = live.price_cents is not None and live.status is ReadingStatus.STABLE
    empty = live.status is ReadingStatus.BELOW_MIN and (live.weight_g or 0) <= 0
    status = _(EMPTY_PAN) if empty else _(_STATUS[live.status])
    if journey.panel.notice:
        status = sentence(_(journey.panel.notice))
    tare = ""
    if live.net:
        tare_text = format_weight(live.tare_g, interval_g, decimal=decimal_mark(language))
        tare = _("Net weight, tare {tare}").format(tare=tare_text)
    return WeighTexts(weight, unit, price, status, tare, ready)


def line_texts(line: BasketLine, interval_g: int, language: str, _: Translate) -> tuple[str, str]:
    """A basket line as (what, how much), e.g. ("Pommes", "1,234 kg × 3,49 € /kg")."""
    product = line.product
    if line.weighing is not None:
        amount = format_weight(line.weighing.weight_g, interval_g, decimal=decimal_mark(language))
        unit = money(line.weighing.unit_price_cents, language) + " " + _("/kg")
    else:
        amount = str(line.quantity)
        unit = unit_price(product, language, _)
    return product.name, f"{amount} × {unit}"


@dataclass(frozen=True)
class Message:
    """A full-screen message: what happened, what to do, and up to two choices."""

    title: str
    body: str
    tone: str  # info, success, warning or error: the colour of the title bar
    primary: tuple[str, Action] | None = None
    secondary: tuple[str, Action] | None = None


def message(journey: Journey, _: Translate) -> Message:
    """The message screens: paying, failures, devices missing, thank you."""
    screen = journey.screen
    total = money(journey.total_cents, journey.language)
    back = (_("Back"), Action.BACK)
    if screen is Screen.PAYING:
        return Message(
            _("Pay by card"),
            _("Follow the instructions on the card terminal.\nAmount: {total}").format(total=total),
            "info",
        )
    if screen is Screen.PAYMENT_FAILED:
        reasons = {
            PaymentOutcome.DECLINED: _("The card was declined."),
            PaymentOutcome.ABANDONED: _("The payment was cancelled."),
            PaymentOutcome.TIMEOUT: _("No card was presented in time."),
        }
        body = reasons.get(journey.outcome, "") if journey.outcome else ""
        return Message(
            _("Payment not made"),
            body + "\n" + _("You have not been charged."),
            "warning",
            (_("Try again"), Action.RETRY),
            (_("Back to the basket"), Action.BACK),
        )
    if screen is Screen.PAYMENT_UNKNOWN:
        return Message(
            _("Payment uncertain"),
            _(
                "We cannot tell whether your card was charged.\n"
                "Do not pay again: the shop has been alerted and will check."
            ),
            "error",
            (_("OK"), Action.DONE),
        )
    if screen is Screen.TERMINAL_UNAVAILABLE:
        return Message(
            _("Card terminal unavailable"),
            _("The card terminal does not answer. You have not been charged."),
            "error",
            (_("Try again"), Action.RETRY),
            (_("Back to the basket"), Action.BACK),
        )
    if screen is Screen.PAPER_OUT:
        what = _("label") if journey.paper_out_for_label else _("receipt")
        continue_text = (
            _("Continue without a label")
            if journey.paper_out_for_label
            else _("Pay without a receipt")
        )
        return Message(
            _("The printer is out of paper"),
            _("Your {what} cannot be printed.").format(what=what),
            "warning",
            (continue_text, Action.CONTINUE_WITHOUT),
            back,
        )
    if screen is Screen.NO_PAYMENT:
        return Message(
            _("No payment here"),
            _("This kiosk does not take payments. Please pay at the counter."),
            "info",
            (_("OK"), Action.DONE),
        )
    if screen is Screen.THANK_YOU:
        return Message(_("Thank you!"), _("See you soon."), "success", (_("OK"), Action.DONE))
    if screen is Screen.OUT_OF_ORDER:
        phone = journey.settings.phone
        call = _("Call the shop: {phone}").format(phone=phone) if phone else ""
        return Message(
            _("Out of order"),
            _(
                "This kiosk cannot record a sale right now, so it takes none. "
                "Nothing was charged. The shop has been alerted."
            )
            + ("\n" + call if call else ""),
            "error",
            (_("OK"), Action.DONE),
        )
    scale = {
        Screen.SCALE_MISSING: _("The scale does not answer. It will be back shortly."),
        Screen.SCALE_UNSTABLE: _("The scale does not settle. Keep the load still."),
        Screen.SCALE_OVERLOAD: _("Too heavy for the scale: take some off."),
    }
    if screen in scale:
        return Message(_("Scale problem"), scale[screen], "error", None, back)
    raise ValueError(f"{screen} is not a message screen")


MESSAGE_SCREENS = (
    Screen.PAYING,
    Screen.PAYMENT_FAILED,
    Screen.PAYMENT_UNKNOWN,
    Screen.TERMINAL_UNAVAILABLE,
    Screen.PAPER_OUT,
    Screen.NO_PAYMENT,
    Screen.OUT_OF_ORDER,
    Screen.THANK_YOU,
    Screen.SCALE_MISSING,
    Screen.SCALE_UNSTABLE,
    Screen.SCALE_OVERLOAD,
)


Measure = Callable[[str, float], float]  # (text, font size) -> its width on the screen


def fit_name(name: str, width: float, measure: Measure, sizes: tuple[float, ...]) -> FittedName:
    """A product's name on at most two lines, broken between words: the largest of `sizes`
    that shows it whole, else the smallest with the end cut at a word and an ellipsis."""
    words = name.split()
    for size in sizes:
        lines = _wrap(words, width, measure, size)
        if len(lines) <= NAME_LINES and all(measure(line, size) <= width for line in lines):
            return FittedName("\n".join(lines), size)
    size = sizes[-1]
    lines = _wrap(words, width, measure, size)
    head = lines[: min(len(lines), NAME_LINES) - 1]
    last = " ".join(lines[len(head) :])  # the last line shown and all that did not fit
    kept = [*head, cut_at_word(last, lambda text: measure(text, size) <= width)]
    return FittedName("\n".join(kept), size)


def cut_at_word(text: str, fits: Callable[[str], bool]) -> str:
    """`text` whole if it fits, else its first words that fit and an ellipsis (inside a word
    only when the first alone is too long). Kivy's own shortening keeps the last word too."""
    if fits(text):
        return text
    cut = text.split()
    while len(cut) > 1 and not fits(" ".join(cut) + ELLIPSIS):
        cut.pop()
    kept = " ".join(cut)
    while kept and not fits(kept + ELLIPSIS):
        kept = kept[:-1]
    return kept.rstrip(" ,;:-") + ELLIPSIS


def _wrap(words: list[str], width: float, measure: Measure, size: float) -> list[str]:
    """Greedy line breaking at spaces at font `size`; a word wider than `width` gets a line of
    its own."""
    lines: list[str] = []
    for word in words:
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and measure(joined, size) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines or [""]


def spoken(journey: Journey, interval_g: int, _: Translate) -> str:
    """What the accessibility mode says aloud on the weighing and payment steps ("" elsewhere):
    what to do, then the figures the screen shows."""
    screen = journey.screen
    if screen is Screen.WEIGH:
        texts = weigh_texts(journey, interval_g, _)
        if not texts.ready:
            return texts.status
        said = _("Weight {weight}, price {price}.").format(weight=texts.weight, price=texts.price)
        return f"{texts.status}. {said}"
    if screen is Screen.PIECES and journey.product is not None:
        return _("{name}: {quantity}, price {price}.").format(
            quantity=journey.quantity,
            name=journey.product.name,
            price=money(journey.pieces_price_cents, journey.language),
        )
    if screen is Screen.BASKET and journey.lines:
        return _("Total {total}. Touch pay by card at the bottom right.").format(
            total=money(journey.total_cents, journey.language)
        )
    if screen is Screen.RECEIPT:
        return _("Payment accepted: {total}. Thank you.").format(
            total=money(journey.paid_cents, journey.language)
        )
    if screen in MESSAGE_SCREENS and screen.value.startswith(("paying", "payment", "terminal")):
        shown = message(journey, _)
        return f"{shown.title}. {shown.body}".replace("\n", " ")
    return ""
