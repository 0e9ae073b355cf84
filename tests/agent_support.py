"""A real mosquitto on a free port (optionally TLS + passwords + the fleet ACL), for agent tests.

Never port 1883: the machine runs its own broker there. The throwaway CA and server certificate
are made with the `openssl` command line.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from appliance import config as config_module
from appliance.agent.identity import Identity
from appliance.agent.service import Agent

ROOT = Path(__file__).resolve().parents[1]
ACL_TEMPLATE = ROOT / "provisioning" / "mosquitto" / "comptoir.acl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout_s: float = 20, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")


def make_tls(
    folder: Path, names: str = "DNS:localhost,IP:127.0.0.1", *, strict: bool = True
) -> dict[str, Path]:
    """A throwaway CA and a server certificate for `names` (subjectAltName: localhost), with the
    key usages that strict X.509 checking needs (Python 3.13's default, the boxes' on Trixie);
    `strict=False`: a CA without them, as `openssl req -x509` makes by default."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "server.ext"
    ext.write_text(
        f"subjectAltName={names}\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n"
    )
    usage = ["-addext", "keyUsage=critical,keyCertSign,cRLSign"] if strict else []

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_crt),
        "-days",
        "2",
        "-subj",
        "/CN=Comptoir test CA",
        *usage,
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=localhost",
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_crt),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(crt),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return {"ca": ca_crt, "cert": crt, "key": key}


def make_client_cert(tls: dict[str, Path], name: str) -> tuple[Path, Path]:
    """A client certificate with CN = `name` (a device id, or the admin), signed by the test CA."""
    folder = tls["ca"].parent
    key, csr, crt = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    for args in (
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            f"/CN={name}",
        ],
        [
            *("x509", "-req", "-in", csr, "-CA", tls["ca"], "-CAkey", folder / "ca.key"),
            *("-CAcreateserial", "-out", crt, "-days", "2"),
        ],
    ):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
    return crt, key


