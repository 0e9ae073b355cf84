"""The Kivy application: one journey, its screens, the hardware threads and the command queue.

Every event (a touch, a reading, a payment answer, the half-second tick) goes through `send`,
which steps the journey, hands its intentions to the hardware and renders the current screen.
Device threads reach `send` only through `Clock.schedule_once`, which is thread-safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from appliance.config import Config
from appliance.core.weighing import ScaleSpec
from appliance.kiosk import screens
from appliance.kiosk.commands import CommandExecutor, CommandRefused
from appliance.kiosk.flows.events import CatalogueLoaded, Event, TimerFired, Touched
from appliance.kiosk.flows.journey import Journey, Screen, Settings
from appliance.kiosk.hardware import Hardware
from appliance.kiosk.i18n import translator
from appliance.kiosk.view import MESSAGE_SCREENS
from appliance.legal import legal_identity
from appliance.store.catalogue import list_products
from appliance.store.db import open_database

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
}


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
        self.on_ready = on_ready
        self.legal = legal_identity()
        self.first_frame_at: float | None = None
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
        return manager

    def on_start(self) -> None:
        self.load_catalogue()
        if self.hardware is not None:
            self.hardware.start()
            self.commands = CommandExecutor(self.site.database_path, self.command_handlers())
            self.commands.start()
        Clock.schedule_interval(lambda _dt: self.send(TimerFired()), TICK_S)
        Clock.schedule_once(self._first_frame, 0)
        self.render()

    def on_stop(self) -> None:
        if self.commands is not None:
            self.commands.stop()
        if self.hardware is not None:
            self.hardware.stop()

    def _first_frame(self, _dt: float) -> None:
        self.first_frame_at = time.monotonic()
        if self.on_ready is not None:
            self.on_ready(self)

    # -- events ---------------------------------------------------------------------------------

    def post(self, event: Event) -> None:
        """From any thread: deliver `event` on the UI thread at the next frame."""
        Clock.schedule_once(lambda _dt: self.send(event), -1)

    def send(self, event: Event) -> None:
        for intention in self.journey.handle(event, time.monotonic()):
            if self.hardware is not None:
                self.hardware.carry_out(intention)
        self.render()

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
            db.conn.close()
        self.send(CatalogueLoaded(products))

    # -- rendering ------------------------------------------------------------------------------

    def render(self) -> None:
        journey = self.journey
        if journey.language != self.lang:
            self._ = translator(journey.language)
            self.lang = journey.language
        screen = journey.screen
        name = "message" if screen in MESSAGE_SCREENS else screen.value
        manager = self.root
        if manager is None:
            return
        manager.get_screen(name).render(self)
        if manager.current != name:
            manager.current = name
        prompt = self.idle_prompt
        if journey.idle_prompt and prompt.parent is None:
            prompt.open(animation=False)
        elif not journey.idle_prompt and prompt.parent is not None:
            prompt.dismiss(animation=False)

    # -- device commands ------------------------------------------------------------------------

    def command_handlers(self) -> dict[str, Callable[[dict], dict]]:
        hardware = self.hardware
        assert hardware is not None

        def print_test_label(_args: dict) -> dict:
            return {"printed_to": hardware.print_test_label()}

        def scale_zero(_args: dict) -> dict:
            hardware.zero_scale()
            return {"zeroed": True}

        def restart_ui(_args: dict) -> dict:
            if self.journey.screen is Screen.PAYING or hardware.paying:
                raise CommandRefused("a payment is in progress: ask again in a minute")
            Clock.schedule_once(lambda _dt: self.restart_ui(), 0)
            return {"restarted": True}

        return {
            "print_test_label": print_test_label,
            "scale_zero": scale_zero,
            "restart_ui": restart_ui,
        }

    def restart_ui(self) -> None:
        """A fresh journey and catalogue; the scale's one-weighing memory is kept."""
        panel = self.journey.panel
        self.journey = Journey(journey_settings(self.site))
        self.journey.panel = panel
        self.load_catalogue()
        log.info("kiosk screens restarted")
