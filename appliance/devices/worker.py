"""The thread every device worker shares: one thread alone talks to its device.

Jobs are done in the order they were submitted, each answering through a `Future`; between jobs
the worker does its chore every `interval_s`, however many jobs come (read the printer's paper,
check a lost terminal, ...). `setup` runs first in the thread, so even opening a port happens
there: whoever submits (Kivy's main thread above all) never waits on a device. Callbacks a worker
calls run in its thread and must be quick and thread-safe (the kiosk hands them to Kivy's Clock).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP = object()


class Worker:
    """A daemon thread with a job queue and a periodic chore; subclasses override the hooks."""

    def __init__(self, name: str, *, interval_s: float = 1.0) -> None:
        self.name = name
        self.interval_s = interval_s
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._running = 0
        self._count_guard = threading.Lock()

    # -- from any thread --------------------------------------------------------------------------

    def start(self) -> Worker:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the job under way, drop the chore, and end the thread."""
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join(timeout_s)

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` in the worker's thread after those already queued."""
        done: Future[T] = Future()
        with self._count_guard:
            self._running += 1
        self._jobs.put((job, done))
        return done

    @property
    def busy(self) -> bool:
        """A job is queued or under way."""
        return self._running > 0

    # -- hooks, in the worker's thread ----------------------------------------------------------

    def setup(self) -> None:
        """First thing in the thread: open the device."""

    def chore(self) -> None:
        """Between jobs, every `interval_s` (and once after `setup`)."""

    def teardown(self) -> None:
        """Last thing in the thread: release the device."""

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._safely(self.setup)
            while True:
                self._safely(self.chore)
                due = time.monotonic() + self.interval_s
                while (wait := due - time.monotonic()) > 0:
                    try:
                        item = self._jobs.get(timeout=wait)
                    except queue.Empty:
                        break
                    if item is _STOP:
                        return
                    self._do(*item)
        finally:
            self._safely(self.teardown)

    def _do(self, job: Callable[[], Any], done: Future[Any]) -> None:
        try:
            if done.set_running_or_notify_cancel():
                try:
                    result = job()
                except BaseException as exc:  # handed to whoever waits on the future
                    done.set_exception(exc)
                else:
                    done.set_result(result)
        finally:
            with self._count_guard:
                self._running -= 1

    def _safely(self, hook: Callable[[], None]) -> None:
        try:
            hook()
        except Exception:  # a device error must not end the thread: the next chore tries again
            log.exception("%s: %s failed", self.name, hook.__name__)


def log_failure(what: str) -> Callable[[Future[Any]], None]:
    """A done-callback that logs a job nobody waits for, when it failed."""

    def check(future: Future[Any]) -> None:
        exc = future.exception()
        if exc is not None:
            log.error("%s failed: %s", what, exc, exc_info=exc)

    return check
