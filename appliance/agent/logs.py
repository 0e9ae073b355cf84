"""The last lines of a process's log for `get_logs`, with secrets and pickup codes removed.

On a box the logs are in journald (`journalctl -u comptoir-NAME`); elsewhere, or when configured
so, in the configured log file, else the file `comptoir supervise` writes for that process
(ROOT/logs/NAME.log); with none of them the answer says where it looked and what to set. The
answer is size-limited: the newest lines are kept.
Redaction is by pattern (`password=...`) and by value: the box's own secrets, read from its
secret files, are removed wherever they appear, and so is anything shaped like a pickup code
(6 to 10 digits standing alone) or a QR pickup token.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_LINES = 1000
MAX_BYTES = 32 * 1024

_KEY = (
    r"password|passwd|pwd|secret|token|api[_ -]?key|x-api-token|authorization|"
    r"pickup[_ ]?code|code[_ ]?retrait|code"
)
_SECRETS = (
    # key=value, key: value, "key": "value"
    re.compile(rf"""(?i)(["']?\b(?:{_KEY})\b["']?\s*[:=]\s*)(?:bearer\s+)?("[^"]*"|'[^']*'|\S+)"""),
    re.compile(r"(?i)(\bbearer\s+)\S+"),
    re.compile(r"(?i)(mqtts?://[^:/\s]+:)[^@\s]+(?=@)"),
    # a pickup code: 6 to 10 digits not part of a longer number, a time or a date
    re.compile(r"()(?<![\w.,:+-])\d{6,10}(?![\w.,:-])"),
    re.compile(r"()CPT1\.[A-Za-z0-9_.-]+"),
)
#: A secret shorter than this is not searched for (it would blank out ordinary words).
MIN_SECRET = 6


def redact(line: str, secrets: tuple[str, ...] = ()) -> str:
    """The line with the box's `secrets`, and every value that looks like a secret or a pickup
    code, replaced by ***."""
    for secret in secrets:
        line = line.replace(secret, "***")
    for pattern in _SECRETS:
        line = pattern.sub(lambda m: m[1] + "***", line)
    return line


def secrets_of(files: Iterable[Path | None]) -> tuple[str, ...]:
    """The values kept in the box's secret files (each line, and the whole file), longest
    first so that a secret containing another is removed whole."""
    found: set[str] = set()
    for path in files:
        if path is None:
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found.update(v for v in (text.strip(), *map(str.strip, text.splitlines())) if v)
    return tuple(sorted((v for v in found if len(v) >= MIN_SECRET), key=len, reverse=True))


@dataclass(frozen=True)
class LogSource:
    """`journald`, `file` or `auto` (journald when systemd runs the box)."""

    kind: str
    log_file: Path
    secrets: tuple[str, ...] = ()  # the box's own secret values, removed wherever they appear
    supervisor_logs: Path | None = None  # where `comptoir supervise` writes each process's output

    @property
    def uses_journald(self) -> bool:
        if self.kind == "auto":
            return Path("/run/systemd/system").is_dir() and shutil.which("journalctl") is not None
        return self.kind == "journald"

    def last_lines(self, process: str, lines: int) -> list[str]:
        if self.uses_journald:
            return _journald(process, lines)
        files = [self.log_file]
        if self.supervisor_logs is not None:
            files.append(self.supervisor_logs / f"{process}.log")
        for path in files:
            if path.is_file():
                return _tail(path, lines)
        raise LogsNotFound(
            f"no log of {process} on this box: systemd does not run it (no journald) and"
            f" {' nor '.join(map(str, files))} does not exist. Set [mqtt] log_file to the file"
            " its output goes to, or run it under `comptoir supervise`"
        )


class LogsNotFound(OSError):
    """Neither journald nor any log file the box knows of holds this process's output."""


def read_logs(source: LogSource, process: str, lines: int) -> tuple[list[str], bool]:
    """(redacted lines, truncated): at most `lines` lines and MAX_BYTES, newest kept."""
    kept: deque[str] = deque()
    size = 0
    raw = source.last_lines(process, min(lines, MAX_LINES))
    for line in reversed(raw):
        clean = redact(line.rstrip("\n"), source.secrets)
        size += len(clean.encode()) + 1
        if size > MAX_BYTES:
            return list(kept), True
        kept.appendleft(clean)
    return list(kept), False


def _journald(process: str, lines: int) -> list[str]:
    done = subprocess.run(
        [
            "journalctl",
            "-u",
            f"comptoir-{process}",
            "-n",
            str(lines),
            "--no-pager",
            "-o",
            "short-iso",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(f"journalctl failed: {done.stderr.strip()[:200]}")
    return done.stdout.splitlines()


def _tail(path: Path, lines: int) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as stream:
        return list(deque(stream, maxlen=lines))
