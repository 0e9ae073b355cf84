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


async def _wall_db(k):
    """The database once the kiosk wrote the configured compartments into it (its store thread
    does at start-up, maybe after the first frame): a journey fills them only then."""
    db = _db(k)
    wall = len(k.app.site.lockers.compartments)
    await k.wait_for(lambda: len(lockers.states(db)) == wall)
    return db


async def _alices_order_in_2(k) -> str:
    """Alice's order R100 put in compartment 2 by a producer: the pickup code she was sent."""
    db = await _wall_db(k)
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
    code = await _alices_order_in_2(k)
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


def _bobs_order_and_a_producer(k) -> None:
    """Bob's order R200 waiting, and the Ferme des Lilas able to sign in with PIN 4321."""
    db = _db(k)
    try:
        _order(db, "R200", "bob@example.org")
        producers.add_producer(db, "Ferme des Lilas", key=_key(k), pin="4321")
    finally:
        db.close()


async def producer_deposit(k) -> None:
    _bobs_order_and_a_producer(k)
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
    db = await _wall_db(k)
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
    code = await _alices_order_in_2(k)
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


def _touchable(k):
    """The controls a person can touch on display (the open overlay's, else the screen's), each
    with its centre's height as a fraction of the window from its bottom; a control scrolled
    out of its view is not on display."""
    from kivy.core.window import Window
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.textinput import TextInput

    top = Window.children[0]  # an open overlay covers the screen and takes every touch

    def shown(widget, x: float, y: float) -> bool:
        view = widget.parent
        while view is not None and view is not top:
            if isinstance(view, ScrollView):
                left, bottom = view.to_window(view.x, view.y)
                if not (left <= x <= left + view.width and bottom <= y <= bottom + view.height):
                    return False
            view = view.parent
        return True

    for widget in top.walk(restrict=True):
        if not isinstance(widget, ButtonBehavior | TextInput) or widget.disabled:
            continue
        if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
            continue
        x, y = widget.to_window(*widget.center)
        if shown(widget, x, y):
            name = getattr(widget, "name", "") or getattr(widget, "text", "")
            yield widget, (name or type(widget).__name__).split("\n")[0], y / Window.height


def _cut(button) -> bool:
    """A button's label broken inside a word ("everythi / ng") or taller than the button: the
    larger text did not fit its place (a label shortened with an ellipsis on purpose is not)."""
    core = getattr(button, "_label", None)  # Kivy's laid-out text
    if core is None or button.markup or button.shorten or not button.text:
        return False
    words = set(button.text.split())
    laid = [
        part for line in core._cached_lines for word in line.words for part in word.text.split()
    ]
    return any(part not in words for part in laid) or button.texture_size[1] > button.height + 1


