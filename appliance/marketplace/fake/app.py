"""The fake marketplace's HTTP face: OFN's v0 and DFC routes with their quirks (§10).

Decimals as strings ("42.0"), localised French dates beside `completed_at_utc_iso8601`,
`pagination: null` on unpaged order lists, bare arrays for order-cycle products, unknown
ransack predicates silently ignored, 401 (never 403) for denials, `ship` answering 200 whatever
it did, nginx HTML pages for 5xx and maintenance.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue

from appliance.marketplace.fake import dfc
from appliance.marketplace.fake.shapes import (
    admin_order,
    api_variant,
    bulk_product,
    detailed_order,
    shipment,
    shop_product,
    visible_variants,
)
from appliance.marketplace.fake.state import FakeState, Fault, Order, Oversold, Variant

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>CoopCircuits est en "
    "maintenance</h1><p>Nous revenons très vite.</p></body></html>"
)
ERROR_PAGE = (
    "<!DOCTYPE html><html><body><h1>We're sorry, but something went wrong.</h1></body></html>"
)


def create_app(state: FakeState) -> Flask:
    app = Flask("fake_ofn")
    app.config["JSON_SORT_KEYS"] = False

    @app.before_request
    def _gate() -> ResponseReturnValue | None:
        with state.lock:
            state.in_flight += 1
            state.most_in_flight = max(state.most_in_flight, state.in_flight)
        fault = state.arrive(request.method, request.path)
        if state.latency_s:
            time.sleep(state.latency_s)
        if fault is Fault.SLOW:
            time.sleep(state.slow_s)
        elif fault is Fault.MAINTENANCE:
            return Response(MAINTENANCE_PAGE, 503, content_type="text/html; charset=utf-8")
        elif fault is Fault.SERVER_ERROR:
            return Response(ERROR_PAGE, 500, content_type="text/html; charset=utf-8")
        elif fault is Fault.GATEWAY_TIMEOUT:
            return Response(b"", 504)
        elif fault is Fault.UNAUTHORIZED:
            return _unauthorized("invalid")
        elif fault is Fault.RATE_LIMITED:
            headers = {"Retry-After": state.retry_after}
            return Response("Retry later\n", 429, headers=headers, content_type="text/plain")
        g.truncate = fault is Fault.TRUNCATED
        return _authenticate(state)

    @app.teardown_request
    def _done(_: BaseException | None) -> None:
        with state.lock:
            state.in_flight -= 1

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["Date"] = format_datetime(state.clock(), usegmt=True)
        if getattr(g, "truncate", False) and response.is_json:
            data = response.get_data()
            response.set_data(data[: max(1, len(data) // 2)])
        return response

    # -- catalogue --------------------------------------------------------------------------------

    @app.get("/api/v0/products/bulk_products")
    def bulk_products() -> Response:
        q = _ransack()
        with state.lock:
            producers = state.editable_producers(g.key) if g.key else set()
            found = [p for p in state.products.values() if visible_variants(state, p, producers)]
            filter_name = "variants_enterprise_id_eq"
            if state.release < "5.7.2":
                filter_name = "variants_supplier_id_eq"
            if filter_name in q:
                wanted = int(q[filter_name])
                found = [
                    p
                    for p in found
                    if any(v.producer_id == wanted for v in visible_variants(state, p, producers))
                ]
            if "name_cont" in q:
                found = [p for p in found if q["name_cont"].lower() in p.name.lower()]
            if "updated_at_gt" in q:
                after = _parse_time(q["updated_at_gt"])
                found = [p for p in found if p.updated_at > after]
            found.sort(key=lambda p: p.id, reverse=q.get("s", "created_at desc") != "id asc")
            page, per_page, items = _paginate(found, 15)
            body = {
                "products": [bulk_product(state, p, producers) for p in items],
                "pagination": _pagination(len(found), page, per_page),
            }
        return jsonify(body)

    @app.get("/api/v0/order_cycles/<int:oc_id>/products")
    def order_cycle_products(oc_id: int) -> tuple[Response, int] | Response:
        with state.lock:
            cycle = state.order_cycles.get(oc_id)
            if cycle is None:
                return jsonify({"exception": "undefined method `open?' for nil"}), 422
            hub = request.args.get("distributor", type=int)
            if not cycle.open or hub not in cycle.distributors:
                return jsonify({}), 404
            products: dict[int, list[Variant]] = {}
            for vid in sorted(cycle.variant_ids):
                v = state.variants[vid]
                if v.on_demand or v.on_hand > 0:
                    products.setdefault(v.product_id, []).append(v)
            rows = [
                shop_product(state, state.products[pid], vs, cycle.fees_cents)
                for pid, vs in sorted(products.items())
            ]
            _, _, items = _paginate(rows, 10)
        return jsonify(items)

    @app.route("/api/v0/products/<int:pid>/variants/<int:vid>", methods=["GET", "PUT"])
    def one_variant(pid: int, vid: int) -> tuple[Response, int] | Response:
        with state.lock:
            variant = state.variants.get(vid)
            if variant is None or variant.product_id != pid:
                return _not_found()
            if request.method == "PUT":
                if variant.producer_id not in state.editable_producers(g.key):
                    return _unauthorized("denied")
                fields = (request.get_json(silent=True) or {}).get("variant") or {}
                if "on_hand" in fields:
                    on_hand = int(fields["on_hand"])
                    if on_hand < 0 and not variant.on_demand:
                        return jsonify(
                            {
                                "error": "Ressource invalide. Veuillez corriger les erreurs.",
                                "errors": {"count_on_hand": ["doit être supérieur ou égal à 0"]},
                            }
                        ), 422
                    variant.on_hand = on_hand
            return jsonify(api_variant(state, variant))

    # -- orders -----------------------------------------------------------------------------------

    @app.get("/api/v0/orders")
    def orders() -> tuple[Response, int] | Response:
        if not g.key:
            return _unauthorized("denied")
        q = _ransack()
        with state.lock:
            mine = state.managed_by(g.key)
            found = [o for o in state.orders.values() if o.distributor_id in mine]
            found = [o for o in found if _matches(o, q, state.ignored_filters)]
            sm = request.args.get("shipping_method_id", type=int)
            if sm is not None and "shipping_method_id" not in state.ignored_filters:
                found = [o for o in found if o.shipping_method_id == sm]
            found.sort(key=lambda o: o.id, reverse=q.get("s") == "id desc")
            paged = "page" in request.args or "per_page" in request.args
            if paged:
                page, per_page, items = _paginate(found, 50)
                pagination = _pagination(len(found), page, per_page)
            else:
                items, pagination = found, None
            return jsonify(
                {"orders": [admin_order(state, o) for o in items], "pagination": pagination}
            )

    @app.get("/api/v0/orders/<number>")
    def order(number: str) -> tuple[Response, int] | Response:
        with state.lock:
            found = _visible_order(state, number)
            if isinstance(found, tuple):
                return found
            return jsonify(detailed_order(state, found))

    @app.put("/api/v0/orders/<number>/capture")
    def capture(number: str) -> tuple[Response, int] | Response:
        with state.lock:
            found = _visible_order(state, number)
            if isinstance(found, tuple):
                return found
            pending = [p for p in found.payments if p.state in ("pending", "checkout")]
            if found.state == "canceled" or not pending:
                return jsonify(
                    {"error": "Le paiement n'a pas pu être traité, veuillez vérifier les détails"}
                ), 422
            pending[0].state = "completed"
            pending[0].updated_at = state.clock()
            found.payment_state = "paid"
            if found.shipment_state == "pending":
                found.shipment_state = "ready"
            found.updated_at = state.clock()
            return jsonify(admin_order(state, found))

    @app.put("/api/v0/orders/<number>/ship")
    def ship(number: str) -> tuple[Response, int] | Response:
        with state.lock:
            found = _visible_order(state, number)
            if isinstance(found, tuple):
                return found
            if found.shipment_state == "ready":  # only `can_ship?` shipments move; stock stays
                found.shipment_state = "shipped"
                found.updated_at = state.clock()
                state.emails.append((found.number, "Notification de réception"))
            return jsonify(admin_order(state, found))

    @app.post("/api/v0/orders/<number>/shipments")
    def add_to_shipment(number: str) -> tuple[Response, int] | Response:
        """`Spree::OrderContents#add` on the order's one shipment: a relative stock move."""
        params = {**request.args, **request.form, **(request.get_json(silent=True) or {})}
        with state.lock:
            found = _visible_order(state, number)
            if isinstance(found, tuple):
                return found
            variant = state.variants.get(_to_i(params.get("variant_id")))
            if variant is None:
                return _not_found()
            try:
                state.add_to_order(found, variant.id, _to_i(params.get("quantity")))
            except Oversold as exc:
                return jsonify({"exception": str(exc)}), 422
            return jsonify(shipment(found))

    @app.get("/api/v0/shops/<int:eid>")
    def shop(eid: int) -> tuple[Response, int] | Response:
        enterprise = state.enterprises.get(eid)
        if enterprise is None or not enterprise.is_hub:
            return _not_found()
        return jsonify({"id": eid, "name": enterprise.name, "pickup": True, "delivery": False})

    # -- DFC --------------------------------------------------------------------------------------

    @app.get("/api/dfc/enterprises/<int:eid>")
    def dfc_enterprise(eid: int) -> Response:
        if eid not in state.managed_by(g.key):
            return Response(b"", 404)
        enterprise = state.enterprises[eid]
        return jsonify(
            {
                "@context": "https://w3id.org/dfc/ontology/context/context_1.16.0.json",
                "@id": f"{request.host_url}api/dfc/enterprises/{eid}",
                "@type": "dfc-b:Enterprise",
                "dfc-b:name": enterprise.name,
            }
        )

    @app.get("/api/dfc/enterprises/<int:eid>/catalog_items")
    def dfc_catalog_items(eid: int) -> Response:
        if eid not in state.managed_by(g.key):
            return Response(b"", 404)
        with state.lock:
            graph = dfc.catalog(state, eid, request.host_url.rstrip("/"))
        return jsonify(graph)

    @app.put("/api/dfc/enterprises/<int:eid>/catalog_items/<int:vid>")
    def dfc_catalog_item(eid: int, vid: int) -> Response:
        variant = state.variants.get(vid)
        if eid not in state.managed_by(g.key) or variant is None or variant.producer_id != eid:
            return Response(b"", 404)
        body = request.get_json(silent=True) or {}
        with state.lock:  # no presence checks, as in OFN: a missing stockLimitation means 0
            variant.on_hand = _to_i(body.get("dfc-b:stockLimitation"))
            variant.sku = body.get("dfc-b:sku") or ""
        return Response(b"", 204)

    @app.put("/api/dfc/enterprises/<int:eid>/offers/<int:vid>")
    def dfc_offer(eid: int, vid: int) -> Response:
        variant = state.variants.get(vid)
        if eid not in state.managed_by(g.key) or variant is None or variant.producer_id != eid:
            return Response(b"", 404)
        limit = (request.get_json(silent=True) or {}).get("dfc-b:stockLimitation")
        with state.lock:
            if limit not in (None, ""):
                if _to_i(limit) < 0:
                    variant.on_demand = True
                else:
                    variant.on_demand, variant.on_hand = False, _to_i(limit)
        return Response(b"", 204)

    return app


