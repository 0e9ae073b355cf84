"""UI tests drive the real Kivy kiosk under Xvfb, one process per journey."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.store import catalogue
from appliance.store.db import open_database, transaction
from tests.mail_support import Inbox
from tests.mail_support import mail_server as serve_mail

ROOT = Path(__file__).resolve().parents[2]
JOURNEY_TIMEOUT_S = 120

PRODUCTS = (
    Product("POMMES", "Pommes Gala", SoldBy.WEIGHT, 349, 550, category="Fruits"),
    Product("OEUFS", "Œufs x6", SoldBy.PIECE, 320, 550, category="Crèmerie"),
)


def _free_display() -> int:
    for number in range(90, 200):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return number
    raise RuntimeError("no free X display number between :90 and :199")


@pytest.fixture(scope="session")
def display(tmp_path_factory) -> Iterator[str]:
    """A private Xvfb for the session; Kivy opens its windows there."""
    number = _free_display()
    name = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ready = subprocess.run(
        [
            "sh",
            "-c",
            f"for i in $(seq 100); do xdpyinfo -display {name} && exit 0; sleep 0.1; done; exit 1",
        ],
        capture_output=True,
        check=False,
    )
    if ready.returncode:
        server.kill()
        raise RuntimeError(f"Xvfb did not start on {name}")
    yield name
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def kiosk_env(display, tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DISPLAY=display,
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        KIVY_HOME=str(tmp_path / "kivy"),
        KIVY_WINDOW="sdl2",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def shop_config(config_file, data_dir) -> Path:
    """The test config with a small catalogue in its database."""
    db = open_database(data_dir / "comptoir.db")
    with transaction(db):
        for product in PRODUCTS:
            catalogue.save(db, product)
    db.close()
    config_file.write_text(
        config_file.read_text()
        + "\n[kiosk]\nwidth = 800\nheight = 480\nfullscreen = false\n"
        + 'receipt_base_url = "https://example.org/r"\n'
    )
    return config_file


LOCKERS = """
[lockers]
controller = "kerong"
port = "/dev/null"
unlock_confirm_ms = 3000
door_debounce_ms = 60

[[lockers.compartments]]
number = 1
size = "S"
board = 0
lock = 0

[[lockers.compartments]]
number = 2
size = "M"
chilled = true
board = 0
lock = 1

[[lockers.compartments]]
number = 3
size = "L"
board = 0
lock = 2
"""


@pytest.fixture
def locker_config(shop_config) -> Path:
    """The shop with a wall of three compartments (the harness points it at a CU16 simulator)
    and the site's phone number."""
    text = shop_config.read_text().replace("[device]\n", '[device]\nphone = "04 75 00 00 00"\n', 1)
    shop_config.write_text(text + LOCKERS)
    return shop_config


@pytest.fixture
def run_journey(kiosk_env, shop_config):
    def run(name: str, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "tests.ui.harness", name, str(shop_config)],
            env={**kiosk_env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=JOURNEY_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return done

    return run


@contextmanager
def mail_server(config_path: Path) -> Iterator[Inbox]:
    """A real SMTP server on a free port, and the config's [smtp] pointed at it."""
    with serve_mail() as (received, port):
        config_path.write_text(
            config_path.read_text()
            + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
            + 'sender = "casiers@ferme.test"\n'
        )
        yield received
