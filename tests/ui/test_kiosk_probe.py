"""The screen map the kiosk writes for the soak's robot (appliance/kiosk/probe.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.ui.conftest import JOURNEY_TIMEOUT_S, ROOT

pytestmark = pytest.mark.ui


def test_the_screen_map_says_where_each_button_is(kiosk_env, shop_config, tmp_path):
    env = dict(kiosk_env, COMPTOIR_KIOSK_PROBE=str(tmp_path / "screen.json"))
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.harness", "screen_map", str(shop_config)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=JOURNEY_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
