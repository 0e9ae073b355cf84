"""The fleet link at scale: 1,000 simulated boxes and one real agent on one local mosquitto.

The simulated boxes are a small asyncio MQTT 3.1.1 client speaking the agent's topics (birth
with a will, cmd subscription, result replies), so a thousand of them fit in one process. The
real agent (`python -m appliance agent`) gives the per-box figures: outbox forwarding rate,
memory and idle CPU.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance.agent.link import no_delay
from appliance.store import outbox
from appliance.store.db import open_database, transaction
from bench._table import percentile, print_table
from tests.agent_support import Mosquitto, wait_until, write_config

BOXES = 1000
COMMANDS = 1000
EVENTS = 5000
IDLE_WINDOW_S = 10.0


# -- a minimal MQTT 3.1.1 box ---------------------------------------------------------------------


def _packet(kind: int, body: bytes) -> bytes:
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([kind]) + bytes(encoded) + body


def _text(value: str) -> bytes:
    raw = value.encode()
    return struct.pack("!H", len(raw)) + raw


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    kind = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return kind, await reader.readexactly(length)


async def simulated_box(port: int, device: str, connected: list[float]) -> None:
    """Connect with a will, subscribe to cmd/+, say online, answer every command with ok."""
    try:
        await _serve_box(port, device, connected)
    except (asyncio.IncompleteReadError, ConnectionError):
        return  # the broker stopped at the end of the benchmark


async def _serve_box(port: int, device: str, connected: list[float]) -> None:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    base = f"comptoir/v1/{device}"
    will = json.dumps({"state": "offline", "session": 1})
    flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will QoS 1 retained
    writer.write(
        _packet(
            0x10,
            _text("MQTT")
            + bytes([4, flags])
            + struct.pack("!H", 60)
            + _text(device)
            + _text(f"{base}/status")
            + _text(will),
        )
    )
    writer.write(_packet(0x82, struct.pack("!H", 1) + _text(f"{base}/cmd/+") + b"\x01"))
    await _read(reader)  # CONNACK
    await _read(reader)  # SUBACK
    connected.append(time.perf_counter() - started)
    online = json.dumps({"state": "online", "session": 1}).encode()
    writer.write(_packet(0x31, _text(f"{base}/status") + online))
    next_id = 2
    while True:
        kind, body = await _read(reader)
        if kind >> 4 != 3:
            continue
        (topic_length,) = struct.unpack("!H", body[:2])
        at = 2 + topic_length
        if kind & 0x06:
            writer.write(_packet(0x40, body[at : at + 2]))
            at += 2
        command = json.loads(body[at:])
        answer = json.dumps({"id": command["id"], "ok": True, "result": {"pong": True}}).encode()
        writer.write(
            _packet(
                0x32,
                _text(f"{base}/result/{command['id']}") + struct.pack("!H", next_id) + answer,
            )
        )
        next_id = next_id % 65535 + 1


def run_boxes(port: int, connected: list[float], ready: threading.Event) -> None:
    async def main() -> None:
        tasks = [
            asyncio.create_task(simulated_box(port, f"sim-{n:04d}", connected))
            for n in range(BOXES)
        ]
        while len(connected) < BOXES:
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())


# -- the admin's side -----------------------------------------------------------------------------


class Admin:
    def __init__(self, port: int) -> None:
        self.answers: dict[str, float] = {}
        self.arrived = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "bench-admin")
        self.client.on_message = self._on_message
        self.client.on_socket_open = no_delay
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("comptoir/v1/+/result/+", 1)
        self.client.loop_start()
        subscribed.wait(10)

    def _on_message(self, c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.answers[message.topic.rsplit("/", 1)[1]] = time.perf_counter()
            self.arrived.notify_all()

    def round_trip(self, device: str, name: str = "ping") -> float:
        command_id = uuid.uuid4().hex
        body = json.dumps({"id": command_id, "args": {}})
        sent = time.perf_counter()
        self.client.publish(f"comptoir/v1/{device}/cmd/{name}", body, qos=1)
        with self.arrived:
            if not self.arrived.wait_for(lambda: command_id in self.answers, 10):
                raise RuntimeError(f"{device} did not answer {name}")
        return self.answers.pop(command_id) - sent


# -- one real agent -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_agent(broker: Mosquitto, folder: Path, admin: Admin) -> dict[str, float]:
    data_dir = folder / "box"
    config = write_config(folder / "comptoir.toml", data_dir, "bench-box", broker)
    db = open_database(data_dir / "comptoir.db")
    agent = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config), "agent"],
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        wait_until(lambda: admin_ping(admin), 30, "the agent to answer")
        trips = [admin.round_trip("bench-box") for _ in range(200)]
        with transaction(db):
            last = [outbox.emit(db, "sale", {"n": n}) for n in range(EVENTS)][-1]
        started = time.perf_counter()
        wait_until(lambda: outbox.cursor_of(db, "mqtt") >= last.id, 120, "events forwarded")
        rate = EVENTS / (time.perf_counter() - started)
        time.sleep(2)  # let the burst settle before measuring idle
        cpu_before = cpu_seconds(agent.pid)
        time.sleep(IDLE_WINDOW_S)
        idle = 100 * (cpu_seconds(agent.pid) - cpu_before) / IDLE_WINDOW_S
        return {
            "rtt_p50": percentile(trips, 50) * 1000,
            "rtt_p99": percentile(trips, 99) * 1000,
            "events_s": rate,
            "rss": rss_mb(agent.pid),
            "idle_cpu": idle,
        }
    finally:
        agent.terminate()
        agent.wait(15)


def admin_ping(admin: Admin) -> bool:
    try:
        admin.round_trip("bench-box")
    except RuntimeError:
        return False
    return True


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = Mosquitto(
            folder / "broker",
            extra="max_connections -1\nmax_inflight_messages 100\nset_tcp_nodelay true\n",
        )
        broker.start()
        try:
            connected: list[float] = []
            ready = threading.Event()
            started = time.perf_counter()
            threading.Thread(
                target=run_boxes, args=(broker.port, connected, ready), daemon=True
            ).start()
            if not ready.wait(120):
                raise RuntimeError(f"only {len(connected)} of {BOXES} boxes connected")
            connect_all = time.perf_counter() - started
            admin = Admin(broker.port)
            trips = [admin.round_trip(f"sim-{n % BOXES:04d}") for n in range(COMMANDS)]
            agent = measure_agent(broker, folder, admin)
        finally:
            broker.stop()
    rows = [
        ("boxes connected (CONNACK + SUBACK)", BOXES, "", ""),
        ("time to connect all boxes (s)", f"{connect_all:.2f}", "", ""),
        ("connect time per box p50 (ms)", f"{percentile(connected, 50) * 1000:.1f}", "", ""),
        ("connect time per box p99 (ms)", f"{percentile(connected, 99) * 1000:.1f}", "", ""),
        ("command round trip p50, 1000 boxes (ms)", f"{percentile(trips, 50) * 1000:.2f}", "", ""),
        _goal("command round trip p99, 1000 boxes (ms)", percentile(trips, 99) * 1000, 100),
        ("command round trip p50, real agent (ms)", f"{agent['rtt_p50']:.2f}", "", ""),
        _goal("command round trip p99, real agent (ms)", agent["rtt_p99"], 100),
        ("events forwarded per second (1 agent)", f"{agent['events_s']:.0f}", "", ""),
        _goal("agent memory RSS (MB)", agent["rss"], 40),
        _goal("agent idle CPU (% of a core)", agent["idle_cpu"], 0.5),
    ]
    print_table(("figure", "value", "goal (max)", "ratio"), rows)


def _goal(name: str, value: float, goal: float) -> tuple[str, str, str, str]:
    return name, f"{value:.2f}", f"{goal:g}", f"{value / goal:.2f}"


if __name__ == "__main__":
    main()
