"""What a legal price label shows (metrology reference §4.2, §5.2 rules 4, 5 and 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.core.barcode import BarcodeLayout, decode
from appliance.core.catalogue import Product, SoldBy
from appliance.core.label import Shop, label_for_pieces, label_for_weighing
from appliance.core.weighing import (
    NotAcceptable,
    Reading,
    ReadingStatus,
    ScaleSpec,
    Weighing,
    WeighingGate,
)

SHOP = Shop(
    "Ferme des Lilas", "12 chemin des Prés, 26000 Valence", "lilas-1", ZoneInfo("Europe/Paris")
)
PRICE_LAYOUT = BarcodeLayout.parse("20 IIIII V PPPP C")
APPLES = Product(
    sku="POM-GOLD",
    name="Pommes Golden",
    sold_by=SoldBy.WEIGHT,
    unit_price_cents=349,
    vat_rate_bp=550,
    producer="Verger Martin",
    plu=101,
    origin="France",
)
EGGS = Product("OEUFS-6", "Œufs plein air x6", SoldBy.PIECE, 290, 550, plu=202)
PACKED = datetime(2025, 3, 5, 13, 32, tzinfo=UTC)  # 14:32 in Paris


def _accepted(weight_g: int, tare_g: int = 0) -> Weighing:
    gate = WeighingGate(ScaleSpec(interval_g=2, capacity_g=15000, min_load_g=40))
    if tare_g:
        gate.take_tare(Reading(ReadingStatus.STABLE, tare_g))
    return gate.accept(Reading(ReadingStatus.STABLE, weight_g + tare_g), APPLES.unit_price_cents)


def _label(weighing, layout=PRICE_LAYOUT):
    return label_for_weighing(
        weighing,
        APPLES,
        shop=SHOP,
        interval_g=2,
        layout=layout,
        packed_at=PACKED,
        ticket=42,
        lot="L0305",
    )


def _text(label) -> str:
    return "\n".join(line.text for line in label.lines())


def test_weighed_label_shows_weight_unit_price_and_price_in_agreement():
    label = _label(_accepted(1234))
    text = _text(label)
    assert "Pommes Golden" in text
    assert "Poids net 1,234 kg" in text
    assert "3,49 €/kg" in text
    assert "À PAYER 4,31 €" in text  # 1.234 kg x 3.49 = 4.30666 -> 4.31
    assert label.price_cents == 431


def test_label_shows_producer_origin_shop_lot_ticket_and_local_packing_time():
    text = _text(_label(_accepted(1234)))
    for expected in (
        "Producteur : Verger Martin",
        "Origine : France",
        "Ferme des Lilas - 12 chemin des Prés, 26000 Valence",
        "Lot L0305",
        "Emballé le 05/03/2025 14:32",
        "Ticket n° 42 · lilas-1",
    ):
        assert expected in text


def test_net_weight_is_marked_and_tare_shown_when_a_tare_is_active():
    label = _label(_accepted(1000, tare_g=150))
    assert label.net and label.tare_g == 150
    assert "NET 1,000 kg   Tare 0,150 kg" in _text(label)


def test_barcode_carries_the_price_to_pay_and_the_plu():
    decoded = decode(PRICE_LAYOUT, _label(_accepted(1234)).barcode)
    assert (decoded.item, decoded.price_cents) == (101, 431)


def test_weight_layout_carries_the_net_weight():
    layout = BarcodeLayout.parse("26 IIIII WWWWW C")
    decoded = decode(layout, _label(_accepted(1000, tare_g=150), layout).barcode)
    assert decoded.weight_g == 1000


def test_refused_weighing_never_makes_a_label():
    with pytest.raises(NotAcceptable):
        _accepted(20)  # below the minimum of 40 g
    with pytest.raises(TypeError, match="accepted Weighing"):
        _label(Reading(ReadingStatus.STABLE, 1234))


def test_price_too_large_for_the_barcode_is_refused():
    heavy = Product("TRUFFE", "Truffe noire", SoldBy.WEIGHT, 100000, 550, plu=1)
    weighing = WeighingGate(ScaleSpec(2, 15000, 40)).accept(
        Reading(ReadingStatus.STABLE, 200), heavy.unit_price_cents
    )
    with pytest.raises(ValueError, match="does not fit"):
        label_for_weighing(
            weighing,
            heavy,
            shop=SHOP,
            interval_g=2,
            layout=PRICE_LAYOUT,
            packed_at=PACKED,
            ticket=1,
        )


def test_piece_label_shows_quantity_and_price_per_piece():
    label = label_for_pieces(3, EGGS, shop=SHOP, layout=PRICE_LAYOUT, packed_at=PACKED, ticket=7)
    text = _text(label)
    assert "Quantité 3 pièce(s)" in text and "2,90 €/pièce" in text and "À PAYER 8,70 €" in text
    assert label.weight_g is None
    assert decode(PRICE_LAYOUT, label.barcode).price_cents == 870


def test_flag_layout_must_be_completed_in_the_product():
    with pytest.raises(ValueError, match="in place of F"):
        _label(_accepted(1234), BarcodeLayout.parse("2F IIIII V PPPP C"))


def test_naive_packing_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        label_for_pieces(
            1, EGGS, shop=SHOP, layout=PRICE_LAYOUT, packed_at=datetime(2025, 1, 1), ticket=1
        )


def test_english_label():
    shop = Shop("Lilac Farm", "", "lilas-1", ZoneInfo("Europe/London"), language="en")
    label = label_for_weighing(
        _accepted(1234),
        APPLES,
        shop=shop,
        interval_g=2,
        layout=PRICE_LAYOUT,
        packed_at=PACKED,
        ticket=1,
    )
    text = _text(label)
    assert "Net weight 1.234 kg" in text and "TO PAY 4.31 €" in text
    assert "Packed on 2025-03-05 13:32" in text
