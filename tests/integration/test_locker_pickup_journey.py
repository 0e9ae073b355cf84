"""A customer's pickup end to end: the pickup flow, the store, the real Kerong driver and the
board simulator over a pty, and the door watch. The small runner below is what the kiosk does
with the flow's intentions."""

from __future__ import annotations

import queue
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from appliance.core.locker import Compartment, Size
from appliance.core.order import Order, OrderLine, OrderState
from appliance.devices.locks.base import LockUnavailable
from appliance.devices.locks.door_watch import DoorNotice, DoorWatch, DoorWatcher, Notice
from appliance.devices.locks.kerong import KerongLocks, Wiring, open_bus
from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows.events import (
    CodeChecked,
    DigitPressed,
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    Event,
    LockFailed,
    OrderReread,
)
from appliance.kiosk.flows.intentions import (
    CheckCode,
    Intention,
    OpenDoor,
    RecordPickup,
    ReportProblem,
    RereadOrder,
)
from appliance.kiosk.flows.values import (
    Problem,
)
from appliance.store import alerts, journal, lockers, orders, outbox, pickup_codes
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from tests.found import found

KEY = b"device-key-for-tests-0123456789a"


class Runner:
    """Carries out the flow's intentions against the store and the controller."""

    def __init__(self, db: sqlite3.Connection, locks: KerongLocks, watcher: DoorWatcher):
        self.db, self.locks, self.watcher = db, locks, watcher
        self.flow = p.Pickup(phone="04 75 00 00 00")

    def send(self, event: Event) -> None:
        pending: list[Event] = [event]
        while pending:
            for intention in self.flow.handle(pending.pop(0), time.monotonic()):
                answer = self.carry_out(intention)
                if answer is not None:
                    pending.append(answer)

    def carry_out(self, intention: Intention) -> Event | None:
        match intention:
            case CheckCode(text=text):
                c = pickup_codes.check_code(self.db, text, key=KEY)
                locked = (
                    (c.locked_until - datetime.now(UTC)).total_seconds() if c.locked_until else 0
                )
                return CodeChecked(c.verdict, c.order_number, c.compartment, c.code_id, locked)
            case RereadOrder(order_number=n):
                return OrderReread(n, None)  # no marketplace here: use the local copy
            case OpenDoor(compartment=n):
                self.watcher.expect_open(n, within_s=5)
                try:
                    return DoorOpened(n) if self.locks.unlock(n) else DoorNotOpened(n)
                except LockUnavailable as exc:
                    return LockFailed(n, str(exc))
            case RecordPickup(order_number=n, compartment=c, code_id=code):
                lockers.collect(self.db, n, c, code_id=code)
            case ReportProblem(problem=problem, compartment=c, order_number=n):
                lockers.raise_alarm(
                    self.db, Alarm(problem.value), c, f"pickup of {n}: {problem.value}"
                )
        return None


@pytest.fixture
def sim() -> Iterator[tuple[Cu16Bus, str]]:
    bus = Cu16Bus((0,))
    with Cu16PtyServer(bus) as server:
        yield bus, server.path


@pytest.fixture
def rig(db: sqlite3.Connection, sim: tuple[Cu16Bus, str]) -> Iterator[tuple[Runner, str]]:
    lockers.sync_compartments(db, [Compartment(n, Size.M) for n in (1, 2)])
    with transaction(db):
        orders.save(db, Order("R100", OrderState.WAITING, "Alice", lines=(OrderLine("Œufs", 6),)))
    issued = lockers.deposit(
        db, "R100", 2, producer="Ferme", key=KEY, validity_days=7, rng=random.Random(4)
    )
    locks = KerongLocks(
        open_bus(sim[1], timeout_s=0.3),
        {1: Wiring(0, 0), 2: Wiring(0, 1)},
        confirm_s=1.0,
        poll_s=0.02,
    )
    notices: queue.Queue[DoorNotice] = queue.Queue()
    watcher = DoorWatcher(locks, DoorWatch(debounce_s=0.05), notices.put, interval_s=0.02)
    runner = Runner(db, locks, watcher)
    runner.notices = notices  # type: ignore[attr-defined]
    assert watcher.poll_once() == []  # the doors' first state, before the test touches them
    watcher.start()
    yield runner, issued.code
    watcher.stop()
    locks.close()


