"""The last lines of a process's log for `get_logs`, with secrets and pickup codes removed.

On a box the logs are in journald (`journalctl -u comptoir-NAME`); elsewhere, or when configured
so, in a log file of the data directory. The answer is size-limited: the newest lines are kept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import deque
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
)


def redact(line: str) -> str:
    """The line with every value that looks like a secret or a pickup code replaced by ***."""
    for pattern in _SECRETS:
        line = pattern.sub(lambda m: m[1] + "***", line)
    return line


@dataclass(frozen=True)
class LogSource:
    """`journald`, `file` or `auto` (journald when systemd runs the box)."""

    kind: str
    log_file: Path

    @property
    def uses_journald(self) -> bool:
        if self.kind == "auto":
            return Path("/run/systemd/system").is_dir() and shutil.which("journalctl") is not None
        return self.kind == "journald"

    def last_lines(self, process: str, lines: int) -> list[str]:
        if self.uses_journald:
            return _journald(process, lines)
        return _tail(self.log_file, lines)


def read_logs(source: LogSource, process: str, lines: int) -> tuple[list[str], bool]:
    """(redacted lines, truncated): at most `lines` lines and MAX_BYTES, newest kept."""
    kept: deque[str] = deque()
    size = 0
    raw = source.last_lines(process, min(lines, MAX_LINES))
    for line in reversed(raw):
        clean = redact(line.rstrip("\n"))
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
