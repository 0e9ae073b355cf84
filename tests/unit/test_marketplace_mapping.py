"""Reading Open Food Network values: money, weighed stock, order states."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.order import Order, OrderState
from appliance.marketplace.mapping import (
    WeighedProduce,
    cents,
    local_state,
    summary_of,
    units_to_report,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42.0", 4200), ("4.5", 450), ("0.1", 10), (0.1, 10), ("3.25", 325), ("-1.5", -150), (7, 700)],
)
def test_decimal_strings_become_exact_cents(value, expected):
    assert cents(value) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_any_amount_in_cents_survives_the_string_form(amount):
    euros, rest = divmod(amount, 100)
    assert cents(f"{euros}.{rest:02d}") == amount


def test_weighed_modes_report_what_the_marketplace_can_count():
    assert units_to_report(WeighedProduce.PIECES, 1000, 3, 0, 0) == (3, 0)
    assert units_to_report(WeighedProduce.SMALL_UNITS, 100, 0, 450, 0) == (5, 0)
    assert units_to_report(WeighedProduce.REMAINDER, 100, 0, 450, 70) == (5, 20)
    assert units_to_report(WeighedProduce.ON_DEMAND, 100, 0, 450, 0) == (0, 0)


@given(st.lists(st.integers(min_value=1, max_value=5000), max_size=20))
def test_remainder_mode_never_loses_or_invents_grams(sales):
    reported, remainder = 0, 0
    for weight in sales:
        units, remainder = units_to_report(WeighedProduce.REMAINDER, 250, 0, weight, remainder)
        reported += units
    assert reported * 250 + remainder == sum(sales)
    assert 0 <= remainder < 250


def _summary(state: str, shipment: str):
    return summary_of(
        {"number": "R000000001", "state": state, "shipment_state": shipment, "total": "1.0"}
    )


def _order(state: OrderState, compartment: int | None = None) -> Order:
    return Order("R000000001", state, "Camille", compartment=compartment)


def test_a_collected_order_stays_collected_even_if_cancelled_later():
    assert local_state(_summary("canceled", "canceled"), _order(OrderState.COLLECTED)) == (
        OrderState.COLLECTED
    )


def test_a_cancelled_order_unknown_here_is_not_imported():
    assert local_state(_summary("canceled", "canceled"), None) is None


def test_a_resumed_order_goes_back_where_it_was():
    assert local_state(_summary("resumed", "ready"), _order(OrderState.CANCELLED, 2)) == (
        OrderState.IN_LOCKER
    )
    assert local_state(_summary("complete", "pending"), None) == OrderState.WAITING
    assert local_state(_summary("complete", "shipped"), None) is None
