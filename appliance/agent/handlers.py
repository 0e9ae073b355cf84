"""What each remote command does. Hardware commands are queued for the kiosk, never run here.

`open_door`, `print_test_label` and `print_closing` go through the device command queue with who
asked and why; the answer is the kiosk's recorded result, or "queued, kiosk did not answer" (not
recorded as final, so asking again with the same id waits again without queueing twice).
"""

from __future__ import annotations

import dataclasses
import pwd
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from appliance import __version__, clock
from appliance.agent import forwarding
from appliance.agent.logs import MAX_LINES, LogSource, read_logs
from appliance.agent.remote_command import Answer, RemoteCommand
from appliance.agent.remote_config import why_refused
from appliance.agent.restart import PROCESSES, Restarter
from appliance.agent.update_job import Updates, do_update
from appliance.config import Config
from appliance.marketplace.sync import sync_once
from appliance.store import agent_state, device_commands
from appliance.store.device_commands import CommandName

KIOSK_WAIT_S = 20
SECRET_FIELDS = ("password_file", "api_key_file", "key_file")


class BadArgs(ValueError):
    pass


@dataclasses.dataclass
class Handlers:
    """The command table; `telemetry_changed(period_s)` applies a new period and reports."""

    config: Config
    restarter: Restarter
    log_source: LogSource
    session: Callable[[], int]
    telemetry_changed: Callable[[int], None]
    updates: Updates

    def names(self) -> list[str]:
        return sorted(n.removeprefix("do_") for n in dir(self) if n.startswith("do_"))

    def run(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        handler = getattr(self, f"do_{command.name}", None)
        if handler is None:
            return Answer(
                False, error=f"unknown command {command.name!r}; known: {', '.join(self.names())}"
            )
        try:
            return handler(command, db)
        except BadArgs as exc:
            return Answer(False, error=str(exc))

    # -- commands ---------------------------------------------------------------------------------

    do_update = do_update  # download, verify, install, switch with a health gate (update_job)

    def do_ping(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        return Answer(
            True,
            {
                "pong": True,
                "version": __version__,
                "session": self.session(),
                "ts": clock.now_iso(),
            },
        )

    def do_status(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        """What an installer checks after switching a box on, from afar: the journal's chain
        walked whole, the config files' modes and owners, the card, the clock, the outbox."""
        from appliance.agent import telemetry
        from appliance.store import journal, outbox

        entries, broken = journal.verify(db)
        body = {
            "version": __version__,
            "session": self.session(),
            "journal": {
                "ok": broken is None,
                "entries": entries,
                "first_bad_entry": broken[0] if broken else None,
                "reason": broken[1] if broken else None,
            },
            "etc_files": _etc_files(self.config),
            "provisioning": telemetry.provisioning_state(self.config),
            "clock": telemetry.clock_state(),
            "outbox": {
                "events": db.execute("SELECT count(*) FROM outbox").fetchone()[0],
                "pending": outbox.pending_count(db, forwarding.DESTINATION),
            },
            "sales": _sales(db),
        }
        return Answer(True, body)

    def do_open_door(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        compartment = _int(command.args, "compartment", None, 1, 999)
        known = sorted(c.number for c in self.config.lockers.compartments)
        if self.config.lockers.controller == "none" or not known:
            raise BadArgs("this box has no lockers ([lockers] controller = none): no door to open")
        if compartment not in known:
            raise BadArgs(
                f"compartment {compartment} is not one of this box's: " + ", ".join(map(str, known))
            )
        reason = command.args.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise BadArgs("open_door needs a reason (args.reason), kept in the door audit trail")
        return self._ask_kiosk(
            command, db, CommandName.OPEN_DOOR, {"compartment": compartment}, reason.strip()
        )

    def do_print_test_label(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        reason = str(command.args.get("reason", "")) or "test label from the fleet console"
        return self._ask_kiosk(command, db, CommandName.PRINT_TEST_LABEL, {}, reason)

    def do_print_closing(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        """A closing (Z) printed on the kiosk's roll: `closing` N, or the last one."""
        args: dict[str, Any] = {}
        if "closing" in command.args:
            args["closing"] = _int(command.args, "closing", None, 1, 10**9)
        reason = str(command.args.get("reason", "")) or "Z from the fleet console"
        return self._ask_kiosk(command, db, CommandName.PRINT_CLOSING, args, reason)

    def do_sync_now(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        if not self.config.marketplace.url:
            return Answer(False, error="no marketplace here: [marketplace] url is not set")
        try:
            report = sync_once(self.config, db, clock.now())
        except Exception as exc:  # the sync's own failure is the answer, the agent keeps going
            return Answer(False, error=f"sync failed: {exc}")
        if not report.ok:
            details = "; ".join(f"{d.direction}: {d.error}" for d in report.directions if not d.ok)
            return Answer(False, error=f"sync incomplete: {details}")
        return Answer(True, report.as_dict())

    def do_pasteque_status(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        """The till gateway's whole status, as `comptoir pasteque status --json` prints it."""
        from appliance.pasteque.status import report

        return Answer(True, report(self.config, db))

    def do_restart(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        name = command.args.get("process")
        if name not in PROCESSES:
            raise BadArgs(f"restart needs args.process, one of {', '.join(PROCESSES)}")
        problem = self.restarter.available()
        if problem:
            return Answer(False, error=f"cannot restart {name}: {problem}")
        ok, message = self.restarter.restart(name)
        return (
            Answer(True, {"process": name, "message": message})
            if ok
            else Answer(False, error=message)
        )

    def do_get_logs(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        lines = _int(command.args, "lines", 100, 1, MAX_LINES)
        name = command.args.get("process", "agent")
        if name not in PROCESSES:
            raise BadArgs(f"get_logs args.process must be one of {', '.join(PROCESSES)}")
        try:
            found, truncated = read_logs(self.log_source, name, lines)
        except (OSError, TimeoutError) as exc:
            return Answer(False, error=f"logs cannot be read: {exc}")
        return Answer(True, {"process": name, "lines": found, "truncated": truncated})

    def do_set_telemetry_period(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        seconds = command.args.get("seconds")
        problem = why_refused("mqtt.telemetry_period_s", seconds)
        if problem:
            raise BadArgs(problem)
        agent_state.set_override(db, "mqtt.telemetry_period_s", seconds)
        self.telemetry_changed(cast(int, seconds))  # why_refused lets whole numbers only
        return Answer(True, {"telemetry_period_s": seconds})

    def do_get_config(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        return Answer(
            True, {"config": public_config(self.config), "overrides": agent_state.overrides(db)}
        )

    # -- helpers ----------------------------------------------------------------------------------

    def _ask_kiosk(
        self,
        command: RemoteCommand,
        db: sqlite3.Connection,
        name: CommandName,
        args: dict[str, Any],
        reason: str,
    ) -> Answer:
        wait_s = _int(command.args, "wait_s", KIOSK_WAIT_S, 1, 120)
        expires = command.expires_at or clock.now() + timedelta(seconds=wait_s)
        queued = device_commands.queue(
            db,
            name,
            args,
            requested_by=f"mqtt:{command.requested_by or 'admin'}",
            reason=reason,
            command_id=command.id,
            expires_at=clock.iso(expires),
        )
        done = device_commands.wait(db, queued.id, wait_s)
        if done is None or not done.finished:
            return Answer(
                False, error=f"queued, kiosk did not answer within {wait_s} s", final=False
            )
        result = done.result or {}
        if done.state == "done":
            return Answer(True, result)
        return Answer(False, error=str(result.get("error", done.state)))


def _etc_files(config: Config) -> list[dict[str, Any]]:
    """Each file beside comptoir.toml: mode and owner (all should be 600, the service user)."""
    if config.source is None:
        return []
    files = []
    for path in sorted(config.source.parent.iterdir()):
        status = path.stat()
        try:
            owner = pwd.getpwuid(status.st_uid).pw_name
        except KeyError:
            owner = str(status.st_uid)
        files.append({"name": path.name, "mode": f"{status.st_mode & 0o777:o}", "owner": owner})
    return files


def _sales(db: sqlite3.Connection) -> dict[str, int]:
    """What a power cut must neither lose nor double: the sales, the approved card payments
    without their sale, real or training (should be none), the sale events in the outbox (one
    per real sale)."""
    sales, last_receipt = db.execute(
        "SELECT count(*), coalesce(max(receipt_number), 0) FROM sales"
    ).fetchone()
    training = db.execute("SELECT count(*) FROM training_sales").fetchone()[0]
    orphans = db.execute(
        "SELECT count(*) FROM payment_attempts WHERE state IN ('approved', 'charged') "
        "AND id NOT IN (SELECT attempt_id FROM sales) "
        "AND id NOT IN (SELECT attempt_id FROM training_sales)"
    ).fetchone()[0]
    events = db.execute("SELECT count(*) FROM outbox WHERE type = 'sale'").fetchone()[0]
    return {
        "sales": sales,
        "last_receipt": last_receipt,
        "training_sales": training,
        "approved_without_sale": orphans,
        "sale_events": events,
    }


def public_config(config: Config) -> dict[str, Any]:
    """The config as JSON, secret file paths masked."""

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if key in SECRET_FIELDS and value is not None:
            return "(hidden)"
        if isinstance(value, Path):
            return str(value)
        return value

    return clean(dataclasses.asdict(config))


def _int(args: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadArgs(f"args.{key} = {value!r} is wrong: expected a whole number {low} to {high}")
    return value
