"""The box under test: its configuration, and its three `comptoir` processes kept running.

The box runs the way an updatable box runs (docs/updates.md): releases side by side under its
root with `current`/`updater` links, the three units started and restarted by `comptoir
supervise` from the real unit files (`Restart=always`, `RestartSec`, the watchdog), so that an
update sent over MQTT switches and rolls back releases as on a shop's box. The first release is
this checkout's `comptoir` linked into place (installing it would cost a minute for nothing);
updates install real bundles. Each start and exit of a unit, seen through the supervisor's
control socket, is an `Incarnation`, for the restart-loop check and the memory and open-files
samples.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.release.errors import ReleaseError
from appliance.release.layout import Layout
from appliance.release.services import Supervised
from soak.processes import Reaper

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("kiosk", "agent", "web")


def toml_text(tables: dict[str, Any]) -> str:
    """A config file from {section: {key: value}}; a list of dicts is an array of tables."""
    lines: list[str] = []
    for section, keys in tables.items():
        plain = {k: v for k, v in keys.items() if not _is_table_list(v)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in plain.items()]
        for key, rows in keys.items():
            if _is_table_list(rows):
                for row in rows:
                    lines.append(f"[[{section}.{key}]]")
                    lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in row.items()]
        lines.append("")
    return "\n".join(lines)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


@dataclass
class Incarnation:
    """One run of one process, from start to exit."""

    pid: int
    started_real: float  # real monotonic seconds
    ended_real: float | None = None
    expected: bool = False  # ended by the soak (a kill) or by an update's switch
    samples: list[dict[str, float]] = field(default_factory=list)  # sim day, rss_mb, fds


@dataclass
class Service:
    """One unit as the supervisor runs it."""

    name: str
    control: Supervised
    incarnations: list[Incarnation] = field(default_factory=list)
    restarts: int = 0  # the supervisor's count of exits it restarted
    expected_restarts: int = 0  # of which the soak caused (kills, a broken release)

    @property
    def pid(self) -> int | None:
        """The unit's pid right now (asked of the supervisor), None while it is not running."""
        try:
            return self.control.state(self.name).pid or None
        except (ReleaseError, OSError, ValueError):
            return None

    @property
    def running(self) -> bool:
        return self.pid is not None


class Box:
    """The supervisor of one box's three units, its release root and its config file."""

    def __init__(
        self, reaper: Reaper, config_path: Path, env: dict[str, str], logs: Path, root: Path
    ):
        self.reaper = reaper
        self.config_path = config_path
        self.env = env
        self.logs = logs
        self.root = root
        self.layout = Layout(root)
        self.comptoir = str(Path(sys.executable).with_name("comptoir"))
        control = Supervised(root, timeout_s=10)
        self.services = {name: Service(name, control) for name in NAMES}
        self.supervisor: subprocess.Popen[bytes] | None = None
        self.expecting = False  # an update is under way: its restarts are the soak's doing

    def link_first_release(self) -> None:
        """This checkout's comptoir as the first release, `current` and `updater` pointing at it."""
        executable = self.layout.executable(__version__)
        executable.parent.mkdir(parents=True, exist_ok=True)
        if not executable.is_symlink():
            executable.symlink_to(self.comptoir)
        self.layout.mark_complete(__version__)
        self.layout.point(self.layout.current_link, __version__)
        self.layout.point(self.layout.updater_link, __version__)

    def start(self, now: float) -> None:
        """`comptoir supervise` with the real unit files, as systemd would run the units."""
        argv = [self.comptoir, "--config", str(self.config_path), "supervise"]
        argv += ["--root", str(self.root), "--units", str(ROOT / "systemd")]
        for pair in (f"DISPLAY={self.env.get('DISPLAY', '')}", "SDL_VIDEODRIVER=x11"):
            argv += ["--env", pair]  # over the kiosk unit's kmsdrm: the run's Xvfb
        self.supervisor = self.reaper.spawn(argv, log=self.logs / "supervisor.log", env=self.env)
        for name in NAMES:
            self._wait_running(name)
        self.watch(now)

    def _wait_running(self, name: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while self.services[name].pid is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the supervisor did not start {name} within {timeout_s} s")
            time.sleep(0.2)

    def kill(self, name: str, now: float) -> int | None:
        """SIGKILL of the unit's process group, as a power cut or the OOM killer would; the
        supervisor restarts it."""
        self.watch(now)
        service = self.services[name]
        pid = service.pid
        if pid is None:
            return None
        service.incarnations[-1].expected = True
        service.expected_restarts += 1
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        return pid

    def kill_pid(self, name: str, pid: int) -> None:
        """SIGKILL of a unit's run known by its pid (from another thread: no supervisor call)."""
        service = self.services[name]
        if service.incarnations and service.incarnations[-1].pid == pid:
            service.incarnations[-1].expected = True
        service.expected_restarts += 1
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    def watch(self, now: float) -> list[str]:
        """Note each unit's exits and new runs (a new pid); returns the units that changed."""
        changed = []
        for service in self.services.values():
            try:
                state = service.control.state(service.name)
            except (ReleaseError, OSError, ValueError):
                continue
            if self.expecting and state.restarts > service.restarts:
                service.expected_restarts += state.restarts - service.restarts
            service.restarts = state.restarts
            last = service.incarnations[-1] if service.incarnations else None
            if last is not None and last.pid != state.pid and last.ended_real is None:
                last.ended_real = now
                last.expected = last.expected or self.expecting
            if state.pid and (last is None or last.pid != state.pid):
                service.incarnations.append(Incarnation(state.pid, now))
                changed.append(service.name)
        return changed

    def stop_all(self, now: float) -> dict[str, int | None]:
        """A clean stop (SIGTERM to the supervisor, which stops its units), as at shutdown."""
        self.watch(now)
        codes: dict[str, int | None] = {}
        if self.supervisor is not None:
            codes["supervisor"] = self.reaper.stop(self.supervisor, timeout_s=40)
            self.supervisor = None
        for service in self.services.values():
            if service.incarnations and service.incarnations[-1].ended_real is None:
                service.incarnations[-1].ended_real = now
        return codes

    def unit_logs(self) -> list[Path]:
        return sorted((self.root / "logs").glob("*.log"))

    def cli(
        self, *args: str, stdin: str = "", timeout_s: float = 120
    ) -> subprocess.CompletedProcess:
        """A `comptoir` sub-command, as an installer types it on the box."""
        return subprocess.run(
            [self.comptoir, "--config", str(self.config_path), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout_s,
            check=False,
        )


def sample(pid: int) -> tuple[float, int] | None:
    """(resident MB, open fds) of a running process, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024, fds
    return None
