"""Orders to hand out here, with their state and compartment (never a pickup code)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext

from appliance.core.order import Order, OrderState
from appliance.store import orders
from appliance.web.context import db
from appliance.web.pages import Pages, page_asked
from appliance.web.words import ORDER_STATES

bp = Blueprint("orders", __name__, url_prefix="/orders")


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
    )
