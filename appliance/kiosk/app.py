"""The Kivy application: one journey, its screens, the hardware threads and the command queue.

Every event (a touch, a reading, a payment answer, the half-second tick) goes through `send`,
which steps the journey (or, during a visit to the lockers, the visit's flow), hands the
intentions to the hardware and renders the current screen. Device threads reach `send` only
through `Clock.schedule_once`, which is thread-safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from appliance.certificate import web_fingerprint
from appliance.config import Config
from appliance.core.receipt import MODE_MARKS
from appliance.core.weighing import ScaleSpec
from appliance.kiosk import locker_screens, locker_view, screens
from appliance.kiosk.back_soon import BackSoon
from appliance.kiosk.commands import CommandExecutor, CommandRefused
from appliance.kiosk.flows import pickup, refill
from appliance.kiosk.flows.events import CatalogueLoaded, Event, TimerFired, Touched
from appliance.kiosk.flows.journey import Journey, Screen, Settings
from appliance.kiosk.flows.visit import Kind, Visit
from appliance.kiosk.hardware import Hardware
from appliance.kiosk.health import CatalogueWatch, Heartbeat
from appliance.kiosk.i18n import translator
from appliance.kiosk.view import MESSAGE_SCREENS
from appliance.kiosk.wedge import Wedge
from appliance.legal import legal_identity
from appliance.store.catalogue import list_products
from appliance.store.db import open_database
from appliance.store.device_commands import CommandName, DeviceCommand
from appliance.store.fiscal_key import public_key
from appliance.systemd_notify import Notifier

log = logging.getLogger(__name__)

TICK_S = 0.5
_SCREENS = {
    "home": screens.HomeScreen,
    "about": screens.AboutScreen,
    "catalogue": screens.CatalogueScreen,
    "weigh": screens.WeighScreen,
    "pieces": screens.PiecesScreen,
    "basket": screens.BasketScreen,
    "receipt": screens.ReceiptScreen,
    "message": screens.MessageScreen,
    "locker_keypad": locker_screens.LockerKeypadScreen,
    "locker_choices": locker_screens.LockerChoicesScreen,
    "locker_notice": locker_screens.LockerNoticeScreen,
}
_JOURNEY_EVENTS = get_args(Event)
_KEYS = {"erase": pickup.Erase(), "ok": refill.PinEntered()}


def journey_settings(site: Config) -> Settings:
    scale = site.scale
    return Settings(
        ScaleSpec(scale.interval_g, scale.capacity_g, scale.min_load),
        site.kiosk.idle_timeout_s,
        site.device.language,
        payment_enabled=site.payment.terminal != "none",
    )


class KioskApp(App):
    """The touchscreen. `hardware` is None for the screenshot tour (events are then scripted)."""

    lang = StringProperty("fr")
    portrait = BooleanProperty(False)
    lockers = BooleanProperty(False)  # the home screen offers pickup and the producers' entry
    walkin = BooleanProperty(False)  # ... and buying from a walk-in compartment
    mode_mark = StringProperty("")  # FORMATION or DÉMO on every screen of such a box

    def __init__(
        self,
        site: Config,
        hardware_factory: Callable[[Callable[[Event], None]], Hardware] | None = None,
        *,
        on_ready: Callable[[KioskApp], Any] | None = None,
    ) -> None:
        super().__init__()
        self.site = site
        self.title = f"Comptoir · {site.device.name}"
        self.journey = Journey(journey_settings(site))
        self.hardware = hardware_factory(self.post) if hardware_factory else None
        self.commands: CommandExecutor | None = None
        self.visit: Visit | None = None
        self.locker_page: locker_view.Page | None = None
        self.wedge = Wedge()
        self._threads: list[Any] = []
        self.lockers = self.hardware is not None and self.hardware.lockers is not None
        self.walkin = self.lockers and self.journey.settings.payment_enabled
        self.on_ready = on_ready
        self.legal = legal_identity()
        self.public_key = public_key(site.device.data_dir)
        self.web_fingerprint = web_fingerprint(site.device.data_dir)
        mark = MODE_MARKS.get(site.shop.mode)
        self.mode_mark = f"{mark} · {site.shop.mode.upper()}" if mark else ""
        self.first_frame_at: float | None = None
        self.notifier = Notifier()
        self._ = translator(self.journey.language)
        self.lang = self.journey.language

    # -- Kivy -----------------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        screens.load_kv()
        self.portrait = Window.height > Window.width
        manager = ScreenManager(transition=NoTransition())
        for name, cls in _SCREENS.items():
            manager.add_widget(cls(name=name))
        self.idle_prompt = screens.IdlePrompt()
        Window.bind(on_key_down=self._key_down)
        return manager

    def on_start(self) -> None:
        self.load_catalogue()
        if self.hardware is not None:
            hardware = self.hardware
            hardware.start()
            self.lockers = hardware.lockers is not None
            self.walkin = self.lockers and self.journey.settings.payment_enabled
            path = self.site.database_path
            self.commands = CommandExecutor(path, self.command_handlers())
            self._threads = [
                self.commands,
                Heartbeat(path, hardware.health),
                CatalogueWatch(path, lambda products: self.post(CatalogueLoaded(products))),
            ]
            for thread in self._threads:
                thread.start()
        Clock.schedule_interval(lambda _dt: self._tick(), TICK_S)
        Clock.schedule_once(self._first_frame, 0)
        self.render()

    def on_stop(self) -> None:
        for thread in self._threads:
            thread.stop()
        if self.hardware is not None:
            self.hardware.stop()

    def _first_frame(self, _dt: float) -> None:
        self.first_frame_at = time.monotonic()
        self.notifier.ready("first frame drawn")
        if self.on_ready is not None:
            self.on_ready(self)

    # -- events ---------------------------------------------------------------------------------

    def post(self, event: object) -> None:
        """From any thread: deliver `event` on the UI thread at the next frame."""
        Clock.schedule_once(lambda _dt: self.send(event), -1)

    def send(self, event: object) -> None:
        """A journey event steps the journey; any other is a locker event for the visit."""
        if not isinstance(event, _JOURNEY_EVENTS):
            self.locker_event(event)
            return
        for intention in self.journey.handle(event, time.monotonic()):
            if self.hardware is not None:
                self.hardware.carry_out(intention)
        self.render()

    def _tick(self) -> None:
        # Kivy's clock is the kiosk's main loop: a hung screen stops the pings, systemd restarts.
        self.notifier.watchdog()
        self.send(TimerFired())
        if self.visit is not None:
            self.locker_event(pickup.Tick())

    # -- visits to the lockers ------------------------------------------------------------------

    def start_visit(self, kind: str) -> None:
        """From the home screen: collect an order, refill as a producer, or buy from a locker."""
        if self.visit is not None or self.journey.screen is not Screen.HOME:
            return
        site = self.site
        self.visit = Visit(
            Kind(kind),
            time.monotonic(),
            idle_s=site.kiosk.idle_timeout_s,
            phone=site.device.phone,
            code_digits=site.lockers.code_digits,
        )
        self._carry_out_locker(self.visit.start())
        self.render()

    def locker_event(self, event: object, *, touch: bool = False) -> None:
        visit = self.visit
        if visit is None:
            return  # a door closed with nobody at the screen: the runner recorded it
        self._carry_out_locker(visit.handle(event, time.monotonic(), touch=touch))
        if visit.finished:
            self.visit = None
            self.locker_page = None
        self.render()

    def locker_touch(self, event: object) -> None:
        self.locker_event(event, touch=True)

    def locker_key(self, key: str) -> None:
        self.locker_touch(_KEYS.get(key) or pickup.DigitPressed(key))

    def _carry_out_locker(self, intentions: list[object]) -> None:
        runner = self.hardware.lockers if self.hardware is not None else None
        for intention in intentions:
            if runner is not None:
                runner.carry_out(intention)

    def _key_down(self, _window, key: int, _scancode, codepoint, modifiers) -> bool:
        """Keyboard-wedge scanners type a QR token or a badge, then Enter."""
        if "ctrl" in modifiers:
            return False
        now = time.monotonic()
        if key not in (13, 271):
            if codepoint:
                self.wedge.feed(codepoint, now)
            return False
        text = self.wedge.enter(now)
        if text is None or not self.lockers:
            return False
        if self.visit is None:
            self.start_visit(Kind.PICKUP.value)
        if self.visit is not None:
            self.locker_touch(pickup.Scanned(text))
        return True

    def touch(self, action: str, argument: str = "") -> None:
        self.send(Touched(str(action), argument))

    def tr(self, text: str, _lang: str) -> str:
        """For kv rules: `app.tr("Pay by card", app.lang)` follows the language as it changes."""
        return self._(text)

    def photo(self, product: Any) -> str:
        if not product.photo:
            return ""
        path = Path(product.photo)
        if not path.is_absolute():
            path = self.site.device.data_dir / "photos" / path
        return str(path) if path.is_file() else ""

    def load_catalogue(self) -> None:
        db = open_database(self.site.database_path)
        try:
            products = tuple(list_products(db, active_only=True))
        finally:
            db.close()
        self.send(CatalogueLoaded(products))

    # -- rendering ------------------------------------------------------------------------------

    def render(self) -> None:
        journey = self.journey
        if journey.language != self.lang:
            self._ = translator(journey.language)
            self.lang = journey.language
        manager = self.root
        if manager is None:
            return
        if self.visit is not None:
            self.locker_page = locker_view.page(
                self.visit, time.monotonic(), journey.language, self._, journey.browse.products
            )
            name = locker_screens.SCREENS[self.locker_page.layout]
        else:
            screen = journey.screen
            name = "message" if screen in MESSAGE_SCREENS else screen.value
        manager.get_screen(name).render(self)
        if manager.current != name:
            manager.current = name
        prompt = self.idle_prompt
        if journey.idle_prompt and prompt.parent is None:
            prompt.open(animation=False)
        elif not journey.idle_prompt and prompt.parent is not None:
            prompt.dismiss(animation=False)

    # -- device commands ------------------------------------------------------------------------

    def command_handlers(self) -> dict[CommandName, Callable[[DeviceCommand], dict]]:
        hardware = self.hardware
        assert hardware is not None

        def print_test_label(_command: DeviceCommand) -> dict:
            return {"printed_to": hardware.print_test_label()}

        def scale_zero(_command: DeviceCommand) -> dict:
            hardware.zero_scale()
            return {"zeroed": True}

        def restart_ui(_command: DeviceCommand) -> dict:
            if self.journey.screen is Screen.PAYING or hardware.paying or self.visit:
                raise CommandRefused("a customer is paying or at the lockers: ask again later")
            Clock.schedule_once(lambda _dt: self.restart_ui(), 0)
            return {"restarted": True}

        def pause_for_update(command: DeviceCommand) -> dict:
            journey = self.journey
            if journey.screen is not Screen.HOME or journey.lines or hardware.paying or self.visit:
                raise CommandRefused("a customer is at the kiosk: the update waits")
            hold_s = min(max(int(command.args.get("hold_s", 300)), 10), 900)
            Clock.schedule_once(lambda _dt: self._back_soon().hold(hold_s), 0)
            return {"paused_s": hold_s}

        def open_door(command: DeviceCommand) -> dict:
            runner = hardware.lockers
            if runner is None:
                raise CommandRefused(
                    'no lockers here: [lockers] controller is "none" or did not answer at start'
                )
            number = command.args.get("compartment")
            if not isinstance(number, int) or number not in runner.numbers:
                known = ", ".join(map(str, runner.numbers))
                raise CommandRefused(f"compartment {number} is unknown here (known: {known})")
            return runner.open_door(number, command.requested_by, command.reason or "no reason")

        def reprint_receipt(command: DeviceCommand) -> dict:
            number = command.args.get("receipt")
            if not isinstance(number, int) or number < 1:
                raise CommandRefused('give the receipt number to reprint: {"receipt": 12}')
            return {"printed_to": hardware.reprint_receipt(number, command.requested_by)}

        return {
            "reprint_receipt": reprint_receipt,
            CommandName.PRINT_TEST_LABEL: print_test_label,
            CommandName.SCALE_ZERO: scale_zero,
            CommandName.RESTART_UI: restart_ui,
            CommandName.OPEN_DOOR: open_door,
            "pause_for_update": pause_for_update,
        }

    def _back_soon(self) -> BackSoon:
        if getattr(self, "back_soon", None) is None:
            self.back_soon = BackSoon(self._)
        return self.back_soon

    def restart_ui(self) -> None:
        """A fresh journey and catalogue; the scale's one-weighing memory is kept."""
        panel = self.journey.panel
        self.journey = Journey(journey_settings(self.site))
        self.journey.panel = panel
        self.load_catalogue()
        log.info("kiosk screens restarted")
