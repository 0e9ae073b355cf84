"""Money in integer cents, and the one price rule of a weighed sale.

Price = net weight x unit price, rounded half-up to the cent (the price interval). Integers only:
a float never touches money or weight.
"""

from __future__ import annotations

GRAMS_PER_KG = 1000


def price_cents(weight_g: int, unit_price_cents_per_kg: int) -> int:
    """Price to pay for `weight_g` grams at a unit price per kg, rounded half-up to the cent."""
    if weight_g < 0 or unit_price_cents_per_kg < 0:
        raise ValueError("weight and unit price must not be negative")
    return (weight_g * unit_price_cents_per_kg * 2 + GRAMS_PER_KG) // (2 * GRAMS_PER_KG)


def piece_price_cents(quantity: int, unit_price_cents: int) -> int:
    """Price of `quantity` pieces sold by the piece."""
    if quantity < 0 or unit_price_cents < 0:
        raise ValueError("quantity and unit price must not be negative")
    return quantity * unit_price_cents


def format_euros(cents: int, *, symbol: bool = True, decimal: str = ",") -> str:
    """12345 -> '123,45 €' (French) or with decimal='.' -> '123.45 €'."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    text = f"{sign}{euros}{decimal}{rest:02d}"
    return f"{text} €" if symbol else text


def vat_included_cents(total_cents: int, rate_basis_points: int) -> int:
    """VAT contained in a VAT-inclusive total (rate 550 = 5.5 %), rounded half-up to the cent."""
    denominator = 10000 + rate_basis_points
    return (total_cents * rate_basis_points * 2 + denominator) // (2 * denominator)
