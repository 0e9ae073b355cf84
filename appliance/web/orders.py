"""Orders to hand out here, with their state and compartment (never a pickup code), and the
order a customer collects at the counter, handed out by the staff."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.core.order import Order, OrderState
from appliance.store import handouts, orders
from appliance.web.auth import actor, record_action
from appliance.web.context import db
from appliance.web.pages import Pages, page_asked
from appliance.web.words import ORDER_STATES

log = logging.getLogger(__name__)

bp = Blueprint("orders", __name__, url_prefix="/orders")

HANDED_OUT_HERE = (OrderState.WAITING, OrderState.IN_LOCKER)


@bp.route("/")
def show() -> tuple[str, int]:
    text = request.args.get("state", "")
    if text and text not in ORDER_STATES:
        error = gettext(
            "%(text)s is not an order state: pick one of %(states)s.",
            text=text[:40],
            states=", ".join(str(name) for name in ORDER_STATES.values()),
        )
        return _page([], "", error), 400
    state = OrderState(text) if text else None
    pages = Pages(page_asked(), ORDERS_PER_PAGE, orders.count_orders(db(), state))
    listed = orders.page_of_orders(db(), state, limit=pages.size, offset=pages.offset)
    return _page(listed, text, "", pages), 200


@bp.route("/<number>/hand-out", methods=["POST"])
def hand_out(number: str) -> Any:
    taken_out = request.form.get("taken_out") == "yes"
    try:
        order = handouts.hand_out(db(), number[:40], by=actor(), taken_out=taken_out)
    except handouts.HandoutRefused as refused:
        listed = orders.page_of_orders(db(), None, limit=ORDERS_PER_PAGE, offset=0)
        return _page(listed, "", _refusal(number[:40], str(refused))), 409
    record_action("order_handed_out", order=order.number)
    log.info("order %s handed out at the counter by %s", order.number, actor())
    flash(
        gettext(
            "Order %(number)s handed out to %(customer)s: the marketplace and the till are told.",
            number=order.number,
            customer=order.customer_name,
        )
    )
    return redirect(url_for("orders.show"))


def _refusal(number: str, reason: str) -> str:
    """The store's reason in the admin's language (the store speaks English to logs)."""
    order = orders.get(db(), number)
    if order is None:
        return gettext(
            "Order %(number)s is not on this box: check the number, or sync the marketplace.",
            number=number,
        )
    if order.state is OrderState.CANCELLED and order.compartment is not None:
        return gettext(
            "Order %(number)s was cancelled on the marketplace and is still in compartment "
            "%(compartment)s: do not hand it out, take it back from the Lockers page.",
            number=number,
            compartment=order.compartment,
        )
    if order.state is OrderState.CANCELLED:
        return gettext(
            "Order %(number)s was cancelled on the marketplace: do not hand it out.",
            number=number,
        )
    if order.state is OrderState.COLLECTED:
        return gettext("Order %(number)s was already handed out.", number=number)
    if order.state is OrderState.IN_LOCKER:
        return gettext(
            "Order %(number)s is in compartment %(compartment)s: take it out first (open the "
            "door from the Lockers page), then tick the box and hand it out.",
            number=number,
            compartment=order.compartment,
        )
    return reason


#: A phone's screenful or two; the orders still to hand out come first.
ORDERS_PER_PAGE = 20


def _page(listed: list[Order], state: str, error: str, pages: Pages | None = None) -> str:
    return render_template(
        "orders.html",
        orders=listed,
        state=state,
        state_names=ORDER_STATES,
        error=error,
        pages=pages or Pages(1, ORDERS_PER_PAGE, 0),
        handed_out_here=HANDED_OUT_HERE,
    )