# -- authentication and errors --------------------------------------------------------------------


def _authenticate(state: FakeState) -> ResponseReturnValue | None:
    v0 = request.path.startswith("/api/v0/")
    header = "X-Spree-Token" if v0 else "X-Api-Token"
    key = request.headers.get(header) or request.args.get("token") or ""
    if not v0 and request.headers.get("Authorization"):
        return Response(b"", 401)  # DFC decodes any Authorization header as a JWT first
    if key and not state.is_key(key):
        return _unauthorized("invalid", key)
    g.key = key
    return None


def _unauthorized(why: str, key: str = "") -> tuple[Response, int]:
    if request.path.startswith("/api/dfc/"):
        return Response(b"", 401), 401
    if request.path.startswith("/api/v1/"):
        return jsonify({"errors": [{"detail": "Clé d'API invalide"}]}), 401
    if why == "invalid":
        return jsonify({"error": f"Clé d'API invalide ({key}) spécifiée."}), 401
    return jsonify({"error": "Vous n'êtes pas autorisé(e) à effectuer cette action."}), 401


def _not_found() -> tuple[Response, int]:
    return jsonify({"error": "La ressource que vous cherchez est introuvable."}), 404


def _visible_order(state: FakeState, number: str) -> Order | tuple[Response, int]:
    found = state.orders.get(number)
    if found is None:
        return _not_found()
    if found.distributor_id not in state.managed_by(g.key):
        return _unauthorized("denied")
    return found


