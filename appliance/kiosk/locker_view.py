"""What the locker screens say, computed from a visit's state in the person's language.

Pure functions, no Kivy: every step of the pickup, refill and walk-in flows becomes a `Page`
of one of three layouts (a keypad, a list of choices, a notice). Each button carries the flow
event it stands for, so a screen only copies texts and forwards the event of a touched button.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.locker import Compartment
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w
from appliance.kiosk.flows.events import (
    Back,
    CompartmentChosen,
    CompartmentPicked,
    Confirmed,
    Event,
    MenuChosen,
    OrderChosen,
    WalkinDetails,
)
from appliance.kiosk.flows.values import MenuChoice, OrderToDeposit, Problem
from appliance.kiosk.flows.visit import Visit
from appliance.kiosk.i18n import Translate, plural
from appliance.kiosk.view import money


class Layout(StrEnum):
    KEYPAD = "keypad"
    CHOICES = "choices"
    NOTICE = "notice"


@dataclass(frozen=True)
class Choice:
    label: str
    event: Event
    detail: str = ""
    primary: bool = False


@dataclass(frozen=True)
class Page:
    layout: Layout
    title: str
    body: str = ""
    tone: str = "info"  # info, success, warning or error: the colour of the title bar
    entry: str = ""  # the digits typed so far, masked
    big: str = ""  # the compartment number, large
    ok_key: bool = False  # the keypad has an OK key (a PIN has no fixed length)
    choices: tuple[Choice, ...] = ()
    buttons: tuple[Choice, ...] = ()


def page(
    visit: Visit, now: float, language: str, _: Translate, products: tuple[Product, ...] = ()
) -> Page:
    """What the visit's current step shows; `products` offers walk-in produce to a producer."""
    flow = visit.flow
    if isinstance(flow, p.Pickup):
        return _pickup(flow, now, _)
    if isinstance(flow, r.Refill):
        return _refill(flow, visit.phone, now, language, _, products)
    return _walkin(flow, language, _)


def spoken(shown: Page, _: Translate) -> str:
    """What the accessibility mode says aloud at the lockers: the step, the compartment's number,
    what to do. Never the digits typed: a code said aloud is a code given away."""
    number = _("Compartment {number}.").format(number=shown.big) if shown.big else ""
    return " ".join(part for part in (shown.title, number, shown.body) if part)


def _ok(_: Translate) -> tuple[Choice, ...]:
    return (Choice(_("OK"), Back(), primary=True),)


def _back(_: Translate) -> tuple[Choice, ...]:
    return (Choice(_("Back"), Back()),)


def _wait(text: str) -> Page:
    return Page(Layout.NOTICE, text)


def _call_site(problem: Problem | None, phone: str, _: Translate, extra: str = "") -> Page:
    title = (
        _("The lockers do not answer")
        if problem is Problem.LOCK_FAULT
        else _("The door did not open")
    )
    call = _("Please call {phone}.").format(phone=phone) if phone else _("Please call the shop.")
    return Page(
        Layout.NOTICE, title, "\n".join(filter(None, (extra, call))), "error", buttons=_ok(_)
    )


def _seconds(until: float, now: float) -> int:
    return max(1, round(until - now))


# -- pickup ---------------------------------------------------------------------------------------

_REFUSED = {
    Problem.UNKNOWN_CODE: "This code is not known. Check it and try again.",
    Problem.EXPIRED: "This code has expired. Please contact the shop.",
    Problem.ALREADY_COLLECTED: "This order has already been collected.",
    Problem.CANCELLED: "This order was cancelled. Please contact the shop.",
}


