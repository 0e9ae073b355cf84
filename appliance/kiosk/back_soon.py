"""The "back in a minute" screen shown over everything while the box restarts for an update.

The agent's update job asks for it (device command `pause_for_update`) only when nobody is
shopping, paying or at the lockers; it holds touches until the kiosk restarts on the new
release, or goes away by itself after `hold_s` if no restart came.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView


class BackSoon(ModalView):
    def __init__(self, tr: Callable[[str], str]) -> None:
        # An opaque cream page over the whole window: nothing behind it shows or can be touched.
        super().__init__(
            auto_dismiss=False,
            size_hint=(1, 1),
            overlay_color=(0.98, 0.96, 0.9, 1),
            background_color=(0, 0, 0, 0),
        )
        title = tr("Back in a minute")
        body = tr("The kiosk is being updated. Thank you for waiting.")
        # Sizes in the markup: the <Label> rule (kv/common.kv) would override a font_size.
        app = App.get_running_app()
        big, text = (int(app.fs(size, app.text_scale)) for size in (40, 26))
        self.add_widget(
            Label(
                text=f"[b][size={big}]{title}[/size][/b]\n\n[size={text}]{body}[/size]",
                markup=True,
                color=(0.16, 0.2, 0.16, 1),
                halign="center",
                valign="middle",
            )
        )

    def hold(self, hold_s: float) -> None:
        if self.parent is None:
            self.open(animation=False)
        Clock.unschedule(self._release)
        Clock.schedule_once(self._release, hold_s)

    def _release(self, _dt: float) -> None:
        self.dismiss(animation=False)
