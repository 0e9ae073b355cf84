"""DFC routes: the enterprise, its catalogue (JSON-LD from `fake/dfc.py`), a catalogue item's
stock and sku, an offer's stock limitation. Denials are a bare 404, as in OFN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from appliance.marketplace.fake import dfc
from appliance.marketplace.fake.routes import common
from appliance.marketplace.fake.state import Variant

bp = Blueprint("dfc", __name__, url_prefix="/api/dfc/enterprises")


@bp.get("/<int:eid>")
def enterprise(eid: int) -> Response:
    fake = common.state()
    if eid not in fake.managed_by(g.key):
        return Response(b"", 404)
    return jsonify(
        {
            "@context": dfc.CONTEXT,
            "@id": f"{request.host_url}api/dfc/enterprises/{eid}",
            "@type": "dfc-b:Enterprise",
            "dfc-b:name": fake.enterprises[eid].name,
        }
    )


@bp.get("/<int:eid>/catalog_items")
def catalog_items(eid: int) -> Response:
    fake = common.state()
    if eid not in fake.managed_by(g.key):
        return Response(b"", 404)
    with fake.lock:
        graph = dfc.catalog(fake, eid, request.host_url.rstrip("/"))
    return jsonify(graph)


@bp.put("/<int:eid>/catalog_items/<int:vid>")
def catalog_item(eid: int, vid: int) -> Response:
    def change(variant: Variant, body: dict[str, Any]) -> None:
        # no presence checks, as in OFN: a missing stockLimitation means 0
        variant.on_hand = common.to_i(body.get("dfc-b:stockLimitation"))
        variant.sku = body.get("dfc-b:sku") or ""

    return _change_own_variant(eid, vid, change)


@bp.put("/<int:eid>/offers/<int:vid>")
def offer(eid: int, vid: int) -> Response:
    def change(variant: Variant, body: dict[str, Any]) -> None:
        limit = body.get("dfc-b:stockLimitation")
        if limit not in (None, ""):
            if common.to_i(limit) < 0:
                variant.on_demand = True
            else:
                variant.on_demand, variant.on_hand = False, common.to_i(limit)

    return _change_own_variant(eid, vid, change)


def _change_own_variant(
    eid: int, vid: int, change: Callable[[Variant, dict[str, Any]], None]
) -> Response:
    """Apply `change` with the JSON body to a variant `eid` produces, when the key's user
    manages `eid`; else a bare 404."""
    fake = common.state()
    variant = fake.variants.get(vid)
    if eid not in fake.managed_by(g.key) or variant is None or variant.producer_id != eid:
        return Response(b"", 404)
    body = request.get_json(silent=True) or {}
    with fake.lock:
        change(variant, body)
    return Response(b"", 204)
