"""Visits to the locker wall, run by `harness` inside the real kiosk against the CU16 simulator.

Each journey seeds the database through the store (as a deposit or an import would), then uses
the touchscreen as a person would; the pytest side checks what was recorded.
"""

from __future__ import annotations

import re

from appliance.core.order import Order, OrderLine, OrderState
from appliance.devices.payment.simulator import Scenario
from appliance.store import (
    agent_state,
    catalogue,
    device_commands,
    lockers,
    orders,
    pickup_codes,
    producers,
)
from appliance.store.db import open_database, transaction
from appliance.store.device_commands import CommandName
from tests.ui.journeys import weighed_purchase


def _db(k):
    return open_database(k.app.site.database_path)


def _key(k) -> bytes:
    site = k.app.site
    return pickup_codes.device_key_for(site.lockers.device_key_file, site.device.data_dir)


def _order(db, number: str, email: str = "alice@example.org") -> None:
    with transaction(db):
        orders.save(
            db,
            Order(number, OrderState.WAITING, "Alice Martin", email, lines=(OrderLine("Œufs", 6),)),
        )


def _alices_order_in_2(k) -> str:
    """Alice's order R100 put in compartment 2 by a producer: the pickup code she was sent."""
    db = _db(k)
    try:
        _order(db, "R100")
        return lockers.deposit(db, "R100", 2, producer="Ferme", key=_key(k), validity_days=7).code
    finally:
        db.close()


async def _take_and_close(k, number: int) -> None:
    """A person opens the door wide, takes or puts something, and pushes it shut: the door
    watch must have counted it open first (it ignores a door shut within its debounce time)."""
    from appliance.devices.locks.base import Door

    assert k.shop.door_open(number)
    locks = k.app.effects.locks
    await k.wait_for(lambda: locks.door(number) is Door.OPEN)
    k.shop.close_door(number)


async def _type(k, digits: str) -> None:
    for digit in digits:
        await k.tap(f"key_{digit}")


async def pickup_with_a_good_code(k) -> None:
    code = _alices_order_in_2(k)
    await k.wait_screen("home")
    await k.tap("pickup")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await _type(k, code)
    await k.wait_step("take_order")
    assert "refermez la porte" in k.text("body"), k.text("body")
    assert k.text("big") == "2"
    await _take_and_close(k, 2)
    await k.wait_step("done")
    await k.tap_button("OK")
    await k.wait_for(lambda: k.shown == "home")


async def wrong_code_five_times(k) -> None:
    await k.wait_screen("home")
    for attempt in range(5):
        await k.tap("pickup")
        await k.wait_for(lambda: k.shown == "locker_keypad")
        await _type(k, "000000")
        if attempt < 4:
            await k.wait_step("refused")
            assert "pas connu" in k.text("body"), k.text("body")
            await k.tap_button("OK")
            await k.wait_for(lambda: k.shown == "home")
    await k.wait_step("locked")
    body = k.text("body")
    assert re.search(r"bloqué pendant (29|30) s", body), body


async def producer_deposit(k) -> None:
    db = _db(k)
    try:
        _order(db, "R200", "bob@example.org")
        producers.add_producer(db, "Ferme des Lilas", key=_key(k), pin="4321")
    finally:
        db.close()
    await k.wait_screen("home")
    await k.tap("producers")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await _type(k, "4321")
    await k.tap("key_ok")
    await k.wait_step("menu")
    assert k.text("title") == "Bonjour Ferme des Lilas"
    await k.tap_button("Déposer des commandes (1")
    await k.wait_step("choose_order")
    await k.tap_button("R200")
    await k.wait_step("choose_place")
    await k.tap_button("N° 1")  # the suggested one: the smallest free, not chilled
    await k.wait_step("depositing")
    await _take_and_close(k, 1)
    await k.wait_step("deposited", timeout=40)
    assert "e-mail" in k.text("body"), k.text("body")
    await k.tap_button("OK")
    await k.wait_step("menu")
    await k.tap_button("Terminé")
    await k.wait_for(lambda: k.shown == "home")


async def walkin_purchase(k) -> None:
    db = _db(k)
    try:
        lockers.fill_walkin(db, 3, name="Panier de légumes", price_cents=1200, producer="Ferme")
    finally:
        db.close()
    await buy_from_locker_3(k)


async def buy_from_locker_3(k) -> None:
    """From home: buy the produce of walk-in compartment 3 (filled beforehand) at 12,00 €."""
    await k.wait_screen("home")
    await k.tap("walkin")
    await k.wait_step("choose")
    await k.wait_for(lambda: k.app.flow.visit.flow.items)
    await k.frames(3)
    await k.tap_button("N° 3")
    await k.wait_step("confirm")
    await k.tap_button("Payer 12,00 €")
    await k.wait_step("take", timeout=40)
    await _take_and_close(k, 3)
    await k.wait_step("done")
    await k.tap_button("OK")
    await k.wait_for(lambda: k.shown == "home")


async def hands_off_the_window_thread(k) -> None:
    """A weighed purchase with its label and receipt, then a walk-in purchase at the lockers:
    the harness watches that Kivy's thread opens no database, device or socket meanwhile."""
    await weighed_purchase(k)
    await buy_from_locker_3(k)


