"""Opening an MQTT link to the fleet broker: URL, TLS against a CA file, username and password.

Shared by the agent on a box and by the fleet console on an admin's machine, so both check the
broker's certificate the same way.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from appliance.errors import ConfigError


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


@dataclass(frozen=True)
class LinkSettings:
    """Everything needed to reach the broker as one identity."""

    url: str
    username: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def parse_url(url: str) -> BrokerAddress:
    """`mqtt://host[:1883]` or `mqtts://host[:8883]`."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(f"broker URL {url!r} is wrong: expected mqtt://host:port or mqtts://...")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ConfigError(f"broker URL {url!r} has a wrong port") from None
    return BrokerAddress(parts.hostname, port, tls)


def read_secret(path: Path, what: str) -> str:
    """The first line of a secret file (never logged)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None


def make_client(settings: LinkSettings, client_id: str) -> tuple[mqtt.Client, BrokerAddress]:
    """A paho client ready for `connect`/`connect_async`, not yet connected."""
    address = parse_url(settings.url)
    # MQTT 5: a subscription can ask for the retain flag as published, so the agent knows a
    # retained command even when it arrives live (3.1.1 clears the flag for live subscribers).
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if settings.username:
        password = None
        if settings.password_file:
            password = read_secret(settings.password_file, "MQTT password file")
        client.username_pw_set(settings.username, password)
    if address.tls:
        for what, path in (("CA file", settings.ca_file), ("certificate", settings.cert_file)):
            if path is not None and not path.is_file():
                raise ConfigError(f"MQTT {what} {path} does not exist")
        client.tls_set(
            ca_certs=str(settings.ca_file) if settings.ca_file else None,
            certfile=str(settings.cert_file) if settings.cert_file else None,
            keyfile=str(settings.key_file) if settings.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    client.reconnect_delay_set(1, 30)
    client.on_socket_open = no_delay
    return client, address


def no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """paho leaves Nagle on: a PUBACK then a small result would wait ~40 ms for each other."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
