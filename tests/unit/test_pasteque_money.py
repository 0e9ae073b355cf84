"""Cents become the API's float euros exactly, and the till's totals match the box's to the cent
(10,000 random baskets through the fake server's own parsing, rounding and sums)."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.core.sale import Basket
from appliance.pasteque import euros, tickets
from appliance.pasteque.fake import api, seed
from appliance.pasteque.fake.state import FakeState
from appliance.pasteque.mapping import Mapping, Paid
from tests.pasteque_support import PRODUCTS, basket

exact = settings(deadline=None, max_examples=300)


def decimal_text(cents: int) -> str:
    """What a person writes for an amount: 1234 -> "12.34", -5 -> "-0.05"."""
    return str(Decimal(cents).scaleb(-2))


def test_every_amount_up_to_two_thousand_euros_is_sent_as_its_exact_decimal() -> None:
    for cents in range(-20_000, 200_001):
        assert Decimal(json.dumps(euros.euros(cents))) == Decimal(decimal_text(cents))


@exact
@given(st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1))
def test_any_amount_a_till_can_hold_is_sent_exactly_and_read_back_to_the_cent(cents: int) -> None:
    sent = json.dumps(euros.euros(cents))
    assert Decimal(sent) == Decimal(decimal_text(cents))
    assert euros.cents(json.loads(sent)) == cents


@exact
@given(st.integers(min_value=0, max_value=10**9))
def test_weights_are_sent_as_kilograms_with_their_three_decimals(grams: int) -> None:
    assert Decimal(json.dumps(euros.kilograms(grams))) == Decimal(grams).scaleb(-3)


def test_rates_go_as_fractions_and_come_back_as_basis_points() -> None:
    assert json.dumps(euros.rate(550)) == "0.055"
    assert [euros.basis_points(r) for r in (0.055, 0.1, 0.2, 0.021, 0.0)] == [
        550,
        1000,
        2000,
        210,
        0,
    ]


def test_a_sum_of_floats_is_read_back_to_the_right_cent() -> None:
    assert euros.cents(0.1 + 0.2) == 30  # 0.30000000000000004
    assert euros.cents(12.340000000000002) == 1234
    assert euros.cents("1.50") == 150


def test_an_amount_beyond_what_floats_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="beyond"):
        euros.euros(10**12)
    with pytest.raises(TypeError):
        euros.euros(12.5)  # type: ignore[arg-type]


# -- whole tickets through the fake server's own code --------------------------------------------


def shop() -> tuple[FakeState, Mapping, int]:
    """The demo server with an open session, and the mapping the box makes of it."""
    state = seed.demo()
    register = next(iter(state.registers.values()))
    api.write_session(
        state, {"cashRegister": register.id, "sequence": 1, "openDate": 1, "openCash": 0.0}
    )
    taxes = {euros.basis_points(t.rate): t.id for t in state.taxes.values()}
    modes = {m.reference: m.id for m in state.payment_modes.values()}
    mapping = Mapping(
        register_id=register.id,
        register_reference=register.reference,
        register_label=register.label,
        next_ticket_id=1,
        cashier_id=next(u.id for u in state.users.values() if u.name == seed.CASHIER),
        currency_id=next(iter(state.currencies)),
        server_version=state.version,
        taxes=taxes,
        modes={"card": modes["magcard"], "online": modes["online"], "refund": modes["magcard"]},
        mode_references={v: k for k, v in modes.items()},
    )
    return state, mapping, register.id


def send(state: FakeState, mapping: Mapping, baskets: list[Basket]) -> list[str]:
    contents = []
    for number, paid in enumerate(baskets, start=1):
        lines = tickets.sale_lines_of_basket(paid)
        content, _ = tickets.build(mapping, lines, Paid.CARD, number=number, date_s=number)
        contents.append(content)
    form_field = tickets.render(contents, 1)  # what goes over HTTP, read back as the server does
    answer = api.write_tickets(state, json.loads(form_field))
    return [f["message"] for f in answer["failures"] + answer["errors"]]


def test_ten_thousand_random_baskets_match_the_till_to_the_cent() -> None:
    rng = random.Random(20261203)
    baskets = [basket(rng) for _ in range(10_000)]
    state, mapping, register_id = shop()

    assert send(state, mapping, baskets) == []
    stored = state.session_tickets(register_id, 1)
    for paid, ticket in zip(baskets, stored, strict=True):
        assert euros.cents(ticket["finalTaxedPrice"]) == paid.total_cents
        assert euros.cents(ticket["payments"][0]["amount"]) == paid.total_cents
        by_rate = {
            euros.basis_points(t["taxRate"]): (euros.cents(t["base"]), euros.cents(t["amount"]))
            for t in ticket["taxes"]
        }
        assert by_rate == {v.rate_bp: (v.net_cents, v.vat_cents) for v in paid.vat_breakdown()}
        assert sum(euros.cents(line["finalTaxedPrice"]) for line in ticket["lines"]) == (
            paid.total_cents
        )

    summary = api.summary(state, register_id, 1)  # the server's float sums over the day
    expected: dict[int, tuple[int, int]] = {}
    for paid in baskets:
        for v in paid.vat_breakdown():
            base, vat = expected.get(v.rate_bp, (0, 0))
            expected[v.rate_bp] = (base + v.net_cents, vat + v.vat_cents)
    rate_of = {tax: rate for rate, tax in mapping.taxes.items()}
    assert {
        rate_of[t["tax"]]: (euros.cents(t["base"]), euros.cents(t["amount"]))
        for t in summary["taxes"]
    } == expected
    assert [euros.cents(p["amount"]) for p in summary["payments"]] == [
        sum(b.total_cents for b in baskets)
    ]
    assert euros.cents(summary["cs"]) == sum(base for base, _ in expected.values())


@settings(deadline=None, max_examples=200)
@given(st.randoms(use_true_random=False))
def test_any_basket_becomes_a_ticket_whose_figures_are_the_receipts(rng: random.Random) -> None:
    paid = basket(rng, PRODUCTS)
    state, mapping, register_id = shop()
    assert send(state, mapping, [paid]) == []
    (ticket,) = state.session_tickets(register_id, 1)
    assert euros.cents(ticket["finalTaxedPrice"]) == paid.total_cents
    assert euros.cents(ticket["finalPrice"]) == paid.total_cents - sum(
        v.vat_cents for v in paid.vat_breakdown()
    )
