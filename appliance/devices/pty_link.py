"""A simulated serial device on a pseudo-terminal: the loop every simulator shares.

Clients open `path` like a serial port (the scale's, the RS485 adapter's); bytes they write reach
`answer`, and what it returns is written back. Simulators decide what to answer; this module only
carries bytes, in one thread, until `stop()`.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from typing import Self


class PtyLink:
    """Serves `answer(request) -> reply` on a pseudo-terminal in its own thread."""

    name = "pty-simulator"

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self.requests = 0

    def answer(self, request: bytes) -> bytes:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self, seconds: float) -> bool:
        """Wait (to pace a reply at the line's speed); False when asked to stop meanwhile."""
        return not self._stop.wait(seconds)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                request = os.read(self._master, 1024)
                self.requests += 1
                reply = self.answer(request)
                if reply and not self._stop.is_set():
                    self.deliver(reply)
            except OSError:
                return

    def deliver(self, reply: bytes) -> None:
        """Write a reply to the client; a subclass may split it, as a slow UART would."""
        os.write(self._master, reply)
