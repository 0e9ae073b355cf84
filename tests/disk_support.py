"""A small file system of its own (a tmpfs) for the full-disk tests, never the machine's disk.

Mounting needs root, as `make test` has in CI; without it the test fails and says so.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            "a small file system for the full disk needs root, as make test runs in CI "
            f"(mount: {done.stderr.decode().strip()})"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def free_bytes(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def fill(path: Path, leave: int = 0) -> None:
    """Fill the file system of `path` with it, but for `leave` bytes (0: to the last byte)."""
    with path.open("ab") as stream:
        while (room := free_bytes(path.parent) - leave) > 0:
            try:
                stream.write(b"\0" * min(room, 1 << 20))
                stream.flush()
            except OSError:  # ENOSPC: the file system is full to its last block
                return
