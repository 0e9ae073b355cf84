"""What a legal price label says (metrology reference §4.2), independent of how it is printed.

A label for weighed produce can only be made from a `Weighing`, which only `WeighingGate.accept`
produces: a reading in motion, under zero, over capacity or below the minimum never reaches a
label. The ESC/POS printer and the PNG preview both draw `LabelContent.lines()`, so the preview
shows what the printer prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from appliance.core.barcode import BarcodeLayout, MeasureKind, encode
from appliance.core.catalogue import Product
from appliance.core.money import format_euros, piece_price_cents
from appliance.core.weighing import Weighing, format_weight

_CAPTIONS = {
    "fr": {
        "weight": "Poids net",
        "net": "NET",
        "tare": "Tare",
        "quantity": "Quantité",
        "pieces": "pièce(s)",
        "per_kg": "€/kg",
        "per_piece": "€/pièce",
        "to_pay": "À PAYER",
        "origin": "Origine",
        "producer": "Producteur",
        "packed": "Emballé le",
        "lot": "Lot",
        "ticket": "Ticket n°",
        "date": "%d/%m/%Y %H:%M",
        "decimal": ",",
    },
    "en": {
        "weight": "Net weight",
        "net": "NET",
        "tare": "Tare",
        "quantity": "Quantity",
        "pieces": "piece(s)",
        "per_kg": "€/kg",
        "per_piece": "€/piece",
        "to_pay": "TO PAY",
        "origin": "Origin",
        "producer": "Producer",
        "packed": "Packed on",
        "lot": "Lot",
        "ticket": "Ticket no.",
        "date": "%Y-%m-%d %H:%M",
        "decimal": ".",
    },
}


class LineSize(StrEnum):
    SMALL = "small"
    NORMAL = "normal"
    LARGE = "large"


@dataclass(frozen=True)
class LabelLine:
    """One line of a label as both renderers draw it."""

    text: str
    size: LineSize = LineSize.NORMAL
    bold: bool = False


@dataclass(frozen=True)
class Shop:
    """Who sells: printed on every label (config [device] name, address, id, timezone)."""

    name: str
    address: str
    kiosk_id: str
    timezone: tzinfo
    language: str = "fr"


@dataclass(frozen=True)
class LabelContent:
    """Everything a label shows, already formatted, plus the raw values it was made from."""

    shop: Shop
    sku: str
    product_name: str
    producer: str
    origin: str
    weight_g: int | None  # net weight; None for goods sold by the piece
    tare_g: int
    net: bool
    quantity: int | None  # pieces; None for goods sold by weight
    unit_price_cents: int
    price_cents: int
    packed_at: datetime  # aware
    lot: str
    ticket: int
    barcode: str
    weight_text: str
    tare_text: str

    @property
    def captions(self) -> dict[str, str]:
        return _CAPTIONS.get(self.shop.language, _CAPTIONS["fr"])

    @property
    def packed_text(self) -> str:
        """Packing date and time in the shop's timezone."""
        return self.packed_at.astimezone(self.shop.timezone).strftime(self.captions["date"])

    def money(self, cents: int, *, symbol: bool = True) -> str:
        return format_euros(cents, symbol=symbol, decimal=self.captions["decimal"])

    def lines(self) -> tuple[LabelLine, ...]:
        """The label from top to bottom, without the barcode (drawn below the last line)."""
        c = self.captions
        small, large = LineSize.SMALL, LineSize.LARGE
        shop = " - ".join(p for p in (self.shop.name, self.shop.address) if p)
        lines = [LabelLine(shop, small, bold=True), LabelLine(self.product_name, large, bold=True)]
        about = [
            f"{c['origin']} : {self.origin}" if self.origin else "",
            f"{c['producer']} : {self.producer}" if self.producer else "",
        ]
        if any(about):
            lines.append(LabelLine(" · ".join(p for p in about if p), small))
        if self.weight_g is not None:
            if self.net:
                weighed = f"{c['net']} {self.weight_text}   {c['tare']} {self.tare_text}"
            else:
                weighed = f"{c['weight']} {self.weight_text}"
            unit = f"{self.money(self.unit_price_cents, symbol=False)} {c['per_kg']}"
        else:
            weighed = f"{c['quantity']} {self.quantity} {c['pieces']}"
            unit = f"{self.money(self.unit_price_cents, symbol=False)} {c['per_piece']}"
        lines += [
            LabelLine(weighed, bold=self.net),
            LabelLine(unit),
            LabelLine(f"{c['to_pay']} {self.money(self.price_cents)}", large, bold=True),
        ]
        packed = f"{c['packed']} {self.packed_text}"
        if self.lot:
            packed += f" · {c['lot']} {self.lot}"
        lines += [
            LabelLine(packed, small),
            LabelLine(f"{c['ticket']} {self.ticket} · {self.shop.kiosk_id}", small),
        ]
        return tuple(lines)


