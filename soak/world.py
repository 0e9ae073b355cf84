"""Everything around the box: its hardware (simulators), the marketplace, the mail server, the
fleet broker and the screen. All on 127.0.0.1, all on free ports, all stopped at the end.

The simulators are the project's own (`appliance/devices/*/simulator*` through
`kiosk.simulated.SimulatedShop`), served from this process over real ptys and sockets; the box
reaches them through its real drivers, as it reaches real hardware. The fake Open Food Network
and the fake Pastèque (the shop's till server) run here too, on the shared clock.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from appliance.agent.identity import Identity, new_identity
from appliance.devices.sensors.simulator import W1Folder
from appliance.kiosk.simulated import SimulatedShop
from appliance.marketplace.fake import FakeState, seed, serve
from appliance.pasteque import fake as pasteque_fake
from appliance.pasteque.fake import seed as pasteque_seed
from soak.clock import real_monotonic
from soak.processes import Reaper
from tests import mail_support
from tests.agent_support import Mosquitto, wait_until

ADMIN = "comptoir-admin"
SENSORS = ("28-00000a1b2c3d", "28-00000a1b2c3e")


@dataclass
class Broker(Mosquitto):
    """The tests' mosquitto, started through the reaper so it never outlives the soak."""

    reaper: Reaper | None = None

    def start(self) -> None:
        assert self.reaper is not None
        config = self.write_config()
        self.process = self.reaper.spawn(
            ["mosquitto", "-c", str(config)], log=self.folder / "mosquitto.log"
        )
        wait_until(self._listening, 10, f"mosquitto on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.reaper is not None:
            self.reaper.stop(self.process, timeout_s=10)
        self.process = None


class Inbox(mail_support.Inbox):
    """The shop's customers' mailboxes: every e-mail the box sends lands here."""

    def pickup_code(self, order_number: str) -> str | None:
        """The newest pickup code sent for this order (what the customer reads)."""
        with self.lock:
            for message in reversed(self.messages):
                if order_number in (message["Subject"] or ""):
                    found = re.search(r"Code de retrait : (\d+)", mail_support.text_of(message))
                    if found:
                        return found[1]
        return None


@dataclass
class World:
    folder: Path
    reaper: Reaper
    stack: ExitStack = field(default_factory=ExitStack)
    shop: SimulatedShop | None = None
    w1: W1Folder | None = None
    ofn: FakeState | None = None
    ofn_url: str = ""
    pasteque: pasteque_fake.FakeState | None = None
    pasteque_url: str = ""
    inbox: Inbox = field(default_factory=Inbox)
    smtp_port: int = 0
    broker: Broker | None = None
    box_identity: Identity | None = None
    admin_identity: Identity | None = None
    display: str = ""

    def start(self, device_id: str) -> World:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.display = self._start_xvfb()
        self.shop = self.stack.enter_context(SimulatedShop(interval_g=2, capacity_g=15000))
        self.w1 = W1Folder(self.folder / "w1")
        for sensor in SENSORS:
            self.w1.set(sensor, 3200)
        self.ofn = seed.demo(FakeState())
        self.ofn_url = self.stack.enter_context(serve(self.ofn))
        self.pasteque = pasteque_seed.demo(pasteque_fake.FakeState())
        self.pasteque_url = self.stack.enter_context(pasteque_fake.serve(self.pasteque))
        _, self.smtp_port = self.stack.enter_context(mail_support.mail_server(self.inbox))
        self.box_identity = new_identity(device_id)
        self.admin_identity = new_identity(ADMIN, admin=True)
        self.broker = Broker(
            self.folder / "broker",
            identities=(self.box_identity, self.admin_identity),
            persistent=True,
            reaper=self.reaper,
        )
        self.broker.start()
        self.stack.callback(self.broker.stop)
        return self

    def _start_xvfb(self) -> str:
        number = next(
            n
            for n in range(120, 400)
            if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
        )
        name = f":{number}"
        self.reaper.spawn(
            ["Xvfb", name, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
            log=self.folder / "xvfb.log",
        )
        deadline = real_monotonic() + 30
        while real_monotonic() < deadline:
            probe = subprocess.run(["xdpyinfo", "-display", name], capture_output=True, check=False)
            if probe.returncode == 0:
                return name
            threading.Event().wait(0.1)
        raise RuntimeError(f"Xvfb did not start on {name}")

    def stop(self) -> None:
        self.stack.close()


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
