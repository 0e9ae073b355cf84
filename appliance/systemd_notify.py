"""sd_notify without a dependency: READY=1 once serving, WATCHDOG=1 from each real main loop.

The kiosk (Kivy's clock), the agent (its main loop) and the web admin (a thread that checks the
server answers) all use it. With `Type=notify` and `WatchdogSec=` systemd restarts a process
whose main loop hangs (reference §2.9); outside systemd ($NOTIFY_SOCKET unset) every call does
nothing, so the same code runs in a terminal, in tests and in `make demo`.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit


class Notifier:
    """Speaks to the socket systemd named in $NOTIFY_SOCKET (a path, or @abstract)."""

    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        # Ping at half the interval, as systemd recommends.
        self._every_s = usec / 2_000_000 if usec else 0.0
        self._last = 0.0

    @property
    def watchdog_every_s(self) -> float:
        """How often `watchdog()` really pings (0 when systemd asked for no watchdog)."""
        return self._every_s

    def send(self, message: str) -> None:
        if not self._address:
            return
        # systemd gone or socket not ours: nothing useful to do.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.sendto(message.encode(), self._address)

    def ready(self, status: str = "") -> None:
        """The process serves: systemd starts the units ordered after it."""
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> None:
        """Call from the main loop as often as you like; pings at most every half interval."""
        now = time.monotonic()
        if self._every_s and now - self._last >= self._every_s:
            self._last = now
            self.send("WATCHDOG=1")


class ServingWatch:
    """Pings the watchdog only while `url` answers: a thread that asks the web admin for a page
    through its own server, so a wedged server or stuck workers stop the pings."""

    def __init__(
        self,
        url: str,
        notifier: Notifier,
        *,
        timeout_s: float = 5.0,
        context: ssl.SSLContext | None = None,  # HTTPS: trusts the server's own certificate
    ) -> None:
        self.url = url
        self.context = context
        self.notifier = notifier
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="serving-watch", daemon=True)

    def start(self) -> ServingWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 1)

    def answers(self) -> bool:
        """Whether the page answers below 500. http.client, not urllib.request: the web
        process would carry urllib's 2 MB for this one request."""
        url = urlsplit(self.url)
        connection = (
            http.client.HTTPSConnection(
                url.hostname or "", url.port, timeout=self.timeout_s, context=self.context
            )
            if url.scheme == "https"
            else http.client.HTTPConnection(url.hostname or "", url.port, timeout=self.timeout_s)
        )
        try:
            connection.request("GET", url.path or "/")
            return connection.getresponse().status < 500
        except (OSError, ValueError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def _run(self) -> None:
        every_s = self.notifier.watchdog_every_s or 10.0
        while not self._stop.is_set():
            if self.answers():
                self.notifier.watchdog()
            self._stop.wait(min(every_s, 5.0))