@dataclass
class Mosquitto:
    """One broker process; `stop()` then `start()` brings it back on the same port."""

    folder: Path
    port: int = field(default_factory=free_port)
    tls: dict[str, Path] | None = None
    identities: tuple[Identity, ...] = ()
    extra: str = ""
    persistent: bool = False
    # Boxes and admins present a certificate whose CN is their username (mTLS, no passwords).
    client_certificates: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts://localhost' if self.tls else 'mqtt://127.0.0.1'}:{self.port}"

    def write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1"]
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to a user who cannot read tmp_path
        if self.persistent:
            lines += ["persistence true", f"persistence_location {self.folder}/"]
        else:
            lines.append("persistence false")
        if self.identities:
            passwd = self.folder / "passwd"
            passwd.write_text("".join(i.password_line() + "\n" for i in self.identities))
            acl = self.folder / "acl"
            shutil.copy(ACL_TEMPLATE, acl)
            lines += ["allow_anonymous false", f"password_file {passwd}", f"acl_file {acl}"]
        elif self.client_certificates:
            acl = self.folder / "acl"
            shutil.copy(ACL_TEMPLATE, acl)
            lines += ["allow_anonymous false", f"acl_file {acl}"]
            lines += ["require_certificate true", "use_identity_as_username true"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            lines += [
                f"cafile {self.tls['ca']}",
                f"certfile {self.tls['cert']}",
                f"keyfile {self.tls['key']}",
            ]
        path = self.folder / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n" + self.extra)
        return path

    def start(self) -> None:
        config = self.write_config()
        log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        wait_until(self._listening, 10, f"mosquitto on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = (self.folder / "mosquitto.log").read_text()
            raise AssertionError(f"mosquitto exited: {log[-2000:]}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


class Watcher:
    """A plain MQTT client that records what it receives (an admin, or a nosy device)."""

    def __init__(
        self,
        broker: Mosquitto,
        identity: Identity | None = None,
        subscribe: tuple[str, ...] = ("comptoir/v1/#",),
        client_id: str = "",
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.messages: queue.Queue[tuple[str, Any, bool]] = queue.Queue()
        self.seen: list[tuple[str, Any, bool]] = []
        self.connack: list[Any] = []
        # A fixed client id keeps a persistent session: QoS 1 messages wait while it is away.
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id or f"watch-{uuid.uuid4().hex}",
            clean_session=not client_id,
        )
        self.client.reconnect_delay_set(1, 2)
        if identity:
            self.client.username_pw_set(identity.username, identity.password)
        if broker.tls:
            cert, key = (str(path) for path in certificate) if certificate else (None, None)
            self.client.tls_set(ca_certs=str(broker.tls["ca"]), certfile=cert, keyfile=key)
        subscribed = threading.Event()

        def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
            self.connack.append(reason)
            if not reason.is_failure and subscribe:
                c.subscribe([(t, 1) for t in subscribe])
            elif not reason.is_failure:
                subscribed.set()

        def on_message(c: mqtt.Client, u: Any, m: mqtt.MQTTMessage) -> None:
            try:
                payload = json.loads(m.payload) if m.payload else None
            except ValueError:
                payload = m.payload
            self.messages.put((m.topic, payload, bool(m.retain)))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("localhost" if broker.tls else "127.0.0.1", broker.port)
        self.client.loop_start()
        self.subscribed = subscribed

    def ready(self, timeout_s: float = 10) -> Watcher:
        assert self.subscribed.wait(timeout_s), f"not connected: {self.connack}"
        return self

    def wait_for(
        self, predicate: Callable[[str, Any, bool], bool], timeout_s: float = 20
    ) -> tuple[str, Any, bool]:
        for item in self.seen:
            if predicate(*item):
                self.seen.remove(item)
                return item
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if predicate(*item):
                return item
            self.seen.append(item)
        raise AssertionError(f"no matching message within {timeout_s} s; saw {self.seen[-10:]}")

    def drain(self) -> list[tuple[str, Any, bool]]:
        while True:
            try:
                self.seen.append(self.messages.get_nowait())
            except queue.Empty:
                return self.seen

    def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        info = self.client.publish(topic, json.dumps(payload), qos=1, retain=retain)
        info.wait_for_publish(10)

    def command(
        self, device: str, name: str, args: dict[str, Any] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Send a command and wait for its result (the watcher must read result topics)."""
        command_id = extra.pop("id", uuid.uuid4().hex)
        body = {"id": command_id, "args": args or {}, **extra}
        self.publish(f"comptoir/v1/{device}/cmd/{name}", body)
        return self.result(device, command_id)

    def result(self, device: str, command_id: str, timeout_s: float = 30) -> dict[str, Any]:
        topic = f"comptoir/v1/{device}/result/{command_id}"
        return self.wait_for(lambda t, p, r: t == topic, timeout_s)[1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def write_config(
    path: Path,
    data_dir: Path,
    device_id: str,
    broker: Mosquitto,
    sections: dict[str, dict[str, Any]] | None = None,
    **mqtt_keys: Any,
) -> Path:
    """A box's comptoir.toml pointing at `broker`; extra [mqtt] keys as TOML values, and other
    `sections` ({"marketplace": {"url": ...}})."""
    mqtt_keys = {"url": broker.url, "telemetry_period_s": 5, "logs_source": "file", **mqtt_keys}
    if broker.tls:
        mqtt_keys.setdefault("ca_file", str(broker.tls["ca"]))
    tables = {"device": {"id": device_id, "data_dir": str(data_dir)}, "mqtt": mqtt_keys}
    lines = []
    for name, keys in {**tables, **(sections or {})}.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class RunningAgent:
    """The agent in a thread of the test process (faster than a process; same code)."""

    def __init__(self, config_path: Path) -> None:
        self.agent = Agent(config_module.load(config_path))
        self.thread = threading.Thread(target=self.agent.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.agent.stop()
        self.thread.join(15)
        assert not self.thread.is_alive()


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`comptoir agent` as the box runs it: a real process."""
    with log.open("ab") as stream:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "appliance",
                "--config",
                str(config),
                "--log-level",
                "INFO",
                "agent",
            ],
            cwd=ROOT,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
