"""`comptoir demo`: the kiosk on a desk, with a simulated scale, label printer, card terminal,
a wall of Kerong CU16 lockers, and a fake Open Food Network hub that the marketplace sync talks
to over HTTP (its paid orders come down to be deposited; pickups and sales go up), and, when
`[pasteque]` is enabled, a fake Pastèque server of which the box is a cash register.

`make demo` runs it with config/demo.toml. The demo catalogue (demo-catalogue.csv beside the
config file) is imported first; labels are saved as PNG files in the data folder's `labels/`.
Demo orders wait for a deposit, one is already in a locker (its pickup code is printed at start,
fresh each run), a walk-in compartment holds produce, and a demo producer has a PIN.
Keyboard shortcuts (Ctrl + key) stand in for the customer's hands and for things going wrong.
The agent's fiscal jobs run beside the kiosk, so the demo's days are closed as a box's are.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from appliance.commands._common import load_config
from appliance.config import Config
from appliance.core.order import Order, OrderLine, OrderState
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
    "c": "close every open locker door",
    "i": "an item left inside every open locker door (on/off)",
    "j": "jam the locks: doors stay shut (on/off)",
    "b": "the lock board stops answering (on/off)",
}

DEMO_PRODUCER = "Ferme des Lilas"
DEMO_PIN = "1234"
#: Orders waiting for a deposit, and one put in compartment DEPOSITED_IN at every start.
DEMO_ORDERS = (
    Order(
        "R000000101",
        OrderState.WAITING,
        "Alice Martin",
        "alice@example.org",
        lines=(OrderLine("Panier de légumes", 1), OrderLine("Œufs plein air x6", 2)),
    ),
    Order(
        "R000000102",
        OrderState.WAITING,
        "Paul Durand",
        "paul@example.org",
        lines=(OrderLine("Fromage de chèvre", 3),),
    ),
    Order(
        "R000000103",
        OrderState.WAITING,
        "Claire Petit",
        "claire@example.org",
        lines=(OrderLine("Miel de printemps", 1),),
    ),
)
DEPOSITED_IN = 1
WALKIN_IN = 4


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
    from appliance.store.db import open_database

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
        catalogue.save_file(db, parsed)
    finally:
        db.close()
    return len(parsed.products)


def seed_lockers(config: Config) -> list[str]:
    """The demo producer, orders and walk-in produce; returns what to tell the person."""
    from appliance.core.locker import Use, compartments_from
    from appliance.store import lockers, orders, pickup_codes, producers
    from appliance.store.db import open_database, transaction

    numbers = {c.number for c in config.lockers.compartments}
    if config.lockers.controller == "none" or not numbers:
        return []
    key = pickup_codes.device_key_for(config.lockers.device_key_file, config.device.data_dir)
    db = open_database(config.database_path)
    try:
        lockers.sync_compartments(db, compartments_from(config.lockers.compartments))
        with transaction(db):
            for order in DEMO_ORDERS:
                if orders.get(db, order.number) is None:
                    orders.save(db, order)
        with contextlib.suppress(lockers.LockerError):  # registered by an earlier run
            producers.add_producer(db, DEMO_PRODUCER, key=key, pin=DEMO_PIN)
        told = [f"Producer {DEMO_PRODUCER}: PIN {DEMO_PIN} (the discreet Producteurs button)"]
        deposited = DEMO_ORDERS[-1].number
        last = orders.get(db, deposited)
        state = last.state if last else None
        days = config.lockers.code_validity_days

        def free(number: int) -> bool:
            compartment = lockers.state(db, number)
            return compartment is not None and compartment.use is Use.FREE

        if state is OrderState.IN_LOCKER:
            issued = pickup_codes.reissue_code(db, deposited, key=key, validity_days=days)
        elif state is OrderState.WAITING and DEPOSITED_IN in numbers and free(DEPOSITED_IN):
            issued = lockers.deposit(
                db, deposited, DEPOSITED_IN, producer=DEMO_PRODUCER, key=key, validity_days=days
            )
        else:
            issued = None
        placed = orders.get(db, deposited)
        if issued is not None and placed is not None:
            where = placed.compartment
            told.append(f"Order {deposited} is in compartment {where}: pickup code {issued.code}")
        if WALKIN_IN in numbers and free(WALKIN_IN):
            lockers.fill_walkin(
                db, WALKIN_IN, name="Panier de légumes", price_cents=1200, producer=DEMO_PRODUCER
            )
    finally:
        db.close()
    return told


@contextlib.contextmanager
def marketplace(config: Config) -> Iterator[Config]:
    """A fake OFN hub seeded with the demo's producers and orders, and the sync running against
    it in a thread (on a box the agent runs the sync); yields the config pointing at it."""
    from appliance.marketplace import sync
    from appliance.marketplace.fake import scripting, seed, serve

    with serve(seed.demo()) as url:
        key_file = config.device.data_dir / "ofn-demo-key"
        config.device.data_dir.mkdir(parents=True, exist_ok=True)
        hub = scripting.demo_site(
            url, key_file, config.device.data_dir, sync_interval_s=30
        ).marketplace
        site = dataclasses.replace(config, marketplace=hub)
        print(
            f"Fake Open Food Network hub at {url}: its paid orders come down every "
            f"{hub.sync_interval_s} s"
        )
        with _in_background(sync.run_forever, site, "demo-sync"):
            yield site


@contextlib.contextmanager
def pasteque_till(config: Config) -> Iterator[Config]:
    """With `[pasteque] enabled` in the demo config: a fake Pastèque server whose register the
    box is, and the till gateway sending to it in a thread (on a box the agent runs it)."""
    if not config.pasteque.enabled:
        yield config
        return
    from appliance.pasteque import gateway
    from appliance.pasteque.fake import scripting, seed, serve

    with serve(seed.demo()) as url:
        password = config.device.data_dir / "pasteque-demo-password"
        config.device.data_dir.mkdir(parents=True, exist_ok=True)
        till = scripting.demo_site(url, password, config.device.data_dir, interval_s=10).pasteque
        site = dataclasses.replace(config, pasteque=till)
        print(
            f"Fake Pastèque at {url}: each sale becomes a ticket of register "
            f"{till.cash_register}; its Z: {url}/fake/z"
        )
        with _in_background(gateway.run_forever, site, "demo-pasteque"):
            yield site


@contextlib.contextmanager
def closings_at_night(config: Config) -> Iterator[None]:
    """The agent's fiscal jobs beside the demo kiosk: its days are closed at the closing hour
    (and a day missed while the demo was off, at its start), as on a box."""
    from appliance.agent import fiscal_jobs

    print(
        f"Closings: each finished day is closed at {config.shop.closing_hour} h, "
        "missed ones at start (comptoir closing list)"
    )
    with _in_background(fiscal_jobs.run_forever, config, "demo-closings"):
        yield


@contextlib.contextmanager
def _in_background(
    loop: Callable[[Config, sqlite3.Connection, threading.Event], None], site: Config, name: str
) -> Iterator[None]:
    """`loop(site, db, stop)` in a thread with its own connection, as the agent runs it."""
    from appliance.store.db import open_database

    stop = threading.Event()
    db = open_database(site.database_path)
    thread = threading.Thread(target=loop, args=(site, db, stop), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        db.close()


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    source_dir = config.source.parent if config.source else Path.cwd()
    count = import_catalogue(config, args.catalogue or source_dir / "demo-catalogue.csv")
    from appliance.kiosk import window

    window.prepare(config.kiosk, fullscreen=False)
    from appliance.devices.payment.factory import open_terminal
    from appliance.kiosk.app import KioskApp
    from appliance.kiosk.effects import Effects
    from appliance.kiosk.simulated import SimulatedShop

    labels = config.device.data_dir / "labels"
    print(f"Comptoir demo: {count} products; labels are saved in {labels}")
    for line in seed_lockers(config):
        print(line)
    print("Shortcuts (Ctrl + key): " + "; ".join(f"{k} {v}" for k, v in SHORTCUTS.items()))
    with (
        closings_at_night(config),
        marketplace(config) as config,
        pasteque_till(config) as config,
        SimulatedShop(
            interval_g=config.scale.interval_g, capacity_g=config.scale.capacity_g
        ) as shop,
    ):
        site = shop.site(config)
        printer = shop.label_printer(site, labels)
        terminal = open_terminal(site.payment, training=site.shop.mode == "training")
        app = KioskApp(
            site,
            lambda post: Effects(site, printer, terminal, post),
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
        "c": lambda: print(f"demo: closed doors {shop.close_all_doors() or 'none'}"),
        "i": lambda: _toggle_item(shop),
        "j": lambda: [shop.jam(n, not shop.is_jammed(n)) for n in shop.lock_numbers],
        "b": lambda: shop.silence_locks(not any(b.silent for b in shop.locks.boards.values())),
    }

    def on_key(_window, _key, _scancode, codepoint, modifiers) -> bool:
        action = toggles.get(codepoint or "")
        if "ctrl" in modifiers and action:
            action()
            print(f"demo: {SHORTCUTS[codepoint]}", flush=True)
            return True
        return False

    Window.bind(on_key_down=on_key)


def _toggle_item(shop) -> None:
    for number in shop.open_doors():
        shop.put_item(number, not shop.has_item(number))
