"""The people of the shop, seeded: customers at the kiosk, producers at the lockers, admins on
the web and over MQTT. Each does what a person does: reads the screen, touches what it offers,
types a code, posts a form, and walks away when the box does not answer.

A customer reacts to the screen on display rather than following a fixed path, so a fault
(paper out, the terminal gone, the scale unplugged) meets a person who does what the screen asks,
as in a real shop. What they saw is kept in `Visit` for the report; the invariants are checked
against the simulators' own ledgers, never against what the people believe.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from appliance.devices.payment.simulator import Scenario
from soak.clock import real_monotonic
from soak.kiosk_driver import KioskDriver, KioskStuck, Spot
from soak.world import World

#: How long the pickup keypad shows a refusal before taking a code again (flows/pickup.py).
REFUSAL_S = 8.5
ORDER = re.compile(r"R\d{9}\b")
#: A person gives up after this long without the screen moving on (real seconds).
PATIENCE_S = 40.0
#: A product tile touched this many times at most, each waited on this long (real seconds).
TILE_TRIES, TILE_WAIT_S = 3, 8.0
#: The screens of a kiosk nobody is using: home, and the attract screen after a while.
WELCOME = ("home", "attract")


@dataclass
class Visit:
    """One customer's visit, as they lived it."""

    who: str
    card: str
    screens: list[str] = field(default_factory=list)
    items: int = 0
    receipt: str = ""
    walked_away: str = ""


class Customer:
    def __init__(self, kiosk: KioskDriver, world: World, rng: random.Random, who: str) -> None:
        self.kiosk = kiosk
        self.world = world
        self.rng = rng
        self.wanted = rng.choice((1, 1, 2, 2, 3))
        self.visit = Visit(who, "approved")

    def shop(self, card: Scenario = Scenario.APPROVED, *, budget_s: float = 120) -> Visit:
        """Buy a few things and pay by card (`card` is what the terminal will answer)."""
        assert self.world.shop
        self.world.shop.next_payment(card)
        self.visit.card = card.value
        deadline = real_monotonic() + budget_s
        try:
            self._walk(deadline)
        except KioskStuck as stuck:
            self.visit.walked_away = str(stuck)[:300]
        finally:
            self.world.shop.put(0)  # they take their produce with them
        return self.visit

    def _walk(self, deadline: float) -> None:
        k = self.kiosk
        k.wait_screen("home")
        k.touch(id="start")
        last, since = "", real_monotonic()
        kiosk = k.kiosk_pid()
        while real_monotonic() < deadline:
            if k.kiosk_pid() != kiosk:
                raise KioskStuck("the kiosk went away (its process ended)")
            screen = k.journey
            if screen != last:
                self.visit.screens.append(screen)
                last, since = screen, real_monotonic()
            elif real_monotonic() - since > PATIENCE_S:
                raise KioskStuck(f"nothing moved on {screen} for {PATIENCE_S:.0f} s")
            if k.answer_prompt():
                continue
            done = self._act(screen)
            if done:
                return
            time.sleep(0.1)
        raise KioskStuck("the visit took too long")

    def _act(self, screen: str) -> bool:
        k = self.kiosk
        shop = self.world.shop
        assert shop
        if screen in WELCOME:
            if any(seen not in WELCOME for seen in self.visit.screens):
                return True  # paid, told not to pay again, or sent home by the kiosk: gone
            if screen == "attract":
                k.wake()
            else:
                k.touch(id="start")
        elif screen == "catalogue":
            if self.visit.items >= self.wanted:
                k.touch(id="basket")
            else:
                self._choose_product()
        elif screen == "weigh":
            self._weigh()
        elif screen == "pieces":
            for _ in range(self.rng.randrange(0, 3)):
                k.touch(id="more")
            k.touch(id="add")
            self.visit.items += 1
            k.wait(lambda: k.journey != "pieces", "the basket")
        elif screen == "basket":
            if self.visit.items < self.wanted and k.find(lambda s: s.id == "more"):
                k.touch(id="more")
            else:
                k.touch(id="pay")
                k.wait(lambda: k.journey != "basket", "the payment to start")
        elif screen == "paying":
            pass
        elif screen == "receipt":
            self.visit.receipt = k.text("number")
            k.touch(id="done")
        elif screen == "thank_you":
            pass
        elif screen == "payment_failed":
            shop.next_payment(Scenario.APPROVED)  # another card
            self._touch_choice(primary=True)
        elif screen in (
            "payment_unknown",
            "no_payment",
            "terminal_unavailable",
            "paper_out",
            "out_of_order",
        ):
            self._touch_choice(primary=True)
        elif screen.startswith("scale_"):
            shop.put(0)
            self._touch_choice(primary=False)
        elif screen == "about":
            k.touch(id="back")
        return False

    def _touch_choice(self, *, primary: bool) -> None:
        k = self.kiosk
        order = ("primary", "secondary") if primary else ("secondary", "primary")
        for name in order:
            spot = k.find(partial(_named, name))
            if spot is not None:
                k.touch_spot(spot)
                time.sleep(0.3)
                return

    def _choose_product(self) -> None:
        """Sometimes a category first, then a product tile; a tile that did not take the touch
        (the grid moved under the finger) is touched again, as a person would."""
        k = self.kiosk
        k.wait(lambda: self._tiles(), "products")
        if self.rng.random() < 0.4:
            spots = k.spots()
            row = next((s for s in spots if s.id == "categories"), None)
            categories = [
                s
                for s in spots
                if row and s.touchable and not s.disabled and not s.sku and s.within(row)
            ]
            if categories:
                k.touch_spot(self.rng.choice(categories))
                k.fresh_map()
        for _ in range(TILE_TRIES):
            tile: Spot = self.rng.choice(k.wait(lambda: self._tiles(), "products"))
            k.touch_spot(tile)
            try:
                k.wait(lambda: k.journey != "catalogue", "the product's screen", TILE_WAIT_S)
                return
            except KioskStuck:
                k.touches_again += 1
                k.fresh_map()
        k.wait(lambda: k.journey != "catalogue", "the product's screen")

    def _tiles(self) -> list[Spot]:
        return [s for s in self.kiosk.spots() if s.sku and not s.disabled and s.touchable]

    def _weigh(self) -> None:
        k = self.kiosk
        shop = self.world.shop
        assert shop
        grams = self.rng.randrange(120, 4000)
        shop.put(grams)
        try:
            k.wait(lambda: k.text("price") not in ("", "—"), "a priced weight", timeout=12)
        except KioskStuck:
            k.touch(id="back")
            shop.put(0)
            return
        if self.rng.random() < 0.5:
            k.touch(id="print_label")
        else:
            k.touch(id="add")
        self.visit.items += 1
        k.wait(lambda: k.journey != "weigh", "the basket")
        shop.put(0)


