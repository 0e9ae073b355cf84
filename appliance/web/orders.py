"""Orders to hand out here, with their state and compartment (never a pickup code)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from appliance.core.order import OrderState
from appliance.store import orders
from appliance.web.context import db

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.route("/")
def show() -> tuple[str, int]:
    text = request.args.get("state", "")
    states = [s.value for s in OrderState]
    if text and text not in states:
        error = f"{text} is not an order state: pick one of {', '.join(states)}."
        return render_template("orders.html", orders=[], state="", error=error), 400
    state = OrderState(text) if text else None
    listed = orders.list_orders(db(), state)
    return render_template("orders.html", orders=listed, state=text, error=""), 200
