"""Money: the price of a weighing, euros on screen, VAT, all exact in integer cents."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.core.money import (
    format_euros,
    piece_price_cents,
    price_cents,
    vat_included_cents,
)

exact = settings(deadline=None, max_examples=300)
grams = st.integers(min_value=0, max_value=300_000)
cents_per_kg = st.integers(min_value=0, max_value=100_000)


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


@exact
@given(grams, cents_per_kg)
def test_price_is_weight_times_unit_price_rounded_half_up_to_the_cent(
    weight_g: int, unit_price: int
) -> None:
    assert price_cents(weight_g, unit_price) == half_up(Fraction(weight_g * unit_price, 1000))


@exact
@given(grams, cents_per_kg)
def test_price_agrees_with_weight_and_unit_price_within_half_a_cent(
    weight_g: int, unit_price: int
) -> None:
    exact_price = Fraction(weight_g * unit_price, 1000)
    assert abs(price_cents(weight_g, unit_price) - exact_price) <= Fraction(1, 2)


@exact
@given(grams, grams, cents_per_kg)
def test_more_weight_never_costs_less(a: int, b: int, unit_price: int) -> None:
    light, heavy = sorted((a, b))
    assert price_cents(light, unit_price) <= price_cents(heavy, unit_price)


@exact
@given(grams, cents_per_kg, cents_per_kg)
def test_a_dearer_product_never_costs_less(weight_g: int, a: int, b: int) -> None:
    cheap, dear = sorted((a, b))
    assert price_cents(weight_g, cheap) <= price_cents(weight_g, dear)


@pytest.mark.parametrize(
    ("weight_g", "unit_price", "expected"),
    [
        (1234, 590, 728),  # 7.2806 € -> 7.28 €
        (1, 500, 1),  # exactly half a cent rounds up
        (3, 500, 2),  # 1.5 cents -> 2
        (1, 499, 0),  # 0.499 cent -> 0
        (998, 1890, 1886),  # 18.8622 € -> 18.86 €
        (0, 590, 0),
        (1000, 590, 590),
    ],
)
def test_price_examples_a_customer_can_check(weight_g: int, unit_price: int, expected: int) -> None:
    assert price_cents(weight_g, unit_price) == expected


def test_negative_weight_or_price_is_refused() -> None:
    with pytest.raises(ValueError):
        price_cents(-2, 590)
    with pytest.raises(ValueError):
        price_cents(2, -590)
    with pytest.raises(ValueError):
        piece_price_cents(-1, 240)


@exact
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=100_000))
def test_pieces_cost_exactly_quantity_times_unit_price(quantity: int, unit_price: int) -> None:
    assert piece_price_cents(quantity, unit_price) == quantity * unit_price


@exact
@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_euros_on_screen_read_back_to_the_same_cents(cents: int) -> None:
    text = format_euros(cents)
    assert text.endswith(" €")
    euros = text.removesuffix(" €").replace(",", ".")
    assert Fraction(euros) * 100 == cents
    assert len(euros.split(".")[1]) == 2


@pytest.mark.parametrize(
    ("cents", "french", "english"),
    [
        (12345, "123,45 €", "123.45"),
        (5, "0,05 €", "0.05"),
        (-5, "-0,05 €", "-0.05"),
        (0, "0,00 €", "0.00"),
    ],
)
def test_euros_examples(cents: int, french: str, english: str) -> None:
    assert format_euros(cents) == french
    assert format_euros(cents, symbol=False, decimal=".") == english


vat_rates = st.sampled_from([0, 210, 550, 1000, 2000]) | st.integers(min_value=0, max_value=10000)


@exact
@given(st.integers(min_value=0, max_value=10**8), vat_rates)
def test_vat_contained_in_a_total_is_exact_and_rounded_half_up(total: int, rate_bp: int) -> None:
    expected = half_up(Fraction(total * rate_bp, 10000 + rate_bp))
    assert vat_included_cents(total, rate_bp) == expected
    assert 0 <= vat_included_cents(total, rate_bp) <= total


def test_vat_examples_from_a_receipt() -> None:
    assert vat_included_cents(1055, 550) == 55  # 10.55 € at 5.5 % holds 0.55 € of VAT
    assert vat_included_cents(1200, 2000) == 200  # 12.00 € at 20 % holds 2.00 €
    assert vat_included_cents(1200, 0) == 0
