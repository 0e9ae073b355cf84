"""The soak's shared clock: one simulated wall clock for the box's processes and the world.

A week of shop activity fits in minutes by skipping the idle hours: between two customers and
over the night the harness moves the clock on. The clock lives in one small JSON file,
`{"wall_offset_s": W, "elapsed_offset_s": E}`; every Python process of the soak (the three
`comptoir` processes through `sitecustomize`, and the harness itself) reads it every
`POLL_S` and adds W to its wall clock (`time.time`, `datetime.now`, `time.localtime`, ... via
time-machine) and E to `time.monotonic`. Real time runs on in between.

- Skipping idle time moves both by the same amount: to the box it is time that passed while the
  shop was empty (timers expire, the night comes, the agent closes the day).
- The clock-jump fault moves the wall clock alone, forward or back: what a box sees when NTP
  steps its clock after a boot without a real-time clock. E never decreases.

Nothing of the appliance changes: this file is loaded only into the soak's processes, through
`PYTHONPATH`, and needs only the standard library and time-machine (it is not imported from the
`soak` package by the box, so a release installed by an update finds it too). libfaketime was
tried first and rejected: Debian's 0.9.10 makes Python 3.11's `time.sleep` fail with EINVAL when
the monotonic clock is left alone, and lock timeouts hang after a jump when it is not.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

ENV = "COMPTOIR_SOAK_CLOCK"
POLL_S = 0.1
DRIFT_S = 0.05

_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns


def _real_time() -> float:
    # time-machine patches time.time() and clock_gettime() at the C level, so a saved reference
    # would travel too: its escape hatch reads the machine's clock.
    import time_machine

    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


def real_monotonic() -> float:
    """The machine's monotonic clock, untouched by jumps (the harness's own deadlines)."""
    return _real_monotonic()


def real_time() -> float:
    return _real_time()


def read(path: Path) -> tuple[float, float]:
    """(wall offset, elapsed offset) in seconds; (0, 0) while the file is missing or torn."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return float(data["wall_offset_s"]), float(data["elapsed_offset_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, 0.0


class SharedClock:
    """The writer side, held by the harness: says where the clock is and moves it."""

    def __init__(self, path: Path, start_wall: float) -> None:
        self.path = path
        self.wall_offset_s = start_wall - _real_time()
        self.elapsed_offset_s = 0.0
        self.jumps: list[dict[str, float | str]] = []  # every move, for the report
        self._write()

    def now(self) -> float:
        """The simulated wall clock (POSIX seconds)."""
        return _real_time() + self.wall_offset_s

    def skip(self, seconds: float, why: str) -> None:
        """Idle time passes at once: wall and elapsed clocks move on together."""
        if seconds <= 0:
            return
        self.wall_offset_s += seconds
        self.elapsed_offset_s += seconds
        self.jumps.append({"kind": "skip", "seconds": seconds, "why": why, "at": self.now()})
        self._write()

    def skip_to(self, wall: float, why: str) -> None:
        self.skip(wall - self.now(), why)

    def jump_wall(self, seconds: float, why: str) -> None:
        """The clock-jump fault: the wall clock alone moves (either way)."""
        self.wall_offset_s += seconds
        self.jumps.append({"kind": "wall_jump", "seconds": seconds, "why": why, "at": self.now()})
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {"wall_offset_s": self.wall_offset_s, "elapsed_offset_s": self.elapsed_offset_s}
            ),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)


class _Follower:
    """The reader side, in each process: keeps this process's clocks on the shared file."""

    def __init__(self, path: Path, elapsed: bool = True) -> None:
        import time_machine

        self.path = path
        wall, skipped = read(path)
        self.wall, self.elapsed = wall, skipped
        self._traveller = time_machine.travel(_real_time() + wall, tick=True)
        self._coordinates = self._traveller.start()
        if elapsed:
            time.monotonic = self.monotonic
            time.monotonic_ns = self.monotonic_ns
        thread = threading.Thread(target=self._follow, name="soak-clock", daemon=True)
        thread.start()

    def monotonic(self) -> float:
        return _real_monotonic() + self.elapsed

    def monotonic_ns(self) -> int:
        return _real_monotonic_ns() + int(self.elapsed * 1e9)

    def _follow(self) -> None:
        while True:
            _sleep_real(POLL_S)
            wall, elapsed = read(self.path)
            if (wall, elapsed) == (0.0, 0.0):
                continue
            # time-machine's ticking drifts a little from the machine's clock: re-anchor too.
            if wall != self.wall or abs(time.time() - (_real_time() + wall)) > DRIFT_S:
                self._coordinates.move_to(_real_time() + wall)
                self.wall = wall
            self.elapsed = max(self.elapsed, elapsed)


def _sleep_real(seconds: float) -> None:
    threading.Event().wait(seconds)  # C-level monotonic timeout: never shifted


_follower: _Follower | None = None


def install(path: Path, elapsed: bool = True) -> None:
    """Put this process on the shared clock (once); from then on it follows the file. Without
    `elapsed`, only its wall clock: its monotonic clock stays the machine's."""
    global _follower
    if _follower is None:
        _follower = _Follower(path, elapsed)


def install_from_env(elapsed: bool = True) -> None:
    where = os.environ.get(ENV)
    if where:
        install(Path(where), elapsed)
