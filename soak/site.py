"""The box's configuration and first-day set-up, as an installer would make them.

A demo-mode farm shop (`[shop] mode = "demo"`: closings and fiscal records as in a live shop)
with a scale, a label printer, a card terminal, five lockers (two chilled), a fridge with two
thermometers, the marketplace, the shop's Pastèque till, mail and the fleet broker, all pointed
at the world's simulators and fakes. Set-up goes through the `comptoir` command (catalogue
import, web users, producers), never into the database directly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance import config
from appliance.agent.identity import write_password_file
from appliance.marketplace.fake import seed
from appliance.pasteque.fake import seed as pasteque_seed
from soak.box import Box, toml_text
from soak.world import SENSORS, World
from tests.agent_support import free_port

DEVICE_ID = "soak-box"
TITLE = "Ferme du Soak"
PRODUCER = "Ferme des Lilas"
ZONE = "frigo-1"
COMPARTMENTS = (
    {"number": 1, "size": "S", "board": 0, "lock": 0},
    {"number": 2, "size": "M", "chilled": True, "zone": ZONE, "board": 0, "lock": 1},
    {"number": 3, "size": "L", "chilled": True, "zone": ZONE, "board": 0, "lock": 2},
    {"number": 4, "size": "M", "board": 0, "lock": 3},
    {"number": 5, "size": "L", "board": 0, "lock": 4},
)
DEMO_CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "demo-catalogue.csv"


@dataclass(frozen=True)
class People:
    """Who may log in: web users (name, password, role) and the producer's PIN."""

    installer: tuple[str, str]
    producer_web: tuple[str, str]
    producer_pin: str


def config_tables(
    world: World, data_dir: Path, logs: Path, web_port: int, updates: dict[str, Any]
) -> dict[str, Any]:
    assert world.shop and world.broker and world.box_identity
    shop = world.shop
    secrets_dir = data_dir.parent / "secrets"
    return {
        "device": {
            "id": DEVICE_ID,
            "name": TITLE,
            "address": "1 chemin du Soak, 49000 Angers",
            "phone": "02 41 00 00 00",
            "data_dir": str(data_dir),
            "timezone": "Europe/Paris",
        },
        "shop": {"mode": "demo", "closing_hour": 1},
        "scale": {
            "protocol": "toledo8217",
            "port": shop.scale.path,
            "interval_g": 2,
            "capacity_g": 15000,
            "poll_interval_ms": 100,
        },
        "printer": {"backend": "network", "target": shop.printer.address},
        "kiosk": {"width": 800, "height": 480, "fullscreen": False, "idle_timeout_s": 60},
        "payment": {"terminal": "caisse-ap", "address": shop.terminal.address, "timeout_s": 30},
        "lockers": {
            "controller": "kerong",
            "port": shop.lock_bus.path,
            "status_poll_ms": 50,
            "door_debounce_ms": 60,
            "door_open_alarm_s": 120,
            "compartments": list(COMPARTMENTS),
        },
        "marketplace": {
            "url": world.ofn_url,
            "api_key_file": str(secrets_dir / "ofn-api-key"),
            "hub_id": seed.HUB_ID,
            "shipping_method_ids": [seed.LOCKER_METHOD_ID],
            "sync_interval_s": 30,
            "timeout_s": 5,
        },
        "pasteque": {
            "enabled": True,
            "url": world.pasteque_url,
            "user": pasteque_seed.DEMO_USER,
            "password_file": str(secrets_dir / "pasteque-password"),
            "cash_register": pasteque_seed.DEMO_REGISTER,
            "interval_s": 30,
            "timeout_s": 5,
        },
        "mqtt": {
            "url": world.broker.url,
            "username": DEVICE_ID,
            "password_file": str(secrets_dir / "mqtt-password"),
            "telemetry_period_s": 15,
            "logs_source": "file",
            "log_file": str(logs / "agent.log"),
        },
        "web": {"listen": f"127.0.0.1:{web_port}", "http_listen": f"127.0.0.1:{free_port()}"},
        "smtp": {
            "host": "127.0.0.1",
            "port": world.smtp_port,
            "starttls": False,
            "sender": "casiers@ferme-soak.test",
        },
        "haccp": {
            "w1_root": str(world.folder / "w1"),
            "interval_s": 10,
            "zones": [{"name": ZONE, "limit_c": 4, "allowed_min": 30, "sensors": list(SENSORS)}],
        },
        "updates": updates,
    }


def write_site(world: World, folder: Path, logs: Path, updates: dict[str, Any]) -> tuple[Path, int]:
    """The config file and its secrets; `logs` is where the supervisor writes each unit's
    output, `updates` the [updates] table; returns (config path, web port)."""
    assert world.box_identity
    data_dir = folder / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir = folder / "secrets"
    write_password_file(secrets_dir / "mqtt-password", world.box_identity, overwrite=True)
    key = secrets_dir / "ofn-api-key"
    key.write_text(seed.DEMO_KEY + "\n")
    key.chmod(0o600)
    till = secrets_dir / "pasteque-password"
    till.write_text(pasteque_seed.DEMO_PASSWORD + "\n")
    till.chmod(0o600)
    web_port = free_port()
    path = folder / "comptoir.toml"
    path.write_text(
        toml_text(config_tables(world, data_dir, logs, web_port, updates)), encoding="utf-8"
    )
    assert world.shop
    world.shop.site(config.load(path))  # the simulated wall learns which lock is which door
    return path, web_port


def set_up(box: Box, rng_token: str = "") -> People:
    """What the installer does on the first day, through `comptoir`."""
    people = People(
        installer=("installateur", rng_token or secrets.token_urlsafe(12)),
        producer_web=("lilas", secrets.token_urlsafe(12)),
        producer_pin="4071",
    )
    _check(box.cli("catalogue", "import", str(DEMO_CATALOGUE)))
    name, password = people.installer
    _check(box.cli("web", "passwd", name, "--role", "installer", "--stdin", stdin=password + "\n"))
    name, password = people.producer_web
    _check(box.cli("web", "passwd", name, "--role", "producer", "--stdin", stdin=password + "\n"))
    _check(box.cli("locker", "producer", PRODUCER, "--pin-stdin", stdin=people.producer_pin + "\n"))
    return people


def _check(done: Any) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"set-up step failed ({done.args[3:]}): {done.stderr.strip()[-800:]}")