# -- queries --------------------------------------------------------------------------------------


def _ransack() -> dict[str, Any]:
    """`q[...]` parameters; `_in[]` predicates become lists. Unknown ones are kept and ignored."""
    q: dict[str, Any] = {}
    for key in request.args:
        if key.startswith("q[") and key.endswith("[]"):
            q[key[2:-3]] = request.args.getlist(key)
        elif key.startswith("q["):
            q[key[2:-1]] = request.args[key]
    return q


def _matches(order: Order, q: dict[str, Any], ignored: set[str]) -> bool:
    tests = {
        "distributor_id_eq": lambda v: order.distributor_id == int(v),
        "order_cycle_id_eq": lambda v: order.order_cycle_id == int(v),
        "order_cycle_id_in": lambda v: order.order_cycle_id in {int(x) for x in v},
        "state_eq": lambda v: order.state == v,
        "state_in": lambda v: order.state in v,
        "shipment_state_in": lambda v: order.shipment_state in v,
        "payment_state_eq": lambda v: order.payment_state == v,
        "updated_at_gt": lambda v: order.updated_at > _parse_time(v),
        "completed_at_gt": lambda v: (
            order.completed_at is not None and order.completed_at > _parse_time(v)
        ),
        "completed_at_lt": lambda v: (
            order.completed_at is not None and order.completed_at < _parse_time(v)
        ),
        "number_cont": lambda v: v in order.number,
        "email_cont": lambda v: v in order.email,
    }
    return all(test(q[name]) for name, test in tests.items() if name in q and name not in ignored)


def _paginate(rows: list[Any], default: int) -> tuple[int, int, list[Any]]:
    page = request.args.get("page", default=1, type=int)
    per_page = request.args.get("per_page", default=default, type=int)
    limit = min(max(per_page, 1), 100)  # pagy caps at 100 and echoes what was asked
    page = max(page, 1)
    return page, per_page, rows[(page - 1) * limit : page * limit]


def _pagination(results: int, page: int, per_page: int) -> dict[str, int]:
    limit = min(max(per_page, 1), 100)
    return {
        "results": results,
        "pages": max(1, math.ceil(results / limit)),
        "page": page,
        "per_page": per_page,
    }


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _to_i(value: Any) -> int:
    """Ruby's `to_i`: nil and garbage become 0."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
