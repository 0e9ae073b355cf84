"""What a customer buys at the kiosk: sale lines, the basket, totals and VAT per rate.

Integer cents only. Prices are VAT-inclusive (a shop price); the VAT inside each rate's total is
rounded half-up once per rate, not per line, so the receipt's VAT adds up to what the rate's total
really contains. A line checks its own price (weight x unit price, or pieces x unit price), so a
basket snapshot read back from storage cannot carry a price that does not follow the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.core import money
from appliance.core.catalogue import Product, SoldBy


@dataclass(frozen=True)
class SaleLine:
    """One line: a weighing (`weight_g` net, quantity 1) or a number of pieces (no weight).

    `unit_price_cents` is per kg for weighed lines and per piece otherwise. A price-computing
    scale's own price is taken as the line price (`scale_computed`); otherwise it is checked.
    """

    sku: str
    name: str
    sold_by: SoldBy
    unit_price_cents: int
    price_cents: int
    vat_rate_bp: int
    weight_g: int | None = None
    quantity: int = 1
    tare_g: int = 0
    barcode: str = ""
    scale_computed: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.vat_rate_bp <= 10000:
            raise ValueError(f"{self.sku}: VAT rate {self.vat_rate_bp} bp is not 0-10000")
        if self.sold_by is SoldBy.WEIGHT:
            if self.weight_g is None or self.weight_g <= 0 or self.quantity != 1:
                raise ValueError(f"{self.sku}: a weighed line needs a net weight and quantity 1")
            expected = money.price_cents(self.weight_g, self.unit_price_cents)
        else:
            if self.weight_g is not None or self.quantity <= 0:
                raise ValueError(f"{self.sku}: a line by the piece needs a quantity, no weight")
            expected = money.piece_price_cents(self.quantity, self.unit_price_cents)
        if self.price_cents != expected and not self.scale_computed:
            raise ValueError(
                f"{self.sku}: price {self.price_cents} cents does not follow from the weight "
                f"or quantity and unit price ({expected} cents)"
            )
        if self.price_cents < 0:
            raise ValueError(f"{self.sku}: a price cannot be negative")

    @classmethod
    def weighed(
        cls,
        product: Product,
        weight_g: int,
        *,
        tare_g: int = 0,
        barcode: str = "",
        scale_price_cents: int | None = None,
    ) -> SaleLine:
        """A weighed line at the product's unit price; `scale_price_cents` when the scale
        computed the price itself (then it is the legal price)."""
        return cls(
            sku=product.sku,
            name=product.name,
            sold_by=SoldBy.WEIGHT,
            unit_price_cents=product.unit_price_cents,
            price_cents=(
                money.price_cents(weight_g, product.unit_price_cents)
                if scale_price_cents is None
                else scale_price_cents
            ),
            vat_rate_bp=product.vat_rate_bp,
            weight_g=weight_g,
            tare_g=tare_g,
            barcode=barcode,
            scale_computed=scale_price_cents is not None,
        )

    @classmethod
    def pieces(cls, product: Product, quantity: int, *, barcode: str = "") -> SaleLine:
        return cls(
            sku=product.sku,
            name=product.name,
            sold_by=SoldBy.PIECE,
            unit_price_cents=product.unit_price_cents,
            price_cents=money.piece_price_cents(quantity, product.unit_price_cents),
            vat_rate_bp=product.vat_rate_bp,
            quantity=quantity,
            barcode=barcode,
        )

    @property
    def stock_change(self) -> int:
        """What leaves the stock: grams for weighed products, pieces otherwise."""
        return self.weight_g if self.weight_g is not None else self.quantity

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "sold_by": self.sold_by.value,
            "unit_price_cents": self.unit_price_cents,
            "price_cents": self.price_cents,
            "vat_rate_bp": self.vat_rate_bp,
            "weight_g": self.weight_g,
            "quantity": self.quantity,
            "tare_g": self.tare_g,
            "barcode": self.barcode,
            "scale_computed": self.scale_computed,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SaleLine:
        return cls(**{**raw, "sold_by": SoldBy(raw["sold_by"])})


@dataclass(frozen=True)
class VatLine:
    """One VAT rate of a sale: the VAT-inclusive total, the VAT in it, and the net."""

    rate_bp: int
    total_cents: int
    vat_cents: int

    @property
    def net_cents(self) -> int:
        return self.total_cents - self.vat_cents


@dataclass(frozen=True)
class Basket:
    """The lines a customer is about to pay, in the order chosen."""

    lines: tuple[SaleLine, ...] = field(default_factory=tuple)

    def add(self, line: SaleLine) -> Basket:
        return Basket((*self.lines, line))

    def remove(self, index: int) -> Basket:
        if not 0 <= index < len(self.lines):
            raise IndexError(f"the basket has no line {index}")
        return Basket(self.lines[:index] + self.lines[index + 1 :])

    @property
    def total_cents(self) -> int:
        return sum(line.price_cents for line in self.lines)

    def vat_breakdown(self) -> tuple[VatLine, ...]:
        """Per rate, lowest first: VAT contained in the rate's total, rounded half-up."""
        totals: dict[int, int] = {}
        for line in self.lines:
            totals[line.vat_rate_bp] = totals.get(line.vat_rate_bp, 0) + line.price_cents
        return tuple(
            VatLine(rate, total, money.vat_included_cents(total, rate))
            for rate, total in sorted(totals.items())
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot (integers and strings only)."""
        return {"lines": [line.to_dict() for line in self.lines]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Basket:
        return cls(tuple(SaleLine.from_dict(line) for line in raw["lines"]))


@dataclass(frozen=True)
class CardPayment:
    """What the terminal said about an approved payment; the PAN is masked already."""

    reference: str  # the authorisation number, or the attempt id when the terminal gave none
    card_application: str = ""
    masked_pan: str = ""

    @property
    def card_ending(self) -> str:
        """Only the last 4 digits, whatever masking the terminal used."""
        digits = [c for c in self.masked_pan if c.isdigit()]
        return "".join(digits[-4:]) if len(digits) >= 4 else ""


@dataclass(frozen=True)
class Sale:
    """A recorded sale: paid, numbered, and never changed afterwards."""

    receipt_number: int
    device_id: str
    token: str  # random, for the receipt link: receipt numbers are guessable, this is not
    attempt_id: str
    created_at: str  # aware UTC, ISO 8601
    basket: Basket
    payment: CardPayment
    training: bool = False  # made in training mode: own numbering, in no real figure

    @property
    def total_cents(self) -> int:
        return self.basket.total_cents
