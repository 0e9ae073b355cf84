"""The "back in a minute" screen shown over everything while the box restarts for an update.

The agent's update job asks for it (device command `pause_for_update`) only when nobody is
shopping, paying or at the lockers; it holds touches until the kiosk restarts on the new
release, or goes away by itself after `hold_s` if no restart came.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock
from kivy.metrics import sp
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
        self.add_widget(
            Label(
                text=f"[b][size={int(sp(40))}]{title}[/size][/b]\n\n{body}",
                markup=True,
                font_size=sp(26),
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
