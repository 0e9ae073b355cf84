"""A producer's catalogue spreadsheet (CSV) read into `Product`s: text in, products or errors out.

The whole file is judged before anything is saved, and every problem names its line, its column,
the value found and what is expected, so a producer can fix the spreadsheet in one go. Prices and
VAT rates are read as decimal text and turned into integer cents and basis points without floats.
Excel's French exports (semicolons, decimal commas, a UTF-8 byte-order mark) are read as well.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.core.barcode import BarcodeLayout, MeasureKind
from appliance.core.catalogue import Product, SoldBy

#: Columns every file must have; a price comes from `unit_price` or `unit_price_cents`.
REQUIRED = ("sku", "name", "sold_by", "vat_rate")
PRICE_COLUMNS = ("unit_price", "unit_price_cents")
OPTIONAL = (
    "producer",
    "plu",
    "tare_g",
    "barcode_layout",
    "category",
    "origin",
    "photo",
    "stock",
    "active",
)
COLUMNS = REQUIRED + PRICE_COLUMNS + OPTIONAL

_HEADER_EXAMPLE = "a first line naming the columns, such as sku,name,sold_by,unit_price,vat_rate"
_PIECE_NEEDS_PRICE = "a layout with the price (P) for a piece product, such as 20 IIIII V PPPP C"
MAX_PLU = 99999  # the longest item reference a GS1 variable-measure layout holds (IIIII)
MAX_TARE_G = 10000
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DECIMAL = re.compile(r"([0-9]{1,7})(?:[.,]([0-9]{1,2}))?")
_TRUE = {"1", "yes", "true", "oui", "y", "o"}
_FALSE = {"0", "no", "false", "non", "n"}


@dataclass(frozen=True)
class RowError:
    """One problem in the file, located the way a spreadsheet shows it (line 1 is the header)."""

    line: int
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        found = repr(self.value) if self.value else "nothing"
        return f"line {self.line}, column {self.column}: found {found}, expected {self.expected}"


@dataclass(frozen=True)
class CatalogueFile:
    """What a file holds: its products when every row is right, else the errors (never both).

    `columns` are the columns present, so that a re-import can keep what the file leaves out.
    """

    products: tuple[Product, ...]
    errors: tuple[RowError, ...]
    columns: tuple[str, ...]

    def update(self, current: Product | None, product: Product) -> Product:
        """`product` as a re-import saves it: what the file leaves out keeps `current`'s value."""
        if current is None:
            return product
        left_out = {
            _FIELD.get(column, column): getattr(current, _FIELD.get(column, column))
            for column in OPTIONAL
            if column not in self.columns
        }
        return dataclasses.replace(product, **left_out)


class _Wrong(ValueError):
    """A cell that does not parse; the message says what is expected."""


def parse_catalogue(text: str) -> CatalogueFile:
    """Read the CSV text of a catalogue; the first line names the columns."""
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return _failed(RowError(1, "(header)", "", _HEADER_EXAMPLE))
    header_errors = _check_header(header)
    if header_errors:
        return CatalogueFile((), tuple(header_errors), tuple(header))
    products: list[Product] = []
    errors: list[RowError] = []
    first_line_of: dict[str, dict[str, int]] = {"sku": {}, "plu": {}}
    line = reader.line_num + 1
    for cells in reader:
        row_line, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            extra = delimiter.join(cells[len(header) :])
            errors.append(
                RowError(row_line, "(row)", extra, f"at most {len(header)} cells, one per column")
            )
            continue
        cells += [""] * (len(header) - len(cells))
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        product, row_errors = _product(row, row_line)
        errors += row_errors
        if product is not None:
            errors += _duplicates(product, row_line, first_line_of)
            products.append(product)
    if errors:
        return CatalogueFile((), tuple(errors), tuple(header))
    if not products:
        return _failed(RowError(2, "(row)", "", "at least one product after the header line"))
    return CatalogueFile(tuple(products), (), tuple(header))


def _failed(error: RowError) -> CatalogueFile:
    return CatalogueFile((), (error,), ())


def _check_header(header: list[str]) -> list[RowError]:
    errors = []
    for name in header:
        if name not in COLUMNS:
            near = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"{near[0]} (a typing mistake?), or " if near else ""
            errors.append(
                RowError(1, name, name, f"{hint}one of the known columns: {', '.join(COLUMNS)}")
            )
    for name in {n for n in header if header.count(n) > 1}:
        errors.append(RowError(1, name, name, "each column once"))
    for name in REQUIRED:
        if name not in header:
            errors.append(RowError(1, name, "", f"a column named {name} in the first line"))
    if not any(name in header for name in PRICE_COLUMNS):
        errors.append(
            RowError(1, "unit_price", "", "a column unit_price (euros) or unit_price_cents")
        )
    elif all(name in header for name in PRICE_COLUMNS):
        errors.append(
            RowError(1, "unit_price_cents", "", "either unit_price or unit_price_cents, not both")
        )
    return errors


