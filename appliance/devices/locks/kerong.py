"""Kerong KR-CU16 lock boards on an RS485 bus: 19200 8N1, five-byte commands, nine-byte status.

Reference §3.2. A command is STX, address (board number in the high nibble, lock index 0-15 in
the low nibble), command code, ETX, and the low byte of the sum of the four. A status reply is
STX, the echoed address, 0x35, the lock bitmap (locks 1-8 then 9-16, least significant bit
first), the infrared "item present" bitmap in the same order, ETX and the sum of the first
eight bytes. Boards do not always answer an unlock, so an unlock is followed by status polls
until the lock shows open. Whether a set lock bit means closed differs between boards
(`[lockers] lock_bit_closed`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import serial

from appliance.devices.locks.base import Door, DoorStatus, LockController, LockUnavailable
from appliance.devices.scales.serial_port import PORT_ERRORS
from appliance.errors import ConfigError

if TYPE_CHECKING:
    from appliance import config

STX = 0x02
ETX = 0x03
STATUS_ONE = 0x30
UNLOCK_ONE = 0x31
STATUS_ALL = 0x32
UNLOCK_ALL = 0x33
STATUS_REPLY = 0x35

COMMAND_LENGTH = 5
STATUS_LENGTH = 9
BAUD = 19200
LOCKS_PER_BOARD = 16
BOARDS = 16


class FrameError(ValueError):
    """Bytes that are not a well-formed status reply; the message says what is wrong."""


@dataclass(frozen=True)
class BoardStatus:
    """One board's answer: the raw bitmaps, bit n for lock index n."""

    board: int
    lock_bits: int
    item_bits: int

    def door(self, lock: int, lock_bit_closed: bool) -> Door:
        bit_set = bool(self.lock_bits >> lock & 1)
        return Door.CLOSED if bit_set == lock_bit_closed else Door.OPEN

    def item(self, lock: int) -> bool:
        return bool(self.item_bits >> lock & 1)


def checksum(data: bytes) -> int:
    """The low eight bits of the arithmetic sum."""
    return sum(data) & 0xFF


def command(board: int, lock: int, code: int) -> bytes:
    if not (0 <= board < BOARDS and 0 <= lock < LOCKS_PER_BOARD):
        raise ValueError(f"board 0-15 and lock 0-15, not board {board} lock {lock}")
    body = bytes((STX, board << 4 | lock, code, ETX))
    return body + bytes((checksum(body),))


def unlock_command(board: int, lock: int) -> bytes:
    return command(board, lock, UNLOCK_ONE)


def status_command(board: int) -> bytes:
    """Status of every lock on `board` (the lock bits of the address are zero)."""
    return command(board, 0, STATUS_ALL)


def status_reply(board: int, lock_bits: int, item_bits: int, lock: int = 0) -> bytes:
    """A board's nine-byte status answer (what the simulator sends)."""
    body = bytes(
        (
            STX,
            board << 4 | lock,
            STATUS_REPLY,
            lock_bits & 0xFF,
            lock_bits >> 8 & 0xFF,
            item_bits & 0xFF,
            item_bits >> 8 & 0xFF,
            ETX,
        )
    )
    return body + bytes((checksum(body),))


def parse_status(frame: bytes) -> BoardStatus:
    """A nine-byte status reply, checked; FrameError says what is wrong with it."""
    if len(frame) != STATUS_LENGTH:
        raise FrameError(f"a status reply is {STATUS_LENGTH} bytes, got {len(frame)}")
    if frame[0] != STX or frame[7] != ETX or frame[2] != STATUS_REPLY:
        raise FrameError(f"not a status reply: {frame.hex(' ')}")
    if checksum(frame[:8]) != frame[8]:
        raise FrameError(f"checksum error in {frame.hex(' ')}")
    return BoardStatus(frame[1] >> 4, frame[3] | frame[4] << 8, frame[5] | frame[6] << 8)


