"""Every alarm the lockers can raise has its own event type, and the fleet's guide lists each."""

from __future__ import annotations

from pathlib import Path

from appliance.devices.locks.door_watch import Notice
from appliance.kiosk.flows.pickup import Problem
from appliance.store.alerts import Alarm

MQTT_GUIDE = Path(__file__).parents[2] / "docs" / "mqtt.md"

#: The problems the locker flows report to staff (`ReportProblem`), the others are only shown.
REPORTED = (Problem.CANCELLED, Problem.DOOR_FAILED, Problem.LOCK_FAULT, Problem.ITEM_LEFT)


def test_every_door_alarm_and_reported_locker_problem_is_an_alarm_cause() -> None:
    door_alarms = [n for n in Notice if n.is_alarm]
    assert {Alarm(n.value) for n in door_alarms} == {
        Alarm.DOOR_LEFT_OPEN,
        Alarm.DOOR_FORCED,
        Alarm.DOOR_SWITCH_FLAPPING,
        Alarm.LOCK_BOARD_DOWN,
    }
    assert [Alarm(p.value) for p in REPORTED] == [
        Alarm.CANCELLED,
        Alarm.DOOR_FAILED,
        Alarm.LOCK_FAULT,
        Alarm.ITEM_LEFT,
    ]


def test_the_fleet_guide_lists_every_alarm_event_type() -> None:
    guide = MQTT_GUIDE.read_text(encoding="utf-8")
    missing = [a.value for a in Alarm if f"| `{a.value}` |" not in guide]
    assert missing == []
