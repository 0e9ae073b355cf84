"""The Kivy application: the kiosk's flow, its screens, and the one way events go through.

Every event (a touch, a reading, a store's answer, the half-second tick) goes through `send`:
the flow (`flows.kiosk.KioskFlow`, the one dispatcher) answers intentions, the effects
(`effects.Effects`, the one executor) carry them out in their own threads, and the current screen
is rendered. Threads reach `send` only through `post` (`Clock.schedule_once`, thread-safe). This
thread, Kivy's, never touches the database or a device, at start-up neither.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import sp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import NoTransition, ScreenManager

from appliance import memory
from appliance.certificate import web_fingerprint
from appliance.config import Config
from appliance.core.weighing import ScaleSpec
from appliance.kiosk import locker_screens, locker_view, remote, screens, view
from appliance.kiosk.back_soon import BackSoon
from appliance.kiosk.commands import CommandExecutor
from appliance.kiosk.effects import Effects, Post
from appliance.kiosk.flows.events import (
    Action,
    CatalogueLoaded,
    DigitPressed,
    Erase,
    Event,
    PinEntered,
    Scanned,
    StoreDamaged,
    TimerFired,
    Touched,
)
from appliance.kiosk.flows.intentions import Intention, Say
from appliance.kiosk.flows.kiosk import KioskFlow
from appliance.kiosk.flows.values import Settings
from appliance.kiosk.health import CatalogueWatch, Heartbeat
from appliance.kiosk.i18n import translator
from appliance.kiosk.installer import InstallerPanel, InstallerWatch, Page, Seen, outdated, page_for
from appliance.kiosk.looks import STANDARD, Looks, looks
from appliance.kiosk.pictures import for_site
from appliance.kiosk.probe import Probe
from appliance.kiosk.view import MESSAGE_SCREENS
from appliance.kiosk.wedge import Wedge
from appliance.legal import legal_identity
from appliance.provisioning_status import Status, uptime_s
from appliance.store.fiscal_key import public_key
from appliance.systemd_notify import Notifier

log = logging.getLogger(__name__)

TICK_S = 0.5
_SCREENS = {
    "attract": screens.AttractScreen,
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
_KEYS: dict[str, Event] = {"erase": Erase(), "ok": PinEntered()}


def kiosk_settings(site: Config) -> Settings:
    scale = site.scale
    return Settings(
        ScaleSpec(scale.interval_g, scale.capacity_g, scale.min_load),
        site.kiosk.idle_timeout_s,
        site.device.language,
        payment_enabled=site.payment.terminal != "none",
        lockers=site.lockers.controller != "none",
        phone=site.device.phone,
        code_digits=site.lockers.code_digits,
    )


def _overlay(view: ModalView, shown: bool) -> None:
    if shown and view.parent is None:
        view.open(animation=False)
    elif not shown and view.parent is not None:
        view.dismiss(animation=False)


class KioskApp(App):
    """The touchscreen. Without `effects` (the screenshot tour) events are scripted.
    `problem` says why there is no config yet (`site` is then the defaults): the kiosk shows
    only the installer's page until provisioning gives it one."""

    lang = StringProperty("fr")
    portrait = BooleanProperty(False)
    lockers = BooleanProperty(False)  # the home screen offers pickup and the producers' entry
    walkin = BooleanProperty(False)  # ... and buying from a walk-in compartment
    mode_mark = StringProperty("")  # view.SCREEN_MARKS: TRAINING or DEMO, said by app.tr
    # The look (looks.py): the accessibility mode's larger text and high contrast
    accessible = BooleanProperty(False)
    text_scale = NumericProperty(STANDARD.text_scale)
    paper = ColorProperty(STANDARD.paper)
    card = ColorProperty(STANDARD.card)
    ink = ColorProperty(STANDARD.ink)
    accent = ColorProperty(STANDARD.accent)
    primary = ColorProperty(STANDARD.primary)
    primary_down = ColorProperty(STANDARD.primary_down)
    primary_ink = ColorProperty(STANDARD.primary_ink)
    quiet = ColorProperty(STANDARD.quiet)
    quiet_down = ColorProperty(STANDARD.quiet_down)
    quiet_ink = ColorProperty(STANDARD.quiet_ink)
    ready = ColorProperty(STANDARD.ready)
    wait = ColorProperty(STANDARD.wait)
    notice = ColorProperty(STANDARD.notice)
    notice_ink = ColorProperty(STANDARD.notice_ink)

    def __init__(
        self,
        site: Config,
        effects: Callable[[Post], Effects] | None = None,
        *,
        on_ready: Callable[[KioskApp], Any] | None = None,
        problem: str = "",
    ) -> None:
        super().__init__()
        self.site = site
        self.title = f"Comptoir · {site.device.name}"
        self.flow = KioskFlow(kiosk_settings(site))
        self.effects = effects(self.post) if effects else None
        self.locker_page: locker_view.Page | None = None
        self.wedge = Wedge()
        self._threads: list[Any] = []
        settings = self.flow.settings
        self.lockers = settings.lockers
        self.walkin = settings.lockers and settings.payment_enabled
        self.on_ready = on_ready
        self.legal = legal_identity()
        self.public_key = public_key(site.device.data_dir)
        self.web_fingerprint = web_fingerprint(site.device.data_dir)
        self.mode_mark = view.SCREEN_MARKS.get(site.shop.mode, "")
        self.first_frame_at: float | None = None
        self.notifier = Notifier()
        self.back_soon: BackSoon | None = None
        self._ = translator(self.flow.language)
        self.lang = self.flow.language
        self.probe = Probe()  # the screen map for the soak's robot; off on a box
        self.pictures = for_site(site)  # only its paths here: the workers make the files
        self._spoken = ""  # the accessibility mode's last prompt said aloud
        self.stopped = False
        self.problem = problem
        self.started_uptime_s = uptime_s()  # what provisioning finished before, this kiosk read
        self._installer_status: Status | None = None  # the status the installer's page shows
        self._installer_left: Status | None = None  # ... and the one whose page was dismissed
        self._given_back = False  # the heap's free pages returned since the kiosk was last idle

    # -- Kivy -----------------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        screens.load_kv()
        self.portrait = Window.height > Window.width
        manager = ScreenManager(transition=NoTransition())
        self._build_screens(manager)
        Window.bind(on_key_down=self._key_down)
        self.installer = InstallerPanel(self._installer_leave)
        return manager

    def _build_screens(self, manager: ScreenManager) -> None:
        """Every screen and overlay, made in the current look (kv rules read it once)."""
        for overlay in ("idle_prompt", "help_panel"):
            if getattr(self, overlay, None) is not None:
                _overlay(getattr(self, overlay), False)
        manager.clear_widgets()
        for name, cls in _SCREENS.items():
            manager.add_widget(cls(name=name))
        self.idle_prompt = screens.IdlePrompt()
        self.help_panel = screens.HelpPanel()

    def on_start(self) -> None:
        effects = self.effects
        if effects is not None:
            effects.start()
            path = self.site.database_path
            pictures = effects.shop.pictures  # one cache, locked, for both threads that load
            self._threads = [
                CommandExecutor(path, remote.handlers(effects, self)),
                Heartbeat(
                    path, effects.health, on_damage=lambda tables: self.post(StoreDamaged(tables))
                ),
                CatalogueWatch(
                    path, lambda products: self.post(CatalogueLoaded(pictures.dress(products)))
                ),
            ]
        if effects is not None or self.problem:
            self._threads.append(
                InstallerWatch(
                    self.site,
                    self.site.device.data_dir,
                    lambda seen: Clock.schedule_once(lambda _dt: self._installer_seen(seen), -1),
                    health=effects.health if effects is not None and not self.problem else None,
                )
            )
        for thread in self._threads:
            thread.start()
        self._carry_out(self.flow.start())
        Clock.schedule_interval(lambda _dt: self._tick(), TICK_S)
        Clock.schedule_once(self._first_frame, 0)
        self.render()

    def on_stop(self) -> None:
        self.stopped = True
        for thread in self._threads:
            thread.stop()
        if self.effects is not None:
            self.effects.stop()

    def _first_frame(self, _dt: float) -> None:
        self.first_frame_at = time.monotonic()
        self.notifier.ready("first frame drawn")
        if self.on_ready is not None:
            self.on_ready(self)

    # -- events ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        # Kivy's clock is the kiosk's main loop: a hung screen stops the pings, systemd restarts.
        self.notifier.watchdog()
        self.send(TimerFired())
        self._give_back()

    def _give_back(self) -> None:
        """Once nobody is at the kiosk, hand back to the system what the customer's screens and
        the pictures freed (a few milliseconds; glibc keeps it resident otherwise)."""
        idle = self.flow.idle
        if idle and not self._given_back:
            memory.give_back()
        self._given_back = idle

    def post(self, event: Event) -> None:
        """From any thread: deliver `event` on the UI thread at the next frame."""
        Clock.schedule_once(lambda _dt: self._arrived(event), -1)

    def _arrived(self, event: Event) -> None:
        if not self.stopped:  # a worker's answer after the window closed: nobody to show it
            self.send(event)

    def send(self, event: Event) -> None:
        """The one way through: the flow answers, the effects carry out, the screen follows."""
        if isinstance(event, CatalogueLoaded):
            self._given_back = False  # its pictures were made: their decoding freed megabytes
        self._carry_out(self.flow.handle(event, time.monotonic()))
        self.render()

    def _carry_out(self, intentions: list[Intention]) -> None:
        if self.effects is not None:
            for intention in intentions:
                self.effects.carry_out(intention)

    def touch(self, action: str, argument: str = "") -> None:
        """For kv rules: a shop screen's button, by its action's name."""
        self.send(Touched(Action(action), argument))

    def locker_key(self, key: str) -> None:
        self.send(_KEYS.get(key) or DigitPressed(key))

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
        if self.flow.visit is None:
            self.send(Touched(Action.PICKUP))
        self.send(Scanned(text))
        return True

    def fs(self, size: float, scale: float) -> float:
        """For kv rules: `app.fs(20, app.text_scale)`, a text size that follows the look."""
        return float(sp(size * scale))

    def tr(self, text: str, _lang: str) -> str:
        """For kv rules: `app.tr("Pay by card", app.lang)` follows the language as it changes."""
        return self._(text)

    # -- rendering ------------------------------------------------------------------------------

    def render(self) -> None:
        flow = self.flow
        if flow.language != self.lang:
            self._ = translator(flow.language)
            self.lang = flow.language
        manager = self.root
        if manager is None:
            return
        if flow.accessible != self.accessible:
            self._apply(looks(flow.accessible))
            self.accessible = flow.accessible
            self._build_screens(manager)
        if flow.visit is not None:
            self.locker_page = locker_view.page(
                flow.visit, time.monotonic(), flow.language, self._, flow.journey.browse.products
            )
            name = locker_screens.SCREENS[self.locker_page.layout]
        else:
            self.locker_page = None
            screen = flow.journey.screen
            name = "message" if screen in MESSAGE_SCREENS else screen.value
        manager.get_screen(name).render(self)
        if manager.current != name:
            manager.current = name
        _overlay(self.help_panel, flow.help_shown)
        if flow.help_shown:
            self.help_panel.show(self)
        _overlay(self.idle_prompt, flow.idle_prompt)
        self._speak()
        self.probe.rendered(self)

    def _speak(self) -> None:
        """In the accessibility mode, say a weighing, payment or locker step's prompt when it
        changes."""
        flow = self.flow
        text = key = ""
        if flow.accessible and flow.visit is None:
            text = key = view.spoken(flow.journey, self.site.scale.interval_g, self._)
        elif flow.accessible and self.locker_page is not None:
            text = locker_view.spoken(self.locker_page, self._)
            # a locked keypad's countdown changes the body each second: said once
            key = f"{self.locker_page.title} {self.locker_page.big}"
        if text and key != self._spoken:
            self._carry_out([Say(text, flow.language)])
        self._spoken = key

    def _apply(self, look: Looks) -> None:
        """The look's colours and text scale; only screens made afterwards show it whole."""
        for name, value in asdict(look).items():
            setattr(self, name, value)

    # -- the installer's pages (installer.py) ---------------------------------------------------

    def _installer_seen(self, seen: Seen) -> None:
        if self.stopped:
            return
        configured = not self.problem
        started = self.started_uptime_s
        if outdated(seen.status, configured=configured, started_uptime_s=started):
            if not self.flow.busy:  # nobody paying or at a door: start again on the new config
                log.info("provisioning wrote a new config: the kiosk starts again to read it")
                self.stop()
            return
        page = page_for(seen.status, configured=configured, started_uptime_s=started)
        if page is Page.NONE or (seen.status is not None and seen.status == self._installer_left):
            if self.installer.page is not Page.NONE:
                self.installer.leave()
            return
        self.installer.show(page, seen, self.site, problem=self.problem, tr=self._)
        self._installer_status = seen.status

    def _installer_leave(self) -> None:
        self._installer_left = self._installer_status

    # -- device commands that need the screens (remote.Screens) ---------------------------------

    def ask_restart(self) -> Future[bool]:
        """From the command thread: start the screens again unless someone is paying or at the
        lockers."""

        def restart() -> bool:
            if self.flow.busy:
                return False
            self._carry_out(self.flow.restart(time.monotonic()))
            self.render()
            log.info("kiosk screens restarted")
            return True

        return self._on_ui(restart)

    def ask_pause(self, hold_s: int) -> Future[bool]:
        """From the command thread: "back in a minute" over everything for an update, only when
        nobody is at the kiosk."""

        def pause() -> bool:
            if not self.flow.idle:
                return False
            if self.back_soon is None:
                self.back_soon = BackSoon(self._)
            self.back_soon.hold(hold_s)
            return True

        return self._on_ui(pause)

    def _on_ui(self, job: Callable[[], bool]) -> Future[bool]:
        answer: Future[bool] = Future()

        def run(_dt: float) -> None:
            try:
                answer.set_result(job())
            except Exception as exc:  # handed to the command, which records why
                answer.set_exception(exc)

        Clock.schedule_once(run, -1)
        return answer
