"""Every process the soak starts, and the promise that none outlives it.

Each child is started with `PR_SET_PDEATHSIG = SIGKILL` (it dies if the harness dies, even by
SIGKILL) in its own process group (so a kiosk's helpers go with it), and is registered here;
`Reaper.close()` runs from `finally`, from `atexit` and on SIGTERM/SIGINT/SIGHUP.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # resolved before any fork


def _die_with_parent() -> None:
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Reaper:
    """Starts children and stops every one of them at the end, whatever happened."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self.closed = False

    def spawn(
        self,
        argv: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv`, its output appended to `log`. Only from the main thread: the death
        signal follows the thread that started the child."""
        assert threading.current_thread() is threading.main_thread(), "spawn from main thread"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as stream, self._lock:
            if self.closed:
                raise RuntimeError("the soak is stopping: no new process")
            child = subprocess.Popen(
                list(argv),
                stdout=stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                preexec_fn=_die_with_parent,
                process_group=0,
            )
            self._children.append(child)
        return child

    def kill(self, child: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)

    def stop(self, child: subprocess.Popen[bytes], timeout_s: float = 15) -> int:
        """SIGTERM (a clean stop), SIGKILL after `timeout_s`; returns the exit status."""
        if child.poll() is None:
            self.kill(child, signal.SIGTERM)
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill(child)
                child.wait(10)
        self.kill(child)  # whatever the leader left behind in its group
        return child.returncode

    def close(self) -> None:
        with self._lock:
            self.closed = True
            children = list(self._children)
        for child in reversed(children):
            with contextlib.suppress(Exception):
                self.stop(child, timeout_s=5)

    def install_signal_handlers(self) -> None:
        """SIGTERM / SIGHUP end the soak like Ctrl+C does: through `finally`."""

        def interrupted(signum: int, _frame: object) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, interrupted)
