"""`comptoir demo`: the kiosk on a desk, with a simulated scale, label printer and card terminal.

`make demo` runs it with config/demo.toml. The demo catalogue (demo-catalogue.csv beside the
config file) is imported first; labels are saved as PNG files in the data folder's `labels/`.
Keyboard shortcuts (Ctrl + key) stand in for the customer's hands and for things going wrong.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from appliance.commands._common import load_config
from appliance.config import Config
from appliance.errors import ComptoirError

#: Ctrl + key -> (what it does, for the help text).
SHORTCUTS = {
    "1": "put 250 g on the scale",
    "2": "put 1.234 kg on the scale",
    "3": "put 3.5 kg on the scale",
    "0": "empty the scale",
    "s": "shake the scale (on/off)",
    "o": "overload the scale (on/off)",
    "u": "unplug the scale (on/off)",
    "p": "printer out of paper (on/off)",
    "d": "the next card is declined",
    "x": "the next payment's outcome is unknown",
    "a": "the next card is approved",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="run the kiosk with simulated scale, printer and card terminal"
    )
    parser.add_argument(
        "--catalogue",
        type=Path,
        metavar="FILE.csv",
        help="products to import first (default: demo-catalogue.csv beside the config file)",
    )
    parser.set_defaults(func=run)


def import_catalogue(config: Config, path: Path) -> int:
    """Add or update the demo products (all or none, like `comptoir catalogue import`)."""
    from appliance.core.catalogue_csv import parse_catalogue
    from appliance.store import catalogue
    from appliance.store.db import open_database, transaction

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComptoirError(f"cannot read the demo catalogue {path}: {exc.strerror}") from None
    parsed = parse_catalogue(text)
    if parsed.errors:
        first = parsed.errors[0]
        raise ComptoirError(f"the demo catalogue {path} has errors, first: {first}")
    db = open_database(config.database_path)
    try:
        current = {p.sku: p for p in catalogue.list_products(db)}
        with transaction(db):
            for product in parsed.products:
                catalogue.save(db, parsed.update(current.get(product.sku), product))
    finally:
        db.conn.close()
    return len(parsed.products)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    source_dir = config.source.parent if config.source else Path.cwd()
    count = import_catalogue(config, args.catalogue or source_dir / "demo-catalogue.csv")
    from appliance.kiosk import window

    window.prepare(config.kiosk, fullscreen=False)
    from appliance.devices.payment.factory import open_terminal
    from appliance.kiosk.app import KioskApp
    from appliance.kiosk.hardware import Hardware
    from appliance.kiosk.simulated import SimulatedShop

    labels = config.device.data_dir / "labels"
    print(f"Comptoir demo: {count} products; labels are saved in {labels}")
    print("Shortcuts (Ctrl + key): " + "; ".join(f"{k} {v}" for k, v in SHORTCUTS.items()))
    with SimulatedShop(
        interval_g=config.scale.interval_g, capacity_g=config.scale.capacity_g
    ) as shop:
        site = shop.site(config)
        printer = shop.label_printer(site, labels)
        terminal = open_terminal(site.payment)
        app = KioskApp(
            site,
            lambda post: Hardware(site, printer, terminal, post),
            on_ready=lambda _app: _bind_keys(shop),
        )
        app.run()
    return 0


def _bind_keys(shop) -> None:
    from kivy.core.window import Window

    from appliance.devices.payment.simulator import Scenario
    from appliance.devices.printers.simulator import Paper

    toggles = {
        "s": lambda: shop.shake(not shop.pan.motion),
        "o": lambda: shop.overload(not shop.pan.overload),
        "u": lambda: shop.unplug_scale(shop.pan.fault.value == "none"),
        "p": lambda: shop.paper(Paper.OK if shop.printer.paper is Paper.OUT else Paper.OUT),
        "d": lambda: shop.next_payment(Scenario.DECLINED),
        "x": lambda: shop.next_payment(Scenario.CLOSED_AFTER_APPROVAL),
        "a": lambda: shop.next_payment(Scenario.APPROVED),
        "1": lambda: shop.put(250),
        "2": lambda: shop.put(1234),
        "3": lambda: shop.put(3500),
        "0": lambda: shop.put(0),
    }

    def on_key(_window, _key, _scancode, codepoint, modifiers) -> bool:
        action = toggles.get(codepoint or "")
        if "ctrl" in modifiers and action:
            action()
            print(f"demo: {SHORTCUTS[codepoint]}", flush=True)
            return True
        return False

    Window.bind(on_key_down=on_key)
