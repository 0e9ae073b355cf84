"""Deposits, codes and pickups in the real database: one transaction, nothing lost."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.core.locker import Compartment, Size, Use
from appliance.core.order import Order, OrderLine, OrderState
from appliance.core.pickup_code import Verdict
from appliance.store import alerts, journal, lockers, orders, outbox, pickup_codes, producers
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from tests.found import found

KEY = b"device-key-for-tests-0123456789a"
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def wall(db: sqlite3.Connection) -> sqlite3.Connection:
    lockers.sync_compartments(db, [Compartment(n, Size.M) for n in (1, 2, 3)])
    with transaction(db):
        for n in ("R100", "R200", "R300"):
            line = OrderLine("Panier légumes", 1, price_cents=2000, producer="Ferme")
            orders.save(db, Order(n, OrderState.WAITING, "Alice", "a@example.org", lines=(line,)))
    return db


def deposit(db: sqlite3.Connection, number: str, compartment: int, seed: int = 1):
    return lockers.deposit(
        db,
        number,
        compartment,
        producer="Ferme",
        key=KEY,
        validity_days=7,
        rng=random.Random(seed),
        now=NOW,
    )


def test_a_deposit_puts_the_order_in_the_locker_with_a_hashed_code(
    wall: sqlite3.Connection,
) -> None:
    issued = deposit(wall, "R100", 2)
    order = orders.get(wall, "R100")
    assert order is not None and order.state is OrderState.IN_LOCKER and order.compartment == 2
    assert found(lockers.state(wall, 2)).use is Use.ORDER
    assert len(issued.code) == 6
    dump = "\n".join(wall.iterdump())
    assert issued.code not in dump
    assert [e.kind for e in journal.entries(wall)] == ["deposit"]
    assert journal.verify(wall)[1] is None


def test_the_code_finds_its_order_and_closing_the_door_collects_it(
    wall: sqlite3.Connection,
) -> None:
    issued = deposit(wall, "R100", 2)
    check = pickup_codes.check_code(wall, issued.code, key=KEY, now=NOW + timedelta(hours=3))
    assert (check.verdict, check.order_number, check.compartment) == (Verdict.OK, "R100", 2)
    assert lockers.collect(wall, "R100", 2, code_id=check.code_id, now=NOW + timedelta(hours=3))
    assert found(orders.get(wall, "R100")).state is OrderState.COLLECTED
    assert found(lockers.state(wall, 2)).use is Use.FREE
    event = outbox.pending(wall, "test", types=("order_collected",))[0]
    assert event.payload == {
        "number": "R100",
        "collected_at": (NOW + timedelta(hours=3)).isoformat(timespec="microseconds"),
        "compartment": 2,
    }
    assert [e.kind for e in journal.entries(wall)] == ["deposit", "pickup"]


def test_the_qr_token_opens_like_the_code(wall: sqlite3.Connection) -> None:
    issued = deposit(wall, "R100", 2)
    check = pickup_codes.check_code(wall, issued.token, key=KEY, now=NOW)
    assert check.verdict is Verdict.OK and check.compartment == 2
    assert pickup_codes.check_code(wall, issued.token, key=b"x" * 32, now=NOW).verdict is (
        Verdict.UNKNOWN
    )


def test_a_code_of_an_order_already_collected_opens_nothing(wall: sqlite3.Connection) -> None:
    issued = deposit(wall, "R100", 2)
    lockers.collect(wall, "R100", 2, code_id=issued.code_id, now=NOW)
    check = pickup_codes.check_code(wall, issued.code, key=KEY, now=NOW)
    assert check.verdict is Verdict.ALREADY_COLLECTED and check.compartment is None
    assert pickup_codes.check_code(wall, issued.token, key=KEY, now=NOW).verdict is (
        Verdict.ALREADY_COLLECTED
    )


def test_an_expired_code_opens_nothing_and_the_order_stays_in_the_locker(
    wall: sqlite3.Connection,
) -> None:
    issued = deposit(wall, "R100", 2)
    later = NOW + timedelta(days=7, seconds=1)
    assert pickup_codes.check_code(wall, issued.code, key=KEY, now=later).verdict is Verdict.EXPIRED
    assert found(orders.get(wall, "R100")).state is OrderState.IN_LOCKER


def test_every_attempt_is_recorded_without_the_code_and_refusals_are_events(
    wall: sqlite3.Connection,
) -> None:
    issued = deposit(wall, "R100", 2)
    pickup_codes.check_code(wall, "999999", key=KEY, now=NOW)
    pickup_codes.check_code(wall, issued.code, key=KEY, now=NOW)
    rows = wall.execute("SELECT method, verdict, order_number FROM code_attempts").fetchall()
    assert rows == [("code", "unknown", None), ("code", "ok", "R100")]
    refused = outbox.pending(wall, "test", types=("pickup_refused",))
    assert [e.payload["verdict"] for e in refused] == ["unknown"]


def test_pickup_code_locks_after_five_wrong_tries_for_a_growing_delay(
    wall: sqlite3.Connection,
) -> None:
    issued = deposit(wall, "R100", 2)
    checks = [pickup_codes.check_code(wall, "00000" + str(i), key=KEY, now=NOW) for i in range(5)]
    assert [c.locked_until for c in checks[:4]] == [None] * 4
    assert checks[4].locked_until == NOW + timedelta(seconds=30)
    # Even the right code waits while the keypad is locked.
    locked = pickup_codes.check_code(wall, issued.code, key=KEY, now=NOW + timedelta(seconds=29))
    assert locked.verdict is Verdict.LOCKED
    after = NOW + timedelta(seconds=31)
    sixth = pickup_codes.check_code(wall, "111111", key=KEY, now=after)
    assert sixth.locked_until == after + timedelta(seconds=60)
    ok = pickup_codes.check_code(wall, issued.code, key=KEY, now=after + timedelta(seconds=61))
    assert ok.verdict is Verdict.OK
    assert (
        pickup_codes.check_code(
            wall, "111111", key=KEY, now=after + timedelta(seconds=62)
        ).locked_until
        is None
    )


def test_a_busy_compartment_or_an_order_already_deposited_is_refused(
    wall: sqlite3.Connection,
) -> None:
    deposit(wall, "R100", 2)
    with pytest.raises(lockers.LockerError, match="compartment 2 is not free"):
        deposit(wall, "R200", 2)
    with pytest.raises(lockers.LockerError, match="R100 is in_locker"):
        deposit(wall, "R100", 3)
    assert found(orders.get(wall, "R200")).state is OrderState.WAITING
    assert journal.verify(wall) == (1, None)


def test_collecting_from_the_wrong_compartment_changes_nothing(
    wall: sqlite3.Connection,
) -> None:
    deposit(wall, "R100", 2)
    assert not lockers.collect(wall, "R100", 3, code_id=None)
    assert found(orders.get(wall, "R100")).state is OrderState.IN_LOCKER
    assert outbox.pending(wall, "test", types=("order_collected",)) == []


def test_a_reissued_code_replaces_the_old_one(wall: sqlite3.Connection) -> None:
    old = deposit(wall, "R100", 2)
    new = pickup_codes.reissue_code(
        wall, "R100", key=KEY, validity_days=7, rng=random.Random(9), now=NOW
    )
    assert pickup_codes.check_code(wall, old.code, key=KEY, now=NOW).verdict is Verdict.UNKNOWN
    assert pickup_codes.check_code(wall, new.code, key=KEY, now=NOW).verdict is Verdict.OK


def test_an_alarm_is_an_open_alert_and_an_outbox_event(wall: sqlite3.Connection) -> None:
    lockers.raise_alarm(wall, Alarm.DOOR_FORCED, 3, "door 3 opened without a command")
    assert [a.kind for a in alerts.open_alerts(wall)] == ["door_forced"]
    [event] = outbox.pending(wall, "test")
    assert event.type == "door_forced" and event.payload["compartment"] == 3
    assert lockers.door_events(wall)[-1][1:3] == (3, "door_forced")


def test_the_device_key_is_created_private_once_and_never_in_the_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets" / "device.key"
    with pytest.raises(Exception, match="does not exist"):
        pickup_codes.device_key(path)
    key = pickup_codes.device_key(path, create=True)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert pickup_codes.device_key(path) == key


def test_a_producer_identifies_by_pin_or_badge_and_wrong_pins_lock(
    wall: sqlite3.Connection,
) -> None:
    producers.add_producer(wall, "Ferme des Lilas", key=KEY, pin="4821", badge="BADGE-77")
    assert producers.identify_producer(wall, "4821", key=KEY, now=NOW).producer == (
        "Ferme des Lilas"
    )
    assert producers.identify_producer(wall, "BADGE-77", key=KEY, badge=True, now=NOW).verdict is (
        Verdict.OK
    )
    wrong = [producers.identify_producer(wall, "0000", key=KEY, now=NOW) for _ in range(5)]
    assert wrong[-1].locked_until == NOW + timedelta(seconds=30)
    assert producers.identify_producer(wall, "4821", key=KEY, now=NOW).verdict is Verdict.LOCKED
    # The customer keypad is not locked by a producer's mistakes.
    assert pickup_codes.check_code(wall, "123456", key=KEY, now=NOW).verdict is Verdict.UNKNOWN


def test_walkin_produce_is_filled_then_sold_and_the_compartment_freed(
    wall: sqlite3.Connection,
) -> None:
    lockers.fill_walkin(wall, 3, name="Pommes 2 kg", price_cents=650, producer="Ferme")
    assert lockers.busy(wall) == {3}
    with pytest.raises(lockers.LockerError, match=r"not free \(walkin\)"):
        deposit(wall, "R100", 3)
    lockers.empty_walkin(wall, 3, receipt="42")
    assert found(lockers.state(wall, 3)).use is Use.FREE
    with pytest.raises(lockers.LockerError, match="no produce"):
        lockers.empty_walkin(wall, 3, receipt="43")