def label_for_weighing(
    weighing: Weighing,
    product: Product,
    *,
    shop: Shop,
    interval_g: int,
    layout: BarcodeLayout,
    packed_at: datetime,
    ticket: int,
    lot: str = "",
) -> LabelContent:
    """The label of one accepted weighing; the barcode holds its price or its net weight."""
    if not isinstance(weighing, Weighing):
        raise TypeError("a weighed label needs an accepted Weighing from WeighingGate.accept")
    if not product.by_weight:
        raise ValueError(f"{product.name} is sold by the piece: make its label with a quantity")
    decimal = _CAPTIONS.get(shop.language, _CAPTIONS["fr"])["decimal"]
    return LabelContent(
        shop=shop,
        sku=product.sku,
        product_name=product.name,
        producer=product.producer,
        origin=product.origin,
        weight_g=weighing.weight_g,
        tare_g=weighing.tare_g,
        net=weighing.net,
        quantity=None,
        unit_price_cents=weighing.unit_price_cents,
        price_cents=weighing.price_cents,
        packed_at=_aware(packed_at),
        lot=lot,
        ticket=ticket,
        barcode=_barcode(layout, product, weighing.weight_g, weighing.price_cents),
        weight_text=format_weight(weighing.weight_g, interval_g, decimal=decimal),
        tare_text=format_weight(weighing.tare_g, interval_g, decimal=decimal),
    )


def label_for_pieces(
    quantity: int,
    product: Product,
    *,
    shop: Shop,
    layout: BarcodeLayout,
    packed_at: datetime,
    ticket: int,
    lot: str = "",
) -> LabelContent:
    """The label of `quantity` pieces of a product sold by the piece."""
    if product.by_weight:
        raise ValueError(f"{product.name} is sold by weight: weigh it on the scale")
    if quantity < 1:
        raise ValueError(f"a label needs at least one piece, not {quantity}")
    price = piece_price_cents(quantity, product.unit_price_cents)
    return LabelContent(
        shop=shop,
        sku=product.sku,
        product_name=product.name,
        producer=product.producer,
        origin=product.origin,
        weight_g=None,
        tare_g=0,
        net=False,
        quantity=quantity,
        unit_price_cents=product.unit_price_cents,
        price_cents=price,
        packed_at=_aware(packed_at),
        lot=lot,
        ticket=ticket,
        barcode=_barcode(layout, product, None, price),
        weight_text="",
        tare_text="",
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the packing time must be an aware datetime")
    return moment


def _barcode(layout: BarcodeLayout, product: Product, weight_g: int | None, price: int) -> str:
    """The code's digits; a flag digit F must already be written into the product's layout."""
    if layout.has_flag:
        raise ValueError(
            f"barcode layout {layout.text!r} has a flag digit F: write the digit in place of F "
            f"in the barcode_layout of product {product.sku}"
        )
    if layout.kind is MeasureKind.PRICE:
        return encode(layout, product.plu, price_cents=price)
    if weight_g is None:
        raise ValueError(
            f"barcode layout {layout.text!r} encodes a weight: {product.name} is sold by the "
            f"piece and needs a price layout (P) in its barcode_layout"
        )
    return encode(layout, product.plu, weight_g=weight_g)
