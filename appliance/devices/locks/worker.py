"""The locker wall's own thread: unlocks when asked and hands on what the doors do, in order.

The worker opens the lock controller in its thread (and again every `REOPEN_S` while it cannot:
a USB adapter plugged in late is found without a restart), takes the doors' first state as the
baseline (nothing is "forced" at start), then runs the door watch. Unlocks and door notices go
through its one queue, so whoever listens hears a door's "opened" before its "closed".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum

from appliance import config
from appliance.devices.locks.base import Door, LockController
from appliance.devices.locks.door_watch import DoorNotice, DoorWatch, DoorWatcher, Notice
from appliance.devices.worker import Worker
from appliance.errors import ComptoirError, DeviceUnavailable

log = logging.getLogger(__name__)

#: After an unlock, an opening within this much longer than the confirmation time is ours.
EXPECT_MARGIN_S = 2.0
#: How often a controller that could not be opened is tried again.
REOPEN_S = 5.0
NOT_YET = "not opened yet"


class Unlocked(StrEnum):
    OPENED = "opened"
    STAYED_SHUT = "stayed shut"
    FAULT = "lock fault"  # the board or the port did not answer


@dataclass(frozen=True)
class Unlock:
    """What releasing one lock did."""

    compartment: int
    outcome: Unlocked
    message: str = ""


class LockWorker(Worker):
    def __init__(
        self,
        settings: config.Lockers,
        open_controller: Callable[[], LockController | None],
        on_notice: Callable[[DoorNotice], None],
        *,
        poll_s: float | None = None,
    ) -> None:
        super().__init__("lockers", interval_s=1.0)
        self.settings = settings
        self.open_controller = open_controller
        self.on_notice = on_notice
        self.confirm_s = settings.unlock_confirm_ms / 1000
        self.poll_s = poll_s if poll_s is not None else settings.status_poll_ms / 1000
        self.numbers = tuple(c.number for c in settings.compartments)
        self.controller: LockController | None = None
        self.watcher: DoorWatcher | None = None
        self.board_down = False
        self.problem = NOT_YET  # why there is no controller, while there is none
        self._next_open = 0.0

    @property
    def health(self) -> str:
        """One word for the heartbeat."""
        if self.controller is None:
            return "starting" if self.problem == NOT_YET else "missing"
        return "board_down" if self.board_down else "ok"

    def door(self, number: int) -> Door | None:
        """The door's state as the watch last counted it (debounced)."""
        return self.watcher.watch.state(number) if self.watcher else None

    def unlock(self, number: int) -> Future[Unlock]:
        return self.submit(lambda: self._unlock(number))

    # -- in the worker's thread -----------------------------------------------------------------

    def setup(self) -> None:
        self._open()

    def chore(self) -> None:
        if self.controller is None and time.monotonic() >= self._next_open:
            self._open()

    def teardown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.controller is not None:
            self.controller.close()

    def _open(self) -> None:
        self._next_open = time.monotonic() + REOPEN_S
        try:
            controller = self.open_controller()
        except ComptoirError as exc:  # a port gone, a bad wiring: the shop still sells
            if str(exc) != self.problem:
                log.error("lockers unavailable: %s", exc)
            self.problem = str(exc)
            return
        if controller is None:
            self.problem = 'no lock controller: [lockers] controller is "none"'
            return
        watch = DoorWatch(
            debounce_s=self.settings.door_debounce_ms / 1000,
            alarm_s=self.settings.door_open_alarm_s,
        )
        watcher = DoorWatcher(controller, watch, self._heard, interval_s=self.poll_s)
        self.controller, self.watcher, self.problem = controller, watcher, ""
        for notice in watcher.poll_once():  # the doors' first state: nothing is "forced" at start
            self._deliver(notice)  # only a board that does not answer says something here
        watcher.start()
        log.info("lock controller %s opened", self.settings.controller)

    def _heard(self, notice: DoorNotice) -> None:
        """From the door watch's thread: queued behind the unlocks already asked for."""
        self.submit(lambda: self._deliver(notice))

    def _deliver(self, notice: DoorNotice) -> None:
        if notice.notice is Notice.BOARD_DOWN:
            self.board_down = True
        elif notice.notice is Notice.BOARD_BACK:
            self.board_down = False
        self.on_notice(notice)

    def _unlock(self, number: int) -> Unlock:
        controller, watcher = self.controller, self.watcher
        if controller is None or watcher is None:
            why = f"the lock controller is not connected: {self.problem}"
            return Unlock(number, Unlocked.FAULT, why)
        watcher.expect_open(number, within_s=self.confirm_s + EXPECT_MARGIN_S)
        try:
            opened = controller.unlock(number)
        except DeviceUnavailable as exc:  # the board silent, or a door it does not drive
            return Unlock(number, Unlocked.FAULT, str(exc))
        return Unlock(number, Unlocked.OPENED if opened else Unlocked.STAYED_SHUT)
