"""`comptoir catalogue import|list`: the products the shop sells, from a producer's spreadsheet.

An import is all or nothing: the whole file is checked first, every problem is reported with its
line and column, and only a file without a single error is saved, in one transaction. Products
are matched by `sku`, so importing a corrected file again updates them in place.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.core.catalogue import Product
from appliance.core.catalogue_csv import CatalogueFile, parse_catalogue
from appliance.core.money import format_euros
from appliance.errors import ComptoirError, UsageError
from appliance.store import catalogue
from appliance.store.db import open_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("catalogue", help="import or list the products the shop sells")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="add or update products from a CSV file (all rows or none)"
    )
    importing.add_argument("file", type=Path, metavar="FILE.csv")
    add_json_flag(importing)
    importing.set_defaults(func=run_import)
    listing = actions.add_parser("list", help="print the products on sale")
    listing.add_argument("--all", action="store_true", help="include inactive products")
    add_json_flag(listing)
    listing.set_defaults(func=run_list)


def run_import(args: argparse.Namespace) -> int:
    config = load_config(args)
    parsed = parse_catalogue(_read(args.file))
    if parsed.errors:
        return _refuse(args, parsed)
    db = open_database(config.database_path)
    try:
        updated = catalogue.save_file(db, parsed)
    finally:
        db.close()
    summary = {
        "ok": True,
        "file": str(args.file),
        "products": len(parsed.products),
        "created": len(parsed.products) - updated,
        "updated": updated,
        "errors": [],
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"imported {summary['products']} products from {args.file} "
            f"({summary['created']} new, {updated} updated)"
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    db = open_store(args)
    try:
        products = catalogue.list_products(db, active_only=not args.all)
    finally:
        db.close()
    if args.json:
        print_json([_as_json(p) for p in products])
        return 0
    for p in products:
        unit = "kg" if p.by_weight else "piece"
        price = f"{format_euros(p.unit_price_cents)}/{unit}"
        vat = f"VAT {_percent(p.vat_rate_bp)} %"
        state = "" if p.active else "  (inactive)"
        print(f"{p.sku:<20} {p.name:<36} {price:>16}  {vat:<9} {p.producer}{state}")
    print(f"{len(products)} products")
    return 0


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"catalogue file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"catalogue file {path} cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ComptoirError(
            f"catalogue file {path} is not UTF-8 text (line {line}): save it from the "
            f"spreadsheet as 'CSV UTF-8'; nothing was imported"
        ) from None


def _refuse(args: argparse.Namespace, parsed: CatalogueFile) -> int:
    """Report every error; nothing has been written (the database is not even opened)."""
    count = len(parsed.errors)
    if args.json:
        print_json(
            {
                "ok": False,
                "file": str(args.file),
                "products": 0,
                "created": 0,
                "updated": 0,
                "errors": [dataclasses.asdict(e) | {"message": str(e)} for e in parsed.errors],
            }
        )
        return 1
    for error in parsed.errors:
        print(f"comptoir: {args.file}: {error}", file=sys.stderr)
    errors = "1 error" if count == 1 else f"{count} errors"
    raise ComptoirError(
        f"{args.file}: {errors}, nothing was imported: fix the file and import it again"
    )


def _percent(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return f"{whole}.{rest:02d}".rstrip("0") if rest else str(whole)


def _as_json(product: Product) -> dict[str, Any]:
    return dataclasses.asdict(product) | {"sold_by": product.sold_by.value}
