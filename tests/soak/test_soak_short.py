"""The soak's short variant in `make test`: one simulated shop day with every fault, about four
minutes (`make soak` runs the week). It passes only when every fault was survived and every
invariant held; the table it prints is in the failure message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.soak

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1200)
def test_a_shop_day_with_every_fault_loses_nothing(tmp_path):
    report = tmp_path / "soak-report.json"
    env = dict(
        os.environ,
        SOAK_DAYS="1",
        SOAK_MINUTES="3",
        SOAK_SEED="1",
        SOAK_DIR=str(tmp_path / "run"),
        SOAK_REPORT=str(report),
    )
    done = subprocess.run(
        [sys.executable, "-m", "soak"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    found = json.loads(report.read_text())
    assert found["passed"]
    from soak.run import FAULTS, MID_WEEK

    injected = [f["name"] for f in found["faults"]]
    every = [name for name, _, _ in FAULTS if name not in MID_WEEK]  # updates: the week's
    assert sorted(injected) == sorted(every), "every fault of a day, once"
