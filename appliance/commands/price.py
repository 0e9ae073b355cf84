"""`comptoir price --weight-g N --unit-price-cents N`: the legal price computation."""

from __future__ import annotations

import argparse

from appliance.commands._common import add_json_flag, print_json
from appliance.core.money import price_cents
from appliance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("price", help="price of a weight at a unit price per kg, in cents")
    parser.add_argument("--weight-g", type=int, required=True, metavar="N")
    parser.add_argument(
        "--unit-price-cents",
        type=int,
        required=True,
        metavar="N",
        help="unit price in cents per kg",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.weight_g < 0 or args.unit_price_cents < 0:
        raise UsageError("--weight-g and --unit-price-cents must not be negative")
    cents = price_cents(args.weight_g, args.unit_price_cents)
    if args.json:
        print_json(
            {
                "weight_g": args.weight_g,
                "unit_price_cents": args.unit_price_cents,
                "price_cents": cents,
            }
        )
    else:
        print(cents)
    return 0
