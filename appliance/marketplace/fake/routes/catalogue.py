"""v0 catalogue routes: the hub's editable products, an order cycle's shop, one variant."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from appliance.marketplace.fake.routes import common
from appliance.marketplace.fake.shapes import (
    api_variant,
    bulk_product,
    shop_product,
    visible_variants,
)
from appliance.marketplace.fake.state import Variant

bp = Blueprint("catalogue", __name__, url_prefix="/api/v0")


@bp.get("/products/bulk_products")
def bulk_products() -> Response:
    fake, q = common.state(), common.ransack()
    with fake.lock:
        producers = fake.editable_producers(g.key) if g.key else set()
        found = [p for p in fake.products.values() if visible_variants(fake, p, producers)]
        filter_name = "variants_enterprise_id_eq"
        if fake.release < "5.7.2":
            filter_name = "variants_supplier_id_eq"
        if filter_name in q:
            wanted = int(q[filter_name])
            found = [
                p
                for p in found
                if any(v.producer_id == wanted for v in visible_variants(fake, p, producers))
            ]
        if "name_cont" in q:
            found = [p for p in found if q["name_cont"].lower() in p.name.lower()]
        if "updated_at_gt" in q:
            after = common.parse_time(q["updated_at_gt"])
            found = [p for p in found if p.updated_at > after]
        found.sort(key=lambda p: p.id, reverse=q.get("s", "created_at desc") != "id asc")
        page, per_page, items = common.paginate(found, 15)
        body = {
            "products": [bulk_product(fake, p, producers) for p in items],
            "pagination": common.pagination(len(found), page, per_page),
        }
    return jsonify(body)


@bp.get("/order_cycles/<int:oc_id>/products")
def order_cycle_products(oc_id: int) -> tuple[Response, int] | Response:
    fake = common.state()
    with fake.lock:
        cycle = fake.order_cycles.get(oc_id)
        if cycle is None:
            return jsonify({"exception": "undefined method `open?' for nil"}), 422
        hub = request.args.get("distributor", type=int)
        if not cycle.open or hub not in cycle.distributors:
            return jsonify({}), 404
        products: dict[int, list[Variant]] = {}
        for vid in sorted(cycle.variant_ids):
            v = fake.variants[vid]
            if v.on_demand or v.on_hand > 0:
                products.setdefault(v.product_id, []).append(v)
        rows = [
            shop_product(fake, fake.products[pid], vs, cycle.fees_cents)
            for pid, vs in sorted(products.items())
        ]
        _, _, items = common.paginate(rows, 10)
    return jsonify(items)


@bp.route("/products/<int:pid>/variants/<int:vid>", methods=["GET", "PUT"])
def one_variant(pid: int, vid: int) -> tuple[Response, int] | Response:
    fake = common.state()
    with fake.lock:
        variant = fake.variants.get(vid)
        if variant is None or variant.product_id != pid:
            return common.not_found()
        if request.method == "PUT":
            if variant.producer_id not in fake.editable_producers(g.key):
                return common.unauthorized("denied")
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
        return jsonify(api_variant(fake, variant))
