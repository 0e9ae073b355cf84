"""The fake marketplace's JSON shapes, as OFN's v0 serializers write them (§3, §4 of the reference).

Decimals as strings ("42.0"), localised French dates beside `completed_at_utc_iso8601`,
`phone` "a" without a bill address, `item_count` counting lines, no shipment number in orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request

from appliance.marketplace.fake.state import FakeState, Order, Product, Variant

MONTHS_FR = (
    *("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août"),
    *("septembre", "octobre", "novembre", "décembre"),
)


def money(cents: int) -> str:
    """BigDecimal#to_s as OFN sends it: 42.0, 4.5, 3.25."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    if rest == 0:
        return f"{sign}{euros}.0"
    return f"{sign}{euros}.{rest:02d}".rstrip("0")


def picture_url(product: Product) -> str:
    """OFN sends absolute picture addresses; the fake keeps its own as paths (`/img/7.jpg`,
    served by routes/images.py) and makes them absolute on the address it was asked on."""
    if product.image_url.startswith("/") and has_request_context():
        return request.host_url.rstrip("/") + product.image_url
    return product.image_url


def french_date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{MONTHS_FR[moment.month - 1]} {moment.day:02d}, {moment.year}"


def unit_to_display(v: Variant) -> str:
    if v.variant_unit == "weight":
        grams = v.unit_value
        return f"{grams / 1000:g}kg" if grams >= 1000 else f"{grams:g}g"
    if v.variant_unit == "volume":
        return f"{v.unit_value:g}L"
    return f"{v.unit_value:g} {v.variant_unit_name or 'pièce'}"


def visible_variants(state: FakeState, product: Product, producers: set[int]) -> list[Variant]:
    return [
        v
        for v in state.variants.values()
        if v.product_id == product.id and v.producer_id in producers
    ]


def bulk_product(state: FakeState, product: Product, producers: set[int]) -> dict[str, Any]:
    variants = []
    for v in visible_variants(state, product, producers):
        producer = state.enterprises[v.producer_id]
        scale = 1000 if v.variant_unit == "weight" and v.unit_value >= 1000 else 1
        variants.append(
            {
                "id": v.id,
                "name": f"{product.name} - {v.display_name or unit_to_display(v)}",
                "producer_name": producer.name,
                "image": picture_url(product),
                "sku": v.sku,
                "import_date": None,
                "tax_category_id": 1,
                "options_text": unit_to_display(v),
                "unit_value": v.unit_value,
                "unit_description": v.unit_description,
                "unit_to_display": unit_to_display(v),
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
        "image_url": picture_url(product),
        "thumb_url": picture_url(product),
        "variants": variants,
    }


def api_variant(state: FakeState, v: Variant, fees_cents: int = 0) -> dict[str, Any]:
    product = state.products[v.product_id]
    return {
        "id": v.id,
        "product_name": product.name,
        "sku": v.sku,
        "options_text": unit_to_display(v),
        "unit_value": v.unit_value,
        "unit_description": v.unit_description,
        "unit_to_display": unit_to_display(v),
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
        "thumb_url": picture_url(product),
        "unit_price_price": money(v.price_cents),
        "unit_price_unit": "kg" if v.variant_unit == "weight" else "pièce",
        "enterprise": {"id": v.producer_id},
        "producer": {"id": v.producer_id},
    }


def shop_product(
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
        "variants": [api_variant(state, v, fees_cents) for v in variants],
        "image": {"id": 1, "alt": product.name, "image_url": picture_url(product)},
    }


def admin_order(state: FakeState, o: Order) -> dict[str, Any]:
    distributor = state.enterprises[o.distributor_id]
    return {
        "id": o.id,
        "number": o.number,
        "user_id": None,
        "full_name": o.full_name,
        "full_name_for_sorting": o.full_name,
        "email": o.email,
        "phone": o.phone or "a",  # OFN's literal bug without a bill address
        "completed_at": french_date(o.completed_at),
        "completed_at_utc_iso8601": o.completed_at.isoformat() if o.completed_at else "",
        "display_total": f"{money(o.total_cents).replace('.', ',')} €",
        "edit_path": f"/admin/orders/{o.number}/edit",
        "state": o.state,
        "payment_state": o.payment_state,
        "shipment_state": o.shipment_state,
        "payments_path": f"/admin/orders/{o.number}/payments",
        "ready_to_ship": o.shipment_state == "ready",
        "ready_to_capture": any(p.state == "pending" for p in o.payments),
        "created_at": french_date(o.created_at),
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


def detailed_order(state: FakeState, o: Order) -> dict[str, Any]:
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
        **admin_order(state, o),
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
                "variant": api_variant(state, state.variants[li.variant_id]),
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


def shipment(o: Order) -> dict[str, Any]:
    """`Api::ShipmentSerializer`: the only answer that shows the shipment's H number."""
    return {
        "id": o.id,
        "tracking": None,
        "number": f"H{o.id:011d}",
        "order_id": o.number,
        "cost": "0.0",
        "shipped_at": None,
        "state": o.shipment_state,
    }