def _pickup(flow: p.Pickup, now: float, _: Translate) -> Page:
    step, n = flow.step, str(flow.compartment or "")
    if step is p.Step.ENTER_CODE:
        return Page(
            Layout.KEYPAD,
            _("Collect an order"),
            _("Type your pickup code, or show its QR code to the reader."),
            entry=flow.masked,
            buttons=_back(_),
        )
    if step in (p.Step.CHECKING, p.Step.CONFIRMING):
        return _wait(_("Checking your code…"))
    if step is p.Step.OPENING:
        return Page(Layout.NOTICE, _("Opening the door…"), big=n)
    if step is p.Step.TAKE_ORDER:
        body = _("Take your order and close the door.")
        if flow.door_warning:
            return Page(Layout.NOTICE, _("Please close the door"), body, "warning", big=n)
        return Page(Layout.NOTICE, _("Your compartment is open"), body, "success", big=n)
    if step is p.Step.REFUSED:
        body = _(_REFUSED.get(flow.problem or Problem.UNKNOWN_CODE, _REFUSED[Problem.UNKNOWN_CODE]))
        return Page(Layout.NOTICE, _("Code refused"), body, "warning", buttons=_ok(_))
    if step is p.Step.LOCKED:
        body = _("Too many wrong codes. The keypad is locked for {seconds} s.").format(
            seconds=_seconds(flow.locked_until, now)
        )
        return Page(Layout.NOTICE, _("Keypad locked"), body, "error")
    if step is p.Step.CALL_SITE:
        return _call_site(flow.problem, flow.phone, _, _("Your order stays safe in its locker."))
    if step is p.Step.ITEM_LEFT:
        body = _("Something is still inside. Did you take everything? The shop has been told.")
        return Page(Layout.NOTICE, _("Please check the compartment"), body, "warning", big=n)
    return Page(Layout.NOTICE, _("Thank you!"), _("Enjoy your order."), "success", buttons=_ok(_))


# -- refill ---------------------------------------------------------------------------------------


def _place(c: Compartment, _: Translate) -> str:
    kind = _("chilled") if c.chilled else _("not chilled")
    return _("No. {number}").format(number=c.number) + f" · {c.size.value} · {kind}"


def _free(flow: r.Refill) -> list[Compartment]:
    return [c for c in flow.compartments if c.number not in flow.busy]


def _refill(flow: r.Refill, phone: str, now: float, language: str, _: Translate, products) -> Page:
    step, n = flow.step, str(flow.compartment or "")
    if step is r.Step.IDENTIFY:
        body = _("Type your PIN and press OK, or show your badge.")
        if flow.problem is Problem.UNKNOWN_CODE:
            body = _("Unknown PIN or badge.") + "\n" + body
        return Page(
            Layout.KEYPAD,
            _("Producers"),
            body,
            entry="•" * len(flow.entered),
            ok_key=True,
            buttons=_back(_),
        )
    if step is r.Step.LOCKED:
        body = _("Too many wrong PINs. Try again in {seconds} s.").format(
            seconds=_seconds(flow.locked_until, now)
        )
        return Page(Layout.NOTICE, _("Keypad locked"), body, "error")
    if step is r.Step.MENU:
        deposit = _("Deposit orders ({count} waiting)").format(count=len(flow.orders))
        return Page(
            Layout.CHOICES,
            _("Hello {producer}").format(producer=flow.producer),
            choices=(
                Choice(deposit, MenuChosen(MenuChoice.DEPOSIT), primary=True),
                Choice(
                    _("Fill a compartment with produce for sale"), MenuChosen(MenuChoice.WALKIN)
                ),
            ),
            buttons=(Choice(_("Done"), MenuChosen(MenuChoice.DONE)),),
        )
    if step is r.Step.CHOOSE_ORDER:
        return Page(
            Layout.CHOICES,
            _("Which order do you deposit?"),
            "" if flow.orders else _("No order waits for a deposit here."),
            choices=tuple(
                Choice(
                    f"{o.number} · {o.customer_name}", OrderChosen(o.number), _lines(o, language)
                )
                for o in flow.orders
            ),
            buttons=_back(_),
        )
    if step in (r.Step.CHOOSE_PLACE, r.Step.WALKIN_PLACE):
        offered = flow.offered.number if flow.offered and step is r.Step.CHOOSE_PLACE else None
        free = sorted(_free(flow), key=lambda c: c.number != offered)
        title = (
            _("Order {number}: which compartment?").format(number=flow.order_number)
            if step is r.Step.CHOOSE_PLACE
            else _("Which compartment for the produce?")
        )
        return Page(
            Layout.CHOICES,
            title,
            "" if free else _("No compartment is free."),
            choices=tuple(
                Choice(
                    _place(c, _),
                    CompartmentChosen(c.number),
                    _("suggested") if c.number == offered else "",
                    primary=c.number == offered,
                )
                for c in free
            ),
            buttons=_back(_),
        )
    if step is r.Step.WALKIN_DETAILS:
        return Page(
            Layout.CHOICES,
            _("What do you put in compartment {number}?").format(number=n),
            choices=tuple(
                Choice(
                    product.name,
                    WalkinDetails(product.name, product.unit_price_cents),
                    money(product.unit_price_cents, language),
                )
                for product in products
                if not product.by_weight
            ),
        )
    if step is r.Step.NO_PLACE:
        return Page(Layout.NOTICE, _("No free compartment"), "", "warning", buttons=_ok(_))
    if step in (r.Step.CHECKING, r.Step.CONFIRMING, r.Step.RECORDING):
        return _wait(_("One moment…"))
    if step is r.Step.SENDING:
        return _wait(_("Sending the code to the customer…"))
    if step is r.Step.OPENING:
        return Page(Layout.NOTICE, _("Opening the door…"), big=n)
    if step is r.Step.DEPOSITING:
        body = _("Put order {number} in and close the door.").format(number=flow.order_number)
        return Page(Layout.NOTICE, _("The compartment is open"), body, "success", big=n)
    if step is r.Step.FILLING:
        body = _("Put the produce in and close the door.")
        return Page(Layout.NOTICE, _("The compartment is open"), body, "success", big=n)
    if step is r.Step.DEPOSITED:
        body = (
            _("The customer was sent the pickup code by e-mail.")
            if flow.code_sent
            else _("The code could not be sent: the shop has been told and will send it.")
        )
        title = _("Deposit recorded")
        return Page(
            Layout.NOTICE,
            title,
            body,
            "success" if flow.code_sent else "warning",
            big=n,
            buttons=_ok(_),
        )
    if step is r.Step.REFUSED:
        body = (
            _("This order was cancelled: do not deposit it.")
            if flow.problem is Problem.CANCELLED
            else flow.message
        )
        return Page(Layout.NOTICE, _("Not recorded"), body, "warning", buttons=_ok(_))
    return _call_site(flow.problem, phone, _)


