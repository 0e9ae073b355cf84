"""What the customer's receipt says."""

from __future__ import annotations

from appliance.core.catalogue import Product, SoldBy
from appliance.core.receipt import FiscalMark, ReceiptHeader, receipt_lines, receipt_url
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine

TOMATOES = Product("tomates", "Tomates anciennes", SoldBy.WEIGHT, 450, 550)
EGGS = Product("oeufs-6", "6 œufs bio", SoldBy.PIECE, 320, 550)
CIDER = Product("cidre", "Cidre brut fermier de la vallée", SoldBy.PIECE, 600, 2000)
HEADER = ReceiptHeader(
    "Ferme des Lilas", "12 route des Prés, 26000 Valence", "lilas-1", "ab" * 32, "0.1.0"
)
SALE = Sale(
    receipt_number=42,
    device_id="lilas-1",
    token="Zx9-secret_token",
    attempt_id="a1",
    created_at="2026-11-15T13:03:00+00:00",
    basket=Basket(
        (SaleLine.weighed(TOMATOES, 1234), SaleLine.pieces(EGGS, 2), SaleLine.pieces(CIDER, 1))
    ),
    payment=CardPayment("654321", "00B", "497010######0042"),
)


def test_receipt_shows_number_lines_vat_total_card_and_kiosk() -> None:
    text = "\n".join(receipt_lines(SALE, HEADER, "15/11/2026 14:03"))
    assert "Ferme des Lilas" in text and "26000 Valence" in text
    assert "Ticket n° 42" in text and "15/11/2026 14:03" in text
    assert "1,234 kg x 4,50 €/kg" in text and "5,55 €" in text
    assert "2 x 3,20 €" in text and "6,40 €" in text
    assert "TOTAL TTC" in text and "17,95 €" in text
    assert "5,5 %" in text and "11,33 / 0,62 / 11,95" in text
    assert "20 %" in text and "5,00 / 1,00 / 6,00" in text
    assert "CB sans contact" in text and "**** 0042" in text and "497010" not in text
    assert "654321" in text and "lilas-1" in text and "abababab" in text


def test_every_receipt_line_fits_the_roll() -> None:
    for width in (32, 48):
        assert all(len(line) <= width for line in receipt_lines(SALE, HEADER, "x", width))


def test_receipt_link_carries_the_number_and_the_secret_token() -> None:
    assert (
        receipt_url("https://shop.example/r/", SALE)
        == "https://shop.example/r/42?t=Zx9-secret_token"
    )
    assert receipt_url("", SALE) == ""


def test_a_reprint_says_duplicata_and_a_demo_box_says_demo_top_and_bottom() -> None:
    sale = _demo_sale_for_marks()
    header = ReceiptHeader("Ferme", "1 rue, 49000 Angers", "box-1", "ab" * 32, "0.1.0")
    lines = receipt_lines(sale, header, "03/11/2026 10:00", fiscal=FiscalMark(7, "3f9a", "demo", 2))
    assert lines[0].strip() == "*** DÉMO ***" and lines[1].strip() == "*** DUPLICATA n° 2 ***"
    assert lines[-2].strip() == "*** DÉMO ***" and lines[-1].strip() == "*** DUPLICATA n° 2 ***"
    assert any("N° fiscal 7" in line and "sig. 3f9a" in line for line in lines)
    original = receipt_lines(sale, header, "03/11/2026 10:00", fiscal=FiscalMark(7, "3f9a"))
    assert not any("DUPLICATA" in line or "DÉMO" in line for line in original)


def _demo_sale_for_marks() -> Sale:
    eggs = Product("oeufs", "6 œufs", SoldBy.PIECE, 320, 550)
    basket = Basket((SaleLine.pieces(eggs, 1),))
    return Sale(3, "box-1", "tok", "att", "2026-11-03T09:00:00+00:00", basket, CardPayment("1"))