def wait_notice(runner: Runner, kind: Notice, timeout_s: float = 10.0) -> DoorNotice:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            notice = runner.notices.get(timeout=0.1)  # type: ignore[attr-defined]
        except queue.Empty:
            continue
        if notice.notice is kind:
            return notice
    raise AssertionError(f"no {kind} notice within {timeout_s} s")


def test_customer_types_the_code_takes_the_order_and_it_is_collected(
    rig: tuple[Runner, str], sim: tuple[Cu16Bus, str], db: sqlite3.Connection
) -> None:
    runner, code = rig
    for digit in code:
        runner.send(DigitPressed(digit))
    assert runner.flow.step is p.Step.TAKE_ORDER
    assert sim[0].board(0).open_doors == {1}
    wait_notice(runner, Notice.OPENED)
    sim[0].board(0).close_door(1)
    closed = wait_notice(runner, Notice.CLOSED)
    runner.send(DoorClosed(found(closed.compartment), closed.item_present))
    assert runner.flow.step is p.Step.DONE
    assert orders.get(db, "R100").state is OrderState.COLLECTED
    assert [e.type for e in outbox.pending(db, "t", types=("order_collected",))] == [
        "order_collected"
    ]
    assert [e.kind for e in journal.entries(db)] == ["deposit", "pickup"]


def test_a_silent_board_shows_the_phone_and_the_order_stays_in_the_locker(
    rig: tuple[Runner, str], sim: tuple[Cu16Bus, str], db: sqlite3.Connection
) -> None:
    runner, code = rig
    sim[0].board(0).silent = True
    for digit in code:
        runner.send(DigitPressed(digit))
    assert runner.flow.step is p.Step.CALL_SITE
    assert runner.flow.problem is Problem.LOCK_FAULT
    assert found(orders.get(db, "R100")).state is OrderState.IN_LOCKER
    assert "lock_fault" in [a.kind for a in alerts.open_alerts(db)]


def test_a_jammed_door_is_retried_once_then_the_order_stays_in_the_locker(
    rig: tuple[Runner, str], sim: tuple[Cu16Bus, str], db: sqlite3.Connection
) -> None:
    runner, code = rig
    sim[0].board(0).jammed.add(1)
    for digit in code:
        runner.send(DigitPressed(digit))
    assert len(sim[0].unlocks) == 2
    assert runner.flow.step is p.Step.CALL_SITE and runner.flow.problem is Problem.DOOR_FAILED
    assert found(orders.get(db, "R100")).state is OrderState.IN_LOCKER


def test_an_item_left_inside_after_pickup_is_an_alarm_not_a_collection(
    rig: tuple[Runner, str], sim: tuple[Cu16Bus, str], db: sqlite3.Connection
) -> None:
    runner, code = rig
    sim[0].board(0).items.add(1)
    for digit in code:
        runner.send(DigitPressed(digit))
    wait_notice(runner, Notice.OPENED)
    sim[0].board(0).close_door(1)
    closed = wait_notice(runner, Notice.CLOSED)
    assert closed.item_present is True
    runner.send(DoorClosed(found(closed.compartment), closed.item_present))
    assert runner.flow.step is p.Step.ITEM_LEFT
    assert found(orders.get(db, "R100")).state is OrderState.IN_LOCKER
    assert "item_left" in [a.kind for a in alerts.open_alerts(db)]


def test_a_door_opened_by_hand_is_reported_as_forced(
    rig: tuple[Runner, str], sim: tuple[Cu16Bus, str]
) -> None:
    runner, _ = rig
    sim[0].board(0).open_door(0)
    wait_notice(runner, Notice.FORCED)