class Producer:
    """A producer refilling the lockers: PIN on the keypad, one order per door."""

    def __init__(self, kiosk: KioskDriver, world: World, pin: str) -> None:
        self.kiosk = kiosk
        self.world = world
        self.pin = pin
        self.deposited: list[tuple[str, int]] = []  # kept even when the visit fails midway

    def deposit(self, how_many: int = 2) -> list[tuple[str, int]]:
        """Put up to `how_many` waiting orders in lockers; returns (order, door) deposited.
        When the kiosk says no compartment is free, the producer goes back and stops."""
        k = self.kiosk
        from_home(k, "producers", ("identify",), "the PIN keypad")
        type_digits(k, self.pin)
        k.touch(id="key_ok")
        k.wait(lambda: k.step in ("menu", "refused", "locked"), "the producer's menu")
        done = self.deposited
        while len(done) < how_many and k.step == "menu":
            offer = k.find(lambda s: s.text.startswith("Déposer des commandes ("))
            if offer is None or offer.text.startswith("Déposer des commandes (0"):
                break
            k.touch_spot(offer)
            k.wait(lambda: k.step == "choose_order", "the orders to deposit")
            order = k.wait(lambda: k.find(lambda s: ORDER.match(s.text) is not None), "an order")
            number = order.text.split(" ")[0]
            k.touch_spot(order)
            k.wait(lambda: k.step in ("choose_place", "no_place"), "the doors offered")
            if k.step == "no_place":
                self._touch_any(("OK", "Retour"))
                break
            k.fresh_map()
            door = k.find(lambda s: s.text.startswith("N° "))
            if door is None:  # "No compartment is free."
                self._touch_any(("Retour",))
                k.wait(lambda: k.step == "menu", "the menu again")
                break
            compartment = int(door.text.split()[1])
            k.touch_spot(door)
            if not self._wait_door(compartment):
                break
            k.wait(lambda: k.step in ("deposited", "refused", "call_site"), "the deposit", 40)
            if k.step == "deposited":
                done.append((number, compartment))
            self._touch_any(("OK",))
            k.wait(lambda: k.step != "deposited", "the menu again")
        self._touch_any(("Terminé", "OK", "Retour"))
        k.wait(lambda: k.screen in WELCOME, "home after the refill", 40)
        return done

    def _wait_door(self, compartment: int) -> bool:
        """The door opens: the producer puts the bag in and pushes it shut."""
        return open_and_close(self.kiosk, self.world, compartment)

    def _touch_any(self, texts: tuple[str, ...]) -> None:
        for text in texts:
            spot = self.kiosk.find(partial(_starting, text))
            if spot is not None:
                self.kiosk.touch_spot(spot)
                time.sleep(0.3)
                return


def type_digits(k: KioskDriver, digits: str) -> None:
    """Digits touched on the on-screen keypad."""
    for digit in digits:
        k.touch(id=f"key_{digit}")


