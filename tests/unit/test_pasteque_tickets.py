"""A sale, a refund and a handed-out order as Pastèque tickets; the close's running totals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.config import from_dict
from appliance.core.catalogue import Product, SoldBy
from appliance.core.order import Order, OrderLine, OrderState
from appliance.core.sale import Basket, SaleLine
from appliance.pasteque import sessions, tickets
from appliance.pasteque.mapping import Category, Mapping, MappingError, Paid, build
from appliance.pasteque.tickets import Figures

TOMATO = Product("TOM", "Tomate", SoldBy.WEIGHT, 590, 550, category="Légumes")
CIDER = Product("CIDRE", "Cidre", SoldBy.PIECE, 450, 2000, category="Boissons")
MAPPING = Mapping(
    register_id=7,
    register_reference="comptoir-test",
    register_label="Comptoir",
    next_ticket_id=1,
    cashier_id=3,
    currency_id=1,
    server_version="8.9",
    taxes={550: 11, 2000: 13},
    modes={"card": 21, "online": 22, "refund": 23},
    mode_references={21: "magcard", 22: "online", 23: "avoir"},
    categories={"legumes": Category("leg", "Légumes")},
    products={"TOM": 99},
)


def ticket_of(basket: Basket, paid: Paid = Paid.CARD, sign: int = 1):
    lines = tickets.sale_lines_of_basket(basket, {"TOM": "Légumes", "CIDRE": "Boissons"}, sign)
    return tickets.build(MAPPING, lines, paid, number=5, date_s=1_700_000_000)


def test_a_weighed_line_goes_in_kilograms_with_its_price_per_kg_and_legal_price() -> None:
    content, _ = ticket_of(Basket((SaleLine.weighed(TOMATO, 352),)))
    (line,) = content["lines"]
    assert line["quantity"] == 0.352
    assert line["taxedUnitPrice"] == 5.9
    assert line["taxedPrice"] == line["finalTaxedPrice"] == 2.08  # 352 g x 5.90 €/kg, half-up
    assert (line["tax"], line["taxRate"], line["product"]) == (11, 0.055, 99)
    assert line["unitPrice"] is None and line["price"] is None  # the tax-included form only


def test_the_ticket_carries_the_receipts_vat_per_rate_and_the_card_payment() -> None:
    basket = Basket((SaleLine.weighed(TOMATO, 1234), SaleLine.pieces(CIDER, 2)))
    content, figures = ticket_of(basket)
    expected = {v.rate_bp: (v.net_cents, v.vat_cents) for v in basket.vat_breakdown()}
    assert {t.rate_bp: (t.base_cents, t.vat_cents) for t in figures.taxes} == expected
    assert content["finalTaxedPrice"] == basket.total_cents / 100
    assert content["payments"] == [
        {
            "dispOrder": 1,
            "paymentMode": 21,
            "currency": 1,
            "amount": basket.total_cents / 100,
            "currencyAmount": basket.total_cents / 100,
        }
    ]
    assert (content["cashRegister"], content["number"], content["user"]) == (7, 5, 3)
    assert "sequence" not in content  # given when its session opens


def test_a_refund_mirrors_its_sale_to_the_cent() -> None:
    basket = Basket((SaleLine.weighed(TOMATO, 1234), SaleLine.pieces(CIDER, 3)))
    _, sale = ticket_of(basket)
    content, refund = ticket_of(basket, Paid.REFUND, sign=-1)
    assert refund.total_cents == -sale.total_cents
    assert [(t.base_cents, t.vat_cents) for t in refund.taxes] == [
        (-t.base_cents, -t.vat_cents) for t in sale.taxes
    ]
    assert content["lines"][0]["quantity"] == -1.234
    assert refund.payments == ((23, -sale.total_cents),)


def test_categories_of_a_rate_add_up_to_the_rates_figures() -> None:
    beans = Product("HAR", "Haricot", SoldBy.WEIGHT, 850, 550, category="Inconnue")
    basket = Basket((SaleLine.weighed(TOMATO, 333), SaleLine.weighed(beans, 777)))
    _, figures = ticket_of(basket)
    (tax,) = figures.taxes
    assert sum(c.vat_cents for c in figures.categories) == tax.vat_cents
    assert sum(c.base_cents for c in figures.categories) == tax.base_cents
    assert {c.label for c in figures.categories} == {"Légumes", "Comptoir"}  # sku not known


@settings(deadline=None, max_examples=300)
@given(st.integers(-(10**6), 10**6), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_sharing_out_vat_always_adds_up_exactly(amount: int, weights: list[int]) -> None:
    parts = tickets.share(amount, weights)
    assert sum(parts) == (amount if sum(weights) else 0)


def test_an_order_handed_out_is_paid_online_with_its_fees_on_a_line_of_their_own() -> None:
    order = Order(
        "R000000101",
        OrderState.COLLECTED,
        "Alice",
        total_cents=1200 + 2 * 330 + 150,
        lines=(
            OrderLine("Panier", 1, price_cents=1200, variant_id=5),
            OrderLine("Œufs", 2, price_cents=330),
        ),
    )
    lines = tickets.order_lines(order, {5: ("TOM", 550, "Légumes")}, 550)
    content, figures = tickets.build(MAPPING, lines, Paid.ONLINE, number=9, date_s=1)
    assert [line["productLabel"] for line in content["lines"]] == [
        "Panier",
        "Œufs",
        tickets.FEES_LABEL,
    ]
    assert figures.total_cents == order.total_cents
    assert figures.payments == ((22, order.total_cents),)
    assert content["lines"][1]["quantity"] == 2.0


def test_a_vat_rate_pastèque_lacks_is_named_with_what_needs_it() -> None:
    wine = Product("VIN", "Vin rouge", SoldBy.PIECE, 800, 1000)
    with pytest.raises(MappingError, match=r"no tax at 10 % \(needed by Vin rouge\)"):
        ticket_of(Basket((SaleLine.pieces(wine, 1),)))


def test_figures_survive_storage_unchanged() -> None:
    _, figures = ticket_of(Basket((SaleLine.weighed(TOMATO, 999), SaleLine.pieces(CIDER, 1))))
    assert Figures.from_json(figures.to_json()) == figures


# -- the mapping ----------------------------------------------------------------------------------

SYNCED = {
    "taxes": [
        {"id": 11, "label": "TVA 5,5", "rate": 0.055},
        {"id": 13, "label": "TVA 20", "rate": 0.2},
    ],
    "paymentmodes": [
        {"id": 21, "reference": "magcard", "type": 0},
        {"id": 22, "reference": "online", "type": 0},
        {"id": 24, "reference": "prepaid", "type": 5},
    ],
    "currencies": [{"id": 1, "main": True}],
    "users": [{"id": 3, "name": "Comptoir"}],
    "categories": [{"id": 4, "reference": "leg", "label": "Légumes"}],
    "products": [{"id": 99, "reference": "TOM"}],
}
REGISTER = {"id": 7, "reference": "comptoir-test", "label": "Comptoir", "nextTicketId": 12}


def config(**pasteque: object):
    return from_dict({"pasteque": {"enabled": True, **pasteque}})


def test_the_mapping_finds_taxes_by_rate_modes_by_reference_and_categories_by_name() -> None:
    found = build(config(), REGISTER, SYNCED, "8.9")
    assert found.taxes == {550: 11, 2000: 13}
    assert found.modes == {"card": 21, "online": 22, "refund": 21}
    assert found.category_for("LEGUMES") == Category("leg", "Légumes")
    assert found.category_for("Fromages") == Category("fromages", "Fromages")
    assert found.next_ticket_id == 12
    assert Mapping.from_json(found.to_json()) == found


def test_a_missing_payment_mode_is_named_with_what_to_create_or_set() -> None:
    with pytest.raises(MappingError) as caught:
        build(config(online_payment_mode="en-ligne"), REGISTER, SYNCED, "8.9")
    message = str(caught.value)
    assert "'en-ligne'" in message and "orders paid online" in message
    assert "online_payment_mode" in message and "Modes de paiement" in message


def test_a_payment_mode_that_needs_a_customer_is_refused() -> None:
    with pytest.raises(MappingError, match="needs a customer account"):
        build(config(online_payment_mode="prepaid"), REGISTER, SYNCED, "8.9")


def test_a_missing_cashier_is_named() -> None:
    with pytest.raises(MappingError, match="no user named 'Caisse 2'"):
        build(config(cashier="Caisse 2"), REGISTER, SYNCED, "8.9")


# -- sessions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "kind"),
    [("2026-11-20", 0), ("2026-11-30", 1), ("2026-12-31", 2), ("2027-02-28", 1)],
)
def test_the_close_type_follows_the_calendar(day: str, kind: int) -> None:
    assert sessions.close_type(date.fromisoformat(day)) == kind


def test_a_fiscal_year_starting_in_july_closes_on_june_30() -> None:
    assert sessions.close_type(date(2027, 6, 30), (7, 1)) == 2
    assert sessions.fiscal_year_of(date(2027, 6, 30), (7, 1)) == 2026


def close(carried: dict, *, new_period: bool = False, new_year: bool = False) -> dict:
    _, figures = ticket_of(Basket((SaleLine.weighed(TOMATO, 1000), SaleLine.pieces(CIDER, 1))))
    return sessions.close_body(
        MAPPING,
        4,
        continuous=True,
        open_date_s=10,
        close_date_s=20,
        figures=[figures, figures],
        carried=sessions.Carried.of(carried),
        new_period=new_period,
        new_year=new_year,
        kind=0,
    )


CARRIED = {
    "csPeriod": 100.0,
    "csFYear": 1000.0,
    "csPerpetual": 5000.0,
    "taxes": [
        {
            "tax": 11,
            "basePeriod": 90.0,
            "amountPeriod": 4.95,
            "baseFYear": 900.0,
            "amountFYear": 49.5,
        }
    ],
}


def test_a_close_adds_the_session_to_the_running_totals_the_server_carried() -> None:
    body = close(CARRIED)
    # two tickets of 5.90 € at 5.5 % (base 5.59) and 4.50 € at 20 % (base 3.75)
    assert body["cs"] == 18.68
    assert (body["csPeriod"], body["csFYear"], body["csPerpetual"]) == (118.68, 1018.68, 5018.68)
    tax = next(t for t in body["taxes"] if t["tax"] == 11)
    assert (tax["base"], tax["basePeriod"], tax["baseFYear"]) == (11.18, 101.18, 911.18)
    assert body["payments"] == [
        {"paymentMode": 21, "currency": 1, "amount": 20.8, "currencyAmount": 20.8}
    ]
    assert body["ticketCount"] == 2 and body["closeCash"] == 0.0


def test_a_session_in_a_new_month_restarts_the_period_totals() -> None:
    body = close(CARRIED, new_period=True)
    assert (body["csPeriod"], body["csFYear"]) == (18.68, 1018.68)
    body = close(CARRIED, new_period=True, new_year=True)
    assert (body["csPeriod"], body["csFYear"], body["csPerpetual"]) == (18.68, 18.68, 5018.68)
