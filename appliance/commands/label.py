"""`comptoir label preview|print|status`: legal price labels for a catalogue product.

The weight goes through the same `WeighingGate` rules as at the kiosk (interval, minimum load,
capacity from `[scale]`), so a label the rules refuse is never made. A printed label is appended
to the journal only once the printer has accepted it; a failed print records nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance import clock
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.config import Config
from appliance.core.barcode import BarcodeLayout
from appliance.core.catalogue import Product
from appliance.core.label import LabelContent, Shop, label_for_pieces, label_for_weighing
from appliance.core.weighing import (
    NotAcceptable,
    Reading,
    ReadingStatus,
    ScaleSpec,
    Weighing,
    WeighingGate,
)
from appliance.devices.printers import preview
from appliance.devices.printers.factory import open_printer
from appliance.devices.printers.paper import paper_of
from appliance.errors import ConfigError, UsageError
from appliance.store import catalogue, weighings
from appliance.store.db import open_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("label", help="preview or print a legal price label")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    show = actions.add_parser("preview", help="draw a label as a PNG file (nothing recorded)")
    _add_label_arguments(show)
    show.add_argument("--out", required=True, metavar="FILE", help="PNG file to write")
    show.set_defaults(func=run_preview)

    send = actions.add_parser("print", help="print a label on the configured printer")
    _add_label_arguments(send)
    send.set_defaults(func=run_print)

    state = actions.add_parser("status", help="is the configured printer ready?")
    add_json_flag(state)
    state.set_defaults(func=run_status)


def _add_label_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--product", required=True, metavar="ID", help="catalogue id or sku")
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--weight-g", type=int, metavar="N", help="net weight in grams")
    amount.add_argument("--quantity", type=int, metavar="N", help="pieces, for products by piece")
    parser.add_argument(
        "--tare-g", type=int, metavar="N", help="tare in grams (default: the product's tare)"
    )
    parser.add_argument("--lot", default="", help="lot number printed on the label")
    add_json_flag(parser)


def run_preview(args: argparse.Namespace) -> int:
    config = load_config(args)
    db = open_database(config.database_path)
    content = _content(args, config, db)
    path = Path(args.out)
    try:
        preview.save(
            content, path, paper_of(config.printer).width_mm, config.printer.label_height_mm
        )
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write the preview: {exc.strerror}") from None
    _report(args, content, str(path))
    return 0


def run_print(args: argparse.Namespace) -> int:
    config = load_config(args)
    db = open_database(config.database_path)
    content = _content(args, config, db)
    printer = open_printer(config.printer)
    where = printer.print_label(content)  # raises PrinterUnavailable: nothing is recorded
    weighings.record_label(
        db,
        content,
        device_id=config.device.id,
        interval_g=config.scale.interval_g,
        printer=f"{config.printer.backend} {where}",
    )
    _report(args, content, where)
    return 0


def run_status(args: argparse.Namespace) -> int:
    config = load_config(args)
    status = open_printer(config.printer).status()
    if args.json:
        print_json(
            {
                "status": status.value,
                "backend": config.printer.backend,
                "target": config.printer.target,
            }
        )
    else:
        print(status.value)
    return 0 if status.can_print else 1


def _content(args: argparse.Namespace, config: Config, db: sqlite3.Connection) -> LabelContent:
    product = catalogue.get(db, args.product)
    if product is None:
        raise UsageError(
            f"--product {args.product}: no such product in the catalogue "
            f"(see comptoir catalogue list)"
        )
    if not product.active:
        raise UsageError(f"--product {args.product}: {product.name} is not on sale (inactive)")
    shop = _shop(config)
    layout = _layout(product, config)
    ticket = weighings.next_label_ticket(db)
    packed_at = clock.now()
    try:
        if args.quantity is not None:
            if product.by_weight:
                raise UsageError(
                    f"{product.name} is sold by weight: give --weight-g, not --quantity"
                )
            return label_for_pieces(
                args.quantity,
                product,
                shop=shop,
                layout=layout,
                packed_at=packed_at,
                ticket=ticket,
                lot=args.lot,
            )
        if not product.by_weight:
            raise UsageError(
                f"{product.name} is sold by the piece: give --quantity, not --weight-g"
            )
        return label_for_weighing(
            _weighing(args, product, config),
            product,
            shop=shop,
            interval_g=config.scale.interval_g,
            layout=layout,
            packed_at=packed_at,
            ticket=ticket,
            lot=args.lot,
        )
    except ValueError as exc:
        raise UsageError(f"cannot make the label: {exc}") from None


def _weighing(args: argparse.Namespace, product: Product, config: Config) -> Weighing:
    """The weighing the scale would give, accepted or refused by the legal rules."""
    scale = config.scale
    tare = product.tare_g if args.tare_g is None else args.tare_g
    for option, grams in (("--weight-g", args.weight_g), ("--tare-g", tare)):
        if grams % scale.interval_g:
            raise UsageError(
                f"{option} {grams} is not a multiple of the scale interval {scale.interval_g} g "
                f"([scale] interval_g)"
            )
    if tare < 0:
        raise UsageError(f"--tare-g {tare} must not be negative")
    gate = WeighingGate(ScaleSpec(scale.interval_g, scale.capacity_g, scale.min_load))
    reading = Reading(ReadingStatus.STABLE, args.weight_g, tare_g=tare, net=tare > 0)
    try:
        return gate.accept(reading, product.unit_price_cents)
    except NotAcceptable as exc:
        raise UsageError(
            f"--weight-g {args.weight_g}: {exc} (minimum {scale.min_load} g, "
            f"capacity {scale.capacity_g} g including the tare)"
        ) from None


def _shop(config: Config) -> Shop:
    device = config.device
    try:
        zone = ZoneInfo(device.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"device.timezone = {device.timezone!r} is wrong: expected a time zone name "
            f"such as Europe/Paris"
        ) from None
    return Shop(device.name, device.address, device.id, zone, device.language)


def _layout(product: Product, config: Config) -> BarcodeLayout:
    """The product's own barcode layout, else the config's."""
    try:
        return BarcodeLayout.parse(product.barcode_layout or config.printer.barcode_layout)
    except ValueError as exc:
        if product.barcode_layout:
            raise UsageError(f"product {product.sku}: {exc}") from None
        raise ConfigError(f"printer.barcode_layout is wrong: {exc}") from None


def _report(args: argparse.Namespace, content: LabelContent, where: str) -> None:
    if args.json:
        print_json(
            {
                "ticket": content.ticket,
                "sku": content.sku,
                "weight_g": content.weight_g,
                "tare_g": content.tare_g,
                "quantity": content.quantity,
                "unit_price_cents": content.unit_price_cents,
                "price_cents": content.price_cents,
                "barcode": content.barcode,
                "output": where,
            }
        )
    else:
        print(f"{where}: {content.product_name}, {content.money(content.price_cents)}")
