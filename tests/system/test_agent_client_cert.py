"""A box and an admin identified by client certificates (CN = username) instead of passwords."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent_support import (
    ROOT,
    Mosquitto,
    Watcher,
    make_client_cert,
    make_tls,
    start_agent,
    stop_process,
    write_config,
)
from tests.found import found

pytestmark = pytest.mark.system

BOX = "box-cert"


class CertFleet:
    def __init__(self, folder: Path) -> None:
        tls = make_tls(folder / "tls")
        self.broker = Mosquitto(folder / "broker", tls=tls, client_certificates=True)
        self.box_cert = make_client_cert(tls, BOX)
        self.admin_cert = make_client_cert(tls, "comptoir-admin")
        self.box_dir = folder / "box"
        self.box_dir.mkdir()
        cert, key = self.box_cert
        self.config = write_config(
            self.box_dir / "comptoir.toml",
            self.box_dir / "data",
            BOX,
            self.broker,
            cert_file=str(cert),
            key_file=str(key),
        )

    def fleet(self, *args: str, cert: tuple[Path, Path] | None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "COMPTOIR_FLEET_URL": self.broker.url,
            "COMPTOIR_FLEET_CA_FILE": str(found(self.broker.tls)["ca"]),
        }
        if cert:
            env |= {
                "COMPTOIR_FLEET_CERT_FILE": str(cert[0]),
                "COMPTOIR_FLEET_KEY_FILE": str(cert[1]),
            }
        return subprocess.run(
            [sys.executable, "-m", "appliance", "fleet", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertFleet]:
    world = CertFleet(tmp_path_factory.mktemp("cert-fleet"))
    world.broker.start()
    agent = start_agent(world.config, world.box_dir / "agent.log")
    admin = Watcher(
        world.broker, certificate=world.admin_cert, subscribe=(f"comptoir/v1/{BOX}/status",)
    )
    try:
        admin.ready().wait_for(lambda t, p, r: p["state"] == "online", 60)
        admin.close()
        yield world
    finally:
        stop_process(agent)
        world.broker.stop()


def test_a_box_with_a_client_certificate_is_commanded_by_an_admin_with_one(
    fleet: CertFleet,
) -> None:
    ping = fleet.fleet("send", BOX, "ping", cert=fleet.admin_cert)
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["result"]["pong"] is True


def test_without_a_client_certificate_the_broker_refuses(fleet: CertFleet) -> None:
    refused = fleet.fleet("list", cert=None)
    assert refused.returncode != 0
    # TLS 1.3 finishes the handshake before the broker checks the certificate and hangs up.
    assert "closed the connection" in refused.stderr or "cannot reach" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_box_certificate_confines_it_to_its_own_topics(fleet: CertFleet) -> None:
    other = make_client_cert(found(fleet.broker.tls), "box-other")
    nosy = Watcher(fleet.broker, certificate=other, subscribe=("comptoir/v1/#",)).ready()
    try:
        nosy.publish("comptoir/v1/box-other/tele/state", {"barrier": True})
        nosy.wait_for(lambda t, p, r: t == "comptoir/v1/box-other/tele/state")
        seen = [t for t, _, _ in nosy.drain()]
    finally:
        nosy.close()
    assert not [t for t in seen if f"/{BOX}/" in t]  # not even the retained status