class KerongBus:
    """The boards on one RS485 line; one request at a time (the bus is shared)."""

    def __init__(self, port: serial.Serial, *, retries: int = 1) -> None:
        self.port = port
        self.retries = retries
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.port.port or self.port.name)

    def send_unlock(self, board: int, lock: int) -> None:
        with self._lock, self._io():
            self.port.reset_input_buffer()
            self.port.write(unlock_command(board, lock))
            self.port.flush()

    def status(self, board: int) -> BoardStatus:
        """Ask `board` for its bitmaps; a silent board or a bad reply is tried again once."""
        problem = ""
        for _ in range(1 + self.retries):
            with self._lock, self._io():
                self.port.reset_input_buffer()
                self.port.write(status_command(board))
                self.port.flush()
                answer = self.port.read(STATUS_LENGTH)
            if not answer:
                problem = (
                    "does not answer (check its power, its address switch and the RS485 wires)"
                )
                continue
            try:
                status = parse_status(answer)
            except FrameError as exc:
                problem = f"answered badly: {exc}"
                continue
            if status.board != board:
                problem = f"answered for board {status.board} (two boards with one address?)"
                continue
            return status
        raise LockUnavailable(f"lock board {board} on {self.name} {problem}")

    @contextlib.contextmanager
    def _io(self) -> Iterator[None]:
        """Turn a port failure into LockUnavailable naming the port."""
        try:
            yield
        except PORT_ERRORS as exc:
            raise LockUnavailable(f"lost the lock bus {self.name}: {exc}") from None


def open_bus(port: str, timeout_s: float = 0.2) -> KerongBus:
    """Open the RS485 adapter (a device path or any pyserial URL) at 19200 8N1."""
    try:
        serial_port = serial.serial_for_url(
            port,
            baudrate=BAUD,
            bytesize=8,
            parity="N",
            stopbits=1,
            timeout=timeout_s,
            write_timeout=timeout_s,
        )
    except (*PORT_ERRORS, ValueError) as exc:
        raise LockUnavailable(
            f"cannot open the lock bus {port}: {exc}; check the RS485 adapter and [lockers] port"
        ) from None
    return KerongBus(serial_port)


@dataclass(frozen=True)
class Wiring:
    """Where a door's lock is: board address and lock index 0-15."""

    board: int
    lock: int


class KerongLocks(LockController):
    """Compartments on CU16 boards; an unlock is confirmed by polling the board's status."""

    @classmethod
    def from_settings(cls, settings: config.Lockers) -> KerongLocks:
        """The boards on `[lockers] port`, each compartment at its board and lock."""
        wiring = {}
        for c in settings.compartments:
            if c.lock > 15:
                raise ConfigError(
                    f"lockers.compartments number {c.number}: lock = {c.lock} is wrong: a CU16 "
                    f"board has locks 0 to 15"
                )
            wiring[c.number] = Wiring(c.board, c.lock)
        return cls(
            open_bus(settings.port),
            wiring,
            lock_bit_closed=settings.lock_bit_closed,
            confirm_s=settings.unlock_confirm_ms / 1000,
            poll_s=settings.status_poll_ms / 1000,
        )

    def __init__(
        self,
        bus: KerongBus,
        wiring: Mapping[int, Wiring],
        *,
        lock_bit_closed: bool = True,
        confirm_s: float = 3.0,
        poll_s: float = 0.1,
    ) -> None:
        self.bus = bus
        self.wiring = dict(wiring)
        self.lock_bit_closed = lock_bit_closed
        self.confirm_s = confirm_s
        self.poll_s = poll_s

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(sorted(self.wiring))

    def unlock(self, number: int) -> bool:
        self.check(number)
        where = self.wiring[number]
        self.bus.send_unlock(where.board, where.lock)
        return self.wait_open(where)

    def wait_open(self, where: Wiring) -> bool:
        """Poll the board until the lock shows open, for at most `confirm_s`."""
        deadline = time.monotonic() + self.confirm_s
        while True:
            status = self.bus.status(where.board)
            if status.door(where.lock, self.lock_bit_closed) is Door.OPEN:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_s)

    def status(self, numbers: Iterable[int] | None = None) -> dict[int, DoorStatus]:
        wanted = self.numbers if numbers is None else tuple(numbers)
        for number in wanted:
            self.check(number)
        boards = {b: self.bus.status(b) for b in sorted({self.wiring[n].board for n in wanted})}
        result = {}
        for number in wanted:
            where = self.wiring[number]
            board = boards[where.board]
            result[number] = DoorStatus(
                number, board.door(where.lock, self.lock_bit_closed), board.item(where.lock)
            )
        return result

    def close(self) -> None:
        self.bus.port.close()
