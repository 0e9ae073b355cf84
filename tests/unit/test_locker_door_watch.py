"""The door watch stepped by hand: debouncing, forced doors, doors left open, flapping."""

from __future__ import annotations

from appliance.devices.locks.base import Door, DoorStatus
from appliance.devices.locks.door_watch import DoorNotice, DoorWatch, Notice

OPEN = {1: DoorStatus(1, Door.OPEN)}
SHUT = {1: DoorStatus(1, Door.CLOSED, item=False)}


def kinds(notices: list[DoorNotice]) -> list[Notice]:
    return [n.notice for n in notices]


def watch() -> DoorWatch:
    w = DoorWatch(debounce_s=0.3, alarm_s=120, grace_s=60, flap_changes=6, flap_window_s=10)
    assert w.observe(SHUT, 0.0) == []
    return w


def test_a_commanded_opening_is_seen_once_it_held_for_the_debounce_time() -> None:
    w = watch()
    w.expect_open(1, until=5.0)
    assert w.observe(OPEN, 1.0) == []
    assert kinds(w.observe(OPEN, 1.4)) == [Notice.OPENED]
    assert kinds(w.observe(SHUT, 3.0)) == []
    assert w.observe(SHUT, 3.4) == [DoorNotice(Notice.CLOSED, 1, item_present=False)]


def test_a_door_opened_without_a_command_is_reported_as_forced() -> None:
    w = watch()
    w.observe(OPEN, 1.0)
    notices = w.observe(OPEN, 1.5)
    assert kinds(notices) == [Notice.OPENED, Notice.FORCED]
    assert "door 1" in str(notices[1].message) and notices[1].notice.is_alarm


def test_a_short_bounce_of_the_switch_is_not_a_door_opening() -> None:
    w = watch()
    assert w.observe(OPEN, 1.0) == []
    assert w.observe(SHUT, 1.1) == []
    assert w.observe(SHUT, 2.0) == []
    assert w.state(1) is Door.CLOSED


def test_a_flapping_switch_is_reported_once_and_opens_nothing() -> None:
    w = watch()
    seen: list[Notice] = []
    t = 1.0
    for _ in range(10):
        seen += kinds(w.observe(OPEN, t))
        seen += kinds(w.observe(SHUT, t + 0.1))
        t += 0.2
    assert seen == [Notice.FLAPPING]
    assert w.state(1) is Door.CLOSED


def test_a_door_left_open_warns_on_screen_then_raises_an_alarm() -> None:
    w = watch()
    w.expect_open(1, until=5.0)
    w.observe(OPEN, 1.0)
    w.observe(OPEN, 1.5)
    assert kinds(w.observe(OPEN, 100.0)) == []
    assert kinds(w.observe(OPEN, 121.5)) == [Notice.OPEN_WARNING]
    assert kinds(w.observe(OPEN, 150.0)) == []
    assert kinds(w.observe(OPEN, 181.5)) == [Notice.LEFT_OPEN]
    assert kinds(w.observe(OPEN, 500.0)) == []


def test_a_silent_controller_raises_one_alarm_until_it_answers_again() -> None:
    w = watch()
    assert kinds(w.controller_failed("lock board 0 does not answer")) == [Notice.BOARD_DOWN]
    assert w.controller_failed("again") == []
    assert kinds(w.observe(SHUT, 5.0)) == [Notice.BOARD_BACK]
