"""A person at the kiosk: finds buttons on the screen map, touches them through X11.

Touches and typed keys go through the X server to the kiosk's window (`xdotool`), exactly the
input a touchscreen or a keyboard-wedge scanner produces under X; nothing reaches into the
kiosk's objects. Where things are comes from the kiosk's probe file (`appliance/kiosk/probe.py`:
screen name, widget ids, texts, rectangles), so the driver follows the kiosk's layout as it
changes instead of hard-coding pixels.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soak.clock import real_monotonic

STEP_TIMEOUT_S = 25.0


class KioskStuck(AssertionError):
    """The kiosk did not reach what the person waited for."""


@dataclass(frozen=True)
class Spot:
    id: str
    text: str
    sku: str | None
    rect: tuple[int, int, int, int]
    disabled: bool
    touchable: bool

    @property
    def center(self) -> tuple[int, int]:
        x, y, w, h = self.rect
        return x + w // 2, y + h // 2

    def within(self, other: Spot) -> bool:
        """Its centre lies on `other` (a button of a row, a tile of a grid)."""
        x, y = self.center
        left, top, width, height = other.rect
        return left <= x <= left + width and top <= y <= top + height


class KioskDriver:
    def __init__(self, display: str, probe: Path, kiosk_pid: Callable[[], int | None]) -> None:
        self.display = display
        self.probe = probe
        self.kiosk_pid = kiosk_pid
        self._window: str | None = None
        self.touches = 0
        self.prompts_answered = 0
        self.touches_again = 0  # a touch that did not take, made again

    # -- reading the screen -------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.probe.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @property
    def screen(self) -> str:
        return self.state().get("screen", "")

    @property
    def journey(self) -> str:
        return self.state().get("journey", "")

    @property
    def step(self) -> str | None:
        return self.state().get("step")

    def fresh_map(self) -> None:
        """Wait for a screen map written after what was just touched (the kiosk rewrites it
        after every render; two more writes are past any render already pending)."""
        seq = self.state().get("seq", 0)
        self.wait(lambda: self.state().get("seq", 0) >= seq + 2, "a fresh screen map")

    def spots(self) -> list[Spot]:
        return [
            Spot(w["id"], w["text"], w.get("sku"), tuple(w["rect"]), w["disabled"], w["touchable"])
            for w in self.state().get("widgets", [])
        ]

    def text(self, widget_id: str) -> str:
        for spot in self.spots():
            if spot.id == widget_id:
                return spot.text
        return ""

    def find(self, match: Callable[[Spot], bool]) -> Spot | None:
        for spot in self.spots():
            if spot.touchable and not spot.disabled and match(spot):
                return spot
        return None

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = STEP_TIMEOUT_S) -> Any:
        deadline = real_monotonic() + timeout
        while real_monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        state = self.state()
        shown = [(w["id"], w["text"][:30]) for w in state.get("widgets", []) if w["touchable"]]
        raise KioskStuck(
            f"waited {timeout:.0f} s for {what}; screen {state.get('screen')} "
            f"(journey {state.get('journey')}, step {state.get('step')}), buttons {shown}"
        )

    def wait_screen(self, *names: str, timeout: float = STEP_TIMEOUT_S) -> str:
        def shown() -> str:
            if "home" in names and self.screen == "attract":
                self.wake()  # a person arriving at a kiosk nobody used for a while
            return self.screen if self.screen in names or self.journey in names else ""

        return self.wait(shown, f"screen {'/'.join(names)}", timeout)

    def wake(self) -> None:
        """Touch the attract screen (shown when nobody touched the kiosk for a while)."""
        spot = self.find(lambda s: s.id == "wake")
        if spot is not None:
            self.touch_spot(spot)

    def wait_settled(self, timeout: float = 90) -> None:
        """After a start: the home screen, laid out (two maps in a row agree)."""
        last: list[Any] = []

        def settled() -> bool:
            state = self.state()
            if state.get("screen") != "home":
                return False
            current = [state.get("seq"), state.get("widgets")]
            same = bool(last) and last[0] != current[0] and last[1] == current[1]
            last[:] = current
            return same

        self.wait(settled, "the kiosk's home screen, laid out", timeout)

    # -- touching -------------------------------------------------------------------------------

    def window(self) -> str:
        if self._window is None:
            self._window = self.wait(self._search_window, "the kiosk's window", 60)
        return self._window

    def _search_window(self) -> str:
        """The window of the kiosk process (SDL sets _NET_WM_PID; the title has a non-ASCII
        dot that xdotool's --name does not match)."""
        pid = self.kiosk_pid()
        if pid is None:
            return ""
        done = self._xdotool("search", "--pid", str(pid), check=False)
        ids = done.stdout.split()
        return ids[-1] if ids else ""

    def forget_window(self) -> None:
        """After a kiosk restart the window is a new one."""
        self._window = None

    def touch_spot(self, spot: Spot) -> None:
        x, y = spot.center
        window = self.window()
        self._xdotool("mousemove", "--window", window, str(x), str(y))
        self._xdotool("click", "1")
        self.touches += 1
        time.sleep(0.12)

    def touch(
        self, *, id: str | None = None, text: str | None = None, sku: str | None = None
    ) -> Spot:
        """Touch the enabled button with this id, text start or product code, waiting for it."""

        def match(spot: Spot) -> bool:
            if id is not None and spot.id != id:
                return False
            if text is not None and not spot.text.startswith(text):
                return False
            return not (sku is not None and spot.sku != sku)

        def ready() -> Spot | None:
            self.answer_prompt()
            return self.find(match)

        spot = self.wait(ready, f"a button {id or text or sku}")
        self.touch_spot(spot)
        return spot

    def answer_prompt(self) -> bool:
        """ "Are you still there?" covers the screen (nothing under it takes a touch): a person
        answers it first. Counted in `prompts_answered`."""
        spot = self.find(lambda s: s.id == "still_here")
        if spot is None:
            return False
        self.touch_spot(spot)
        self.prompts_answered += 1
        self.wait(lambda: self.find(lambda s: s.id == "still_here") is None, "the prompt to go")
        return True

    def type_text(self, text: str, enter: bool = True) -> None:
        """Keys typed into the window, as a keyboard-wedge scanner does."""
        window = self.window()
        self._xdotool("windowfocus", "--sync", window, check=False)
        self._xdotool("type", "--delay", "15", "--window", window, text)
        if enter:
            self._xdotool("key", "--window", window, "Return")

    def _xdotool(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["xdotool", *args],
            env={"DISPLAY": self.display, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=20,
            check=check,
        )
