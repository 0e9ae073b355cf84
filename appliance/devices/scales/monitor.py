"""The scale's own thread: polls the configured scale and hands every reading to a callback.

The kiosk and the demo never touch the port: they receive `Reading`s and send commands (zero,
tare, article) that the polling thread carries out between two reads, so one thread alone talks
to the scale. A missing or vanished port is a reading too (ERROR, with why, never a weight) and
the port is reopened by itself when it comes back.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from appliance import config
from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.scales.base import Article, Scale
from appliance.devices.scales.factory import open_scale
from appliance.devices.scales.serial_port import PORT_ERRORS, port_lost
from appliance.errors import ScaleUnavailable

log = logging.getLogger(__name__)

#: How often a missing port is tried again.
REOPEN_INTERVAL_S = 1.0


@dataclass
class _Command:
    """A call to make on the scale from the polling thread; its outcome goes to `done`."""

    action: Callable[[Scale], None]
    done: Future[None] = field(default_factory=Future)


_STOP = object()


class ScaleMonitor:
    """Polls the scale of [scale] every `poll_interval_ms` and calls `on_reading` in its thread.

    `on_reading` must be quick and thread-safe (the kiosk hands it to Kivy's Clock).
    """

    def __init__(
        self,
        settings: config.Scale,
        on_reading: Callable[[Reading], None],
        *,
        reopen_interval_s: float = REOPEN_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.on_reading = on_reading
        self.reopen_interval_s = reopen_interval_s
        self._inbox: queue.Queue[_Command | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="scale-monitor", daemon=True)
        self._scale: Scale | None = None

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def connected(self) -> bool:
        return self._scale is not None

    def start(self) -> ScaleMonitor:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._inbox.put(_STOP)
        self._thread.join(timeout_s)

    def __enter__(self) -> ScaleMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- commands, from any thread: each returns a Future of the scale's answer -------------------

    def zero(self) -> Future[None]:
        return self._send(lambda scale: scale.zero())

    def tare(self, preset_g: int | None = None) -> Future[None]:
        return self._send(lambda scale: scale.tare(preset_g))

    def clear_tare(self) -> Future[None]:
        return self._send(lambda scale: scale.clear_tare())

    def set_article(self, article: Article) -> Future[None]:
        return self._send(lambda scale: scale.set_article(article))

    def _send(self, action: Callable[[Scale], None]) -> Future[None]:
        command = _Command(action)
        self._inbox.put(command)
        return command.done

    # -- the polling thread -----------------------------------------------------------------------

    def _run(self) -> None:
        poll_s = self.settings.poll_interval_ms / 1000
        try:
            while True:
                started = time.monotonic()
                if self._scale is None and not self._open():
                    due = started + self.reopen_interval_s
                else:
                    self._deliver(self._read())
                    due = started + poll_s  # a fixed rate: the read's own time is not added
                if not self._wait_until(due):
                    return
        finally:
            self._close()

    def _open(self) -> bool:
        try:
            self._scale = open_scale(self.settings)
        except ScaleUnavailable as exc:
            self._deliver(Reading(ReadingStatus.ERROR, detail=str(exc)))
            return False
        if self._scale is None:
            self._deliver(Reading(ReadingStatus.ERROR, detail="[scale] protocol is none"))
            return False
        log.info("scale %s opened on %s", self.settings.protocol, self.settings.port)
        return True

    def _read(self) -> Reading:
        assert self._scale is not None
        try:
            return self._scale.read()
        except (ScaleUnavailable, *PORT_ERRORS) as exc:
            self._close()
            if not isinstance(exc, ScaleUnavailable):
                exc = port_lost(self.settings.port, exc)
            detail = str(exc)
            log.warning("%s", detail)
            return Reading(ReadingStatus.ERROR, detail=detail)
        except Exception as exc:  # a driver bug: report it, start afresh, keep weighing possible
            log.exception("scale driver %s failed", self.settings.protocol)
            self._close()
            return Reading(ReadingStatus.ERROR, detail=f"the scale driver failed: {exc}")

    def _wait_until(self, due: float) -> bool:
        """Carry out commands until `due`; False when asked to stop."""
        while True:
            try:
                item = self._inbox.get(timeout=max(0.0, due - time.monotonic()))
            except queue.Empty:
                return True
            if item is _STOP:
                return False
            assert isinstance(item, _Command)
            self._carry_out(item)

    def _carry_out(self, command: _Command) -> None:
        if not command.done.set_running_or_notify_cancel():
            return
        if self._scale is None:
            command.done.set_exception(
                ScaleUnavailable(f"the scale on {self.settings.port} is not connected")
            )
            return
        try:
            command.action(self._scale)
            command.done.set_result(None)
        except PORT_ERRORS as exc:
            self._close()
            command.done.set_exception(port_lost(self.settings.port, exc))
        except Exception as exc:  # handed to the caller, who knows what the command meant
            command.done.set_exception(exc)

    def _deliver(self, reading: Reading) -> None:
        try:
            self.on_reading(reading)
        except Exception:  # a bug in the receiver must not stop the weighing
            log.exception("scale reading callback failed")

    def _close(self) -> None:
        if self._scale is not None:
            scale, self._scale = self._scale, None
            with contextlib.suppress(*PORT_ERRORS):
                scale.close()
