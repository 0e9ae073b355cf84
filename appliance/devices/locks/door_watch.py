"""Watching the doors: debounced open/close, doors forced or left open, a flapping switch.

`DoorWatch` is fed the controller's statuses with the time and answers notices; it does no I/O,
so tests step it by hand. `DoorWatcher` is the thread that polls a real controller and hands
each notice to a callback (the kiosk forwards it to the flows and records it in the store).

A door state counts only once it held for `debounce_s`; a switch that changes state more than
`flap_changes` times within `flap_window_s` is reported once as flapping and its chatter is
ignored. A door that opens without `expect_open` having been called is reported as forced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from appliance.devices.locks.base import Door, DoorStatus, LockController, LockUnavailable
from appliance.said import Said, said

log = logging.getLogger(__name__)


class Notice(StrEnum):
    OPENED = "door_opened"
    CLOSED = "door_closed"
    OPEN_WARNING = "door_open_warning"  # on-screen warning: please close the door
    LEFT_OPEN = "door_left_open"  # still open `grace_s` after the warning: alarm
    FORCED = "door_forced"  # opened without a command: alarm
    FLAPPING = "door_switch_flapping"  # the switch chatters: alarm, check the wiring
    BOARD_DOWN = "lock_board_down"  # the controller stopped answering: alarm
    BOARD_BACK = "lock_board_back"

    @property
    def is_alarm(self) -> bool:
        return self in _ALARMS


_ALARMS = {Notice.LEFT_OPEN, Notice.FORCED, Notice.FLAPPING, Notice.BOARD_DOWN}


@dataclass(frozen=True)
class DoorNotice:
    notice: Notice
    compartment: int | None
    item_present: bool | None = None
    message: str | Said = ""


@dataclass
class _Door:
    state: Door
    since: float
    candidate: Door | None = None
    candidate_since: float = 0.0
    changes: list[float] = field(default_factory=list)
    flapping: bool = False
    warned: bool = False
    alarmed: bool = False


class DoorWatch:
    """Debounces door switches and times open doors; pure, stepped with `observe`."""

    def __init__(
        self,
        *,
        debounce_s: float = 0.3,
        alarm_s: float = 120.0,
        grace_s: float = 60.0,
        flap_changes: int = 6,
        flap_window_s: float = 10.0,
    ) -> None:
        self.debounce_s = debounce_s
        self.alarm_s = alarm_s
        self.grace_s = grace_s
        self.flap_changes = flap_changes
        self.flap_window_s = flap_window_s
        self._doors: dict[int, _Door] = {}
        self._expected: dict[int, float] = {}
        self._board_down = False

    def expect_open(self, number: int, until: float) -> None:
        """A command is about to open `number`: an opening before `until` is not forced."""
        self._expected[number] = until

    def state(self, number: int) -> Door | None:
        door = self._doors.get(number)
        return door.state if door else None

    def observe(self, statuses: dict[int, DoorStatus], now: float) -> list[DoorNotice]:
        notices = []
        if self._board_down:
            self._board_down = False
            notices.append(DoorNotice(Notice.BOARD_BACK, None, message="lock controller back"))
        for number, status in statuses.items():
            notices += self._observe_one(number, status, now)
        return notices

    def controller_failed(self, message: str) -> list[DoorNotice]:
        """The controller did not answer a poll: one alarm until it answers again."""
        if self._board_down:
            return []
        self._board_down = True
        return [DoorNotice(Notice.BOARD_DOWN, None, message=message)]

    def _observe_one(self, number: int, status: DoorStatus, now: float) -> list[DoorNotice]:
        door = self._doors.get(number)
        if door is None:
            self._doors[number] = _Door(status.door, now)
            return []
        notices: list[DoorNotice] = []
        raw = status.door
        if raw != (door.candidate or door.state):
            door.candidate, door.candidate_since = raw, now
            door.changes = [t for t in door.changes if now - t < self.flap_window_s] + [now]
            if len(door.changes) > self.flap_changes and not door.flapping:
                door.flapping = True
                notices.append(
                    DoorNotice(
                        Notice.FLAPPING,
                        number,
                        message=said(
                            "the switch of door %(number)s keeps changing: check its wiring",
                            number=number,
                        ),
                    )
                )
        if door.candidate is not None and now - door.candidate_since >= self.debounce_s:
            if door.candidate != door.state:
                notices += self._accept(number, door, door.candidate, status, now)
            door.candidate = None
        if door.flapping and door.changes and now - door.changes[-1] >= self.flap_window_s:
            door.flapping = False
        notices += self._timing(number, door, now)
        return notices

    def _accept(
        self, number: int, door: _Door, state: Door, status: DoorStatus, now: float
    ) -> list[DoorNotice]:
        door.state, door.since, door.warned, door.alarmed = state, now, False, False
        if state is Door.CLOSED:
            return [DoorNotice(Notice.CLOSED, number, status.item)]
        expected = self._expected.pop(number, None)
        notices = [DoorNotice(Notice.OPENED, number, status.item)]
        if expected is None or now > expected:
            notices.append(
                DoorNotice(
                    Notice.FORCED,
                    number,
                    message=said("door %(number)s opened without a command", number=number),
                )
            )
        return notices

    def _timing(self, number: int, door: _Door, now: float) -> list[DoorNotice]:
        if door.state is not Door.OPEN:
            return []
        open_for = now - door.since
        if open_for >= self.alarm_s and not door.warned:
            door.warned = True
            return [DoorNotice(Notice.OPEN_WARNING, number)]
        if open_for >= self.alarm_s + self.grace_s and not door.alarmed:
            door.alarmed = True
            minutes = int(open_for // 60)
            return [
                DoorNotice(
                    Notice.LEFT_OPEN,
                    number,
                    message=said(
                        "door %(number)s open for %(minutes)s min", number=number, minutes=minutes
                    ),
                )
            ]
        return []


class DoorWatcher:
    """Polls a controller in its own thread and hands every notice to `on_notice`."""

    def __init__(
        self,
        controller: LockController,
        watch: DoorWatch,
        on_notice: Callable[[DoorNotice], None],
        *,
        interval_s: float = 0.2,
    ) -> None:
        self.controller = controller
        self.watch = watch
        self.on_notice = on_notice
        self.interval_s = interval_s
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="door-watch", daemon=True)

    def start(self) -> DoorWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def expect_open(self, number: int, within_s: float) -> None:
        with self._guard:
            self.watch.expect_open(number, time.monotonic() + within_s)

    def poll_once(self) -> list[DoorNotice]:
        try:
            statuses = self.controller.status()
        except LockUnavailable as exc:
            with self._guard:
                return self.watch.controller_failed(str(exc))
        with self._guard:
            return self.watch.observe(statuses, time.monotonic())

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                notices = self.poll_once()
            except Exception:  # a bug or an odd port error: log it and keep watching
                log.exception("door watch poll failed")
                continue
            for notice in notices:
                try:
                    self.on_notice(notice)
                except Exception:  # a failing receiver must not stop the watch
                    log.exception("door notice %s could not be handled", notice.notice)
