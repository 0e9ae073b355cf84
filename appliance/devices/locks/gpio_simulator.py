"""A bank of GPIO pins with lock relays wired to door switches, served as a pigpio daemon.

gpiozero's MockFactory pins live inside one process, so an installer could not try the GPIO
wiring from another one. This bank answers pigpio's socket protocol on 127.0.0.1 instead, so the
real `GpioLocks` driver runs on gpiozero's `PiGPIOFactory` against it, with real bytes over a
socket: each request is 16 bytes (little-endian cmd, p1, p2, p3 = length of an extension) and
is answered with the same first 12 bytes and a signed result; a second socket turned into a
notification stream by NOIB receives 12-byte reports (seqno, flags, tick, levels of GPIO 0-31)
for the pins its handle monitors. It builds those frames from the protocol's own numbers, not
from the pigpio client, so a misreading of the protocol cannot hide in shared code.

Each door is a relay output wired to a door switch input (to ground while the door is shut, so
the driver's pull-up reads low) and optionally an item sensor (low while something is inside).
Energising a relay springs its door open after `open_delay_s` unless the lock is jammed; the
installer or a test closes it again.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Self

# Command numbers of pigpio's socket interface that gpiozero's pins use.
MODES, MODEG, PUD, READ, WRITE, BR1, TICK, HWVER, NB, NC, FG, NOIB = (
    0, 1, 2, 3, 4, 10, 16, 17, 19, 21, 97, 99,
)  # fmt: skip
INPUT, OUTPUT = 0, 1
PUD_OFF, PUD_DOWN, PUD_UP = 0, 1, 2
BAD_GPIO, BAD_MODE, BAD_LEVEL, BAD_PUD, BAD_HANDLE, UNKNOWN_COMMAND = -3, -4, -5, -6, -25, -88
#: A Raspberry Pi 4 B's revision code: gpiozero reads pin names such as GPIO17 from it.
REVISION = 0xC03111
PINS = range(54)
REQUEST = struct.Struct("<IIII")
REPORT = struct.Struct("<HHII")


@dataclass
class SimDoor:
    """One compartment's wiring and what its door is doing, as the installer sets it."""

    relay: int
    door: int
    item: int | None = None
    open: bool = False
    jammed: bool = False
    holding: bool = False


