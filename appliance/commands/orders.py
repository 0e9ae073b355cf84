"""`comptoir orders list [--json]`, `comptoir orders import FILE.json`: orders to hand out.

Import is for sites without the marketplace: a JSON list of orders (or `{"orders": [...]}`),
each `{"number", "customer_name", "customer_email"?, "customer_phone"?, "total_cents"?,
"paid"?, "lines": [{"name", "quantity", "unit"?, "price_cents"?, "producer"?}]}`. All orders of
a file go in together or none does; an order already here keeps its state and compartment.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from gettext import ngettext
from pathlib import Path
from typing import Any

from appliance.commands._common import add_json_flag, open_store, print_json
from appliance.core.order import Order, OrderLine, OrderState
from appliance.errors import UsageError
from appliance.store import orders
from appliance.store.db import transaction


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("orders", help="list orders to hand out, or import them from a file")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every order with its state and compartment")
    add_json_flag(listing)
    listing.set_defaults(func=run_list)
    importing = actions.add_parser("import", help="add or update orders from a JSON file")
    importing.add_argument("file", type=Path, metavar="FILE.json")
    importing.set_defaults(func=run_import)


def run_list(args: argparse.Namespace) -> int:
    found = orders.list_orders(open_store(args))
    if args.json:
        print_json([_as_json(o) for o in found])
        return 0
    for o in found:
        where = f"compartment {o.compartment}" if o.compartment is not None else "-"
        lines = ngettext("%d line", "%d lines", len(o.lines)) % len(o.lines)
        print(f"{o.number:<12} {o.state.value:<10} {where:<15} {lines:<9} {o.customer_name}")
    return 0


def _as_json(order: Order) -> dict[str, Any]:
    values = dataclasses.asdict(order)
    values["state"] = order.state.value
    values["collected"] = order.state is OrderState.COLLECTED
    return values


def run_import(args: argparse.Namespace) -> int:
    try:
        raw = json.loads(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{args.file} is not valid JSON: {exc}") from None
    items = raw.get("orders") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise UsageError(f'{args.file} must hold a list of orders, or {{"orders": [...]}}')
    parsed = [_order(item, n) for n, item in enumerate(items, start=1)]
    db = open_store(args)
    with transaction(db):
        for order in parsed:
            existing = orders.get(db, order.number)
            if existing is not None:
                order = dataclasses.replace(
                    order, state=existing.state, compartment=existing.compartment
                )
            orders.save(db, order)
    print(f"{len(parsed)} orders imported from {args.file}")
    return 0


def _order(item: Any, n: int) -> Order:
    where = f"order {n}"
    if not isinstance(item, dict):
        raise UsageError(f"{where} must be an object with number, customer_name and lines")
    number = item.get("number")
    if not isinstance(number, str) or not number.strip():
        raise UsageError(f"{where} has no number: give each order its number, such as R123456789")
    where = f"order {number}"
    lines = item.get("lines")
    if not isinstance(lines, list) or not lines:
        raise UsageError(f"{where} has no lines: give a list of {{name, quantity}}")
    return Order(
        number=number.strip(),
        state=OrderState.WAITING,
        customer_name=_text(item, "customer_name", where, required=True),
        customer_email=_text(item, "customer_email", where),
        customer_phone=_text(item, "customer_phone", where),
        total_cents=_whole(item, "total_cents", where, 0),
        paid=bool(item.get("paid", True)),
        lines=tuple(_line(line, f"{where} line {i}") for i, line in enumerate(lines, start=1)),
        source="import",
    )


def _line(line: Any, where: str) -> OrderLine:
    if not isinstance(line, dict):
        raise UsageError(f"{where} must be an object with name and quantity")
    quantity = _whole(line, "quantity", where, None)
    if quantity < 1:
        raise UsageError(f"{where}: quantity must be at least 1, not {quantity}")
    variant_id = line.get("variant_id")
    return OrderLine(
        name=_text(line, "name", where, required=True),
        quantity=quantity,
        unit=_text(line, "unit", where),
        price_cents=_whole(line, "price_cents", where, 0),
        producer=_text(line, "producer", where),
        variant_id=_whole(line, "variant_id", where, 0) if variant_id is not None else None,
    )


def _text(item: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise UsageError(f"{where}: {key} must be {'non-empty ' if required else ''}text")
    return value.strip()


def _whole(item: dict[str, Any], key: str, where: str, default: int | None) -> int:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{where}: {key} must be a whole number of at least 0, not {value!r}")
    return value
