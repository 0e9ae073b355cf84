"""v0 order routes: the hub's orders (ransack-filtered), one order, capture, ship, a unit added
to a shipment, and the hub's shop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue

from appliance.marketplace.fake.routes import common
from appliance.marketplace.fake.shapes import admin_order, detailed_order, shipment
from appliance.marketplace.fake.state import FakeState, Order, Oversold

bp = Blueprint("orders", __name__, url_prefix="/api/v0")


@bp.get("/orders")
def orders() -> tuple[Response, int] | Response:
    if not g.key:
        return common.unauthorized("denied")
    fake, q = common.state(), common.ransack()
    with fake.lock:
        mine = fake.managed_by(g.key)
        found = [o for o in fake.orders.values() if o.distributor_id in mine]
        found = [o for o in found if _matches(o, q, fake.ignored_filters)]
        sm = request.args.get("shipping_method_id", type=int)
        if sm is not None and "shipping_method_id" not in fake.ignored_filters:
            found = [o for o in found if o.shipping_method_id == sm]
        found.sort(key=lambda o: o.id, reverse=q.get("s") == "id desc")
        paged = "page" in request.args or "per_page" in request.args
        if paged:
            page, per_page, items = common.paginate(found, 50)
            pages = common.pagination(len(found), page, per_page)
        else:
            items, pages = found, None
        return jsonify({"orders": [admin_order(fake, o) for o in items], "pagination": pages})


def _on_visible_order(
    answer: Callable[[FakeState, Order], ResponseReturnValue],
) -> Callable[[str], ResponseReturnValue]:
    """A route on one order the key's user may see, answered under the state's lock; 404 or
    401 for another."""

    @functools.wraps(answer)
    def route(number: str) -> ResponseReturnValue:
        fake = common.state()
        with fake.lock:
            found = common.visible_order(fake, number)
            if isinstance(found, tuple):
                return found
            return answer(fake, found)

    return route


@bp.get("/orders/<number>")
@_on_visible_order
def order(fake: FakeState, found: Order) -> ResponseReturnValue:
    return jsonify(detailed_order(fake, found))


@bp.put("/orders/<number>/capture")
@_on_visible_order
def capture(fake: FakeState, found: Order) -> ResponseReturnValue:
    pending = [p for p in found.payments if p.state in ("pending", "checkout")]
    if found.state == "canceled" or not pending:
        return jsonify(
            {"error": "Le paiement n'a pas pu être traité, veuillez vérifier les détails"}
        ), 422
    pending[0].state = "completed"
    pending[0].updated_at = fake.clock()
    found.payment_state = "paid"
    if found.shipment_state == "pending":
        found.shipment_state = "ready"
    found.updated_at = fake.clock()
    return jsonify(admin_order(fake, found))


@bp.put("/orders/<number>/ship")
@_on_visible_order
def ship(fake: FakeState, found: Order) -> ResponseReturnValue:
    if found.shipment_state == "ready":  # only `can_ship?` shipments move; stock stays
        found.shipment_state = "shipped"
        found.updated_at = fake.clock()
        fake.emails.append((found.number, "Notification de réception"))
    return jsonify(admin_order(fake, found))


@bp.post("/orders/<number>/shipments")
@_on_visible_order
def add_to_shipment(fake: FakeState, found: Order) -> ResponseReturnValue:
    """`Spree::OrderContents#add` on the order's one shipment: a relative stock move."""
    params = {**request.args, **request.form, **(request.get_json(silent=True) or {})}
    variant = fake.variants.get(common.to_i(params.get("variant_id")))
    if variant is None:
        return common.not_found()
    try:
        fake.add_to_order(found, variant.id, common.to_i(params.get("quantity")))
    except Oversold as exc:
        return jsonify({"exception": str(exc)}), 422
    return jsonify(shipment(found))


@bp.get("/shops/<int:eid>")
def shop(eid: int) -> tuple[Response, int] | Response:
    enterprise = common.state().enterprises.get(eid)
    if enterprise is None or not enterprise.is_hub:
        return common.not_found()
    return jsonify({"id": eid, "name": enterprise.name, "pickup": True, "delivery": False})


def _matches(order: Order, q: dict[str, Any], ignored: set[str]) -> bool:
    tests = {
        "distributor_id_eq": lambda v: order.distributor_id == int(v),
        "order_cycle_id_eq": lambda v: order.order_cycle_id == int(v),
        "order_cycle_id_in": lambda v: order.order_cycle_id in {int(x) for x in v},
        "state_eq": lambda v: order.state == v,
        "state_in": lambda v: order.state in v,
        "shipment_state_in": lambda v: order.shipment_state in v,
        "payment_state_eq": lambda v: order.payment_state == v,
        "updated_at_gt": lambda v: order.updated_at > common.parse_time(v),
        "completed_at_gt": lambda v: (
            order.completed_at is not None and order.completed_at > common.parse_time(v)
        ),
        "completed_at_lt": lambda v: (
            order.completed_at is not None and order.completed_at < common.parse_time(v)
        ),
        "number_cont": lambda v: v in order.number,
        "email_cont": lambda v: v in order.email,
    }
    return all(test(q[name]) for name, test in tests.items() if name in q and name not in ignored)
