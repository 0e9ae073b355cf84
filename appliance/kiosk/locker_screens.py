"""The locker screens: each copies a `locker_view.Page` into its widgets.

A touched button hands its flow event to the app; nothing here knows what a step means. The
keypad's keys call `app.locker_key`, which turns a key into the flow's digit, erase or OK event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.factory import Factory
from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout

from appliance.kiosk.locker_view import Choice, Layout, Page
from appliance.kiosk.screens import KioskScreen, move

if TYPE_CHECKING:
    from appliance.kiosk.app import KioskApp

SCREENS = {
    Layout.KEYPAD: "locker_keypad",
    Layout.CHOICES: "locker_choices",
    Layout.NOTICE: "locker_notice",
}


def _button(app: KioskApp, choice: Choice, *, height: float = 68):
    kind = "KioskButton" if choice.primary else "QuietButton"
    text = choice.label
    if choice.detail:
        text += f"\n[size={int(sp(17))}]{choice.detail}[/size]"
    button = getattr(Factory, kind)(text=text, markup=True, height=dp(height))
    button.event = choice.event
    button.bind(on_release=lambda b: app.send(b.event))
    return button


def _fill(app: KioskApp, row, buttons: tuple[Choice, ...]) -> None:
    row.clear_widgets()
    for choice in buttons:
        row.add_widget(_button(app, choice))


class LockerScreen(KioskScreen):
    _shown: object = None

    def render(self, app: KioskApp) -> None:
        page = app.locker_page
        if page is None or page == self._shown:
            return
        self._shown = page
        self.ids.title.text = page.title
        self.ids.title.tone = page.tone
        self.ids.body.text = page.body
        self.show(app, page)
        _fill(app, self.ids.buttons, page.buttons)

    def show(self, app: KioskApp, page: Page) -> None:
        raise NotImplementedError


class LockerKeypadScreen(LockerScreen):
    def within_reach(self) -> None:
        """The typed code stays on top; the keys (0 Erase OK last) and the page's buttons go
        low, side by side."""
        super().within_reach()
        keypad, buttons = self.ids.keypad, self.ids.buttons
        body = keypad.parent
        rows = -(-len(keypad.children) // keypad.cols)
        height = rows * dp(72) + (rows - 1) * keypad.spacing[1]
        low = BoxLayout(spacing=dp(16), size_hint_y=None, height=height)
        body.add_widget(low)
        move(buttons, low)
        move(keypad, low)
        buttons.orientation, buttons.size_hint_x, buttons.width = "vertical", None, dp(160)
        move(self.ids.key_erase, keypad, index=1)  # between 0 and OK

    def show(self, app: KioskApp, page: Page) -> None:
        self.ids.entry.text = page.entry
        ok = self.ids.key_ok
        ok.opacity = 1 if page.ok_key else 0
        ok.disabled = not page.ok_key


class LockerChoicesScreen(LockerScreen):
    def show(self, app: KioskApp, page: Page) -> None:
        if app.accessible and not page.body:  # the top half says what to choose, in full
            self.ids.body.text = page.title
        grid = self.ids.grid
        grid.clear_widgets()
        for choice in page.choices:
            grid.add_widget(_button(app, choice, height=80))


class LockerNoticeScreen(LockerScreen):
    def show(self, app: KioskApp, page: Page) -> None:
        self.ids.big.text = page.big
