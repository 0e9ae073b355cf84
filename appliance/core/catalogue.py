"""Products as the shop sells them: by weight (price per kg) or by the piece."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SoldBy(StrEnum):
    WEIGHT = "weight"
    PIECE = "piece"


@dataclass(frozen=True)
class Product:
    """One product of the catalogue.

    `unit_price_cents` is per kg for products sold by weight and per piece otherwise; `vat_rate_bp`
    is in basis points (550 = 5.5 %); `plu` is the item reference encoded in price barcodes.
    """

    sku: str
    name: str
    sold_by: SoldBy
    unit_price_cents: int
    vat_rate_bp: int
    producer: str = ""
    plu: int = 0
    tare_g: int = 0
    barcode_layout: str = ""
    category: str = ""
    origin: str = ""
    photo: str = ""
    stock: int | None = None
    active: bool = True
    id: int | None = None

    @property
    def by_weight(self) -> bool:
        return self.sold_by is SoldBy.WEIGHT
