"""A pty line that delivers each simulator answer in small pieces, as a slow or busy UART does.

`PtyServer` writes an answer at once; this one makes sure a driver reassembles frames that arrive
across several reads.
"""

from __future__ import annotations

from appliance.devices.scales.simulator.base import PtyServer, ScaleSimulator


class PiecewisePtyServer(PtyServer):
    def __init__(self, simulator: ScaleSimulator, *, piece: int = 3, pause_s: float = 0.01):
        super().__init__(simulator, pace=False)
        self.piece = piece
        self.pause_s = pause_s

    def deliver(self, reply: bytes) -> None:
        for start in range(0, len(reply), self.piece):
            super().deliver(reply[start : start + self.piece])
            if not self.pause(self.pause_s):
                return
