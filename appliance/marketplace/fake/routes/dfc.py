"""DFC routes: the enterprise, its catalogue (JSON-LD from `fake/dfc.py`), a catalogue item's
stock and sku, an offer's stock limitation. Denials are a bare 404, as in OFN."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from appliance.marketplace.fake import dfc
from appliance.marketplace.fake.routes.common import state, to_i
from appliance.marketplace.fake.state import FakeState, Variant

bp = Blueprint("dfc", __name__, url_prefix="/api/dfc/enterprises")


@bp.get("/<int:eid>")
def enterprise(eid: int) -> Response:
    fake = state()
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
    fake = state()
    if eid not in fake.managed_by(g.key):
        return Response(b"", 404)
    with fake.lock:
        graph = dfc.catalog(fake, eid, request.host_url.rstrip("/"))
    return jsonify(graph)


@bp.put("/<int:eid>/catalog_items/<int:vid>")
def catalog_item(eid: int, vid: int) -> Response:
    fake = state()
    variant = _own_variant(fake, eid, vid)
    if variant is None:
        return Response(b"", 404)
    body = request.get_json(silent=True) or {}
    with fake.lock:  # no presence checks, as in OFN: a missing stockLimitation means 0
        variant.on_hand = to_i(body.get("dfc-b:stockLimitation"))
        variant.sku = body.get("dfc-b:sku") or ""
    return Response(b"", 204)


@bp.put("/<int:eid>/offers/<int:vid>")
def offer(eid: int, vid: int) -> Response:
    fake = state()
    variant = _own_variant(fake, eid, vid)
    if variant is None:
        return Response(b"", 404)
    limit = (request.get_json(silent=True) or {}).get("dfc-b:stockLimitation")
    with fake.lock:
        if limit not in (None, ""):
            if to_i(limit) < 0:
                variant.on_demand = True
            else:
                variant.on_demand, variant.on_hand = False, to_i(limit)
    return Response(b"", 204)


def _own_variant(fake: FakeState, eid: int, vid: int) -> Variant | None:
    """The variant, when the key's user manages `eid` and `eid` produces it."""
    variant = fake.variants.get(vid)
    if eid not in fake.managed_by(g.key) or variant is None or variant.producer_id != eid:
        return None
    return variant
