"""The Kerong CU16 driver against the board simulator over a real pty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.devices.locks.base import Door, LockUnavailable, UnknownCompartment
from appliance.devices.locks.kerong import KerongLocks, Wiring, open_bus
from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer

WIRING = {1: Wiring(0, 0), 2: Wiring(0, 1), 17: Wiring(1, 0)}


@pytest.fixture(params=[True, False], ids=["set-bit-closed", "set-bit-open"])
def polarity(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.fixture
def bus(polarity: bool) -> Iterator[tuple[Cu16Bus, str]]:
    sim = Cu16Bus((0, 1), lock_bit_closed=polarity)
    with Cu16PtyServer(sim) as server:
        yield sim, server.path


@pytest.fixture
def locks(bus: tuple[Cu16Bus, str], polarity: bool) -> Iterator[KerongLocks]:
    controller = KerongLocks(
        open_bus(bus[1], timeout_s=0.3),
        WIRING,
        lock_bit_closed=polarity,
        confirm_s=0.5,
        poll_s=0.02,
    )
    yield controller
    controller.close()


def test_unlock_opens_the_right_door_and_is_confirmed(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    sim, _ = bus
    assert locks.unlock(17) is True
    assert sim.board(1).open_doors == {0}
    assert sim.board(0).open_doors == set()
    assert locks.status()[17].door is Door.OPEN
    assert locks.status()[1].door is Door.CLOSED


def test_a_jammed_lock_is_reported_as_not_opened(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    bus[0].board(0).jammed.add(1)
    assert locks.unlock(2) is False
    assert locks.status([2])[2].door is Door.CLOSED


def test_doors_and_items_a_person_changes_are_seen(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    sim, _ = bus
    sim.board(0).open_door(1)
    sim.board(0).items.add(0)
    status = locks.status()
    assert status[2].door is Door.OPEN
    assert status[1].item is True and status[2].item is False
    sim.board(0).close_door(1)
    assert locks.status([2])[2].door is Door.CLOSED


def test_a_board_that_does_not_answer_is_named(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    bus[0].board(1).silent = True
    with pytest.raises(LockUnavailable, match=r"lock board 1 .* does not answer"):
        locks.status([17])
    assert locks.status([1])[1].door is Door.CLOSED


def test_a_reply_with_a_checksum_error_is_never_believed(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    sim, _ = bus
    sim.board(0).bad_checksum = True
    with pytest.raises(LockUnavailable, match="checksum error"):
        locks.unlock(1)
    # The unlock itself reached the board; only its confirmation could not be read.
    assert sim.unlocks[-1][:2] == (0, 0)


def test_the_board_ignores_a_command_with_a_wrong_checksum(bus: tuple[Cu16Bus, str]) -> None:
    sim, _ = bus
    assert sim.feed(bytes([0x02, 0x00, 0x31, 0x03, 0x37])) == b""
    assert sim.rejected == 1 and sim.board(0).open_doors == set()


def test_an_unknown_door_number_is_refused_before_touching_the_bus(
    bus: tuple[Cu16Bus, str], locks: KerongLocks
) -> None:
    with pytest.raises(UnknownCompartment, match="compartment 5"):
        locks.unlock(5)
    assert bus[0].unlocks == []


def test_a_missing_port_is_named() -> None:
    with pytest.raises(LockUnavailable, match="/dev/ttyNOPE"):
        open_bus("/dev/ttyNOPE")