class GpioBank:
    """Pin modes, pulls and levels, and the doors wired to them; thread-safe."""

    def __init__(self, doors: Iterable[SimDoor] = (), *, open_delay_s: float = 0.1) -> None:
        self.doors = {d.door: d for d in doors}
        self.open_delay_s = open_delay_s
        self.modes = dict.fromkeys(PINS, INPUT)
        self.pulls = dict.fromkeys(PINS, PUD_OFF)
        self.outputs = dict.fromkeys(PINS, 0)
        self.energised: list[tuple[int, float]] = []  # (relay pin, monotonic time)
        self._monitors: dict[int, int] = {}  # notification handle -> GPIO bits it watches
        self._streams: dict[int, _Stream] = {}
        self._guard = threading.RLock()
        self._started = time.monotonic()

    def door(self, pin: int) -> SimDoor:
        return self.doors[pin]

    def level(self, pin: int) -> int:
        """What the pin reads: its own output, a switch or sensor pulling it low, or its pull."""
        with self._guard:
            if self.modes[pin] == OUTPUT:
                return self.outputs[pin]
            for d in self.doors.values():
                if (pin == d.door and not d.open) or (pin == d.item and d.holding):
                    return 0  # the switch or the sensor connects the pin to ground
            return 1 if self.pulls[pin] == PUD_UP else 0

    def levels(self) -> int:
        """Levels of GPIO 0-31 as one word, like pigpio's BR1 and its reports."""
        with self._guard:
            return sum(self.level(pin) << pin for pin in range(32))

    def tick(self) -> int:
        return int((time.monotonic() - self._started) * 1_000_000) & 0xFFFFFFFF

    def change(self, door: int, **state: bool) -> None:
        """Open, close, jam, fill or empty one door (as the installer's stdin says)."""
        with self._reporting():
            for name, value in state.items():
                setattr(self.doors[door], name, value)

    def command(self, cmd: int, p1: int, p2: int) -> int:
        """The result of one request, negative for pigpio's error codes."""
        if cmd == TICK:
            return self.tick()
        if cmd == HWVER:
            return REVISION
        if cmd == BR1:
            return self.levels()
        if cmd in (NB, NC):
            return self._notify(cmd, p1, p2)
        if p1 not in PINS:
            return BAD_GPIO if cmd in (MODES, MODEG, PUD, READ, WRITE, FG) else UNKNOWN_COMMAND
        with self._reporting():
            if cmd == MODES:
                if p2 > 7:
                    return BAD_MODE
                self.modes[p1] = p2
            elif cmd == MODEG:
                return self.modes[p1]
            elif cmd == PUD:
                if p2 not in (PUD_OFF, PUD_DOWN, PUD_UP):
                    return BAD_PUD
                self.pulls[p1] = p2
            elif cmd == READ:
                return self.level(p1)
            elif cmd == WRITE:
                if p2 > 1:
                    return BAD_LEVEL
                self._write(p1, p2)
            elif cmd != FG:  # a glitch filter changes nothing on pins that never bounce
                return UNKNOWN_COMMAND
        return 0

    def _write(self, pin: int, level: int) -> None:
        rising = level and not (self.modes[pin] == OUTPUT and self.outputs[pin])
        self.modes[pin], self.outputs[pin] = OUTPUT, level
        doors = [d for d in self.doors.values() if d.relay == pin]
        if rising and doors:
            self.energised.append((pin, time.monotonic()))
            for d in doors:
                timer = threading.Timer(self.open_delay_s, self._spring_open, (d,))
                timer.daemon = True
                timer.start()

    def _spring_open(self, door: SimDoor) -> None:
        if not door.jammed:
            self.change(door.door, open=True)

    def _notify(self, cmd: int, handle: int, bits: int) -> int:
        with self._guard:
            if handle not in self._monitors:
                return BAD_HANDLE
            if cmd == NB:
                self._monitors[handle] = bits
            else:
                self._monitors[handle] = 0
                self._streams.pop(handle, None)
        return 0

    def open_stream(self, stream: _Stream) -> int:
        """A connection asked for NOIB: its handle, and it receives reports from now on."""
        with self._guard:
            handle = next(h for h in range(len(self._streams) + 1) if h not in self._streams)
            self._monitors[handle] = 0
            self._streams[handle] = stream
            return handle

    def close_stream(self, handle: int) -> None:
        with self._guard:
            self._monitors.pop(handle, None)
            self._streams.pop(handle, None)

    @contextlib.contextmanager
    def _reporting(self) -> Iterator[None]:
        """Run a change and report the pins it moved to every handle that watches them."""
        with self._guard:
            before = self.levels()
            yield
            after = self.levels()
            if after != before:
                tick = self.tick()
                for handle, bits in list(self._monitors.items()):
                    if bits & (after ^ before):
                        self._streams[handle].report(tick, after)


class _Stream:
    """One notification socket: numbered 12-byte reports, dropped if the client went away."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.seqno = 0

    def report(self, tick: int, levels: int) -> None:
        with contextlib.suppress(OSError):
            self.conn.sendall(REPORT.pack(self.seqno, 0, tick, levels))
        self.seqno = (self.seqno + 1) & 0xFFFF


class PigpioServer:
    """Serves a `GpioBank` on 127.0.0.1:`port` (0 picks a free one) until `stop()`."""

    def __init__(self, bank: GpioBank, port: int = 8888) -> None:
        self.bank = bank
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self.path = f"127.0.0.1:{self.port}"
        self._conns: set[socket.socket] = set()
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="gpio-bank", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the bank and every connection, as a daemon that stopped would."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._guard:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()
        self._thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # stopped
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._guard:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        handle: int | None = None
        try:
            while request := _receive(conn, REQUEST.size):
                cmd, p1, p2, extension = REQUEST.unpack(request)
                if extension and not _receive(conn, extension):
                    break
                if handle is not None:  # a notification stream only ever sends NC
                    if cmd == NC:
                        break
                    continue
                if cmd == NOIB:
                    handle = self.bank.open_stream(_Stream(conn))
                    result = handle
                else:
                    result = self.bank.command(cmd, p1, p2)
                conn.sendall(REQUEST.pack(cmd, p1, p2, result & 0xFFFFFFFF))
        except OSError:
            pass  # the client went away, or the bank stopped
        finally:
            if handle is not None:
                self.bank.close_stream(handle)
            with self._guard:
                self._conns.discard(conn)
            conn.close()


def _receive(conn: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes, or b"" once the other end closed."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data