def _past_the_edge(widget) -> bool:
    """Partly outside the window, so not all of it can be seen or touched (within a row that
    scrolls sideways it may be: the row shows an arrow)."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not Window:  # the window is its own parent
        if isinstance(parent, ScrollView):
            return False
        parent = parent.parent
    left, _bottom = widget.to_window(widget.x, widget.y)
    return left < -1 or left + widget.width > Window.width + 1


class Reach:
    """Every screen's controls in the accessibility mode, those above the middle, past the
    window's edge or with a cut label noted by screen and text, so that one run says all that
    is out of reach from a wheelchair or unreadable in the larger text."""

    def __init__(self, k) -> None:
        self.k = k
        self.wrong: dict[str, list[str]] = {}

    async def check(self, screen: str, least: int = 2) -> None:
        await self.k.frames(3)
        spots = list(_touchable(self.k))
        assert len(spots) >= least, f"{screen}: {spots}"  # the walk is on the screen it means
        wrong = [f"{name!r} at {y:.2f}" for _w, name, y in spots if y >= 0.5]
        wrong += [f"{name!r} cut" for widget, name, _y in spots if _cut(widget)]
        if not self.k.app.portrait:  # a portrait screen's known faults: docs/kiosk.md
            wrong += [f"{name!r} past the edge" for w, name, _y in spots if _past_the_edge(w)]
        if wrong:
            self.wrong[screen] = wrong

    def assert_all_low(self) -> None:
        lines = [f"{screen}: {', '.join(wrong)}" for screen, wrong in self.wrong.items()]
        assert not lines, "above the middle, past the edge, or cut:\n" + "\n".join(lines)


def _bar_on_top(k, screen: str) -> None:
    """The usual look keeps the help and Aa+ buttons at the top."""
    bar = [(n, round(y, 2)) for _w, n, y in _touchable(k) if n == "Aa+" or n.startswith("?")]
    assert bar and all(y > 0.5 for _n, y in bar), f"{screen} in the usual look: {bar}"


async def _accessible(k) -> None:
    await k.tap_widget(k.find("Aa+"))
    await k.wait_for(lambda: k.app.accessible)
    await k.frames(3)


async def accessible_reach(k) -> None:
    """In the accessibility mode every control of every step sits in the lower half of the
    screen, a customer's and a producer's; the usual look keeps its bars at the top."""
    _bobs_order_and_a_producer(k)
    reach = Reach(k)
    await k.wait_screen("home")
    _bar_on_top(k, "home")
    past = [name for widget, name, _y in _touchable(k) if _past_the_edge(widget)]
    assert k.app.portrait or not past, f"home in the usual look: {past} past the edge"
    await k.tap("start")
    await k.wait_screen("catalogue")
    _bar_on_top(k, "catalogue")
    await k.tap("back")
    await k.wait_screen("home")
    await _accessible(k)
    await reach.check("home")
    await k.tap("about")
    await k.wait_screen("about")
    await reach.check("about")
    await k.tap("back")
    await k.wait_screen("home")
    await _accessible(k)
    await k.tap("start")
    await k.wait_screen("catalogue")
    await reach.check("products")
    await k.tap_product("OEUFS")
    await k.wait_screen("pieces")
    await reach.check("pieces")
    await k.tap("add")
    await k.wait_screen("basket")
    await k.tap("more")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    await reach.check("weighing, empty pan")
    k.shop.put(1234)
    await k.wait_for(lambda: not k.widget("add").disabled)
    await reach.check("weighing, stable")
    await k.tap("add")
    await k.wait_screen("basket")
    await reach.check("basket")
    await k.tap_widget(k.find("?  Besoin d'aide ?"))
    await k.wait_for(lambda: k.app.help_panel.parent is not None)
    await reach.check("help", least=1)
    await k.tap_widget(k.app.help_panel.ids.close_help)
    await k.wait_for(lambda: k.app.help_panel.parent is None)
    await k.tap_widget(k.find("×  Œufs x6"))  # a line's × below the list
    await k.wait_for(lambda: len(k.app.flow.journey.lines) == 1)
    k.shop.next_payment(Scenario.DECLINED)
    await k.tap("pay")
    await k.wait_screen("payment_failed")
    await reach.check("payment declined")
    await k.tap_text("Retour au panier")
    await k.wait_screen("basket")
    k.shop.next_payment(Scenario.APPROVED)
    await k.tap("pay")
    await k.wait_screen("receipt")
    await reach.check("receipt")
    await k.tap("done")
    await k.wait_screen("thank_you")
    await reach.check("thank you")
    await k.wait_screen("home")  # by itself after a few seconds
    assert not k.app.accessible  # the next customer starts in the usual look
    await _accessible(k)
    await k.tap("pickup")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await reach.check("pickup keypad")
    await _type(k, "000000")
    await k.wait_step("refused")
    await reach.check("pickup refused")
    await k.tap_button("OK")
    await k.wait_for(lambda: k.shown == "home")
    assert not k.app.accessible  # the visit is over: the next person starts in the usual look
    await _accessible(k)
    await k.tap("producers")
    await k.wait_for(lambda: k.shown == "locker_keypad")
    await _type(k, "4321")
    await k.tap("key_ok")
    await k.wait_step("menu")
    await reach.check("producer's menu")
    await k.tap_button("Déposer des commandes (1")
    await k.wait_step("choose_order")
    await reach.check("producer's orders")
    await k.tap_button("R200")
    await k.wait_step("choose_place")
    await reach.check("producer's compartments")
    await k.tap_button("N° 1")
    await k.wait_step("depositing")
    await reach.check("deposit door open")
    reach.assert_all_low()
