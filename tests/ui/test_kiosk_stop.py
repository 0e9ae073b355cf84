"""`comptoir kiosk` as systemd runs it: its start and its stop are technical events (SDL turns
systemd's SIGTERM into a quit, so the app stops as it would by itself)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.store import technical_events
from appliance.store.db import open_database
from appliance.store.technical_events import EventKind
from tests.agent_support import wait_until
from tests.ui.conftest import JOURNEY_TIMEOUT_S, ROOT

pytestmark = pytest.mark.ui


def processes(db, kind: EventKind) -> list[str]:
    return [e.details["process"] for e in technical_events.events(db, kind)]


def test_systemds_stop_is_a_clean_stop_recorded_as_such(
    kiosk_env, shop_config: Path, data_dir: Path, tmp_path: Path
) -> None:
    db = open_database(data_dir / "comptoir.db")
    with (tmp_path / "kiosk.log").open("w") as log:
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(shop_config), "kiosk"],
            env=kiosk_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: processes(db, EventKind.START), JOURNEY_TIMEOUT_S, "the start")
            kiosk.send_signal(signal.SIGTERM)
            kiosk.wait(JOURNEY_TIMEOUT_S)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.wait(10)
    assert kiosk.returncode == 0, (tmp_path / "kiosk.log").read_text()[-3000:]
    assert processes(db, EventKind.START) == ["kiosk"]
    assert processes(db, EventKind.STOP) == ["kiosk"]
    db.close()
