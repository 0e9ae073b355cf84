"""The device command queue executor: what other processes ask the kiosk's hardware to do.

The agent and the web admin insert commands in the database; the kiosk, owner of the hardware,
notices new commits cheaply (`PRAGMA data_version` changes only when another connection commits)
on a short timer in its own thread, runs each command and records the result. An unknown or
expired command is refused with a reason; a handler may refuse too (`CommandRefused`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from appliance.errors import ComptoirError
from appliance.said import of as said_of
from appliance.said import said
from appliance.store import device_commands
from appliance.store.db import CommitWatch, open_database
from appliance.store.device_commands import CommandName

log = logging.getLogger(__name__)

#: How often the database is asked whether anything was committed.
CHECK_INTERVAL_S = 0.5

#: Runs one command (its `args`, who asked and why) and returns the result to record.
Handler = Callable[[device_commands.DeviceCommand], dict[str, Any]]


class CommandRefused(ComptoirError):
    """The kiosk will not run this command now; the message is the recorded reason."""


class CommandExecutor:
    """Takes queued commands one by one and records each outcome."""

    def __init__(
        self,
        database_path: Path,
        handlers: Mapping[CommandName, Handler],
        *,
        interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self.database_path = database_path
        self.handlers = dict(handlers)
        self.interval_s = interval_s
        self._db: sqlite3.Connection | None = None
        self._commits = CommitWatch()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="device-commands", daemon=True)

    def start(self) -> CommandExecutor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> int:
        """Run every queued command if someone committed since the last check; returns how
        many ran (refused ones included)."""
        if self._db is None:
            self._db = open_database(self.database_path)
        if not self._commits.changed(self._db):
            return 0
        ran = 0
        while (command := device_commands.take_next(self._db)) is not None:
            self._run_one(command)
            ran += 1
        return ran

    def _run_one(self, command: device_commands.DeviceCommand) -> None:
        name = CommandName.parse(command.name)
        handler = self.handlers.get(name) if name else None
        db = self._db
        assert db is not None
        if handler is None:
            known = ", ".join(sorted(self.handlers))
            device_commands.refuse(
                db,
                command.id,
                said(
                    "unknown command %(name)s: this kiosk knows %(known)s",
                    name=repr(command.name),
                    known=known,
                ),
            )
            log.warning(
                "refused unknown device command %s from %s", command.name, command.requested_by
            )
            return
        log.info("device command %s from %s", command.name, command.requested_by)
        try:
            result = handler(command)
        except CommandRefused as exc:
            device_commands.refuse(db, command.id, said_of(exc))
        except ComptoirError as exc:
            device_commands.finish(db, command.id, False, device_commands.failure(said_of(exc)))
        except Exception as exc:  # a bug in one command must not stop the queue
            log.exception("device command %s failed", command.name)
            failed = said("internal error: %(error)s", error=str(exc))
            device_commands.finish(db, command.id, False, device_commands.failure(failed))
        else:
            device_commands.finish(db, command.id, True, result)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    self.check()
                except Exception:  # the database busy or gone for a moment: try again later
                    log.exception("device command check failed")
        finally:
            if self._db is not None:
                self._db.close()
