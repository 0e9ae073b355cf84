"""Runs one kiosk journey in its own process: the real app, the simulators, simulated touches.

`python -m tests.ui.harness JOURNEY CONFIG` starts the simulated shop, points the config at it,
opens the real `KioskApp` (Kivy allows one App per process, hence one process per journey) and
runs `tests.ui.journeys.JOURNEY(driver)` inside Kivy's asyncio loop. Exit status 0 means the
journey's own checks held; a failure prints its traceback on stderr.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from appliance import config as config_module
from appliance.kiosk import window
from tests.found import found

STEP_TIMEOUT_S = 20.0


class Driver:
    """What a journey can do: touch widgets, wait for the screen, steer the simulators."""

    def __init__(self, app, shop) -> None:
        self.app = app
        self.shop = shop

    @property
    def screen(self) -> str:
        return self.app.flow.journey.screen.value

    @property
    def shown(self) -> str:
        """The Kivy screen on display (a locker screen during a visit)."""
        return self.app.root.current

    @property
    def step(self) -> str | None:
        """The locker flow's step during a visit, else None."""
        visit = self.app.flow.visit
        return visit.step if visit else None

    def save_shot(self, name: str) -> None:
        """With `COMPTOIR_SHOTS=DIR`, the window as DIR/<lang>-<name>.png (for docs/screens/)."""
        folder = os.environ.get("COMPTOIR_SHOTS")
        if folder:
            from kivy.core.window import Window

            taken = Path(Window.screenshot(name=str(Path(folder) / "shot.png")))
            taken.replace(Path(folder) / f"{self.app.lang}-{name}.png")

    async def wait_step(self, step: str, timeout: float = STEP_TIMEOUT_S) -> None:
        await self.wait_for(lambda: self.step == step, timeout)
        await self.frames(2)

    async def tap_button(self, starts: str) -> None:
        """Touch the locker screen's button or choice whose text starts with `starts`."""
        ids = self.app.root.current_screen.ids
        rows = [ids["buttons"], *([ids["grid"]] if "grid" in ids else [])]
        for row in rows:
            for button in row.children:
                if button.text.startswith(starts) and not button.disabled:
                    return await self.tap_widget(button)
        shown = [b.text for row in rows for b in row.children]
        raise AssertionError(f"no button {starts!r} on {self.shown} (step {self.step}): {shown}")

    def widget(self, widget_id: str):
        return self.app.root.current_screen.ids[widget_id]

    def text(self, widget_id: str) -> str:
        widget = self.widget(widget_id)
        return getattr(widget, "value", None) or widget.text

    async def tap_widget(self, widget) -> None:
        from kivy.tests.common import UnitTestTouch

        await self.frames(2)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        await self.frames(1)
        touch.touch_up()
        await self.frames(2)

    def find(self, text: str):
        """The widget on display (overlays included) whose text is `text`."""
        from kivy.core.window import Window

        for top in Window.children:
            for widget in top.walk(restrict=True):
                if getattr(widget, "text", None) == text and widget.get_root_window():
                    return widget
        raise AssertionError(f"nothing shows {text!r} on {self.shown}")

    async def tap(self, widget_id: str) -> None:
        await self.tap_widget(self.widget(widget_id))

    async def tap_product(self, sku: str) -> None:
        await self.wait_for(lambda: self.screen == "catalogue")
        grid = self.widget("grid")
        tile = next(t for t in grid.children if getattr(t, "sku", None) == sku)
        await self.tap_widget(tile)

    async def tap_text(self, text: str) -> None:
        """Touch the button showing `text` on the current screen (message screens)."""
        for slot in ("primary", "secondary"):
            button = self.widget(slot)
            if button.text == text and not button.disabled and button.parent is not None:
                return await self.tap_widget(button)
        raise AssertionError(f"no button {text!r} on {self.screen}")

    async def wait_for(self, condition: Callable[[], bool], timeout: float = STEP_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out on screen {self.shown} (step {self.step}): {condition}"
                )
            await asyncio.sleep(0.02)

    async def command_done(self, db, command_id: str, timeout: float = STEP_TIMEOUT_S):
        """Wait, without holding up the kiosk's own loop, until a queued device command ran."""
        from appliance.store import device_commands

        await self.wait_for(lambda: found(device_commands.get(db, command_id)).finished, timeout)
        return device_commands.get(db, command_id)

    async def wait_screen(self, name: str) -> None:
        await self.wait_for(lambda: self.screen == name)
        await self.frames(2)

    async def frames(self, count: int) -> None:
        from kivy.clock import Clock

        for _ in range(count):
            done = asyncio.Event()
            Clock.schedule_once(lambda _dt, d=done: d.set(), 0)
            await done.wait()


class MainThreadWatch:
    """Notes every database opened, device node opened or socket connected on Kivy's thread
    (the process's main thread), through Python's audit events: nothing is patched."""

    def __init__(self) -> None:
        self.recording = False
        self.seen: list[str] = []
        sys.addaudithook(self._heard)

    def _heard(self, event: str, args: tuple) -> None:
        if not self.recording or threading.current_thread() is not threading.main_thread():
            return
        if event == "sqlite3.connect":
            self.seen.append(f"database {args[0]}")
        elif event == "open" and str(args[0]).startswith("/dev/") and args[0] != os.devnull:
            self.seen.append(f"device {args[0]}")
        elif event == "socket.connect":
            self.seen.append(f"socket {args[1]}")


#: Set on a journey that checks Kivy's thread stays off the database and the devices.
watch = MainThreadWatch() if os.environ.get("COMPTOIR_WATCH_MAIN_THREAD") else None


def main(journey_name: str, config_path: str) -> int:
    site = config_module.load(Path(config_path))
    window.prepare(site.kiosk, fullscreen=False)
    from appliance.devices.payment.factory import open_terminal
    from appliance.kiosk.app import KioskApp
    from appliance.kiosk.effects import Effects
    from appliance.kiosk.simulated import SimulatedShop
    from tests.ui import installer_journeys, journeys, locker_journeys

    journey = next(
        getattr(module, journey_name)
        for module in (journeys, locker_journeys, installer_journeys)
        if hasattr(module, journey_name)
    )
    failures: list[str] = []
    with SimulatedShop(
        interval_g=site.scale.interval_g, capacity_g=site.scale.capacity_g, pace=False
    ) as shop:
        wired = shop.site(site)
        printer = shop.label_printer(wired, wired.device.data_dir / "labels")
        terminal = open_terminal(wired.payment)

        async def run_journey(app) -> None:
            try:
                await journey(Driver(app, shop))
            except BaseException:
                failures.append(traceback.format_exc())
            finally:
                app.stop()

        tasks = []

        def ready(app) -> None:
            tasks.append(asyncio.ensure_future(run_journey(app)))

        if watch is not None:
            watch.recording = True  # from the app's construction to its end, start-up included
        app = KioskApp(wired, lambda post: Effects(wired, printer, terminal, post), on_ready=ready)
        asyncio.run(app.async_run(async_lib="asyncio"))
        if watch is not None:
            watch.recording = False
    if watch is not None and watch.seen:
        failures.append("Kivy's thread touched: " + "; ".join(watch.seen))
    if failures:
        print(failures[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
