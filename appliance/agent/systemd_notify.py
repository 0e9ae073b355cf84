"""sd_notify without a dependency: READY=1 at start, WATCHDOG=1 from the main loop.

With `Type=notify` and `WatchdogSec=` systemd restarts the agent when its main loop hangs
(reference §2.9); outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time


class Notifier:
    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        # Ping at half the interval, as systemd recommends.
        self._every_s = usec / 2_000_000 if usec else 0.0
        self._last = 0.0

    def send(self, message: str) -> None:
        if not self._address:
            return
        # systemd gone or socket not ours: nothing useful to do.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.sendto(message.encode(), self._address)

    def watchdog(self) -> None:
        now = time.monotonic()
        if self._every_s and now - self._last >= self._every_s:
            self._last = now
            self.send("WATCHDOG=1")
