"""Comptoir's integer cents and grams as Pastèque's float euros and kilograms, and back.

Out: `cents / 100` and `grams / 1000` as Python floats. For any amount below 10**12 cents the
division is correctly rounded, so the float is the double nearest the exact decimal; and
`json.dumps` writes the shortest text that reads back as that double. No other number with at
most two (three for kilograms) decimals lies within a double's spacing of it, so that text is
the exact decimal: 1234 cents are sent as `12.34`, never `12.339999999999999`.

Back: the number's shortest text is read as a Decimal, times 100, rounded half-up to the cent.
Values the server stored are rounded to 2 decimals already (5 for payments); sums it made in
floats carry an error far below half a cent, which the rounding removes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

#: Beyond this the argument above no longer holds (and no till ever gets there).
LIMIT_CENTS = 10**12


def euros(cents: int) -> float:
    """12345 -> 123.45, for the API."""
    _check(cents, "cents")
    return cents / 100


def kilograms(grams: int) -> float:
    """352 -> 0.352: a weighed line's quantity (Pastèque prices weighed products per kg)."""
    _check(grams, "grams")
    return grams / 1000


def rate(basis_points: int) -> float:
    """550 -> 0.055: VAT rates are fractions in Pastèque."""
    _check(basis_points, "basis points")
    return basis_points / 10000


def cents(value: float | int | str | Decimal) -> int:
    """A euro amount from the API as cents, half-up: 12.34 -> 1234, 12.340000000000002 -> 1234."""
    return _scaled(value, 2)


def basis_points(value: float | int | str | Decimal) -> int:
    """A rate from the API as basis points: 0.055 -> 550."""
    return _scaled(value, 4)


def _scaled(value: float | int | str | Decimal, places: int) -> int:
    if isinstance(value, bool) or not isinstance(value, float | int | str | Decimal):
        raise ValueError(f"not a number: {value!r}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return int(number.scaleb(places).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, not {value!r}")
    if abs(value) >= LIMIT_CENTS:
        raise ValueError(f"{value} {what} is beyond what the API's floats carry exactly")
