"""Orders to hand out here, with their state and compartment (never a pickup code)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext

from appliance.core.order import Order, OrderState
from appliance.store import orders
from appliance.web.context import db
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
    listed = orders.list_orders(db(), OrderState(text) if text else None)
    return _page(listed, text, ""), 200


def _page(listed: list[Order], state: str, error: str) -> str:
    return render_template(
        "orders.html", orders=listed, state=state, state_names=ORDER_STATES, error=error
    )
