"""An ESC/POS printer on a TCP socket, like a network label printer on port 9100.

It records every byte it receives and answers the real-time status requests DLE EOT 1 and
DLE EOT 4 from a paper state that a test or the demo sets (ok, near end, out) and an online flag,
so the real python-escpos Network back-end is exercised end to end. It writes its own answers
from the ESC/POS bit layout rather than sharing the driver's decoding.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable
from enum import StrEnum

from appliance.devices.printers.status import DLE_EOT

CUT = b"\x1dV"  # GS V: the end of every label
_ALWAYS_ON = 0x12  # the fixed bits 0xx1xx10 of every status reply
_ANSWERS = {
    "ok": 0x00,
    "near_end": 0x0C,  # paper near-end sensor, bits 2 and 3
    "out": 0x60,  # paper end sensor, bits 5 and 6
}


class Paper(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


class PrinterSimulator:
    """Serves one ESC/POS printer on host:port until `stop()`; use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.paper = Paper.OK
        self.online = True
        self._received = bytearray()
        self._changed = threading.Condition()
        simulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                simulator._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(
            (host, port), Handler, bind_and_activate=False
        )
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._server.server_bind()
        self._server.server_activate()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """host:port, as written in config `[printer] target`."""
        host, port = self._server.socket.getsockname()[:2]
        return f"{host}:{port}"

    @property
    def received(self) -> bytes:
        with self._changed:
            return bytes(self._received)

    def labels_received(self) -> int:
        return self.received.count(CUT)

    def start(self) -> PrinterSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> PrinterSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, condition: Callable[[bytes], bool], timeout: float = 10.0) -> bool:
        """Wait until `condition(received bytes)` holds; False if it did not in time."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(bytes(self._received)), timeout)

    def _status_byte(self, kind: int) -> int:
        if kind == 4:
            return _ALWAYS_ON | _ANSWERS[self.paper]
        offline = not self.online or self.paper is Paper.OUT
        return _ALWAYS_ON | (0x08 if offline else 0x00)

    def _serve(self, connection: socket.socket) -> None:
        pending = b""
        while True:
            try:
                chunk = connection.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            with self._changed:
                self._received += chunk
                self._changed.notify_all()
            pending += chunk
            # Real-time requests are honoured wherever they appear in the stream.
            while (at := pending.find(DLE_EOT)) != -1 and at + 2 < len(pending):
                connection.sendall(bytes([self._status_byte(pending[at + 2])]))
                pending = pending[at + 3 :]
            pending = pending[-2:]
