"""The Pastèque till gateway inside the agent: its rounds in a supervised thread of their own.

The gateway's `run_forever` survives a server that is down, slow or refusing; anything else
(a bug, a database error) is counted by the `SyncLoop` supervisor, which starts it again. The
thread has its own database connection: the agent's forwarder notices new events by `PRAGMA
data_version`, which does not move for writes made through its own connection.
"""

from __future__ import annotations

import threading

from appliance.agent.sync_loop import SyncLoop
from appliance.config import Config
from appliance.store.db import open_database


def start(config: Config, stop_event: threading.Event) -> SyncLoop | None:
    """The gateway's loop, running, when `[pasteque] enabled`; else None."""
    if not config.pasteque.enabled:
        return None

    def loop(stop: threading.Event) -> None:
        from appliance.pasteque.gateway import run_forever

        db = open_database(config.database_path)
        try:
            run_forever(config, db, stop)
        finally:
            db.close()

    supervised = SyncLoop(loop, stop_event, name="pasteque gateway")
    supervised.start()
    return supervised