async def open_door_command(k) -> None:
    """The web admin queues `open_door`; the kiosk opens through the runner and audits it."""
    await k.wait_screen("home")
    db = _db(k)
    try:
        opened = device_commands.queue(
            db,
            CommandName.OPEN_DOOR,
            {"compartment": 1},
            requested_by="web:anne",
            reason="client bloqué",
        )
        unknown = device_commands.queue(
            db, CommandName.OPEN_DOOR, {"compartment": 99}, requested_by="web:anne", reason="essai"
        )
        done = await k.command_done(db, opened.id, timeout=30)
        refused = await k.command_done(db, unknown.id, timeout=30)
        assert done.state == "done" and done.result == {"compartment": 1, "opened": True}, done
        assert refused.state == "refused" and "unknown" in refused.result["error"], refused
        assert k.shop.door_open(1)
        k.shop.close_door(1)

        def devices() -> dict:
            beat = agent_state.heartbeats(db).get("kiosk")
            return beat.detail if beat else {}

        await k.wait_for(lambda: devices().get("locks") == "ok", timeout=30)
        assert devices()["terminal"] == "ok", devices()
    finally:
        db.close()


async def catalogue_follows_changes(k) -> None:
    """A price edited elsewhere shows without a restart, but never under a weighing."""
    await k.wait_screen("home")
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    db = _db(k)
    try:
        apples = next(p for p in catalogue.list_products(db) if p.sku == "POMMES")
        with transaction(db):
            catalogue.save(db, apples.__class__(**{**apples.__dict__, "unit_price_cents": 399}))
        await k.wait_for(lambda: k.app.flow.journey.pending_catalogue is not None, timeout=30)
        assert k.text("unit_price") == "3,49 € /kg"
        await k.tap("back")
        await k.wait_screen("catalogue")
        tile = next(t for t in k.widget("grid").children if t.sku == "POMMES")
        await k.wait_for(lambda: tile.ids.price.text.startswith("3,99"))
    finally:
        db.close()


async def accessible_pickup(k) -> None:
    """The accessibility mode at the lockers: the open compartment is said aloud with its
    number, the typed code never is."""
    code = _alices_order_in_2(k)
    await k.wait_screen("home")
    await k.tap("accessible")
    await k.wait_for(lambda: k.app.accessible)
    await k.frames(3)
    await k.tap("pickup")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await _type(k, code)
    await k.wait_step("take_order")
    prompts = k.app.site.kiosk.speech_wav_dir

    def said(words: str) -> bool:
        return any(words in p.read_text() for p in prompts.glob("*.txt"))

    await k.wait_for(lambda: said("Votre casier est ouvert Casier 2."), timeout=40)  # espeak-ng
    assert said("Tapez votre code")
    assert not any(code in p.read_text() for p in prompts.glob("*.txt"))


def _reach(k) -> dict[str, float]:
    """Where the screen's bar controls sit (help, Aa+, languages, search row): each one's centre
    height as a fraction of the window from its bottom; below 0.5 is within reach from a
    wheelchair."""
    from kivy.core.window import Window

    screen = k.app.root.current_screen
    named = {v: n for n, v in screen.ids.items()}
    spots: dict[str, float] = {}
    for widget in screen.walk(restrict=True):
        name = named.get(widget) or type(widget).__name__
        if name in _BAR_IDS or name in ("HelpButton", "AccessButton"):
            spots[name] = widget.to_window(*widget.center)[1] / Window.height
    return spots


#: Home's top row and the catalogue's search row; title bars' buttons are known by their kind.
_BAR_IDS = {"help", "accessible", "lang_fr", "lang_en", "back", "search", "basket"}


async def accessible_reach(k) -> None:
    """In the accessibility mode the help, Aa+, language and search controls sit in the lower
    half of the screen on every customer step; in the usual look they stay at the top."""

    def at(screen: str, low: bool, least: int) -> None:
        spots = _reach(k)
        assert len(spots) >= least, (screen, spots)
        wrong = {n: round(y, 2) for n, y in spots.items() if (0 < y < 0.5) != low}
        assert not wrong, f"{screen}: {'above' if low else 'below'} the middle: {wrong}"

    await k.wait_screen("home")
    at("home", low=False, least=4)
    await k.tap("start")
    await k.wait_screen("catalogue")
    at("catalogue", low=False, least=5)
    await k.tap("back")
    await k.wait_screen("home")
    await k.tap("accessible")
    await k.wait_for(lambda: k.app.accessible)
    await k.frames(3)
    at("home", low=True, least=4)
    await k.tap("start")
    await k.wait_screen("catalogue")
    at("catalogue", low=True, least=5)
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    at("weigh", low=True, least=2)
    k.shop.put(1234)
    await k.wait_for(lambda: not k.widget("add").disabled)
    await k.tap("add")
    await k.wait_screen("basket")
    at("basket", low=True, least=2)
    k.shop.next_payment(Scenario.DECLINED)
    await k.tap("pay")
    await k.wait_screen("payment_failed")
    at("payment", low=True, least=2)
    await k.tap_text("Retour au panier")
    await k.wait_screen("basket")
    await k.tap("cancel")
    await k.wait_screen("home")
    await k.wait_for(lambda: not k.app.accessible)  # the next customer starts in the usual look
    await k.frames(3)
    at("home", low=False, least=4)
    await k.tap("accessible")
    await k.wait_for(lambda: k.app.accessible)
    await k.tap("pickup")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await k.frames(3)
    at("pickup keypad", low=True, least=2)
