"""How far `comptoir provision` got, in a small file the kiosk reads to tell the installer.

Provisioning (root) writes `provisioning.json` in the data directory at each step, then once
more when it is done or has refused the card; the kiosk (the service user, who owns the file)
shows the steps, the card's wrong lines, or a "ready" screen. The file names the boot it was
written in, and the time since that boot, so a file left by an earlier boot, or a provisioning
long past, shows nothing. No secret ever goes in it.
"""

from __future__ import annotations

import enum
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATUS_NAME = "provisioning.json"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class State(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Step(enum.StrEnum):
    """The steps the screen lists, in their order."""

    CARD = "card"  # reading and checking comptoir.txt
    SETTINGS = "settings"  # comptoir.toml and the secret files in /etc/comptoir
    KEYS = "keys"  # the fiscal signing key and the web admin's certificate, made once
    CARD_CLEANED = "card_cleaned"  # the secrets taken off the card


STEPS = tuple(Step)


def this_boot() -> str:
    """The kernel's id of the current boot ("" where there is none to read)."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def uptime_s() -> float:
    """Seconds since this boot (CLOCK_BOOTTIME): unlike the wall clock, an NTP step at boot
    does not move it."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


@dataclass(frozen=True)
class Status:
    state: State
    step: Step = Step.CARD  # the step under way, or the last one reached
    problems: tuple[str, ...] = ()  # every wrong line of the card, when refused
    device_id: str = ""
    changed: bool = False  # this run wrote something (a first boot, a new card)
    boot: str = field(default_factory=this_boot)
    at_uptime_s: float = field(default_factory=uptime_s)

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Status:
        """Raises ValueError (json's errors included) on a file this code did not write."""
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return cls(
            State(value["state"]),
            Step(value["step"]),
            tuple(str(p) for p in value["problems"]),
            str(value["device_id"]),
            bool(value["changed"]),
            str(value["boot"]),
            float(value["at_uptime_s"]),
        )

    def current(self, boot: str | None = None) -> bool:
        """Written during this boot (a file from an earlier boot tells nothing now)."""
        return self.boot == (this_boot() if boot is None else boot)

    def age_s(self) -> float:
        return uptime_s() - self.at_uptime_s


def read(data_dir: Path) -> Status | None:
    """The last status written in `data_dir`, or None (none yet, or unreadable: a half-written
    file never is, provisioning renames a whole one over it)."""
    try:
        return Status.from_json((data_dir / STATUS_NAME).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None