def open_and_close(
    k: KioskDriver, world: World, compartment: int, *, leave_open: bool = False, timeout: float = 20
) -> bool:
    """Wait for the door to open, then (after the door watch has seen it open) push it shut."""
    shop = world.shop
    assert shop
    deadline = real_monotonic() + timeout
    while not shop.door_open(compartment):
        if real_monotonic() > deadline or k.step in ("call_site", "refused"):
            return False
        time.sleep(0.05)
    time.sleep(0.6)  # a person takes a moment; the door watch debounces
    if not leave_open:
        shop.close_door(compartment)
    return True


class Collector:
    """A customer collecting an online order with the code from their e-mail."""

    def __init__(
        self, kiosk: KioskDriver, world: World, pass_time: Callable[[float], None] | None = None
    ) -> None:
        self.kiosk = kiosk
        self.world = world
        self.pass_time = pass_time or time.sleep

    def collect(
        self, order: str, compartment: int, *, code: str | None = None, leave_open: bool = False
    ) -> str:
        """Returns the step the visit ended on ("done" when the order was taken)."""
        k = self.kiosk
        code = code or self.world.inbox.pickup_code(order)
        if code is None:
            return "no_code"
        from_home(k, "pickup", ("enter_code",), "the code keypad")
        type_digits(k, code)
        k.wait(lambda: k.step not in ("enter_code", "checking", "confirming"), "the code check", 30)
        if k.step != "opening" and k.step != "take_order":
            ended = k.step or "?"
            back_home(k)
            return ended
        if not open_and_close(k, self.world, compartment, leave_open=leave_open):
            ended = k.step or "?"
            back_home(k)
            return ended
        if leave_open:
            return "left_open"
        k.wait(lambda: k.step in ("done", "item_left") or k.screen in WELCOME, "the pickup done")
        ended = k.step or "done"
        back_home(k)
        return ended

    def wrong_codes(self, times: int, rng: random.Random) -> tuple[int, bool]:
        """Someone types `times` wrong codes, waiting out each lockout; returns (codes typed,
        whether the keypad locked)."""
        k = self.kiosk
        from_home(k, "pickup", ("enter_code",), "the code keypad")
        typed, locked = 0, False
        while typed < times:
            for _ in range(40):
                if k.step != "locked":
                    break
                locked = True
                self.pass_time(120)  # they wait in front of the locked keypad
            if k.step != "enter_code":  # the kiosk went home while they waited: start again
                back_home(k)
                from_home(k, "pickup", ("enter_code", "locked"), "the code keypad")
                continue
            type_digits(k, "".join(rng.choice("0123456789") for _ in range(6)))
            typed += 1
            self._until_taken(k)
            k.wait(
                lambda: k.step in ("refused", "locked") or k.screen in WELCOME, "the refusal", 30
            )
            if k.step == "refused":
                self.pass_time(REFUSAL_S)  # they read the refusal until the keypad is back
        locked = locked or k.step == "locked"
        while k.step == "locked":
            self.pass_time(120)
        back_home(k)
        return typed, locked

    def _until_taken(self, k: KioskDriver) -> None:
        """A digit that did not register leaves the keypad waiting: like a person, press one
        more (counted in the driver's `touches_again`)."""
        for _ in range(6):
            try:
                k.wait(lambda: k.step != "enter_code" or k.screen in WELCOME, "the code", 4)
                return
            except KioskStuck:
                k.touches_again += 1
                k.touch(id="key_0")


def from_home(k: KioskDriver, button: str, steps: tuple[str, ...], what: str) -> None:
    """From home, touch `button` until the kiosk is at one of `steps`: a touch that lands as the
    kiosk dims to its attract screen is made again, as a person would."""
    for _ in range(3):
        k.wait_screen("home")
        k.touch(id=button)
        try:
            k.wait(lambda: k.step in steps, what, 8)
            return
        except KioskStuck:
            if k.screen not in WELCOME:
                raise
            k.touches_again += 1
    k.wait(lambda: k.step in steps, what)


def back_home(k: KioskDriver) -> None:
    """Touch Back / OK / Terminé (on the basket: cancel everything) until the kiosk is home (or
    it goes home by itself), answering "are you still there?" first (a visit that ran out of
    time may leave it over the basket);
    an attract screen shown meanwhile is touched, as the next thing they do starts from home."""
    for _ in range(6):
        if k.screen in WELCOME:
            break
        if k.answer_prompt():  # "are you still there?" covers the screen: nothing under it works
            continue
        spot = k.find(lambda s: s.text.startswith(("Retour", "OK", "Terminé", "Annuler")))
        spot = spot or k.find(lambda s: s.id == "cancel")  # the basket's "cancel everything"
        if spot is not None:
            k.touch_spot(spot)
        time.sleep(0.5)
    k.wait(lambda: k.screen in WELCOME, "home", 60)
    k.wait_screen("home")


def _named(name: str, spot: Spot) -> bool:
    return spot.id == name and bool(spot.text)


def _starting(text: str, spot: Spot) -> bool:
    return spot.text.startswith(text)
