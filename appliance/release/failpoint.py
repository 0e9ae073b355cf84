"""Named points where a test may kill the process, to prove a power cut there loses nothing.

`COMPTOIR_FAILPOINT=<name>` makes the process SIGKILL itself on reaching that point (as etcd's
and TiKV's failpoints do); with `COMPTOIR_FAILPOINT_ONCE=<file>` only the first time (the file
is written just before), so a process restarted by its supervisor then goes on. Unset on every
box; costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV = "COMPTOIR_FAILPOINT"
ONCE = "COMPTOIR_FAILPOINT_ONCE"


def reached(name: str) -> None:
    if os.environ.get(ENV) != name:
        return
    marker = os.environ.get(ONCE)
    if marker:
        if Path(marker).exists():
            return
        Path(marker).write_text(name)
    os.kill(os.getpid(), signal.SIGKILL)
