"""GS1 variable-measure EAN-13 barcodes (prefix 20-29) with the price or weight in the code.

A shop chooses where the item reference, the price (or weight) and the optional price verifier
digit sit in the 13 digits; that choice is a layout string (metrology reference §4.1):

    2F IIIII V PPPP C     digits   fixed prefix digits (the first must be 2, so 20-29)
                          F        one flag digit chosen by the caller (`encode(..., flag=D)`)
                          I        item reference (the product's PLU), one run of digits
                          P or W   price in cents, or weight in grams (one kind per layout)
                          V        price/weight verifier over the P/W run (4 or 5 digits only)
                          C        the EAN-13 check digit, always the last position
    spaces are ignored; exactly 13 positions.

python-escpos prints, and python-barcode draws, whatever 13 digits they are given, so both check
digits are computed here: the price verifier digit (V) is one no library has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

EAN13_LENGTH = 13
_ITEM, _PRICE, _WEIGHT, _VERIFIER, _CHECK, _FLAG = "I", "P", "W", "V", "C", "F"


class MeasureKind(StrEnum):
    """What the variable part of the code holds."""

    PRICE = "price"
    WEIGHT = "weight"


# -- check digits ---------------------------------------------------------------------------------


def ean13_check_digit(first12: str) -> int:
    """Weights 1,3,1,3... from the left over the first 12 digits; (10 - sum mod 10) mod 10."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"an EAN-13 check digit needs 12 digits, not {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _two_minus(d: int) -> int:
    return (2 * d - 2 * d // 10) % 10


def _three(d: int) -> int:
    return 3 * d % 10


def _five_plus(d: int) -> int:
    return (5 * d + 5 * d // 10) % 10


def _five_minus(d: int) -> int:
    return (5 * d - 5 * d // 10) % 10


_FIVE_MINUS_INVERSE = {_five_minus(d): d for d in range(10)}


def verifier_digit(value: str) -> int:
    """GS1 price/weight verifier digit (General Specifications §7.9.3) of 4 or 5 digits.

    4 digits: weightings 2-, 2-, 3, 5-, sum x 3, units digit (2875 -> 9). 5 digits: weightings
    5+, 2-, 5-, 5+, 2-, sum s, then the digit whose 5- weighting is (10 - s mod 10) mod 10
    (14685 -> 6; stopping at that remainder, 7, is a common mistake).
    """
    if not value.isdigit() or len(value) not in (4, 5):
        raise ValueError(f"a price verifier digit needs 4 or 5 digits, not {value!r}")
    digits = [int(d) for d in value]
    if len(digits) == 4:
        weightings: tuple[Callable[[int], int], ...] = (_two_minus, _two_minus, _three, _five_minus)
        return sum(f(d) for f, d in zip(weightings, digits, strict=True)) * 3 % 10
    weightings = (_five_plus, _two_minus, _five_minus, _five_plus, _two_minus)
    total = sum(f(d) for f, d in zip(weightings, digits, strict=True))
    return _FIVE_MINUS_INVERSE[(10 - total % 10) % 10]


# -- layouts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarcodeLayout:
    """Where each part of a variable-measure EAN-13 sits; build it with `parse`."""

    text: str
    pattern: str  # 13 symbols, spaces removed
    kind: MeasureKind

    @classmethod
    def parse(cls, text: str) -> BarcodeLayout:
        """Check a layout string; every mistake is a ValueError that names the layout."""
        pattern = "".join(text.split())

        def wrong(why: str) -> ValueError:
            return ValueError(f"barcode layout {text!r}: {why}")

        if len(pattern) != EAN13_LENGTH:
            raise wrong(f"has {len(pattern)} positions, an EAN-13 has exactly 13")
        unknown = sorted(set(pattern) - set("0123456789FIPWVC"))
        if unknown:
            raise wrong(
                f"unknown symbol {unknown[0]!r}: use digits, F (flag), I (item), "
                f"P (price) or W (weight), V (verifier) and C (check digit)"
            )
        if pattern[0] != "2" or not (pattern[1].isdigit() or pattern[1] == _FLAG):
            raise wrong("must start with a prefix 20-29 (2, then a digit or F)")
        if pattern[-1] != _CHECK or pattern.count(_CHECK) != 1:
            raise wrong("needs exactly one C, the EAN-13 check digit, in the last position")
        lead = len(pattern) - len(pattern.lstrip("0123456789F"))
        if any(ch.isdigit() or ch == _FLAG for ch in pattern[lead:]):
            raise wrong("fixed digits and F belong to the prefix at the start, before I, P or W")
        if pattern.count(_FLAG) > 1:
            raise wrong("has more than one flag digit F")
        if _PRICE in pattern and _WEIGHT in pattern:
            raise wrong("holds a price (P) or a weight (W), not both")
        kind = MeasureKind.WEIGHT if _WEIGHT in pattern else MeasureKind.PRICE
        value_symbol = _WEIGHT if kind is MeasureKind.WEIGHT else _PRICE
        for symbol, name in ((_ITEM, "item reference I"), (value_symbol, f"{kind} digits")):
            if symbol not in pattern:
                raise wrong(f"has no {name}")
            if symbol * pattern.count(symbol) not in pattern:
                raise wrong(f"the {name} must be one run of adjacent positions")
        if pattern.count(_VERIFIER) > 1:
            raise wrong("has more than one verifier digit V")
        if _VERIFIER in pattern and pattern.count(value_symbol) not in (4, 5):
            raise wrong(
                f"a verifier digit V needs 4 or 5 {kind} digits, not {pattern.count(value_symbol)}"
            )
        return cls(text=text, pattern=pattern, kind=kind)

    @property
    def value_symbol(self) -> str:
        return _WEIGHT if self.kind is MeasureKind.WEIGHT else _PRICE

    @property
    def item_digits(self) -> int:
        return self.pattern.count(_ITEM)

    @property
    def value_digits(self) -> int:
        return self.pattern.count(self.value_symbol)

    @property
    def has_verifier(self) -> bool:
        return _VERIFIER in self.pattern

    @property
    def has_flag(self) -> bool:
        return _FLAG in self.pattern

    def span(self, symbol: str) -> slice:
        start = self.pattern.index(symbol)
        return slice(start, start + self.pattern.count(symbol))


@dataclass(frozen=True)
class DecodedBarcode:
    """What a variable-measure code says; exactly one of price_cents and weight_g is set."""

    digits: str
    item: int
    price_cents: int | None
    weight_g: int | None
    flag: int | None


def encode(
    layout: BarcodeLayout,
    item: int,
    price_cents: int | None = None,
    weight_g: int | None = None,
    *,
    flag: int | None = None,
) -> str:
    """The 13 digits of a code, refusing any value that does not fit its digits."""
    if layout.kind is MeasureKind.PRICE:
        value, name, other = price_cents, "price_cents", weight_g
    else:
        value, name, other = weight_g, "weight_g", price_cents
    if value is None or other is not None:
        raise ValueError(f"barcode layout {layout.text!r} encodes {layout.kind}: give only {name}")
    fields = {
        _ITEM: ("item reference", item, layout.item_digits),
        layout.value_symbol: (name, value, layout.value_digits),
    }
    if layout.has_flag:
        if flag is None:
            raise ValueError(f"barcode layout {layout.text!r} has a flag digit F: give the flag")
        fields[_FLAG] = ("flag", flag, 1)
    elif flag is not None:
        raise ValueError(f"barcode layout {layout.text!r} has no flag digit F for flag {flag}")
    digits = list(layout.pattern)
    for symbol, (what, number, width) in fields.items():
        if not 0 <= number < 10**width:
            raise ValueError(
                f"{what} {number} does not fit the {width} digit(s) of barcode layout "
                f"{layout.text!r} (0 to {10**width - 1})"
            )
        digits[layout.span(symbol)] = f"{number:0{width}d}"
    if layout.has_verifier:
        value_text = "".join(digits[layout.span(layout.value_symbol)])
        digits[layout.pattern.index(_VERIFIER)] = str(verifier_digit(value_text))
    first12 = "".join(digits[:12])
    return first12 + str(ean13_check_digit(first12))


def decode(layout: BarcodeLayout, digits: str) -> DecodedBarcode:
    """Read a scanned code back; a wrong prefix, check digit or verifier is a ValueError."""
    if len(digits) != EAN13_LENGTH or not digits.isdigit():
        raise ValueError(f"{digits!r} is not 13 digits")
    for position, (symbol, digit) in enumerate(zip(layout.pattern, digits, strict=True)):
        if symbol.isdigit() and symbol != digit:
            raise ValueError(
                f"{digits} does not match barcode layout {layout.text!r}: "
                f"position {position + 1} must be {symbol}"
            )
    if ean13_check_digit(digits[:12]) != int(digits[12]):
        raise ValueError(f"{digits}: wrong EAN-13 check digit, the code was misread or altered")
    value_text = digits[layout.span(layout.value_symbol)]
    if layout.has_verifier and verifier_digit(value_text) != int(
        digits[layout.pattern.index(_VERIFIER)]
    ):
        raise ValueError(
            f"{digits}: wrong {layout.kind} verifier digit, the {layout.kind} is wrong"
        )
    value = int(value_text)
    return DecodedBarcode(
        digits=digits,
        item=int(digits[layout.span(_ITEM)]),
        price_cents=value if layout.kind is MeasureKind.PRICE else None,
        weight_g=value if layout.kind is MeasureKind.WEIGHT else None,
        flag=int(digits[layout.pattern.index(_FLAG)]) if layout.has_flag else None,
    )


# -- bars -----------------------------------------------------------------------------------------


def ean13_modules(digits: str) -> str:
    """The 95 modules of an EAN-13 symbol, '1' for a bar, for drawing it without a printer font.

    python-barcode draws exactly these 13 digits (`no_checksum`): our check digits, computed
    above, are what the bars say."""
    from barcode import EAN13  # here: python-barcode costs 4.5 MB, and only drawing needs it

    if len(digits) != EAN13_LENGTH or not digits.isdigit():
        raise ValueError(f"{digits!r} is not 13 digits")
    modules: str = EAN13(digits, no_checksum=True).build()[0]
    return modules
