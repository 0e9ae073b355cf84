"""The agent's background loops (marketplace sync, Pastèque gateway): threads that outlive any
failure of what they run.

`run_forever` already survives a marketplace that is down or refuses the key; anything else it
lets escape (a bug, a database error) would end the thread and silently stop every later sync.
The loop here logs it, waits, and starts the sync again, and says in telemetry that it did.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# After a crash of the sync, wait this long before starting it again (a crash that repeats at
# every start must not spin).
RESTART_AFTER_S = 30.0


@dataclass(frozen=True)
class LoopState:
    """What telemetry says of the loop: `running`, `stopped` (the agent is stopping) or `off`."""

    state: str
    crashes: int
    last_crash: str


class SyncLoop:
    """Runs `loop(stop_event)` in a daemon thread until `stop_event` is set, restarting it."""

    def __init__(
        self,
        loop: Callable[[threading.Event], None],
        stop_event: threading.Event,
        restart_after_s: float = RESTART_AFTER_S,
        name: str = "marketplace sync",
    ) -> None:
        self.name = name
        self._loop = loop
        self._stop = stop_event
        self._restart_after_s = restart_after_s
        self._thread: threading.Thread | None = None
        self.crashes = 0
        self.last_crash = ""

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._supervise, name=self.name.replace(" ", "-"), daemon=True
        )
        self._thread.start()

    def state(self) -> LoopState:
        if self._thread is None:
            state = "off"
        elif self._thread.is_alive():
            state = "running"
        else:
            state = "stopped"
        return LoopState(state, self.crashes, self.last_crash)

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                self._loop(self._stop)
            except Exception as exc:
                self.crashes += 1
                self.last_crash = f"{type(exc).__name__}: {exc}"[:300]
                log.exception(
                    "%s crashed; the agent goes on and restarts it in %.0f s",
                    self.name,
                    self._restart_after_s,
                )
            else:
                if not self._stop.is_set():
                    log.error("%s loop returned on its own; starting it again", self.name)
            self._stop.wait(self._restart_after_s)
