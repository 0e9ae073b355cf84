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

from appliance.marketplace.fake.state import FakeState, Fault, Order, Product, Variant

MONTHS_FR = (
    *("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août"),
    *("septembre", "octobre", "novembre", "décembre"),
)
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
    def _gate() -> Response | None:
        with state.lock:
            state.requests.append((request.method, request.path))
        for hook in list(state.before_request):
            hook(request.method, request.path)
        if state.latency_s:
            time.sleep(state.latency_s)
        fault = state.take_fault(request.path)
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
        g.truncate = fault is Fault.TRUNCATED
        return _authenticate(state)

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
            found = [p for p in state.products.values() if _variants(state, p, producers)]
            filter_name = "variants_enterprise_id_eq"
            if state.release < "5.7.2":
                filter_name = "variants_supplier_id_eq"
            if filter_name in q:
                wanted = int(q[filter_name])
                found = [
                    p
                    for p in found
                    if any(v.producer_id == wanted for v in _variants(state, p, producers))
                ]
            if "name_cont" in q:
                found = [p for p in found if q["name_cont"].lower() in p.name.lower()]
            if "updated_at_gt" in q:
                after = _parse_time(q["updated_at_gt"])
                found = [p for p in found if p.updated_at > after]
            found.sort(key=lambda p: p.id, reverse=q.get("s", "created_at desc") != "id asc")
            page, per_page, items = _paginate(found, 15)
            body = {
                "products": [_bulk_product(state, p, producers) for p in items],
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
                _shop_product(state, state.products[pid], vs, cycle.fees_cents)
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
            return jsonify(_api_variant(state, variant))

    # -- orders -----------------------------------------------------------------------------------

    @app.get("/api/v0/orders")
    def orders() -> tuple[Response, int] | Response:
        if not g.key:
            return _unauthorized("denied")
        q = _ransack()
        with state.lock:
            mine = state.managed_by(g.key)
            found = [o for o in state.orders.values() if o.distributor_id in mine]
            found = [o for o in found if _matches(o, q)]
            sm = request.args.get("shipping_method_id", type=int)
            if sm is not None:
                found = [o for o in found if o.shipping_method_id == sm]
            found.sort(key=lambda o: o.id, reverse=q.get("s") == "id desc")
            paged = "page" in request.args or "per_page" in request.args
            if paged:
                page, per_page, items = _paginate(found, 50)
                pagination = _pagination(len(found), page, per_page)
            else:
                items, pagination = found, None
            return jsonify(
                {"orders": [_admin_order(state, o) for o in items], "pagination": pagination}
            )

    @app.get("/api/v0/orders/<number>")
    def order(number: str) -> tuple[Response, int] | Response:
        with state.lock:
            found = _visible_order(state, number)
            if isinstance(found, tuple):
                return found
            return jsonify(_detailed_order(state, found))

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
            return jsonify(_admin_order(state, found))

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
            return jsonify(_admin_order(state, found))

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


def _authenticate(state: FakeState) -> Response | None:
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


def _matches(order: Order, q: dict[str, Any]) -> bool:
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
            bool(order.completed_at) and order.completed_at > _parse_time(v)
        ),
        "completed_at_lt": lambda v: (
            bool(order.completed_at) and order.completed_at < _parse_time(v)
        ),
        "number_cont": lambda v: v in order.number,
        "email_cont": lambda v: v in order.email,
    }
    return all(test(q[name]) for name, test in tests.items() if name in q)


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


# -- serializers ----------------------------------------------------------------------------------


