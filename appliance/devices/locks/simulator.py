"""A bus of Kerong CU16 boards on a pseudo-terminal, for tests, the demo and installers.

It reads five-byte commands, drops those whose checksum is wrong (like a board), and answers
status requests from doors and items a test opens, closes, fills and empties. An unlocked door
springs open unless its lock is jammed; a board can be made silent or to answer with a bad
checksum. It builds its own frames from the protocol constants, so a misreading of the protocol
in the driver cannot hide in shared code.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from appliance.devices.locks.kerong import (
    COMMAND_LENGTH,
    ETX,
    STATUS_ALL,
    STATUS_ONE,
    STATUS_REPLY,
    STX,
    UNLOCK_ALL,
    UNLOCK_ONE,
)
from appliance.devices.pty_link import PtyLink


@dataclass
class SimBoard:
    """One board's doors (lock index 0-15) as a test sets them."""

    address: int
    open_doors: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)
    jammed: set[int] = field(default_factory=set)
    silent: bool = False
    bad_checksum: bool = False

    def open_door(self, lock: int) -> None:
        self.open_doors.add(lock)

    def close_door(self, lock: int) -> None:
        self.open_doors.discard(lock)


class Cu16Bus:
    """The boards on one line, turning command bytes into answer bytes."""

    def __init__(self, addresses: Iterable[int] = (0,), *, lock_bit_closed: bool = True) -> None:
        self.boards = {a: SimBoard(a) for a in addresses}
        self.lock_bit_closed = lock_bit_closed
        self.rejected = 0  # commands dropped for a bad checksum or framing
        self.unlocks: list[tuple[int, int, float]] = []  # (board, lock, monotonic time)
        self._buffer = b""

    def board(self, address: int) -> SimBoard:
        return self.boards[address]

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        answer = b""
        while len(self._buffer) >= COMMAND_LENGTH:
            start = self._buffer.find(bytes((STX,)))
            if start < 0:
                self._buffer = b""
                break
            frame, self._buffer = (
                self._buffer[start : start + COMMAND_LENGTH],
                self._buffer[start + COMMAND_LENGTH :],
            )
            if len(frame) < COMMAND_LENGTH:
                self._buffer = frame
                break
            answer += self._answer(frame)
        return answer

    def _answer(self, frame: bytes) -> bytes:
        if frame[3] != ETX or sum(frame[:4]) & 0xFF != frame[4]:
            self.rejected += 1
            return b""
        address, code = frame[1], frame[2]
        board = self.boards.get(address >> 4)
        if board is None or board.silent:
            return b""
        lock = address & 0x0F
        if code in (UNLOCK_ONE, UNLOCK_ALL):
            for index in range(16) if code == UNLOCK_ALL else (lock,):
                if index not in board.jammed:
                    board.open_doors.add(index)
            self.unlocks.append((board.address, lock, time.monotonic()))
            return b""
        if code in (STATUS_ALL, STATUS_ONE):
            return self._status(board, address if code == STATUS_ONE else board.address << 4)
        return b""

    def _status(self, board: SimBoard, address: int) -> bytes:
        closed = sum(1 << i for i in range(16) if i not in board.open_doors)
        lock_bits = closed if self.lock_bit_closed else ~closed & 0xFFFF
        items = sum(1 << i for i in board.items)
        body = bytes(
            (STX, address, STATUS_REPLY, lock_bits & 0xFF, lock_bits >> 8, items & 0xFF, items >> 8)
        ) + bytes((ETX,))
        check = sum(body) & 0xFF
        if board.bad_checksum:
            check ^= 0x5A
        return body + bytes((check,))


class Cu16PtyServer(PtyLink):
    """Serves a `Cu16Bus` on a pseudo-terminal; drivers open `path` like the RS485 adapter."""

    name = "cu16-simulator"

    def __init__(self, bus: Cu16Bus) -> None:
        super().__init__()
        self.bus = bus

    def answer(self, request: bytes) -> bytes:
        return self.bus.feed(request)