def _lines(order: OrderToDeposit, language: str) -> str:
    count = order.lines
    return plural(language)("{count} line", "{count} lines", count).format(count=count)


# -- walk-in --------------------------------------------------------------------------------------


def _walkin(flow: w.Walkin, language: str, _: Translate) -> Page:
    step, item = flow.step, flow.item
    n = str(item.compartment) if item else ""
    price = money(item.price_cents, language) if item else ""
    if step is w.Step.CHOOSE:
        return Page(
            Layout.CHOICES,
            _("Buy from a locker"),
            "" if flow.items else _("Nothing is for sale in the lockers right now."),
            choices=tuple(
                Choice(
                    _("No. {number}").format(number=i.compartment) + f" · {i.name}",
                    CompartmentPicked(i.compartment),
                    money(i.price_cents, language),
                )
                for i in flow.items
            ),
            buttons=_back(_),
        )
    if step is w.Step.CONFIRM:
        body = _("Pay by card, then the door opens.")
        return Page(
            Layout.NOTICE,
            item.name if item else "",
            body,
            big=n,
            buttons=(
                Choice(_("Pay {price}").format(price=price), Confirmed(), primary=True),
                Choice(_("Back"), Back()),
            ),
        )
    if step is w.Step.PAYING:
        body = _("Follow the instructions on the card terminal.\nAmount: {total}")
        return Page(Layout.NOTICE, _("Pay by card"), body.format(total=price))
    if step is w.Step.PAYMENT_FAILED:
        body = _("You have not been charged.")
        return Page(Layout.NOTICE, _("Payment not made"), body, "warning", buttons=_back(_))
    if step is w.Step.PAYMENT_UNKNOWN:
        body = _(
            "We cannot tell whether your card was charged.\n"
            "Do not pay again: the shop has been alerted and will check."
        )
        return Page(Layout.NOTICE, _("Payment uncertain"), body, "error", buttons=_ok(_))
    if step is w.Step.OPENING:
        return Page(Layout.NOTICE, _("Opening the door…"), big=n)
    if step is w.Step.TAKE:
        body = _("Take your produce and close the door.")
        return Page(Layout.NOTICE, _("Your compartment is open"), body, "success", big=n)
    if step is w.Step.DONE:
        return Page(Layout.NOTICE, _("Thank you!"), _("See you soon."), "success", buttons=_ok(_))
    refund = _("You will be refunded: the shop has been told.")
    return _call_site(flow.problem, flow.phone, _, refund)
