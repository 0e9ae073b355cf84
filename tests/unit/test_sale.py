"""Basket totals and VAT per rate, in integer cents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, CardPayment, SaleLine

TOMATOES = Product("tomates", "Tomates anciennes", SoldBy.WEIGHT, 450, 550)
EGGS = Product("oeufs-6", "6 œufs bio", SoldBy.PIECE, 320, 550)
CIDER = Product("cidre", "Cidre brut", SoldBy.PIECE, 600, 2000)


def test_a_weighed_line_is_priced_half_up_from_weight_and_unit_price() -> None:
    line = SaleLine.weighed(TOMATOES, 1234, tare_g=150)
    assert line.price_cents == 555  # 1.234 kg x 4.50 = 5.553 -> 5.55
    assert (line.weight_g, line.quantity, line.tare_g) == (1234, 1, 150)


def test_a_line_whose_price_does_not_follow_the_rules_is_refused() -> None:
    with pytest.raises(ValueError, match="does not follow"):
        SaleLine("tomates", "T", SoldBy.WEIGHT, 450, 600, 550, weight_g=1234)


def test_a_price_computing_scale_keeps_its_own_price() -> None:
    line = SaleLine.weighed(TOMATOES, 1234, scale_price_cents=556)
    assert line.price_cents == 556 and line.scale_computed


def test_a_piece_line_has_no_weight() -> None:
    with pytest.raises(ValueError):
        SaleLine("oeufs-6", "6 œufs", SoldBy.PIECE, 320, 320, 550, weight_g=100)


def test_basket_total_and_vat_per_rate() -> None:
    basket = (
        Basket()
        .add(SaleLine.weighed(TOMATOES, 1234))
        .add(SaleLine.pieces(EGGS, 2))
        .add(SaleLine.pieces(CIDER, 1))
    )
    assert basket.total_cents == 555 + 640 + 600
    low, high = basket.vat_breakdown()
    assert (low.rate_bp, low.total_cents, low.vat_cents) == (550, 1195, 62)  # 1195*5.5/105.5
    assert (high.rate_bp, high.total_cents, high.vat_cents) == (2000, 600, 100)
    assert low.net_cents == 1133


def test_vat_is_rounded_once_per_rate_not_per_line() -> None:
    # two lines of 0.10 EUR at 5.5 %: per line 0.0052 -> 0.01 each (0.02); per rate 0.0104 -> 0.01
    penny_sweet = Product("bonbon", "Bonbon", SoldBy.PIECE, 10, 550)
    basket = Basket((SaleLine.pieces(penny_sweet, 1),) * 2)
    assert basket.vat_breakdown()[0].vat_cents == 1


def test_removing_a_line_changes_the_total() -> None:
    basket = Basket().add(SaleLine.pieces(EGGS, 1)).add(SaleLine.pieces(CIDER, 1))
    assert basket.remove(0).total_cents == 600
    with pytest.raises(IndexError):
        basket.remove(5)


def test_the_card_number_is_reduced_to_its_last_four_digits() -> None:
    assert CardPayment("123456", "00B", "497010######0042").card_ending == "0042"
    assert CardPayment("123456").card_ending == ""


@given(
    st.lists(
        st.tuples(st.integers(1, 20000), st.integers(0, 5000), st.sampled_from([0, 550, 2000])),
        min_size=1,
        max_size=10,
    )
)
def test_snapshot_round_trip_and_vat_never_exceeds_total(
    lines: list[tuple[int, int, int]],
) -> None:
    basket = Basket(
        tuple(
            SaleLine.weighed(Product(f"p{i}", "p", SoldBy.WEIGHT, price, rate), weight)
            for i, (weight, price, rate) in enumerate(lines)
        )
    )
    assert Basket.from_dict(basket.to_dict()) == basket
    breakdown = basket.vat_breakdown()
    assert sum(v.total_cents for v in breakdown) == basket.total_cents
    assert all(0 <= v.vat_cents <= v.total_cents for v in breakdown)
