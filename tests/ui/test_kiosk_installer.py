"""The installer's pages on the real touchscreen under Xvfb, in French and English: provisioning
under way, a refused card naming its line, then "ready" with what the box found."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.provisioning_status import STATUS_NAME, State, Status, Step
from tests.ui.conftest import JOURNEY_TIMEOUT_S, ROOT

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("journey", ["installer_pages_fr", "installer_pages_en"])
def test_the_installer_sees_provisioning_a_refused_card_and_ready(run_journey, journey):
    run_journey(journey)


def test_a_box_without_a_config_shows_provisioning_and_starts_again_once_it_has_one(
    kiosk_env, tmp_path: Path
) -> None:
    """A first boot: no comptoir.toml yet. The kiosk does not crash in a loop: it draws (READY=1
    to systemd) and ends, for systemd to start it on the new config, once provisioning is done."""
    data = tmp_path / "data"
    data.mkdir()
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(JOURNEY_TIMEOUT_S)
    command = [sys.executable, "-m", "appliance", "--config", str(tmp_path / "none.toml")]
    with (tmp_path / "kiosk.log").open("w") as log:
        kiosk = subprocess.Popen(
            [*command, "kiosk", "--windowed", "--data", str(data)],
            env={**kiosk_env, "NOTIFY_SOCKET": str(tmp_path / "notify")},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while b"READY=1" not in notify.recv(4096):
                pass
            assert kiosk.poll() is None  # waiting for provisioning, on screen
            (data / STATUS_NAME).write_bytes(
                Status(State.DONE, Step.CARD_CLEANED, (), "ferme-lilas-1", True).to_json()
            )
            kiosk.wait(JOURNEY_TIMEOUT_S)
        finally:
            notify.close()
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.wait(10)
    assert kiosk.returncode == 0, (tmp_path / "kiosk.log").read_text()[-3000:]
