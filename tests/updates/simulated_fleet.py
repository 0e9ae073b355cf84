"""Simulated boxes for rollout tests: the real update job logic (`run_job`) with a fast fake
install, each box its own MQTT client speaking the same topics as the agent.

A box in `failing` gets through download, verify and install, then is rolled back by its
(simulated) health gate; the others succeed. Every `update` command received is recorded.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from appliance.agent import topics
from appliance.agent.remote_command import parse
from appliance.agent.update_job import Order, parse_order, run_job
from appliance.release.bundle import Manifest


class FastBox:
    """The Box protocol without a real install: the job's logic, timings of a few tenths."""

    def __init__(self, sim: SimulatedBox) -> None:
        self.sim = sim

    def running(self) -> str:
        return self.sim.version

    def download(self, order: Order, progress) -> Path:
        for percent in (50, 100):
            time.sleep(0.05)
            progress(percent)
        return Path("/nonexistent")

    def verify(self, path: Path) -> Manifest:
        return Manifest(self.sim.offered, "comptoir", "3.11", {}, {}, "")

    def install(self, path: Path, manifest: Manifest) -> None:
        time.sleep(0.05)

    def discard(self, path: Path) -> None:
        pass

    def busy(self, order: Order) -> str:
        return ""

    def hand_over(self, order: Order) -> None:
        report = self.sim.reporter(order)
        report("switching")
        report("health_check")
        if self.sim.failing:
            time.sleep(0.2)
            report("rolled_back", reason="the kiosk wrote no fresh heartbeat since the switch")
        else:
            time.sleep(1.5)
            self.sim.version = order.version
            self.sim.announce()
            report("succeeded")


class SimulatedBox:
    def __init__(
        self, device: str, port: int, *, failing: bool, offered: str, online: bool = True
    ) -> None:
        self.device = device
        self.failing = failing
        self.online = online
        self.offered = offered
        self.version = "0.1.0"
        self.commands: list[str] = []
        self._seq = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, f"sim-{device}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if self.online:
            client.subscribe(topics.command(self.device, "update"), 1)
        self.announce()

    def announce(self) -> None:
        """The retained status with the version running, as the agent says at each start (an
        offline box: what the broker left of it, its last will)."""
        state = "online" if self.online else "offline"
        status = {"state": state, "session": 1, "version": self.version}
        self.client.publish(topics.status(self.device), json.dumps(status), qos=1, retain=True)

    def _on_message(self, client, userdata, message) -> None:
        from datetime import UTC, datetime

        command = parse("update", message.payload, retained=message.retain, now=datetime.now(UTC))
        self.commands.append(command.id)
        order = parse_order(command, 120)
        answer = {
            "id": command.id,
            "ok": True,
            "result": {"job": order.job, "state": "queued", "version": order.version},
        }
        client.publish(topics.result(self.device, command.id), json.dumps(answer), qos=1)
        threading.Thread(target=self._job, args=(order,), daemon=True).start()

    def _job(self, order: Order) -> None:
        report = self.reporter(order)
        report("queued")
        run_job(FastBox(self), order, report, wait=lambda s: False)

    def reporter(self, order: Order):
        def report(state: str, percent: int | None = None, reason: str = "") -> None:
            body = {
                "job": order.job,
                "version": order.version,
                "from": "0.1.0",
                "state": state,
                "percent": percent,
                "reason": reason,
            }
            with self._lock:
                self._seq += 1
                event = {
                    "event_id": str(uuid.uuid4()),
                    "seq": self._seq,
                    "type": "update_state",
                    "device": self.device,
                    "data": body,
                }
                self.client.publish(
                    topics.event(self.device, "update_state"), json.dumps(event), qos=1
                )
                self.client.publish(
                    topics.update(self.device), json.dumps(body), qos=1, retain=True
                )

        return report

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def fleet(
    port: int, count: int, failing: set[str], offered: str, offline: frozenset[str] = frozenset()
) -> list[SimulatedBox]:
    return [
        SimulatedBox(
            name, port, failing=name in failing, offered=offered, online=name not in offline
        )
        for name in (f"box-{n:02d}" for n in range(1, count + 1))
    ]


def wait_online(boxes: list[SimulatedBox]) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(b.client.is_connected() for b in boxes):
            time.sleep(0.5)  # their retained status reached the broker
            return
        time.sleep(0.05)
    raise AssertionError("simulated boxes did not connect")
