"""A pty line that delivers each simulator answer in small pieces, as a slow or busy UART does.

`PtyServer` writes an answer at once; this one makes sure a driver reassembles frames that arrive
across several reads.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty

from appliance.devices.scales.simulator.base import ScaleSimulator


class PiecewisePtyServer:
    def __init__(self, simulator: ScaleSimulator, *, piece: int = 3, pause_s: float = 0.01):
        self.simulator = simulator
        self.piece = piece
        self.pause_s = pause_s
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> PiecewisePtyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                answer = self.simulator.feed(os.read(self._master, 1024))
                for start in range(0, len(answer), self.piece):
                    os.write(self._master, answer[start : start + self.piece])
                    self._stop.wait(self.pause_s)
            except OSError:
                return
