"""`comptoir barcode encode|decode`: GS1 variable-measure EAN-13 codes of a layout.

The layout syntax is described in appliance/core/barcode.py and docs/labels.md.
"""

from __future__ import annotations

import argparse

from appliance.commands._common import add_json_flag, print_json
from appliance.core.barcode import BarcodeLayout, DecodedBarcode, decode, encode
from appliance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("barcode", help="encode or check a price/weight EAN-13 (prefix 20-29)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    layout_help = "layout such as '20 IIIII V PPPP C' (see docs/labels.md)"

    enc = actions.add_parser("encode", help="print the 13 digits for an item and a price/weight")
    enc.add_argument("--layout", required=True, help=layout_help)
    enc.add_argument("--item", type=int, required=True, metavar="N", help="item reference (PLU)")
    value = enc.add_mutually_exclusive_group(required=True)
    value.add_argument("--price-cents", type=int, metavar="N", help="price to pay in cents")
    value.add_argument("--weight-g", type=int, metavar="N", help="net weight in grams")
    enc.add_argument("--flag", type=int, metavar="D", help="the digit written at F in the layout")
    add_json_flag(enc)
    enc.set_defaults(func=run_encode)

    dec = actions.add_parser("decode", help="check a scanned code and say what it holds")
    dec.add_argument("digits", metavar="DIGITS", help="the 13 digits")
    dec.add_argument("--layout", required=True, help=layout_help)
    add_json_flag(dec)
    dec.set_defaults(func=run_decode)


def _layout(text: str) -> BarcodeLayout:
    try:
        return BarcodeLayout.parse(text)
    except ValueError as exc:
        raise UsageError(f"--layout: {exc}") from None


def _as_dict(layout: BarcodeLayout, code: DecodedBarcode) -> dict[str, object]:
    return {
        "digits": code.digits,
        "layout": layout.text,
        "kind": layout.kind.value,
        "item": code.item,
        "price_cents": code.price_cents,
        "weight_g": code.weight_g,
        "flag": code.flag,
    }


def run_encode(args: argparse.Namespace) -> int:
    layout = _layout(args.layout)
    try:
        digits = encode(
            layout, args.item, price_cents=args.price_cents, weight_g=args.weight_g, flag=args.flag
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(_as_dict(layout, decode(layout, digits)))
    else:
        print(digits)
    return 0


def run_decode(args: argparse.Namespace) -> int:
    layout = _layout(args.layout)
    try:
        code = decode(layout, args.digits)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(_as_dict(layout, code))
    else:
        value = (
            f"price {code.price_cents} cents"
            if code.price_cents is not None
            else f"weight {code.weight_g} g"
        )
        flag = "" if code.flag is None else f", flag {code.flag}"
        print(f"item {code.item}, {value}{flag}")
    return 0
