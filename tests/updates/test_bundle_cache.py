"""The test bundle cache stays bounded: the bundles used last are kept, the rest removed."""

from __future__ import annotations

import os
from pathlib import Path

from tests.release_support import prune


def _folder(cache: Path, name: str, age_s: float) -> Path:
    folder = cache / name
    folder.mkdir()
    (folder / "comptoir-0.1.0.bundle").write_bytes(b"x")
    then = os.stat(cache).st_mtime - age_s
    os.utime(folder, (then, then))
    return folder


def test_the_cache_keeps_the_bundles_used_last_and_its_key_and_drops_stale_half_builds(tmp_path):
    (tmp_path / "keys").mkdir()
    for age in range(5):
        _folder(tmp_path, f"b{age}", age * 60)
    fresh = _folder(tmp_path, ".work-abc-1", 10)  # a build under way in another run
    stale = _folder(tmp_path, ".work-def-2", 7200)  # a run that was interrupted
    removed = prune(tmp_path, 3)
    assert sorted(p.name for p in removed) == [".work-def-2", "b3", "b4"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [fresh.name, "b0", "b1", "b2", "keys"] and not stale.exists()
