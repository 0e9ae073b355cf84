"""The box's service control, one small interface: systemd on a box, `comptoir supervise` here.

The updater restarts the three units, starts itself as its own unit (so that it outlives the
agent that received the command) and reads each unit's health: up, restarted by itself or not,
last watchdog ping. `Systemd` asks systemctl (allowed to user comptoir by the polkit rule);
`Supervised` asks the local supervisor over its control socket (docs/updates.md).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from appliance.release.errors import ReleaseError

UNITS = ("kiosk", "agent", "web")
UPDATER = "update"
SOCKET_NAME = "supervisor.sock"


@dataclass(frozen=True)
class UnitState:
    """What the health gate needs of one unit; times are Unix seconds, 0 when never."""

    name: str
    active: bool
    pid: int
    restarts: int  # restarts done by the service manager itself (the process died or hung)
    watchdog_s: float  # 0: the unit has no watchdog
    last_ping: float
    failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Services(Protocol):
    def restart(self, unit: str) -> None: ...

    def start_updater(self) -> None: ...

    def state(self, unit: str) -> UnitState: ...


# -- systemd --------------------------------------------------------------------------------------


def unit_name(unit: str) -> str:
    return f"comptoir-{unit}.service"


_PROPERTIES = "ActiveState,SubState,MainPID,NRestarts,WatchdogUSec,WatchdogTimestamp,Result"


class Systemd:
    """systemctl as user comptoir: restart the three units, start comptoir-update."""

    def restart(self, unit: str) -> None:
        self._systemctl("restart", unit_name(unit))

    def start_updater(self) -> None:
        # --no-block: the agent asking goes on answering; the unit runs on its own.
        self._systemctl("start", "--no-block", unit_name(UPDATER))

    def state(self, unit: str) -> UnitState:
        done = self._systemctl(
            "show", unit_name(unit), f"--property={_PROPERTIES}", "--timestamp=unix"
        )
        values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        return UnitState(
            name=unit,
            active=values.get("ActiveState") == "active",
            pid=int(values.get("MainPID") or 0),
            restarts=int(values.get("NRestarts") or 0),
            watchdog_s=_seconds(values.get("WatchdogUSec", "")),
            last_ping=_unix(values.get("WatchdogTimestamp", "")),
            failed=values.get("ActiveState") == "failed",
        )

    def _systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                ["systemctl", *args], capture_output=True, text=True, timeout=120, check=False
            )
        except FileNotFoundError:
            raise ReleaseError(
                'systemctl is missing: set [updates] services = "supervisor"'
            ) from None
        if done.returncode != 0:
            raise ReleaseError(f"systemctl {' '.join(args)} failed: {done.stderr.strip()[:300]}")
        return done


def _unix(value: str) -> float:
    """`@1700000000` (systemctl --timestamp=unix) as seconds; 0 for none."""
    value = value.strip()
    return float(value[1:]) if value.startswith("@") else 0.0


def _seconds(value: str) -> float:
    """systemd's `30s`, `1min 30s`, `infinity` as seconds (0 for none)."""
    total = 0.0
    for part in value.split():
        for suffix, factor in (("min", 60), ("ms", 0.001), ("us", 1e-6), ("s", 1), ("h", 3600)):
            if part.endswith(suffix) and part[: -len(suffix)].replace(".", "").isdigit():
                total += float(part[: -len(suffix)]) * factor
                break
    return total


# -- the local supervisor -------------------------------------------------------------------------


class Supervised:
    """The same, asked of `comptoir supervise` through its control socket in the root."""

    def __init__(self, root: Path, timeout_s: float = 60) -> None:
        self.path = root / SOCKET_NAME
        self.timeout_s = timeout_s

    def restart(self, unit: str) -> None:
        self.ask({"op": "restart", "unit": unit})

    def start_updater(self) -> None:
        self.ask({"op": "start", "unit": UPDATER})

    def state(self, unit: str) -> UnitState:
        return UnitState(**self.ask({"op": "state", "unit": unit})["state"])

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(self.timeout_s)
                    sock.connect(str(self.path))
                    sock.sendall(json.dumps(request).encode() + b"\n")
                    reply = sock.makefile("rb").readline()
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise ReleaseError(
                        f"no supervisor answers at {self.path}: start `comptoir supervise`"
                    ) from None
                time.sleep(0.2)
        answer = json.loads(reply or b"{}")
        if not answer.get("ok"):
            raise ReleaseError(f"supervisor: {answer.get('error', 'no answer')}")
        return answer


def for_config(services: str, root: Path) -> Services:
    return Supervised(root) if services == "supervisor" else Systemd()
