"""The scale monitor thread: readings to a callback, a port that is missing, vanishes and returns.

The configured port is a symlink the test controls, so a new simulator (a new pty) can come back
at the same path, as a USB scale does when plugged in again (udev's /dev/serial/by-id links).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance import config
from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.scales.monitor import ScaleMonitor
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.devices.scales.simulator.toledo8217 import Toledo8217Simulator
from appliance.errors import ScaleUnavailable

WAIT_S = 10


class Readings:
    """What the monitor delivered, in order, awaited with a timeout."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Reading] = queue.Queue()
        self.threads: set[str] = set()

    def __call__(self, reading: Reading) -> None:
        self.threads.add(threading.current_thread().name)
        self.queue.put(reading)

    def wait_for(self, wanted: Callable[[Reading], bool]) -> tuple[Reading, list[Reading]]:
        """The first reading that is `wanted`, and those before it."""
        deadline = time.monotonic() + WAIT_S
        before: list[Reading] = []
        while True:
            reading = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            if wanted(reading):
                return reading, before
            before.append(reading)


def weighs(grams: int) -> Callable[[Reading], bool]:
    return lambda r: r.status is ReadingStatus.STABLE and r.weight_g == grams


def is_error(reading: Reading) -> bool:
    return reading.status is ReadingStatus.ERROR


class Plug:
    """A scale that can be plugged in and out at one path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server: PtyServer | None = None

    def plug_in(self, pan: Pan) -> None:
        self.server = PtyServer(Toledo8217Simulator(pan)).start()
        fresh = self.path.with_suffix(".new")
        fresh.symlink_to(self.server.path)
        os.replace(fresh, self.path)

    def pull_out(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.path.unlink()
        self.server = None


@pytest.fixture
def plug(tmp_path: Path) -> Iterator[Plug]:
    socket = Plug(tmp_path / "ttyScale")
    yield socket
    if socket.server:
        socket.server.stop()


@pytest.fixture
def readings() -> Readings:
    return Readings()


@pytest.fixture
def monitor(plug: Plug, readings: Readings) -> Iterator[ScaleMonitor]:
    settings = config.Scale(
        protocol="toledo8217", port=str(plug.path), poll_interval_ms=50, timeout_ms=300
    )
    running = ScaleMonitor(settings, readings, reopen_interval_s=0.1)
    yield running
    running.stop()
    assert not running.thread.is_alive()


def test_readings_reach_the_callback_from_the_monitor_thread(plug, readings, monitor):
    pan = Pan(load_g=500)
    plug.plug_in(pan)
    monitor.start()
    readings.wait_for(weighs(500))
    pan.motion = True
    reading, _ = readings.wait_for(lambda r: r.status is not ReadingStatus.STABLE)
    assert reading.status is ReadingStatus.MOTION and reading.weight_g is None
    assert readings.threads == {"scale-monitor"}


def test_missing_port_is_an_error_reading_until_the_scale_is_plugged_in(plug, readings, monitor):
    monitor.start()
    reading, _ = readings.wait_for(is_error)
    assert str(plug.path) in reading.detail
    assert reading.weight_g is None
    assert not monitor.connected
    plug.plug_in(Pan(load_g=750))
    readings.wait_for(weighs(750))
    assert monitor.connected


def test_port_vanishing_mid_read_gives_an_error_never_the_weight_then_recovers(
    plug, readings, monitor
):
    plug.plug_in(Pan(load_g=1234))
    monitor.start()
    readings.wait_for(weighs(1234))
    plug.pull_out()
    error, _ = readings.wait_for(lambda r: r.status is not ReadingStatus.STABLE)
    assert error.status is ReadingStatus.ERROR
    assert error.weight_g is None
    assert "scale port" in error.detail
    plug.plug_in(Pan(load_g=2000))
    _, meanwhile = readings.wait_for(weighs(2000))
    assert all(r.weight_g is None for r in meanwhile)


def test_silent_scale_reports_timeouts_and_no_weight(plug, readings, monitor):
    pan = Pan(load_g=1234)
    plug.plug_in(pan)
    monitor.start()
    readings.wait_for(weighs(1234))
    pan.fault = Fault.SILENCE
    reading, _ = readings.wait_for(lambda r: r.status is ReadingStatus.TIMEOUT)
    assert reading.weight_g is None
    pan.fault = Fault.NONE
    readings.wait_for(weighs(1234))


def test_tare_and_zero_sent_from_another_thread_are_carried_out(plug, readings, monitor):
    pan = Pan(load_g=300)
    plug.plug_in(pan)
    monitor.start()
    readings.wait_for(weighs(300))
    results: queue.Queue[object] = queue.Queue()
    sender = threading.Thread(target=lambda: results.put(monitor.tare().result(WAIT_S)))
    sender.start()
    sender.join(WAIT_S)
    assert results.get_nowait() is None
    net, _ = readings.wait_for(lambda r: r.net)
    assert (net.weight_g, net.tare_g) == (0, 300)
    monitor.clear_tare().result(WAIT_S)
    pan.load_g = 10
    readings.wait_for(weighs(10))
    monitor.zero().result(WAIT_S)
    readings.wait_for(weighs(0))


def test_command_without_a_scale_fails_with_a_plain_reason(plug, readings, monitor):
    monitor.start()
    readings.wait_for(is_error)
    with pytest.raises(ScaleUnavailable, match="not connected"):
        monitor.zero().result(WAIT_S)


def test_command_the_protocol_refuses_is_handed_back(plug, readings, monitor):
    pan = Pan(load_g=300)
    plug.plug_in(pan)
    monitor.start()
    readings.wait_for(weighs(300))
    with pytest.raises(ValueError, match="preset tare"):
        monitor.tare(100_000).result(WAIT_S)
    readings.wait_for(weighs(300))  # still polling
