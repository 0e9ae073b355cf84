"""The box under test: its configuration, and its three `comptoir` processes kept running.

The processes are the installed `comptoir` command (`.venv/bin/comptoir`), started the way the
systemd units start them (`Restart=always`, the units' `RestartSec`), each with its own log.
Each start, exit and kill is an `Incarnation`, for the restart-loop check and the memory and
file-descriptor samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak.processes import Reaper

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("kiosk", "agent", "web")
#: RestartSec of systemd/comptoir-NAME.service.
RESTART_S = {"kiosk": 2.0, "agent": 5.0, "web": 5.0}


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
    exit_code: int | None = None
    killed_by_soak: bool = False
    samples: list[dict[str, float]] = field(default_factory=list)  # sim day, rss_mb, fds


@dataclass
class Service:
    """One `comptoir NAME` kept running like a systemd unit."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    incarnations: list[Incarnation] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None
    enabled: bool = True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running and self.process else None


class Box:
    """The three processes of one box, started from its config file."""

    def __init__(self, reaper: Reaper, config_path: Path, env: dict[str, str], logs: Path):
        self.reaper = reaper
        self.config_path = config_path
        self.env = env
        self.logs = logs
        comptoir = str(Path(sys.executable).with_name("comptoir"))
        self.comptoir = comptoir
        self.services = {
            name: Service(
                name,
                [comptoir, "--config", str(config_path), name],  # as the units run it
                env,
                logs / f"{name}.log",
            )
            for name in NAMES
        }

    def start(self, name: str, now: float) -> None:
        service = self.services[name]
        service.process = self.reaper.spawn(service.argv, log=service.log, env=service.env)
        service.incarnations.append(Incarnation(service.process.pid, now))
        service.restart_at = None

    def kill(self, name: str, now: float) -> int | None:
        """SIGKILL, as a power cut or the OOM killer would; the unit restarts it."""
        service = self.services[name]
        if not service.running or service.process is None:
            return None
        pid = service.process.pid
        service.incarnations[-1].killed_by_soak = True
        self.reaper.kill(service.process)
        service.process.wait(10)
        self.reaper.kill(service.process)  # its group too
        self.watch(now)
        return pid

    def watch(self, now: float) -> list[str]:
        """Note exits and restart what is due, like systemd's Restart=always; returns what
        exited since the last call."""
        exited = []
        for service in self.services.values():
            process = service.process
            if process is not None and process.poll() is not None:
                last = service.incarnations[-1]
                last.ended_real, last.exit_code = now, process.returncode
                service.process = None
                service.restart_at = now + RESTART_S[service.name]
                exited.append(service.name)
            due = service.restart_at is not None and now >= service.restart_at
            if service.process is None and service.enabled and due:
                self.start(service.name, now)
        return exited

    def stop_all(self, now: float) -> dict[str, int | None]:
        """A clean stop (SIGTERM), as `systemctl stop` at the end of the run."""
        codes: dict[str, int | None] = {}
        for service in self.services.values():
            service.enabled = False
            if service.process is not None:
                codes[service.name] = self.reaper.stop(service.process)
                last = service.incarnations[-1]
                last.ended_real, last.exit_code = now, service.process.returncode
                service.process = None
        return codes

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
