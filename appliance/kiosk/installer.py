"""The installer's screens over the kiosk: provisioning under way, a refused card, "ready".

A box just flashed is switched on and looked at: while `comptoir provision` works the screen
lists its steps; a refused card gets every wrong line and what to do; once provisioned, a
"ready" page says who the box is and whether it reached the broker, synced its catalogue and
found its devices, then gives way to the customers' home at a touch or after `READY_SHOWN_S`.
What provisioning did comes from its status file (appliance.provisioning_status); the rest from
the heartbeats every process writes. A thread reads both: Kivy's thread only draws.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView

from appliance.config import Config
from appliance.kiosk.i18n import Translate
from appliance.provisioning_status import STEPS, State, Status, Step, read
from appliance.store import agent_state
from appliance.store.db import open_database

log = logging.getLogger(__name__)

CHECK_S = 1.0
#: A provisioning finished this recently when the kiosk starts gets the "ready" page (a
#: restart of the kiosk later in the day goes straight to the customers).
READY_FOR_S = 300.0
#: The "ready" page goes to the customers' home by itself after this.
READY_SHOWN_S = 60.0
DEVICES = ("scale", "printer", "terminal")


class Page(enum.Enum):
    NONE = "none"
    PROVISIONING = "provisioning"
    FAILED = "failed"
    READY = "ready"


@dataclass(frozen=True)
class Checks:
    """What the "ready" page lists: one plain word each (`health` words for the devices)."""

    broker: str = "starting"  # connected, offline, none (no broker set), starting
    catalogue: str = "starting"  # synced, failed, none (no marketplace), starting
    products: int = 0
    devices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Seen:
    """One look at the box, handed to Kivy's thread."""

    status: Status | None
    checks: Checks


def page_for(status: Status | None, *, configured: bool, started_uptime_s: float) -> Page:
    """Which page the kiosk shows for this status. A box with no config waits for provisioning
    (its unit may not have written anything yet); a status from an earlier boot says nothing
    about now."""
    if status is not None and not status.current():
        status = None
    if status is not None and status.state is State.FAILED:
        return Page.FAILED
    if not configured or (status is not None and status.state is State.RUNNING):
        return Page.PROVISIONING
    if status is not None and status.at_uptime_s >= started_uptime_s - READY_FOR_S:
        return Page.READY
    return Page.NONE


def outdated(status: Status | None, *, configured: bool, started_uptime_s: float) -> bool:
    """Provisioning finished after this kiosk started and gave it a config, or a new one: the
    kiosk must start again to read it (systemd's Restart= brings it back)."""
    return (
        status is not None
        and status.current()
        and status.state is State.DONE
        and status.at_uptime_s > started_uptime_s
        and (status.changed or not configured)
    )


def gather(db: sqlite3.Connection | None, site: Config, health: dict[str, str]) -> Checks:
    """The broker and the catalogue from the agent's and the sync's heartbeats, the devices
    from the kiosk's own words; without a database (no config yet) nothing is known."""
    if db is None:
        return Checks()
    beats = agent_state.heartbeats(db)
    agent, sync = beats.get("agent"), beats.get("sync")
    broker = "none" if not site.mqtt.url else "starting"
    if site.mqtt.url and agent is not None:
        broker = str(agent.detail.get("broker") or "starting")
    catalogue = "none" if not site.marketplace.url else "starting"
    if site.marketplace.url and sync is not None:
        catalogue = "synced" if sync.detail.get("ok") else "failed"
    (products,) = db.execute("SELECT count(*) FROM products WHERE active = 1").fetchone()
    devices = tuple((name, health.get(name, "starting")) for name in DEVICES)
    return Checks(broker, catalogue, int(products), devices)


class InstallerWatch:
    """A daemon thread that reads the status file and the heartbeats every `CHECK_S` and hands
    what it saw to `on_seen` when it changed."""

    def __init__(
        self,
        site: Config,
        data_dir: Path,
        on_seen: Callable[[Seen], None],
        *,
        health: Callable[[], dict[str, str]] | None = None,
        interval_s: float = CHECK_S,
    ) -> None:
        self.site = site
        self.data_dir = data_dir
        self.on_seen = on_seen
        self.health = health
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="installer-watch", daemon=True)

    def start(self) -> InstallerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        db = open_database(self.site.database_path) if self.health is not None else None
        last: Seen | None = None
        try:
            while True:
                try:
                    seen = Seen(
                        read(self.data_dir),
                        gather(db, self.site, self.health() if self.health else {}),
                    )
                    if seen != last:
                        self.on_seen(seen)
                        last = seen
                except Exception:  # the database busy for a moment: look again next time
                    log.exception("installer watch failed")
                if self._stop.wait(self.interval_s):
                    return
        finally:
            if db is not None:
                db.close()


_GOOD = "2e7d32"
_WAIT = "b26a00"
_QUIET = "6b6b60"


def _coloured(text: str, colour: str) -> str:
    return f"[b][color={colour}]{text}[/color][/b]"


def step_lines(status: Status | None, tr: Translate) -> list[str]:
    """Each step of provisioning: done, under way, or to come."""
    names = {
        Step.CARD: tr("Reading comptoir.txt"),
        Step.SETTINGS: tr("Writing the settings and the passwords"),
        Step.KEYS: tr("Making the box's keys"),
        Step.CARD_CLEANED: tr("Taking the passwords off the card"),
    }
    at = STEPS.index(status.step) if status is not None and status.current() else -1
    lines = []
    for index, step in enumerate(STEPS):
        if index < at:
            word = _coloured(tr("done"), _GOOD)
        elif index == at:
            word = _coloured(tr("under way…"), _WAIT)
        else:
            word = _coloured(tr("to come"), _QUIET)
        lines.append(f"{names[step]}   {word}")
    return lines


