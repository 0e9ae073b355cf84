"""A power cut (SIGKILL) at any step of a switch leaves the box on a release that works; the
boot check (`comptoir release recover`) finishes what was cut, once, and says why.

The switch steps here use marker releases (the links and the state are what is judged); the
steps with the real units and real venvs are in test_update_cycle.py (`make test-updates`).
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from appliance.release import apply
from appliance.release.layout import Layout, Phase
from appliance.store import outbox, technical_events, update_jobs
from appliance.store.db import open_database
from tests.release_support import COMPTOIR, run_comptoir

OLD, NEW, OLDER = "1.0.0", "1.1.0", "0.9.0"


@pytest.fixture
def box(tmp_path, config_file):
    layout = Layout(tmp_path / "root")
    for version in (OLDER, OLD, NEW):
        layout.folder(version).mkdir(parents=True)
        layout.mark_complete(version)
    layout.point(layout.current_link, OLD)
    layout.point(layout.previous_link, OLDER)
    config_file.write_text(
        config_file.read_text()
        + f'[updates]\nroot = "{layout.root}"\nservices = "supervisor"\nhealth_s = 10\n'
    )
    db = open_database(tmp_path / "data" / "comptoir.db")
    update_jobs.create(
        db,
        "job-7",
        version=NEW,
        from_version=OLD,
        url="https://x/b",
        sha256="0" * 64,
        requested_by="alice",
    )
    db.close()
    apply.prepare(layout, "job-7", NEW, 10)
    return layout, config_file


def _apply_killed_at(config_file, root, point: str) -> int:
    done = subprocess.run(
        [str(COMPTOIR), "--config", str(config_file), "release", "apply", "--root", str(root)],
        env={**os.environ, "COMPTOIR_FAILPOINT": point},
        capture_output=True,
        check=False,
        timeout=60,
    )
    return done.returncode


@pytest.mark.parametrize("point", ["apply:switching", "apply:previous", "apply:current"])
def test_a_cut_during_the_switch_goes_back_to_the_old_release_at_boot(box, point, data_dir):
    layout, config_file = box
    assert _apply_killed_at(config_file, layout.root, point) == -signal.SIGKILL
    assert layout.state().phase is Phase.SWITCHING
    assert layout.current() in (OLD, NEW)  # one or the other, never no link at all

    said = run_comptoir("--config", str(config_file), "release", "recover").stdout
    assert said.strip() == "update rolled_back: the box restarted during switching"
    assert (layout.current(), layout.previous()) == (OLD, OLDER)
    assert layout.state().phase is Phase.ROLLED_BACK
    again = run_comptoir("--config", str(config_file), "release", "recover").stdout
    assert again.strip() == "nothing to recover"

    db = open_database(data_dir / "comptoir.db")
    job = update_jobs.get(db, "job-7")
    rollbacks = technical_events.events(db, technical_events.EventKind.ROLLBACK)
    sent = [e for e in outbox.pending(db, "mqtt", 100) if e.type == "software_rolled_back"]
    db.close()
    assert (job.state, job.reason) == ("rolled_back", "the box restarted during switching")
    assert len(rollbacks) == 1 and rollbacks[0].details["to"] == NEW
    assert len(sent) == 1 and sent[0].payload["from"] == OLD


@pytest.mark.parametrize("point", ["apply:rolling_back", "apply:rolled_back"])
def test_a_cut_during_the_boot_rollback_is_finished_at_the_next_boot_once(box, point, data_dir):
    layout, config_file = box
    layout.point(layout.previous_link, OLD)
    layout.point(layout.current_link, NEW)
    layout.save(layout.state().at(Phase.GATING))  # the power went during the health gate
    recover = [str(COMPTOIR), "--config", str(config_file), "release", "recover"]
    cut = subprocess.run(
        recover,
        env={**os.environ, "COMPTOIR_FAILPOINT": point},
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert cut.returncode == -signal.SIGKILL
    run_comptoir("--config", str(config_file), "release", "recover")
    run_comptoir("--config", str(config_file), "release", "recover")
    assert (layout.current(), layout.previous()) == (OLD, OLDER)
    db = open_database(data_dir / "comptoir.db")
    rollbacks = technical_events.events(db, technical_events.EventKind.ROLLBACK)
    db.close()
    assert len(rollbacks) == 1
    assert rollbacks[0].details["reason"] == "the box restarted during gating"


def test_an_update_still_under_way_cannot_be_prepared_again(box):
    layout, _ = box
    layout.save(layout.state().at(Phase.GATING))
    with pytest.raises(Exception, match="still gating"):
        apply.prepare(layout, "job-8", NEW, 10)


@pytest.mark.long
@pytest.mark.parametrize("point", ["install:unpacked", "install:venv", "install:pip"])
def test_a_cut_during_the_install_leaves_the_running_release_working(tmp_path, point):
    from appliance import __version__
    from tests.release_support import NEXT, bundle, make_keys

    keys = make_keys()
    root = tmp_path / "root"
    public = ["--public-key", str(keys.public), "--root", str(root)]
    run_comptoir("release", "install", str(bundle(keys, __version__)), "--first", *public)
    new = bundle(keys, NEXT)
    cut = subprocess.run(
        [str(COMPTOIR), "release", "install", str(new), *public],
        env={**os.environ, "COMPTOIR_FAILPOINT": point},
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert cut.returncode == -signal.SIGKILL
    layout = Layout(root)
    assert layout.current() == __version__ and layout.installed() == [__version__]
    runs = subprocess.run(
        [str(root / "current/venv/bin/comptoir"), "version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert runs.stdout.strip() == f"comptoir {__version__}"
    run_comptoir("release", "install", str(new), *public)  # the half install is redone
    assert layout.installed() == sorted([__version__, NEXT]) and layout.current() == __version__
