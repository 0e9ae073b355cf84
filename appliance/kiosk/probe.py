"""Where things are on the kiosk's screen, for a robot that touches it like a person (the soak).

Off unless `$COMPTOIR_KIOSK_PROBE` names a file: then, a moment after each render (once the
layout has settled), the kiosk writes there what a person would see: the screen's name, and for
every touchable or named widget on display (idle prompt included) its id, text, rectangle in
window pixels (origin top left, as X11 and xdotool count) and whether it is disabled. A widget
under an open modal ("Are you still there?") is listed but not touchable: the modal takes every
touch, so a robot touching the keypad beneath would lose its digits, as a person would. The
robot reads it to know where to touch, and touches through the window's real input, so the
kiosk's code stays free to change its widgets as long as ids and texts keep their meaning.

The contract (kept by the kiosk, read by `soak/kiosk_driver.py`): JSON
`{"seq", "screen", "journey", "step", "size": [w, h], "widgets": [{"id", "text", "sku",
"rect": [x, y, w, h], "disabled", "touchable"}]}`, written atomically (rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV = "COMPTOIR_KIOSK_PROBE"
SETTLE_S = 0.15


class Probe:
    """Writes the screen map after renders; does nothing when the variable is not set."""

    def __init__(self, path: str | None = None) -> None:
        where = path if path is not None else os.environ.get(ENV, "")
        self.path = Path(where) if where else None
        self.seq = 0
        self._trigger: Any = None

    def rendered(self, app: Any) -> None:
        if self.path is None:
            return
        if self._trigger is None:
            from kivy.clock import Clock

            self._trigger = Clock.create_trigger(lambda _dt: self.write(app), SETTLE_S)
        self._trigger()

    def write(self, app: Any) -> None:
        from kivy.core.window import Window

        assert self.path is not None
        self.seq += 1
        names = _ids_by_widget(app)
        height = Window.height
        widgets = []
        for widget, clip, covered in _layers(Window.children, (0, 0, Window.width, height)):
            entry = _entry(widget, names.get(id(widget.proxy_ref), ""), height, clip)
            if entry is not None:
                entry["touchable"] = entry["touchable"] and not covered
                widgets.append(entry)
        visit = app.flow.visit
        state = {
            "seq": self.seq,
            "screen": app.root.current if app.root else "",
            "journey": app.flow.journey.screen.value,
            "step": visit.step if visit is not None else None,
            "size": [Window.width, height],
            "widgets": widgets,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)


def _ids_by_widget(app: Any) -> dict[int, str]:
    """Each named widget's id, keyed by its proxy (what `ids` holds)."""
    names: dict[int, str] = {}
    for widget in _walk(app.root_window.children if app.root_window else []):
        for name, child in getattr(widget, "ids", {}).items():
            names.setdefault(id(child), name)
    return names


def _walk(widgets: Any) -> Any:
    for widget in widgets:
        yield widget
        yield from _walk(widget.children)


Rect = tuple[float, float, float, float]  # left, bottom, right, top in window coordinates


def _layers(layers: Any, clip: Rect) -> Any:
    """Each widget of the window's layers (top first), and whether an open modal lies above its
    layer (then touches go to the modal, never to it)."""
    from kivy.uix.modalview import ModalView

    covered = False
    for layer in layers:
        for widget, inner in _visible([layer], clip):
            yield widget, inner, covered
        covered = covered or isinstance(layer, ModalView)


def _visible(widgets: Any, clip: Rect) -> Any:
    """Each widget with the part of the window it may show in: a scrolled-away product tile
    is outside its StencilView (the ScrollView) and a person cannot touch it."""
    from kivy.uix.stencilview import StencilView

    for widget in widgets:
        yield widget, clip
        inner = clip
        if isinstance(widget, StencilView):
            left, bottom = widget.to_window(widget.x, widget.y)
            inner = (
                max(clip[0], left),
                max(clip[1], bottom),
                min(clip[2], left + widget.width),
                min(clip[3], bottom + widget.height),
            )
        yield from _visible(widget.children, inner)


def _entry(widget: Any, name: str, window_height: int, clip: Rect) -> dict[str, Any] | None:
    from kivy.uix.behaviors import ButtonBehavior

    touchable = isinstance(widget, ButtonBehavior)
    sku = getattr(widget, "sku", None)
    if not (touchable or name or sku):
        return None
    if getattr(widget, "opacity", 1) == 0 or widget.width <= 1 or widget.height <= 1:
        return None
    left, bottom = widget.to_window(widget.x, widget.y)
    middle_x, middle_y = left + widget.width / 2, bottom + widget.height / 2
    if not (clip[0] <= middle_x <= clip[2] and clip[1] <= middle_y <= clip[3]):
        return None
    return {
        "id": name,
        "text": str(getattr(widget, "text", "") or getattr(widget, "value", "") or ""),
        "sku": sku,
        "rect": [
            round(left),
            round(window_height - bottom - widget.height),
            *map(round, widget.size),
        ],
        "disabled": bool(widget.disabled),
        "touchable": touchable,
    }
