"""Open Food Network JSON to the shop's values: products, orders, stock to report. Pure.

OFN sends decimals as strings ("4.5", "42.0") and sometimes as floats; both become integer
cents exactly through `Decimal`. Dates come from `completed_at_utc_iso8601`, never from the
localised strings. A variant is sold here as a piece (a pack) unless it is measured by weight
and mapped to one of the weighed modes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from appliance.core.catalogue import Product, SoldBy
from appliance.core.order import Order, OrderLine, OrderState

HANDED_OUT_STATES = ("complete", "resumed")
LISTED_STATES = ("complete", "resumed", "canceled")


class WeighedProduce(StrEnum):
    """How a variant measured by weight is sold here and how its stock goes back (§6)."""

    PIECES = "pieces"  # sold as packs, one sale = one variant
    SMALL_UNITS = "small_units"  # weighed; each sale rounded to whole variant units (100 g...)
    REMAINDER = "remainder"  # weighed; grams add up locally, whole units are reported
    ON_DEMAND = "on_demand"  # weighed; counted here only, the variant stays on demand online


class BadAnswer(ValueError):
    """The marketplace sent a value this code cannot read."""


def cents(value: Any) -> int:
    """'4.5' -> 450, '42.0' -> 4200, 0.1 -> 10; half-up beyond the cent."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BadAnswer(f"not a decimal amount: {value!r}") from None
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grams(unit_value: Any, variant_unit: str) -> int | None:
    """Grams per variant for weight variants (unit_value is in grams), else None."""
    if variant_unit != "weight" or unit_value in (None, ""):
        return None
    value = Decimal(str(unit_value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(value) if value > 0 else None


@dataclass(frozen=True)
class RemoteVariant:
    """One variant as `bulk_products` shows it."""

    id: int
    product_id: int
    name: str
    producer_id: int | None
    producer: str
    price_cents: int
    on_hand: int
    on_demand: bool
    unit_grams: int | None
    unit_label: str
    photo: str
    overrides: int

    @property
    def sku(self) -> str:
        """The local product's sku: stable whatever the producer types in OFN's sku."""
        return f"ofn-{self.id}"


def variants_of(product: dict[str, Any]) -> list[RemoteVariant]:
    """The variants of one `bulk_products` product."""
    found = []
    for v in product.get("variants") or []:
        unit = v.get("unit_to_display") or ""
        found.append(
            RemoteVariant(
                id=int(v["id"]),
                product_id=int(product["id"]),
                name=label(product.get("name") or "", v.get("display_name") or ""),
                producer_id=_int_or_none(v.get("producer_id")),
                producer=v.get("producer_name") or "",
                price_cents=cents(v.get("price") or "0"),
                on_hand=int(Decimal(str(v.get("on_hand") or 0))),
                on_demand=bool(v.get("on_demand")),
                unit_grams=grams(v.get("unit_value"), v.get("variant_unit") or ""),
                unit_label=unit if v.get("variant_unit") in ("weight", "volume") else "",
                photo=v.get("image") or product.get("image_url") or "",
                overrides=int(v.get("variant_overrides_count") or 0),
            )
        )
    return found


def label(product_name: str, display_name: str) -> str:
    """'Crottin de chèvre – Lot de 3': OFN's `name_to_display` drops the product's name."""
    product_name, display_name = product_name.strip(), display_name.strip()
    if display_name and display_name != product_name:
        return f"{product_name} – {display_name}" if product_name else display_name
    return product_name


def sold_weighed(variant: RemoteVariant, mode: WeighedProduce) -> bool:
    return variant.unit_grams is not None and mode is not WeighedProduce.PIECES


def product_for(
    variant: RemoteVariant, mode: WeighedProduce, existing: Product | None, vat_rate_bp: int
) -> Product:
    """The local product of a variant; what the shop set locally (VAT, PLU, tare) is kept."""
    weighed = sold_weighed(variant, mode)
    if weighed:
        assert variant.unit_grams is not None
        per_kg = (variant.price_cents * 1000 * 2 + variant.unit_grams) // (2 * variant.unit_grams)
        name, sold_by, price = variant.name, SoldBy.WEIGHT, per_kg
    else:
        unit = variant.unit_label
        name = f"{variant.name} {unit}" if unit and unit not in variant.name else variant.name
        sold_by, price = SoldBy.PIECE, variant.price_cents
    base = existing or Product(variant.sku, name, sold_by, price, vat_rate_bp)
    return Product(
        sku=variant.sku,
        name=name,
        sold_by=sold_by,
        unit_price_cents=price,
        vat_rate_bp=base.vat_rate_bp,
        producer=variant.producer,
        plu=base.plu,
        tare_g=base.tare_g,
        barcode_layout=base.barcode_layout,
        category=base.category,
        origin=base.origin,
        photo=variant.photo,
        stock=None if variant.on_demand else variant.on_hand,
        active=True,
        id=base.id,
    )


def units_to_report(
    mode: WeighedProduce, unit_grams: int | None, quantity: int, weight_g: int, remainder_g: int
) -> tuple[int, int]:
    """(variant units sold, grams left over) for the unreported sales of one variant.

    `quantity` counts pieces sold as packs, `weight_g` the grams of weighed sales.
    """
    if unit_grams is None or mode is WeighedProduce.PIECES:
        return quantity, remainder_g
    if mode is WeighedProduce.ON_DEMAND:
        return 0, remainder_g
    if mode is WeighedProduce.SMALL_UNITS:
        steps = (Decimal(weight_g) / unit_grams).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return quantity + int(steps), remainder_g
    total = remainder_g + weight_g
    whole = int((Decimal(total) / unit_grams).to_integral_value(rounding=ROUND_FLOOR))
    return quantity + whole, total - whole * unit_grams


# -- orders ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderSummary:
    """An order as the index lists it: enough to know whether to read its detail again."""

    number: str
    state: str
    payment_state: str
    shipment_state: str
    distributor_id: int | None
    order_cycle_id: int | None
    fingerprint: str

    @property
    def to_hand_out(self) -> bool:
        """Complete, and paid (ready) or to be paid at pickup (pending); not shipped."""
        return self.state in HANDED_OUT_STATES and self.shipment_state in ("ready", "pending")


def summary_of(order: dict[str, Any]) -> OrderSummary:
    keys = ("state", "payment_state", "shipment_state", "total", "item_count")
    return OrderSummary(
        number=str(order["number"]),
        state=order.get("state") or "",
        payment_state=order.get("payment_state") or "",
        shipment_state=order.get("shipment_state") or "",
        distributor_id=_int_or_none((order.get("distributor") or {}).get("id")),
        order_cycle_id=_int_or_none((order.get("order_cycle") or {}).get("id")),
        fingerprint=json.dumps([str(order.get(k)) for k in keys]),
    )


def shipping_method_of(detail: dict[str, Any]) -> int | None:
    return _int_or_none((detail.get("shipping_method") or {}).get("id"))


def local_state(summary: OrderSummary, existing: Order | None) -> OrderState | None:
    """The state to keep here after a read; None when the order is not ours to hand out."""
    if summary.state == "canceled":
        if existing is None:
            return None
        return existing.state if existing.state is OrderState.COLLECTED else OrderState.CANCELLED
    if existing is not None and existing.state is not OrderState.CANCELLED:
        return existing.state
    if not summary.to_hand_out:
        return existing.state if existing else None
    if existing is not None and existing.compartment is not None:
        return OrderState.IN_LOCKER
    return OrderState.WAITING


def order_from_detail(
    detail: dict[str, Any],
    state: OrderState,
    producers: dict[int, str],
    existing: Order | None,
    read_at: str,
) -> Order:
    """The local order from `GET /api/v0/orders/{number}`; the compartment stays as it was."""
    bill = detail.get("bill_address") or {}
    phone = bill.get("phone") or detail.get("phone") or ""
    lines = []
    for item in detail.get("line_items") or []:
        variant = item.get("variant") or {}
        variant_id = _int_or_none(variant.get("id"))
        producer = producers.get(variant_id, "") if variant_id is not None else ""
        lines.append(
            OrderLine(
                name=label(variant.get("product_name") or "", variant.get("display_name") or ""),
                quantity=int(item.get("quantity") or 0),
                unit=variant.get("unit_to_display") or "",
                price_cents=cents(item.get("price") or "0"),
                producer=producer,
                variant_id=variant_id,
            )
        )
    return Order(
        number=str(detail["number"]),
        state=state,
        customer_name=(detail.get("full_name") or "").strip(),
        customer_email=detail.get("email") or "",
        customer_phone="" if phone == "a" else phone,  # OFN prints "a" without a bill address
        total_cents=cents(detail.get("total") or "0"),
        paid=detail.get("payment_state") in ("paid", "credit_owed"),
        lines=tuple(lines),
        compartment=existing.compartment if existing else None,
        source="marketplace",
        remote_id=_int_or_none(detail.get("id")),
        remote_updated_at=read_at,
    )


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
