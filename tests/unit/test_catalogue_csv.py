"""Reading a producer's catalogue spreadsheet: exact cents, and errors a producer can act on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.core.catalogue import Product, SoldBy
from appliance.core.catalogue_csv import hundredths, parse_catalogue

HEADER = "sku,name,sold_by,unit_price,vat_rate\n"


@settings(deadline=None, max_examples=300)
@given(st.integers(min_value=0, max_value=10**9 - 1), st.sampled_from([".", ","]))
def test_price_in_euros_becomes_exact_cents(cents: int, decimal: str) -> None:
    euros, rest = divmod(cents, 100)
    assert hundredths(f"{euros}{decimal}{rest:02d}") == cents
    if rest % 10 == 0:
        assert hundredths(f"{euros}{decimal}{rest // 10}") == cents
    if rest == 0:
        assert hundredths(str(euros)) == cents


def test_text_that_is_not_a_price_is_refused() -> None:
    for text in ["", "4.505", "4.", ".50", "-1.00", "1e3", "4,5x", "NaN", "٤.٥٠"]:
        assert hundredths(text) is None, text


def test_row_becomes_a_product_in_cents_and_basis_points() -> None:
    parsed = parse_catalogue(
        "sku,name,sold_by,unit_price,vat_rate,producer,plu,tare_g,category,origin,stock,active\n"
        "TOMME,Tomme de vache,weight,18.90,5.5,GAEC du Val Fleuri,301,10,Fromages,France,,oui\n"
        "BOUGIE,Bougie,piece,6 €,20 %,Rucher du Coteau,801,,Maison,,8,no\n"
    )
    assert parsed.errors == ()
    assert parsed.products == (
        Product(
            "TOMME",
            "Tomme de vache",
            SoldBy.WEIGHT,
            1890,
            550,
            producer="GAEC du Val Fleuri",
            plu=301,
            tare_g=10,
            category="Fromages",
            origin="France",
        ),
        Product(
            "BOUGIE",
            "Bougie",
            SoldBy.PIECE,
            600,
            2000,
            producer="Rucher du Coteau",
            plu=801,
            category="Maison",
            stock=8,
            active=False,
        ),
    )


def test_every_bad_cell_is_reported_with_line_column_value_and_expectation() -> None:
    parsed = parse_catalogue(HEADER + "A,Pomme,weight,2.60,5.5\n\nB,Poire,by_kg,2.6O,55.55\n")
    assert parsed.products == ()
    assert [(e.line, e.column, e.value) for e in parsed.errors] == [
        (4, "sold_by", "by_kg"),
        (4, "unit_price", "2.6O"),
    ]
    assert str(parsed.errors[0]) == (
        "line 4, column sold_by: found 'by_kg', expected weight (price per kg) "
        "or piece (price per piece)"
    )


def test_line_numbers_count_quoted_cells_that_span_lines() -> None:
    parsed = parse_catalogue(HEADER + 'A,"Pomme\nGolden",weight,2.60,5.5\nB,Poire,weight,x,5.5\n')
    assert [(e.line, e.column) for e in parsed.errors] == [(4, "unit_price")]


def test_misspelt_column_gets_a_suggestion() -> None:
    parsed = parse_catalogue("sku,name,sold_by,unit_prise,vat_rate\nA,Pomme,weight,2.60,5.5\n")
    messages = [str(e) for e in parsed.errors]
    assert any("column unit_prise" in m and "unit_price (a typing mistake?)" in m for m in messages)


def test_price_given_twice_is_ambiguous() -> None:
    parsed = parse_catalogue(
        "sku,name,sold_by,unit_price,unit_price_cents,vat_rate\nA,Pomme,weight,2.60,260,5.5\n"
    )
    assert [e.column for e in parsed.errors] == ["unit_price_cents"]


def test_duplicate_plu_would_make_two_products_share_a_barcode() -> None:
    parsed = parse_catalogue(
        "sku,name,sold_by,unit_price,vat_rate,plu\nA,Pomme,weight,2.6,5.5,12\nB,Poire,weight,3,5.5,12\n"
    )
    assert [(e.line, e.column, e.value) for e in parsed.errors] == [(3, "plu", "12")]
    assert "line 2" in parsed.errors[0].expected


def test_product_barcode_layout_must_fit_the_product() -> None:
    parsed = parse_catalogue(
        "sku,name,sold_by,unit_price,vat_rate,plu,barcode_layout\n"
        "A,Oeufs,piece,2.4,5.5,1,28 IIIII WWWWW C\n"
        "B,Pomme,weight,2.6,5.5,123456,\n"
        "C,Poire,weight,3,5.5,12345,20 IIII PPPPPP C\n"
        "D,Noix,weight,7.5,5.5,1,2X\n"
    )
    assert [(e.line, e.column) for e in parsed.errors] == [
        (2, "barcode_layout"),
        (3, "plu"),
        (4, "plu"),
        (5, "barcode_layout"),
    ]


def test_piece_product_has_no_container_tare() -> None:
    parsed = parse_catalogue(
        "sku,name,sold_by,unit_price,vat_rate,tare_g\nA,Miel,piece,9.5,5.5,20\n"
    )
    assert [(e.line, e.column, e.value) for e in parsed.errors] == [(2, "tare_g", "20")]


def test_empty_file_and_header_only_file_are_refused() -> None:
    assert parse_catalogue("").errors[0].line == 1
    assert parse_catalogue(HEADER).errors[0].line == 2


def test_reimport_keeps_what_the_file_leaves_out() -> None:
    current = Product("A", "Miel", SoldBy.PIECE, 900, 550, producer="Rucher", stock=7, id=3)
    parsed = parse_catalogue(HEADER + "A,Miel d'acacia,piece,9.50,5.5\n")
    updated = parsed.update(current, parsed.products[0])
    assert (updated.name, updated.unit_price_cents) == ("Miel d'acacia", 950)
    assert (updated.producer, updated.stock) == ("Rucher", 7)
    assert parsed.update(None, parsed.products[0]) == parsed.products[0]
