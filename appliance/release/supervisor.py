"""`comptoir supervise`: the three units run as systemd would, where systemd is not PID 1.

It reads the real unit files (comptoir-kiosk/agent/web.service), runs each `ExecStart` from
`<root>/current/venv/bin/comptoir`, restarts a process that exits (`Restart=`, `RestartSec=`,
the start limit), gives each its own `NOTIFY_SOCKET` and `WATCHDOG_USEC`, waits for `READY=1`
of a `Type=notify` unit and kills one whose pings stop (`WatchdogSec=`), as systemd does. A
control socket (`<root>/supervisor.sock`, one JSON line each way) restarts a unit, starts the
updater (`<root>/updater/venv/bin/comptoir release apply`, restarted if it dies) and tells a
unit's state. Tests and the soak run real updates with it; docs/updates.md says how.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import selectors
import shlex
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.release.errors import ReleaseError
from appliance.release.layout import Layout
from appliance.release.services import SOCKET_NAME, UNITS, UPDATER, UnitState, _seconds

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
TICK_S = 0.2


@dataclass(frozen=True)
class UnitSpec:
    """What the supervisor takes from a unit file (the rest is systemd's business)."""

    name: str
    args: tuple[str, ...]  # ExecStart's arguments after the comptoir executable
    notify: bool = False
    watchdog_s: float = 0.0
    restart: str = "no"  # always, on-failure, no
    restart_s: float = 0.1
    environment: dict[str, str] = field(default_factory=dict)
    start_limit_burst: int = 5
    start_limit_interval_s: float = 10.0
    timeout_start_s: float = 90.0


def read_unit(path: Path, name: str) -> UnitSpec:
    """The unit file's [Unit] and [Service] settings that decide how the process is run."""
    values: dict[str, str] = {}
    environment: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReleaseError(f"unit file {path} cannot be read: {exc}") from None
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key == "Environment":
            for item in shlex.split(value):
                variable, sep, setting = item.partition("=")
                if sep:
                    environment[variable] = setting
        else:
            values[key] = value
    exec_start = shlex.split(values.get("ExecStart", ""))
    if not exec_start or not exec_start[0].endswith("/comptoir"):
        raise ReleaseError(f"{path}: ExecStart must run .../venv/bin/comptoir")
    return UnitSpec(
        name=name,
        args=tuple(exec_start[1:]),
        notify=values.get("Type") == "notify",
        watchdog_s=_seconds(_with_unit(values.get("WatchdogSec", "0"))),
        restart=values.get("Restart", "no"),
        restart_s=_seconds(_with_unit(values.get("RestartSec", "0.1"))) or 0.1,
        environment=environment,
        start_limit_burst=int(values.get("StartLimitBurst", "5")),
        start_limit_interval_s=_seconds(_with_unit(values.get("StartLimitIntervalSec", "10"))),
        timeout_start_s=_seconds(_with_unit(values.get("TimeoutStartSec", "90"))) or 90.0,
    )


def _with_unit(value: str) -> str:
    return value + "s" if value.replace(".", "").isdigit() else value


def read_units(folder: Path, names: tuple[str, ...] = UNITS) -> list[UnitSpec]:
    return [read_unit(folder / f"comptoir-{name}.service", name) for name in names]


def updater_spec() -> UnitSpec:
    """comptoir-update.service: the switch and health gate, restarted should it die."""
    return UnitSpec(
        UPDATER,
        ("release", "apply"),
        restart="on-failure",
        restart_s=1.0,
        start_limit_burst=5,
        start_limit_interval_s=60.0,
    )


class _Unit:
    def __init__(self, spec: UnitSpec, executable: Path, notify_path: Path) -> None:
        self.spec = spec
        self.executable = executable
        self.notify_path = notify_path
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.ready = False
        self.last_ping = 0.0  # wall clock, for the health gate
        self.alive_at = 0.0  # monotonic: READY or the last ping, for the watchdog
        self.restarts = 0
        self.failed = False
        self.wanted = False
        self.next_start = 0.0
        self.starts: deque[float] = deque()
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify_path.unlink(missing_ok=True)
        self.socket.bind(str(notify_path))
        self.socket.setblocking(False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def state(self) -> UnitState:
        active = self.running and (self.ready or not self.spec.notify)
        return UnitState(
            name=self.spec.name,
            active=active,
            pid=self.process.pid if self.running and self.process else 0,
            restarts=self.restarts,
            watchdog_s=self.spec.watchdog_s,
            last_ping=self.last_ping,
            failed=self.failed,
        )


class Supervisor:
    def __init__(
        self,
        root: Path,
        specs: list[UnitSpec],
        *,
        config: Path | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.layout = Layout(root)
        self.root = root
        self.config = config
        self.environment = environment or {}
        run = root / "run"
        run.mkdir(parents=True, exist_ok=True)
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        current = root / "current" / "venv" / "bin" / "comptoir"
        updater = root / "updater" / "venv" / "bin" / "comptoir"
        self.units = {s.name: _Unit(s, current, run / f"notify-{s.name}.sock") for s in specs}
        self.units[UPDATER] = _Unit(updater_spec(), updater, run / "notify-update.sock")
        self._stop = False
        self.control_path = root / SOCKET_NAME

    # -- running ----------------------------------------------------------------------------------

    def run(self) -> None:
        """Recover a cut update (as the boot check does), start the units, serve until SIGTERM."""
        self._recover()
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control_path.unlink(missing_ok=True)
        control.bind(str(self.control_path))
        os.chmod(self.control_path, 0o600)
        control.listen(8)
        selector = selectors.DefaultSelector()
        selector.register(control, selectors.EVENT_READ, None)
        for unit in self.units.values():
            selector.register(unit.socket, selectors.EVENT_READ, unit)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for name in UNITS:
            if name in self.units:
                self.units[name].wanted = True
                self._start(self.units[name])
        log.info("supervising %s under %s", ", ".join(self.units), self.root)
        try:
            while not self._stop:
                for key, _ in selector.select(TICK_S):
                    if key.data is None:
                        self._serve(control)
                    else:
                        self._notified(key.data)
                self._watch()
        finally:
            for unit in self.units.values():
                self._stop_process(unit)
                unit.socket.close()
            control.close()
            self.control_path.unlink(missing_ok=True)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop = True

    def _recover(self) -> None:
        state = self.layout.state()
        if state is None or not state.phase.unfinished:
            return
        updater = self.units[UPDATER].executable
        log.warning("an update was cut during %s: recovering first", state.phase.value)
        subprocess.run(
            [str(updater), "release", "recover", "--root", str(self.root)],
            env=self._env(self.units[UPDATER]),
            check=False,
        )

    def _env(self, unit: _Unit) -> dict[str, str]:
        env = {**os.environ, **unit.spec.environment, **self.environment}
        env["NOTIFY_SOCKET"] = str(unit.notify_path)
        env.pop("WATCHDOG_USEC", None)
        if unit.spec.watchdog_s:
            env["WATCHDOG_USEC"] = str(int(unit.spec.watchdog_s * 1e6))
        if self.config is not None:
            env["COMPTOIR_CONFIG"] = str(self.config)
        return env

    def _start(self, unit: _Unit) -> None:
        now = time.monotonic()
        unit.starts.append(now)
        while unit.starts and now - unit.starts[0] > unit.spec.start_limit_interval_s:
            unit.starts.popleft()
        if len(unit.starts) > unit.spec.start_limit_burst:
            unit.failed = True
            unit.wanted = False
            log.error("%s started too often: start limit hit, left failed", unit.spec.name)
            return
        args = list(unit.spec.args)
        if unit.spec.name == UPDATER:
            args += ["--root", str(self.root)]
        output = (self.logs / f"{unit.spec.name}.log").open("ab")
        try:
            unit.process = subprocess.Popen(
                [str(unit.executable), *args],
                env=self._env(unit),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            log.error("%s cannot start: %s", unit.spec.name, exc)
            unit.process = None
            unit.next_start = now + unit.spec.restart_s
            return
        finally:
            output.close()
        unit.started_at = now
        unit.ready = False
        unit.failed = False
        log.info("%s started, pid %d", unit.spec.name, unit.process.pid)

    def _stop_process(self, unit: _Unit) -> None:
        process = unit.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _notified(self, unit: _Unit) -> None:
        while True:
            try:
                data = unit.socket.recv(4096)
            except BlockingIOError:
                return
            for line in data.decode(errors="replace").splitlines():
                if line == "READY=1":
                    unit.ready = True
                    unit.alive_at = time.monotonic()
                elif line == "WATCHDOG=1":
                    unit.last_ping = time.time()
                    unit.alive_at = time.monotonic()

    def _watch(self) -> None:
        now = time.monotonic()
        for unit in self.units.values():
            process = unit.process
            if process is not None and process.poll() is not None:
                code = process.returncode
                unit.process = None
                log.warning("%s exited with %s", unit.spec.name, code)
                again = unit.spec.restart == "always" or (
                    unit.spec.restart == "on-failure" and code != 0
                )
                if unit.wanted and again:
                    unit.restarts += 1
                    unit.next_start = now + unit.spec.restart_s
                else:
                    unit.wanted = False
            elif process is not None:
                self._check_liveness(unit, now)
            if unit.process is None and unit.wanted and not unit.failed and now >= unit.next_start:
                self._start(unit)

    def _check_liveness(self, unit: _Unit, now: float) -> None:
        """Kill a notify unit that never said READY, or one whose watchdog pings stopped."""
        spec = unit.spec
        late = spec.notify and not unit.ready and now - unit.started_at > spec.timeout_start_s
        silent_since = max(unit.started_at, unit.alive_at)
        hung = spec.watchdog_s and unit.ready and now - silent_since > spec.watchdog_s
        if late or hung:
            log.error("%s %s: killing it", spec.name, "never got ready" if late else "hung")
            assert unit.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(unit.process.pid, signal.SIGABRT if hung else signal.SIGTERM)

    # -- the control socket -----------------------------------------------------------------------

    def _serve(self, control: socket.socket) -> None:
        connection, _ = control.accept()
        with connection:
            connection.settimeout(5)
            try:
                request = json.loads(connection.makefile("rb").readline() or b"{}")
                answer = {"ok": True, **self._handle(request)}
            except (ValueError, KeyError, ReleaseError) as exc:
                answer = {"ok": False, "error": str(exc)}
            with contextlib.suppress(OSError):
                connection.sendall(json.dumps(answer).encode() + b"\n")

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op, name = request.get("op"), request.get("unit")
        unit = self.units.get(str(name))
        if unit is None:
            raise ReleaseError(f"unknown unit {name!r}: known {', '.join(self.units)}")
        if op == "state":
            return {"state": unit.state().as_dict()}
        if op in ("restart", "start"):
            if op == "start" and unit.running:
                return {"already": True}
            self._stop_process(unit)
            unit.process = None
            unit.wanted = True
            unit.failed = False
            self._start(unit)
            return {"pid": unit.process.pid if unit.process else 0}
        raise ReleaseError(f"unknown op {op!r}: state, restart or start")


def _die_with_parent() -> None:
    """The children go when the supervisor goes, even by SIGKILL (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
