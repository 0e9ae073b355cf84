"""Putting a verified bundle beside the running release: a venv of its own, offline.

The running release is never touched. The new folder counts only once COMPLETE is written,
last; a folder without it (a power cut during the install) is removed and installed again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from appliance.release import bundle, failpoint
from appliance.release.bundle import Manifest
from appliance.release.errors import BundleRefused, ReleaseError
from appliance.release.keys import TrustedKey
from appliance.release.layout import Layout
from appliance.release.version import Version

#: Unpacked wheels and their installed files take about this many times the wheels' size.
SPACE_FACTOR = 4
MB = 1024 * 1024


@dataclass(frozen=True)
class Installed:
    version: str
    manifest: Manifest
    already: bool  # it was installed before: nothing was done


def check_fits(layout: Layout, manifest: Manifest, running: str | None, keep_free_mb: int) -> None:
    """Refuse, with the reason, a bundle this box must not install; nothing is written."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    problems = []
    if manifest.python != here:
        problems.append(f"built for Python {manifest.python}, this box runs Python {here}")
    if running is not None:
        if Version(manifest.version) < Version(running):
            problems.append(
                f"{manifest.version} is older than the running {running}: a downgrade is refused "
                "(roll forward with a fixed release)"
            )
        if manifest.installs_over and Version(running) < Version(manifest.installs_over):
            problems.append(
                f"{manifest.version} installs over {manifest.installs_over} or later; this box "
                f"runs {running}: install {manifest.installs_over} first"
            )
    if problems:
        raise BundleRefused(problems)
    if layout.is_complete(manifest.version):
        return
    check_space(layout, SPACE_FACTOR * manifest.size, keep_free_mb)


def check_space(layout: Layout, needed_bytes: int, keep_free_mb: int) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(layout.root).free
    wanted = needed_bytes + keep_free_mb * MB
    if free < wanted:
        raise ReleaseError(
            f"disk too full: {free // MB} MB free under {layout.root}, this needs "
            f"{needed_bytes // MB + 1} MB and {keep_free_mb} MB must stay free "
            "([updates] keep_free_mb); remove old logs or photos, nothing was changed"
        )


def install(
    layout: Layout,
    path: Path,
    keys: list[TrustedKey],
    *,
    keep_free_mb: int,
    first: bool = False,
) -> Installed:
    """Verify `path` and install it as releases/<version>; with `first`, point current at it."""
    manifest = bundle.verify(path, keys)
    running = layout.current()
    if first and running is not None:
        raise ReleaseError(f"{layout.root} already runs {running}: --first is for an empty root")
    check_fits(layout, manifest, running, keep_free_mb)
    version = manifest.version
    already = layout.is_complete(version)
    if not already:
        _install_folder(layout, path, manifest)
    if first:
        layout.point(layout.current_link, version)
        layout.point(layout.updater_link, version)
    return Installed(version, manifest, already)


def _install_folder(layout: Layout, path: Path, manifest: Manifest) -> None:
    folder = layout.folder(manifest.version)
    if folder.exists():  # a half install from before a power cut
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    wheels = folder / "wheels"
    files = bundle.unpack_wheels(path, manifest, wheels)
    failpoint.reached("install:unpacked")
    _run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(folder / "venv")],
        "making the venv",
    )
    failpoint.reached("install:venv")
    requirements = folder / "requirements.txt"
    requirements.write_text(
        "".join(
            f"{wheel} --hash=sha256:{manifest.files[bundle.WHEELS + wheel.name].sha256}\n"
            for wheel in files
        )
    )
    python = folder / "venv" / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--require-hashes",
            "--no-cache-dir",
            "-r",
            str(requirements),
        ],
        "installing the wheels",
    )
    failpoint.reached("install:pip")
    _check_runs(layout, manifest.version)
    bundle.copy_manifest(path, folder)
    shutil.rmtree(wheels)
    requirements.unlink()
    layout.mark_complete(manifest.version)


def _check_runs(layout: Layout, version: str) -> None:
    """The new comptoir starts and says the version the manifest promised."""
    done = _run([str(layout.executable(version)), "version", "--json"], "starting the new release")
    said = json.loads(done.stdout).get("version")
    if said != version:
        raise ReleaseError(f"the installed release says it is {said}, its manifest says {version}")


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
        raise ReleaseError(f"{what} failed: {tail}")
    return done
