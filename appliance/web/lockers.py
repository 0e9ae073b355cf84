"""The locker wall as it stands: each compartment's state, and a door opened from the phone.

A tile per configured compartment, in number order: free, an order inside (its number and
customer), walk-in produce (name and price), out of order, door open, alarm. Opening a door asks
for a reason; it is queued for the kiosk like every hardware request (never driven from here)
and journalled with who asked. Producers may open a door too: the farmer helping a customer at
the locker from their phone is the person this is for. An order cancelled online while inside
is taken back from its tile: open the door, take the bag out, say so (`handouts.take_back`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.config import Compartment
from appliance.core.locker import Use
from appliance.core.order import OrderState
from appliance.store import alerts, device_commands, handouts, lockers, orders
from appliance.store.alerts import Alert
from appliance.store.device_commands import CommandName
from appliance.web.auth import actor, record_action
from appliance.web.context import db, euros, settings

log = logging.getLogger(__name__)

bp = Blueprint("lockers", __name__, url_prefix="/lockers")

MAX_REASON = 200


@dataclass(frozen=True)
class Tile:
    compartment: Compartment
    state: str  # free, order, walkin, out_of_order: the tile's colour
    what: str  # what is inside, in words
    door_open: bool
    alarms: tuple[Alert, ...]
    to_take_back: str = ""  # the number of a cancelled order still inside


@bp.route("/")
def show() -> tuple[str, int]:
    return _page()


@bp.route("/<id:number>/open", methods=["POST"])
def open_door(number: int) -> Any:
    reason = request.form.get("reason", "").strip()
    if number not in {c.number for c in settings().lockers.compartments}:
        return _page(gettext("Compartment %(number)s is unknown here.", number=number))
    if not reason or len(reason) > MAX_REASON:
        return _page(
            gettext(
                "Say why door %(number)d must open (1 to %(max)d characters): the reason is "
                "kept in the door log.",
                number=number,
                max=MAX_REASON,
            ),
            focus=number,
        )
    device_commands.queue(
        db(), CommandName.OPEN_DOOR, {"compartment": number}, requested_by=actor(), reason=reason
    )
    record_action("door_opened", compartment=number, reason=reason)
    log.info("door %s opening queued by %s", number, actor())
    flash(
        gettext(
            "Queued: door %(number)d. The kiosk opens it within seconds; refresh to see the "
            "result.",
            number=number,
        )
    )
    return redirect(url_for("lockers.show"))


@bp.route("/<id:number>/take-back", methods=["POST"])
def take_back(number: int) -> Any:
    if number not in {c.number for c in settings().lockers.compartments}:
        return _page(gettext("Compartment %(number)s is unknown here.", number=number))
    if request.form.get("taken_out") != "yes":
        return _page(
            gettext(
                "Tick the box once the bag is out of compartment %(number)d: the compartment is "
                "freed only then.",
                number=number,
            ),
            focus=number,
        )
    try:
        order = handouts.take_back(db(), number, by=actor())
    except handouts.HandoutRefused:
        return _page(
            gettext(
                "Compartment %(number)d holds no cancelled order: refresh the page, someone may "
                "have taken it back already.",
                number=number,
            )
        )
    record_action("order_taken_back", order=order.number, compartment=number)
    log.info(
        "cancelled order %s taken back from compartment %s by %s", order.number, number, actor()
    )
    flash(
        gettext(
            "Order %(order)s taken back: compartment %(number)d is free and its code opens "
            "nothing. Contact %(customer)s about the cancellation if the hub has not.",
            order=order.number,
            number=number,
            customer=order.customer_name or gettext("the customer"),
        )
    )
    return redirect(url_for("lockers.show"))


def tiles() -> list[Tile]:
    store = db()
    configured = sorted(settings().lockers.compartments, key=lambda c: c.number)
    known = lockers.states(store)
    open_now = lockers.open_doors(store, [c.number for c in configured])
    alarms: dict[str, list[Alert]] = {}
    for alert in alerts.open_alerts(store):
        alarms.setdefault(alert.subject, []).append(alert)
    found = []
    for c in configured:
        state = known.get(c.number)
        use = state.use if state else Use.FREE
        what = gettext("free")
        to_take_back = ""
        if state is not None and use is Use.ORDER and state.order_number:
            order = orders.get(store, state.order_number)
            customer = order.customer_name if order else ""
            what = gettext("order %(number)s", number=state.order_number)
            what += f" · {customer}" if customer else ""
            if order is not None and order.state is OrderState.CANCELLED:
                what += " · " + gettext("cancelled online: take it back")
                to_take_back = order.number
        elif state is not None and use is Use.WALKIN:
            what = f"{state.walkin_name} · {euros(state.walkin_price_cents)}"
        elif use is Use.OUT_OF_ORDER:
            what = gettext("out of order")
        found.append(
            Tile(
                c,
                use.value,
                what,
                c.number in open_now,
                tuple(alarms.get(f"compartment {c.number}", ())),
                to_take_back,
            )
        )
    return found


def _page(error: str = "", focus: int | None = None) -> tuple[str, int]:
    page = render_template(
        "lockers.html",
        error=error,
        tiles=tiles(),
        focus=focus,
        commands=[c for c in device_commands.recent(db()) if c.name == CommandName.OPEN_DOOR][:10],
    )
    return page, 400 if error else 200
