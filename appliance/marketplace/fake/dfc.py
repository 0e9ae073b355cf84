"""The fake marketplace's DFC catalogue: JSON-LD as OFN's DFC builders write it (§7).

Only variants owned by the enterprise appear (`enterprise.variants`, not what the hub resells);
`stockLimitation` is left out when on demand; the price is the base price, without fees.
"""

from __future__ import annotations

from typing import Any

from appliance.marketplace.fake.state import FakeState, Variant

CONTEXT = "https://w3id.org/dfc/ontology/context/context_1.16.0.json"
UNITS = {"weight": "dfc-m:Gram", "volume": "dfc-m:Litre", "items": "dfc-m:Piece"}


def catalog(state: FakeState, enterprise_id: int, host: str) -> dict[str, Any]:
    """`GET /api/dfc/enterprises/{id}/catalog_items`: items, products, groups and offers."""
    base = f"{host}/api/dfc/enterprises/{enterprise_id}"
    owned = sorted(
        (v for v in state.variants.values() if v.producer_id == enterprise_id), key=lambda v: v.id
    )
    graph: list[dict[str, Any]] = []
    for v in owned:
        graph.append(_catalog_item(v, base))
        graph.append(_supplied_product(state, v, host, base))
    for product_id in sorted({v.product_id for v in owned}):
        variants = [f"{base}/supplied_products/{v.id}" for v in owned if v.product_id == product_id]
        graph.append(
            {
                "@id": f"{host}/api/dfc/product_groups/{product_id}",
                "@type": "dfc-b:SuppliedProduct",
                "dfc-b:name": state.products[product_id].name,
                # compacted JSON-LD: one value alone, several in a list
                "dfc-b:hasVariant": variants[0] if len(variants) == 1 else variants,
            }
        )
    graph += [_offer(v, base) for v in owned]
    return {"@context": CONTEXT, "@graph": graph}


def _stock(v: Variant) -> dict[str, Any]:
    return {} if v.on_demand else {"dfc-b:stockLimitation": v.on_hand}


def _catalog_item(v: Variant, base: str) -> dict[str, Any]:
    return {
        "@id": f"{base}/catalog_items/{v.id}",
        "@type": "dfc-b:CatalogItem",
        "dfc-b:references": f"{base}/supplied_products/{v.id}",
        "dfc-b:sku": v.sku,
        **_stock(v),
        "dfc-b:offeredThrough": f"{base}/offers/{v.id}",
        "dfc-b:managedBy": base,
    }


def _supplied_product(state: FakeState, v: Variant, host: str, base: str) -> dict[str, Any]:
    product = state.products[v.product_id]
    name = f"{product.name} - {v.display_name}" if v.display_name else product.name
    return {
        "@id": f"{base}/supplied_products/{v.id}",
        "@type": "dfc-b:SuppliedProduct",
        "dfc-b:name": name,
        "dfc-b:description": "",
        "dfc-b:hasQuantity": {
            "@type": "dfc-b:QuantitativeValue",
            "dfc-b:hasUnit": UNITS[v.variant_unit],
            "dfc-b:value": float(v.unit_value),
        },
        "dfc-b:isVariantOf": f"{host}/api/dfc/product_groups/{v.product_id}",
        "ofn:spree_product_id": v.product_id,
        "ofn:spree_product_uri": f"{base}?spree_product_id={v.product_id}",
    }


def _offer(v: Variant, base: str) -> dict[str, Any]:
    return {
        "@id": f"{base}/offers/{v.id}",
        "@type": "dfc-b:Offer",
        "dfc-b:hasPrice": {
            "@type": "dfc-b:Price",
            "dfc-b:value": v.price_cents / 100,
            "dfc-b:hasUnit": "dfc-m:Euro",
        },
        **_stock(v),
    }