def money(cents: int) -> str:
    """BigDecimal#to_s as OFN sends it: 42.0, 4.5, 3.25."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    if rest == 0:
        return f"{sign}{euros}.0"
    return f"{sign}{euros}.{rest:02d}".rstrip("0")


def _french_date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{MONTHS_FR[moment.month - 1]} {moment.day:02d}, {moment.year}"


def _unit_to_display(v: Variant) -> str:
    if v.variant_unit == "weight":
        grams = v.unit_value
        return f"{grams / 1000:g}kg" if grams >= 1000 else f"{grams:g}g"
    if v.variant_unit == "volume":
        return f"{v.unit_value:g}L"
    return f"{v.unit_value:g} {v.variant_unit_name or 'pièce'}"


def _variants(state: FakeState, product: Product, producers: set[int]) -> list[Variant]:
    return [
        v
        for v in state.variants.values()
        if v.product_id == product.id and v.producer_id in producers
    ]


def _bulk_product(state: FakeState, product: Product, producers: set[int]) -> dict[str, Any]:
    variants = []
    for v in _variants(state, product, producers):
        producer = state.enterprises[v.producer_id]
        scale = 1000 if v.variant_unit == "weight" and v.unit_value >= 1000 else 1
        variants.append(
            {
                "id": v.id,
                "name": f"{product.name} - {v.display_name or _unit_to_display(v)}",
                "producer_name": producer.name,
                "image": product.image_url,
                "sku": v.sku,
                "import_date": None,
                "tax_category_id": 1,
                "options_text": _unit_to_display(v),
                "unit_value": v.unit_value,
                "unit_description": v.unit_description,
                "unit_to_display": _unit_to_display(v),
                "display_as": "",
                "display_name": v.display_name,
                "name_to_display": v.display_name or product.name,
                "variant_overrides_count": v.overrides,
                "price": money(v.price_cents),
                "on_demand": v.on_demand,
                "on_hand": v.on_hand,
                "in_stock": v.on_demand or v.on_hand > 0,
                "variant_unit": v.variant_unit,
                "variant_unit_scale": scale if v.variant_unit != "items" else None,
                "variant_unit_name": v.variant_unit_name,
                "variant_unit_with_scale": f"{v.variant_unit}_{scale}",
                "category_id": 1,
                "producer_id": v.producer_id,
            }
        )
    return {
        "id": product.id,
        "name": product.name,
        "sku": "",
        "inherits_properties": True,
        "price": "0.0",  # a dead attr_accessor in OFN: always 0.0
        "import_date": None,
        "image_url": product.image_url,
        "thumb_url": product.image_url,
        "variants": variants,
    }


def _api_variant(state: FakeState, v: Variant, fees_cents: int = 0) -> dict[str, Any]:
    product = state.products[v.product_id]
    return {
        "id": v.id,
        "product_name": product.name,
        "sku": v.sku,
        "options_text": _unit_to_display(v),
        "unit_value": v.unit_value,
        "unit_description": v.unit_description,
        "unit_to_display": _unit_to_display(v),
        "display_as": "",
        "display_name": v.display_name,
        "name_to_display": v.display_name or product.name,
        "price": money(v.price_cents),
        "on_demand": v.on_demand,
        "on_hand": v.on_hand,
        "fees": {"admin": money(fees_cents)},
        "fees_name": {"admin": "Frais de la boutique"},
        "price_with_fees": money(v.price_cents + fees_cents),
        "tag_list": [],
        "thumb_url": product.image_url,
        "unit_price_price": money(v.price_cents),
        "unit_price_unit": "kg" if v.variant_unit == "weight" else "pièce",
        "enterprise": {"id": v.producer_id},
        "producer": {"id": v.producer_id},
    }


def _shop_product(
    state: FakeState, product: Product, variants: list[Variant], fees_cents: int
) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "meta_keywords": "",
        "group_buy": False,
        "notes": "",
        "description": "",
        "description_html": "",
        "properties_with_values": [],
        "variants": [_api_variant(state, v, fees_cents) for v in variants],
        "image": {"id": 1, "alt": product.name, "image_url": product.image_url},
    }


def _admin_order(state: FakeState, o: Order) -> dict[str, Any]:
    distributor = state.enterprises[o.distributor_id]
    return {
        "id": o.id,
        "number": o.number,
        "user_id": None,
        "full_name": o.full_name,
        "full_name_for_sorting": o.full_name,
        "email": o.email,
        "phone": o.phone or "a",  # OFN's literal bug without a bill address
        "completed_at": _french_date(o.completed_at),
        "completed_at_utc_iso8601": o.completed_at.isoformat() if o.completed_at else "",
        "display_total": f"{money(o.total_cents).replace('.', ',')} €",
        "edit_path": f"/admin/orders/{o.number}/edit",
        "state": o.state,
        "payment_state": o.payment_state,
        "shipment_state": o.shipment_state,
        "payments_path": f"/admin/orders/{o.number}/payments",
        "ready_to_ship": o.shipment_state == "ready",
        "ready_to_capture": any(p.state == "pending" for p in o.payments),
        "created_at": _french_date(o.created_at),
        "distributor_name": distributor.name,
        "special_instructions": None,
        "display_outstanding_balance": "",
        "item_total": money(o.total_cents),
        "adjustment_total": "0.0",
        "payment_total": money(sum(p.amount_cents for p in o.payments if p.state == "completed")),
        "total": money(o.total_cents),
        "item_count": len(o.line_items),  # line items, not the summed quantity
        "distributor": {"id": o.distributor_id},
        "order_cycle": {"id": o.order_cycle_id},
    }


def _detailed_order(state: FakeState, o: Order) -> dict[str, Any]:
    distributor = state.enterprises[o.distributor_id]
    method = state.shipping_methods[o.shipping_method_id]
    first, _, last = o.full_name.partition(" ")
    address = {
        "id": o.id,
        "zipcode": "35000",
        "city": "Rennes",
        "state_name": None,
        "state_id": None,
        "phone": o.phone,
        "firstname": first,
        "lastname": last,
        "address1": distributor.name,
        "address2": "",
        "country_id": 75,
        "country_name": "France",
    }
    return {
        **_admin_order(state, o),
        "shipping_method": {
            "id": method.id,
            "require_ship_address": False,
            "name": method.name,
            "description": method.description,
            "price": "0.0",
        },
        "ship_address": address,
        "bill_address": address if o.phone else None,
        "line_items": [
            {
                "id": li.id,
                "quantity": li.quantity,
                "max_quantity": None,
                "price": money(li.price_cents),
                "order_id": o.id,
                "tax_category_id": 1,
                "variant": _api_variant(state, state.variants[li.variant_id]),
            }
            for li in o.line_items
        ],
        "payments": [
            {
                "amount": money(p.amount_cents),
                "updated_at": f"{MONTHS_FR[p.updated_at.month - 1][:4]} "
                f"{p.updated_at:%d, %Y %H:%M}",
                "payment_method": p.method,
                "state": p.state,
                "redirect_auth_url": None,
            }
            for p in o.payments
        ],
        "adjustments": [],
        "customer_id": None,
    }