def _product(row: dict[str, str], line: int) -> tuple[Product | None, list[RowError]]:
    values: dict[str, Any] = {}
    errors = []
    for column, read in _READERS.items():
        if column not in row:
            continue
        try:
            value = read(row[column])
        except _Wrong as wrong:
            errors.append(RowError(line, column, row[column], str(wrong)))
            continue
        if value is not None:
            values[_FIELD.get(column, column)] = value
    if errors:
        return None, errors
    product = Product(**values)
    if product.tare_g and not product.by_weight:
        return None, [RowError(line, "tare_g", row["tare_g"], "empty or 0 for a piece product")]
    if product.barcode_layout:
        layout = BarcodeLayout.parse(product.barcode_layout)  # checked by its cell reader
        if layout.kind is MeasureKind.WEIGHT and not product.by_weight:
            return None, [
                RowError(line, "barcode_layout", product.barcode_layout, _PIECE_NEEDS_PRICE)
            ]
        if len(str(product.plu)) > layout.item_digits:
            expected = f"at most {layout.item_digits} digits, as barcode_layout {layout.text!r} has"
            return None, [RowError(line, "plu", row["plu"], expected)]
    return product, []


def _duplicates(
    product: Product, line: int, first_line_of: dict[str, dict[str, int]]
) -> list[RowError]:
    errors = []
    for column, key in (("sku", product.sku), ("plu", product.plu)):
        if not key:
            continue
        seen = first_line_of[column].setdefault(str(key), line)
        if seen != line:
            errors.append(
                RowError(line, column, str(key), f"a {column} not already on line {seen}")
            )
    return errors


# -- cells ----------------------------------------------------------------------------------------


def _text(max_len: int = 200) -> Callable[[str], str]:
    def read(cell: str) -> str:
        if len(cell) > max_len:
            raise _Wrong(f"at most {max_len} characters")
        return cell

    return read


def _name(cell: str) -> str:
    if not cell:
        raise _Wrong("the product's name as customers read it (it is required)")
    return _text()(cell)


def _sku(cell: str) -> str:
    if not _SKU.fullmatch(cell):
        raise _Wrong("a product code of letters, digits, '.', '-' or '_', such as TOM-COEUR")
    return cell


def _barcode_layout(cell: str) -> str:
    if cell:
        try:
            BarcodeLayout.parse(cell)
        except ValueError as exc:
            why = str(exc).split(": ", 1)[-1]
            raise _Wrong(f"empty or a layout such as 20 IIIII V PPPP C; this one {why}") from None
    return cell


def _sold_by(cell: str) -> SoldBy:
    try:
        return SoldBy(cell.lower())
    except ValueError:
        raise _Wrong("weight (price per kg) or piece (price per piece)") from None


def hundredths(cell: str) -> int | None:
    """'4.50', '4,5' or '4' -> 450, 450, 400; None when the text is not such a decimal."""
    match = _DECIMAL.fullmatch(cell.replace(" ", ""))
    if not match:
        return None
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def _euros(cell: str) -> int:
    cents = hundredths(cell.removesuffix("€").strip())
    if cents is None:
        raise _Wrong("a price in euros with at most 2 decimals, such as 4.50")
    return cents


def _vat_rate(cell: str) -> int:
    basis_points = hundredths(cell.removesuffix("%").strip())
    if basis_points is None or basis_points > 10000:
        raise _Wrong("a VAT rate in percent from 0 to 100, such as 5.5 or 20")
    return basis_points


def _whole(low: int, high: int, what: str) -> Callable[[str], int | None]:
    def read(cell: str) -> int | None:
        if not cell:
            return None
        if not re.fullmatch(r"[0-9]{1,10}", cell) or not low <= int(cell) <= high:
            raise _Wrong(f"{what}, a whole number from {low} to {high}")
        return int(cell)

    return read


def _cents(cell: str) -> int:
    value = _whole(0, 10**9, "a price in cents")(cell)
    if value is None:
        raise _Wrong("a price in cents, a whole number such as 450")
    return value


def _active(cell: str) -> bool:
    if not cell or cell.lower() in _TRUE:
        return True
    if cell.lower() in _FALSE:
        return False
    raise _Wrong("yes or no (also 1/0, true/false, oui/non); empty means yes")


_READERS: dict[str, Callable[[str], Any]] = {
    "sku": _sku,
    "name": _name,
    "sold_by": _sold_by,
    "unit_price": _euros,
    "unit_price_cents": _cents,
    "vat_rate": _vat_rate,
    "producer": _text(),
    "plu": _whole(0, MAX_PLU, "an item number for price barcodes"),
    "tare_g": _whole(0, MAX_TARE_G, "a container weight in grams"),
    "barcode_layout": _barcode_layout,
    "category": _text(max_len=80),
    "origin": _text(max_len=80),
    "photo": _text(),
    "stock": _whole(0, 10**6, "a count of pieces (or grams) in stock; empty means not counted"),
    "active": _active,
}
#: CSV columns whose `Product` field has another name.
_FIELD = {"unit_price": "unit_price_cents", "vat_rate": "vat_rate_bp"}
