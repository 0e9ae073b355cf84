"""Restarting a Comptoir process by name, for the remote `restart` command.

On a box: `systemctl restart comptoir-NAME` (the agent's unit may do it, see docs/mqtt.md). The
command line is configurable (`[mqtt] restart_command`, `{name}` replaced) so that a site without
systemd, or a test, brings the process back its own way.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROCESSES = ("kiosk", "agent", "web")
SYSTEMD = "systemctl restart comptoir-{name}"


@dataclass(frozen=True)
class Restarter:
    command: str = ""

    def argv(self, name: str) -> list[str]:
        template = self.command or SYSTEMD
        return [part.replace("{name}", name) for part in shlex.split(template)]

    def available(self) -> str:
        """Why restarting cannot work here, or '' when it can."""
        if not self.command and not Path("/run/systemd/system").is_dir():
            return "systemd is not running here and [mqtt] restart_command is not set"
        return ""

    def restart(self, name: str, timeout_s: float = 60) -> tuple[bool, str]:
        """(ok, what happened); restarting the agent itself returns at once (it is going away)."""
        if name == "agent":
            subprocess.Popen(self.argv(name), start_new_session=True)
            return True, "agent restart requested"
        try:
            done = subprocess.run(
                self.argv(name), capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except FileNotFoundError as exc:
            return False, f"restart command not found: {exc.filename}"
        except subprocess.TimeoutExpired:
            return False, f"restart of {name} did not finish within {timeout_s:.0f} s"
        if done.returncode != 0:
            return False, f"restart of {name} failed: {(done.stderr or done.stdout).strip()[:300]}"
        return True, f"{name} restarted"
