"""Scale latency and idle cost, each protocol's simulator over a pty at 9600 baud (paced).

Latency: from the simulated load becoming stable to the accepted weighing reaching the caller
through `ScaleMonitor`, over 200 weighings. Floor: the bytes of one reading's requests and
answers on the wire at 9600 baud. Goal: p99 within 2x the floor plus one polling interval.
Idle: CPU of the monitor thread polling an empty scale at the default interval; goal < 1 % of a
core.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import cast

from appliance import config
from appliance.core.weighing import Reading, ReadingStatus, ScaleSpec, WeighingGate
from appliance.devices.scales.base import Article
from appliance.devices.scales.factory import (
    PROTOCOLS,
    driver_class,
    open_driver,
    simulator_class,
)
from appliance.devices.scales.monitor import ScaleMonitor
from appliance.devices.scales.simulator.base import Pan, PtyServer, ScaleSimulator
from appliance.errors import ConfigError
from bench._table import percentile, print_table

BAUD = 9600
WEIGHINGS = 200
POLL_MS = 20  # fast polling keeps the run short; the goal scales with it
IDLE_POLL_MS = config.Scale.poll_interval_ms
IDLE_S = 5.0
UNIT_PRICE_CENTS = 450
POLYNOMIAL = "8005"  # the simulators' test polynomial (Dialog 06)
WAIT_S = 10.0


def main() -> None:
    rows = []
    for protocol in PROTOCOLS:
        try:
            driver_class(protocol)
            simulator_cls = simulator_class(protocol)
        except ConfigError:  # not written yet
            rows.append([protocol, "missing", "", "", "", "", "", ""])
            continue
        floor_ms, p50, p99, idle = measure(protocol, simulator_cls)
        goal_ms = 2 * floor_ms + POLL_MS
        rows.append(
            [
                protocol,
                f"{p50:.1f}",
                f"{p99:.1f}",
                f"{floor_ms:.1f}",
                f"{goal_ms:.1f}",
                f"{p99 / goal_ms:.2f}",
                f"{idle:.2f}",
                "ok" if p99 <= goal_ms and idle < 1 else "MISSED",
            ]
        )
    print(
        f"{WEIGHINGS} weighings per protocol at {BAUD} baud, polling every {POLL_MS} ms; "
        f"idle CPU polling an empty scale every {IDLE_POLL_MS} ms for {IDLE_S:.0f} s"
    )
    print_table(
        [
            "protocol",
            "p50 ms",
            "p99 ms",
            "floor ms",
            "goal ms",
            "p99/goal",
            "idle CPU %",
            "verdict",
        ],
        rows,
    )


def measure(
    protocol: str, simulator_cls: type[ScaleSimulator]
) -> tuple[float, float, float, float]:
    """(floor ms, p50 ms, p99 ms, idle CPU % of one core) of one protocol."""
    pan = Pan()
    simulator = simulator_cls(pan, interval_g=2, capacity_g=15000)
    with PtyServer(simulator, baud=BAUD, pace=True) as server:
        settings = config.Scale(
            protocol=cast(config.ScaleProtocol, protocol),  # one of PROTOCOLS
            port=server.path,
            baud=BAUD,
            interval_g=2,
            poll_interval_ms=POLL_MS,
            dialog06_polynomial=POLYNOMIAL,
        )
        floor_ms = wire_floor_ms(settings, simulator, pan)
        latencies = weigh(settings, pan)
        idle = idle_cpu_percent(dataclasses.replace(settings, poll_interval_ms=IDLE_POLL_MS), pan)
    return floor_ms, percentile(latencies, 50), percentile(latencies, 99), idle


def wire_floor_ms(settings: config.Scale, simulator: ScaleSimulator, pan: Pan) -> float:
    """Time on the wire of the bytes one stable reading exchanges, counted at the simulator."""
    pan.load_g = 1000
    scale = open_driver(settings)
    try:
        scale.set_article(Article(UNIT_PRICE_CENTS))
        scale.read()  # a first reading may carry a checksum handshake: not the steady state
        counted = [0]
        feed = simulator.feed

        def counting_feed(data: bytes) -> bytes:
            answer = feed(data)
            counted[0] += len(data) + len(answer)
            return answer

        simulator.feed = counting_feed  # type: ignore[method-assign]
        try:
            scale.read()
        finally:
            del simulator.feed
    finally:
        scale.close()
    pan.load_g = 0
    return counted[0] * simulator.bits_per_char / BAUD * 1000


def weigh(settings: config.Scale, pan: Pan) -> list[float]:
    """Milliseconds from the load turning stable to its accepted weighing, per weighing."""
    arrived: queue.Queue[tuple[float, Reading]] = queue.Queue()
    gate = WeighingGate(ScaleSpec(settings.interval_g, settings.capacity_g, settings.min_load))
    latencies = []
    monitor = ScaleMonitor(settings, lambda r: arrived.put((time.perf_counter(), r)))
    with monitor:
        monitor.set_article(Article(UNIT_PRICE_CENTS)).result(WAIT_S)
        for n in range(WEIGHINGS):
            load_g = 500 + 50 * (n % 40)
            pan.load_g, pan.motion = 0, False
            wait_for(arrived, is_empty)
            gate.observe(Reading(ReadingStatus.STABLE, 0))  # back at zero: a new item
            pan.motion, pan.load_g = True, load_g
            wait_for(arrived, lambda r: r.status is ReadingStatus.MOTION)
            stable_at = time.perf_counter()
            pan.motion = False
            at = wait_for(arrived, partial(accepted, gate, load_g=load_g))
            latencies.append((at - stable_at) * 1000)
    return latencies


def is_empty(reading: Reading) -> bool:
    """The pan reads empty: zero, or no weight at all from a scale that judges (Dialog 06 30)."""
    return reading.status is ReadingStatus.BELOW_MIN or (
        reading.status is ReadingStatus.STABLE and reading.weight_g == 0
    )


def accepted(gate: WeighingGate, reading: Reading, load_g: int) -> bool:
    judged = gate.observe(reading)
    if judged.status is not ReadingStatus.STABLE or judged.weight_g != load_g:
        return False
    gate.accept(reading, UNIT_PRICE_CENTS)
    return True


def wait_for(
    arrived: queue.Queue[tuple[float, Reading]], wanted: Callable[[Reading], bool]
) -> float:
    """Arrival time of the first reading that is `wanted`."""
    deadline = time.monotonic() + WAIT_S
    while True:
        at, reading = arrived.get(timeout=max(0.01, deadline - time.monotonic()))
        if wanted(reading):
            return at


def idle_cpu_percent(settings: config.Scale, pan: Pan) -> float:
    """CPU time of the monitor thread alone over IDLE_S seconds, in % of one core."""
    pan.load_g, pan.motion = 0, False
    started = threading.Event()
    with ScaleMonitor(settings, lambda r: started.set()) as monitor:
        started.wait(WAIT_S)
        clock = time.pthread_getcpuclockid(monitor.thread.ident or 0)
        cpu0, wall0 = time.clock_gettime(clock), time.monotonic()
        time.sleep(IDLE_S)
        cpu1, wall1 = time.clock_gettime(clock), time.monotonic()
    return (cpu1 - cpu0) / (wall1 - wall0) * 100
