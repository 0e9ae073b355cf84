"""The release folders of a box and the two links, switched so that a power cut never hurts.

`root/releases/<version>/` holds one release (its venv, its manifest, COMPLETE when whole);
`root/current` and `root/previous` are relative symlinks to such folders; `update-state.json`
says where a switch or a health gate stands. Every change is made beside and renamed into
place, then the folder is fsynced (docs/updates.md, "The layout").
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance import clock
from appliance.release.errors import ReleaseError

COMPLETE = "COMPLETE"
STATE_FORMAT = 1


class Phase(StrEnum):
    INSTALLED = "installed"
    SWITCHING = "switching"
    GATING = "gating"
    ROLLING_BACK = "rolling_back"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"

    @property
    def unfinished(self) -> bool:
        """A switch was under way: after a crash or a reboot, go back to `from`."""
        return self in (Phase.SWITCHING, Phase.GATING, Phase.ROLLING_BACK)


@dataclass(frozen=True)
class UpdateState:
    job: str
    from_version: str
    to_version: str
    previous_before: str | None
    phase: Phase
    since: str = ""
    reason: str = ""
    health_s: int = 120

    def at(self, phase: Phase, reason: str = "") -> UpdateState:
        return replace(self, phase=phase, reason=reason or self.reason, since=_now())

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["from"], body["to"] = body.pop("from_version"), body.pop("to_version")
        return {"format": STATE_FORMAT, **body, "phase": self.phase.value}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> UpdateState:
        return cls(
            job=str(body["job"]),
            from_version=str(body["from"]),
            to_version=str(body["to"]),
            previous_before=body.get("previous_before"),
            phase=Phase(body["phase"]),
            since=str(body.get("since", "")),
            reason=str(body.get("reason", "")),
            health_s=int(body.get("health_s", 120)),
        )


class Layout:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.current_link = root / "current"
        self.previous_link = root / "previous"
        self.updater_link = root / "updater"  # the release the updater's code comes from
        self.downloads = root / "downloads"
        self.state_path = root / "update-state.json"

    # -- releases ---------------------------------------------------------------------------------

    def folder(self, version: str) -> Path:
        return self.releases / version

    def executable(self, version: str) -> Path:
        return self.folder(version) / "venv" / "bin" / "comptoir"

    def is_complete(self, version: str) -> bool:
        return (self.folder(version) / COMPLETE).is_file()

    def installed(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir() if (p / COMPLETE).is_file())

    def mark_complete(self, version: str) -> None:
        folder = self.folder(version)
        _write_durably(folder / COMPLETE, f"{_now()}\n".encode())

    # -- links ------------------------------------------------------------------------------------

    def current(self) -> str | None:
        return _target(self.current_link)

    def previous(self) -> str | None:
        return _target(self.previous_link)

    def updater(self) -> str | None:
        return _target(self.updater_link)

    def point(self, link: Path, version: str | None) -> None:
        """Make `link` name `version` (or remove it) in one rename, then fsync the folder."""
        if version is None:
            link.unlink(missing_ok=True)
        else:
            if not self.is_complete(version):
                raise ReleaseError(
                    f"release {version} is not completely installed under {self.releases}"
                )
            fresh = link.with_name(link.name + ".new")
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(Path("releases") / version)
            os.replace(fresh, link)
        _fsync_dir(self.root)

    # -- the update state -------------------------------------------------------------------------

    def state(self) -> UpdateState | None:
        try:
            body = json.loads(self.state_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"{self.state_path} cannot be read ({exc})") from None
        return UpdateState.from_json(body)

    def save(self, state: UpdateState) -> UpdateState:
        _write_durably(self.state_path, json.dumps(state.to_json(), indent=1).encode())
        return state


def _target(link: Path) -> str | None:
    try:
        return Path(os.readlink(link)).name
    except FileNotFoundError:
        return None


def _write_durably(path: Path, data: bytes) -> None:
    """Write beside, fsync, rename over, fsync the folder: the old file or the new, never torn."""
    fresh = path.with_name(path.name + ".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(fresh, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return clock.now_iso()