def check_lines(checks: Checks, tr: Translate) -> list[str]:
    """The "ready" page's list: what works, and what the installer still has to look at."""
    broker = {
        "connected": _coloured(tr("connected"), _GOOD),
        "offline": _coloured(tr("not reached: check mqtt_url and the network"), _WAIT),
        "none": _coloured(tr("none set"), _QUIET),
    }.get(checks.broker, _coloured(tr("connecting…"), _WAIT))
    catalogue = {
        "synced": _coloured(tr("synced"), _GOOD),
        "failed": _coloured(tr("not synced: check the marketplace lines"), _WAIT),
        "none": _coloured(tr("no marketplace: imported by hand"), _QUIET),
    }.get(checks.catalogue, _coloured(tr("syncing…"), _WAIT))
    names = {"scale": tr("Scale"), "printer": tr("Label printer"), "terminal": tr("Card terminal")}
    lines = [
        f"{tr('Fleet broker')}   {broker}",
        f"{tr('Catalogue')}   {catalogue} ({checks.products} {tr('products')})",
    ]
    for device, word in checks.devices:
        if word in ("ok", "paper_low", "overload"):
            shown = _coloured(tr("found"), _GOOD)
        elif word == "not_configured":
            shown = _coloured(tr("none set"), _QUIET)
        elif word == "starting":
            shown = _coloured(tr("looking…"), _WAIT)
        else:
            shown = _coloured(tr("not found: check its cable and comptoir.toml"), _WAIT)
        lines.append(f"{names[device]}   {shown}")
    return lines


def title(text: str) -> str:
    """A page's title in bold at 34 sp of the look (1.7 times its text), as markup."""
    app = App.get_running_app()
    return f"[b][size={int(app.fs(34, app.text_scale))}]{text}[/size][/b]"


class InstallerPanel(ModalView):
    """An opaque page over the whole window; touches reach nothing behind it. `on_leave` runs
    when the installer (or the ready page's timer) hands the kiosk to the customers."""

    def __init__(self, on_leave: Callable[[], None]) -> None:
        super().__init__(
            auto_dismiss=False,
            size_hint=(1, 1),
            overlay_color=(0.98, 0.96, 0.9, 1),
            background_color=(0, 0, 0, 0),
        )
        self.on_leave = on_leave
        self.page = Page.NONE
        box = BoxLayout(orientation="vertical", padding=dp(28), spacing=dp(12))
        # Every label's font size is the look's (the <Label> rule of kv/common.kv), which a
        # font_size given here would not outlast: the title's own size is in its markup.
        self.title_label = self._label(size_hint_y=None, height=dp(64))
        self.who = self._label(size_hint_y=None, height=dp(34))
        self.body = self._label()
        self.hint = self._label(size_hint_y=None, height=dp(64))
        self.button = Button(
            size_hint=(None, None),
            size=(dp(420), dp(64)),
            pos_hint={"center_x": 0.5},
            background_normal="",
            background_color=(0.16, 0.45, 0.27, 1),
        )
        self.button.bind(on_release=lambda _b: self.leave())
        for widget in (self.title_label, self.who, self.body, self.hint, self.button):
            box.add_widget(widget)
        self.add_widget(box)

    @staticmethod
    def _label(**kwargs) -> Label:
        label = Label(
            markup=True,
            color=(0.12, 0.12, 0.1, 1),
            halign="center",
            valign="middle",
            **kwargs,
        )
        label.bind(size=lambda widget, value: setattr(widget, "text_size", value))
        return label

    def show(self, page: Page, seen: Seen, site: Config, *, problem: str, tr: Translate) -> None:
        """Draw `page` for what was seen, opening the panel if it was closed; `problem` is why
        the kiosk has no config (it then knows nothing but the status)."""
        status = seen.status
        configured = not problem
        if configured:
            self.who.text = f"{site.device.id} · {site.device.name}"
        else:  # what the card said, once provisioning has read it
            self.who.text = status.device_id if status and status.current() else ""
        button = ""
        if page is Page.PROVISIONING:
            self.title_label.text = title(tr("Setting up this box"))
            self.body.text = "\n".join(step_lines(status, tr))
            self.hint.text = tr("Leave it switched on: this takes under a minute.")
            if problem and not (status and status.current()):  # nothing from provisioning yet
                self.hint.text += "\n" + problem
        elif page is Page.FAILED:
            assert status is not None
            self.title_label.text = title(tr("comptoir.txt was refused"))
            self.body.text = "\n".join(status.problems)
            self.hint.text = tr(
                "Switch the box off, fix these lines of comptoir.txt on the card's boot "
                "partition with a laptop, put the card back and switch on. Nothing was changed."
            )
            if configured:
                button = tr("Continue with the previous settings")
        else:
            self.title_label.text = title(tr("This box is ready"))
            self.body.text = "\n".join(check_lines(seen.checks, tr))
            self.hint.text = tr(
                "Touch the screen to open the shop (it opens by itself in a minute)."
            )
        self.button.text = button
        self.button.opacity = 1 if button else 0
        self.button.disabled = not button
        if page is Page.READY and self.page is not Page.READY:
            Clock.unschedule(self._timed_out)
            Clock.schedule_once(self._timed_out, READY_SHOWN_S)
        self.page = page
        if self.parent is None:
            self.open(animation=False)

    def on_touch_down(self, touch) -> bool:
        if self.page is Page.READY:
            self.leave()
            return True
        return super().on_touch_down(touch)

    def _timed_out(self, _dt: float) -> None:
        if self.page is Page.READY:
            self.leave()

    def leave(self) -> None:
        Clock.unschedule(self._timed_out)
        self.page = Page.NONE
        if self.parent is not None:
            self.dismiss(animation=False)
        self.on_leave()
