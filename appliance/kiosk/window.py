"""Kivy's window settings, which must be set before Kivy opens its window (or is imported).

Orientation, size and full screen come from config `[kiosk]`; a portrait kiosk swaps a landscape
width and height, so `width = 800, height = 480, orientation = "portrait"` is a 480x800 window.
"""

from __future__ import annotations

import os
import tempfile

from appliance import memory
from appliance.config import Kiosk


def window_size(kiosk: Kiosk) -> tuple[int, int]:
    width, height = kiosk.width, kiosk.height
    if (kiosk.orientation == "portrait") == (width > height):
        width, height = height, width
    return width, height


def prepare(kiosk: Kiosk, *, fullscreen: bool | None = None) -> None:
    """Quiet, argument-free Kivy with its own home folder and the configured window, in a
    process whose malloc keeps small (before Kivy's, Mesa's and the devices' threads start: each
    would keep an arena of its own, and every photo Pillow decodes would stay resident)."""
    memory.keep_small()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # leave stderr and logging to us
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", os.path.join(tempfile.gettempdir(), "comptoir-kivy"))
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    from kivy.config import Config

    width, height = window_size(kiosk)
    full = kiosk.fullscreen if fullscreen is None else fullscreen
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if full else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
