"""GS1 variable-measure EAN-13: check digits, layouts, encode/decode (metrology reference §4.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.barcode import (
    BarcodeLayout,
    MeasureKind,
    decode,
    ean13_check_digit,
    ean13_modules,
    encode,
    verifier_digit,
)

PRICE_4 = BarcodeLayout.parse("20 IIIII V PPPP C")
PRICE_5 = BarcodeLayout.parse("2F IIII PPPPP V C")
WEIGHT_NO_VERIFIER = BarcodeLayout.parse("26 IIIII WWWWW C")
LAYOUTS = (PRICE_4, PRICE_5, WEIGHT_NO_VERIFIER, BarcodeLayout.parse("2F PPPPP IIIII C"))


def test_four_digit_price_verifier_of_the_gs1_example():
    assert verifier_digit("2875") == 9


def test_five_digit_price_verifier_of_the_gs1_example_is_the_inverse_not_the_remainder():
    assert verifier_digit("14685") == 6


@pytest.mark.parametrize(
    "first12, check", [("400638133393", 1), ("590123412345", 7), ("200000000000", 8)]
)
def test_ean13_check_digit_of_known_codes(first12, check):
    assert ean13_check_digit(first12) == check


def test_price_label_code_holds_item_verifier_price_and_check_digit():
    digits = encode(PRICE_4, 12345, price_cents=2875)
    assert digits == "2012345" + "9" + "2875" + str(ean13_check_digit("201234592875"))


def test_flag_digit_comes_from_the_caller():
    digits = encode(PRICE_5, 42, price_cents=14685, flag=3)
    assert digits[:2] == "23"
    assert digits[6:11] == "14685" and digits[11] == "6"
    assert decode(PRICE_5, digits).flag == 3


def test_layout_with_flag_refuses_to_encode_without_one():
    with pytest.raises(ValueError, match="flag"):
        encode(PRICE_5, 42, price_cents=100)


def test_weight_layout_encodes_grams():
    digits = encode(WEIGHT_NO_VERIFIER, 7, weight_g=1234)
    decoded = decode(WEIGHT_NO_VERIFIER, digits)
    assert (decoded.item, decoded.weight_g, decoded.price_cents) == (7, 1234, None)
    assert WEIGHT_NO_VERIFIER.kind is MeasureKind.WEIGHT


@pytest.mark.parametrize(
    "kwargs, what",
    [
        ({"item": 123456, "price_cents": 100}, "item reference 123456"),
        ({"item": 1, "price_cents": 10000}, "price_cents 10000"),
        ({"item": 1, "price_cents": -1}, "price_cents -1"),
    ],
)
def test_values_that_do_not_fit_the_digits_are_refused(kwargs, what):
    with pytest.raises(ValueError, match=what):
        encode(PRICE_4, **kwargs)


def test_price_layout_refuses_a_weight():
    with pytest.raises(ValueError, match="encodes price"):
        encode(PRICE_4, 1, weight_g=500)


@pytest.mark.parametrize(
    "text, why",
    [
        ("20 IIIII V PPPP", "13"),
        ("30 IIIII V PPPP C", "prefix 20-29"),
        ("2X IIIII V PPPP C", "unknown symbol 'X'"),
        ("20 IIIII V PPPP 1", "last position"),
        ("20 III PP III PP C", "one run"),
        ("20 IIII PPP WWW C", "not both"),
        ("20 IIIIII V PPP C", "4 or 5"),
        ("20 IIII1 V PPPP C", "prefix at the start"),
        ("2F FIIII V PPPP C", "more than one flag"),
        ("20 IIIIIIIIII C", "no price digits"),
    ],
)
def test_bad_layout_is_a_clear_error_naming_the_layout(text, why):
    with pytest.raises(ValueError, match=why) as caught:
        BarcodeLayout.parse(text)
    assert repr(text) in str(caught.value)


def test_decode_refuses_a_code_of_another_prefix():
    digits = encode(PRICE_4, 5, price_cents=199)
    other = "21" + digits[2:12]
    with pytest.raises(ValueError, match="position 2 must be 0"):
        decode(PRICE_4, other + str(ean13_check_digit(other)))


# The EAN-13 symbol as GS1 General Specifications §5.2.1.2 defines it: an independent reference.
L_CODES = ("0001101", "0011001", "0010011", "0111101", "0100011",
           "0110001", "0101111", "0111011", "0110111", "0001011")  # fmt: skip
G_CODES = tuple(code[::-1].translate(str.maketrans("01", "10")) for code in L_CODES)
R_CODES = tuple(code.translate(str.maketrans("01", "10")) for code in L_CODES)
PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
          "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")  # fmt: skip


def gs1_modules(digits: str) -> str:
    parity = PARITY[int(digits[0])]
    left = "".join(
        (L_CODES if p == "L" else G_CODES)[int(d)] for p, d in zip(parity, digits[1:7], strict=True)
    )
    return "101" + left + "01010" + "".join(R_CODES[int(d)] for d in digits[7:]) + "101"


@given(st.from_regex(r"2[0-9]{12}", fullmatch=True))
def test_the_preview_draws_the_bars_of_exactly_the_digits_on_the_label(digits: str) -> None:
    # Any 13 digits, a wrong check digit included: the bars never "correct" the label's digits.
    assert ean13_modules(digits) == gs1_modules(digits)


layouts = st.sampled_from(LAYOUTS)


@st.composite
def codes(draw: st.DrawFn) -> tuple[BarcodeLayout, int, int, int | None]:
    layout = draw(layouts)
    item = draw(st.integers(0, 10**layout.item_digits - 1))
    value = draw(st.integers(0, 10**layout.value_digits - 1))
    flag = draw(st.integers(0, 9)) if layout.has_flag else None
    return layout, item, value, flag


def _encode(layout: BarcodeLayout, item: int, value: int, flag: int | None) -> str:
    key = "price_cents" if layout.kind is MeasureKind.PRICE else "weight_g"
    return encode(layout, item, flag=flag, **{key: value})


@given(codes())
def test_encode_decode_round_trip(code):
    layout, item, value, flag = code
    digits = _encode(layout, item, value, flag)
    decoded = decode(layout, digits)
    assert len(digits) == 13 and digits[0] == "2"
    assert decoded.item == item and decoded.flag == flag
    assert (decoded.price_cents if layout.kind is MeasureKind.PRICE else decoded.weight_g) == value


@given(codes(), st.integers(0, 12), st.integers(1, 9))
def test_any_single_digit_change_is_caught_by_the_check_digit(code, position, shift):
    digits = _encode(*code)
    changed = digits[:position] + str((int(digits[position]) + shift) % 10) + digits[position + 1 :]
    with pytest.raises(ValueError):
        decode(code[0], changed)


@given(codes(), st.data())
def test_verifier_catches_a_changed_price_even_with_a_recomputed_check_digit(code, data):
    layout = code[0]
    if not layout.has_verifier:
        layout = PRICE_4
        code = (layout, code[1] % 10**5, code[2] % 10**4, None)
    digits = _encode(*code)
    span = layout.span(layout.value_symbol)
    position = data.draw(st.integers(span.start, span.stop - 1))
    shift = data.draw(st.integers(1, 9))
    first12 = (
        digits[:position] + str((int(digits[position]) + shift) % 10) + digits[position + 1 : 12]
    )
    with pytest.raises(ValueError, match="verifier"):
        decode(layout, first12 + str(ean13_check_digit(first12)))
