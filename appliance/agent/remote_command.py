"""A command from the fleet admin as it arrives on `cmd/<name>`, checked before anything runs.

A retained, oversized, malformed or expired command is refused with a reason; the agent answers
and keeps running. The answer goes to `result/<command id>`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_COMMAND_BYTES = 16 * 1024
COMMAND_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Where a command too broken to carry a usable id is answered.
INVALID_ID = "invalid"


@dataclass(frozen=True)
class RemoteCommand:
    id: str
    name: str
    args: dict[str, Any]
    expires_at: datetime | None
    requested_by: str


@dataclass(frozen=True)
class Answer:
    """What the box says back; `final=False` answers are not recorded (asking again re-checks)."""

    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    final: bool = True

    def payload(self, command_id: str) -> dict[str, Any]:
        if self.ok:
            return {"id": command_id, "ok": True, "result": self.result}
        return {"id": command_id, "ok": False, "error": self.error}


class Refused(Exception):
    """The command cannot run; `command_id` is where to answer."""

    def __init__(self, command_id: str, reason: str) -> None:
        super().__init__(reason)
        self.command_id = command_id
        self.reason = reason


def parse(name: str, payload: bytes, *, retained: bool, now: datetime) -> RemoteCommand:
    """Check one incoming command; raises Refused with the reason a person can act on."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise Refused(
            _guess_id(payload),
            f"command too large: {len(payload)} bytes, the limit is {MAX_COMMAND_BYTES}",
        )
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(INVALID_ID, 'command is not JSON: expected {"id": ..., "args": {}}') from None
    if not isinstance(body, dict):
        raise Refused(INVALID_ID, "command is not a JSON object")
    command_id = body.get("id")
    if not isinstance(command_id, str) or not COMMAND_ID.fullmatch(command_id):
        raise Refused(
            INVALID_ID, "command id missing or wrong: expected 1 to 64 of A-Z a-z 0-9 _ . : -"
        )
    if "/" in name:
        raise Refused(
            command_id, f"no command {name!r}: a command topic is cmd/<name>, with one level"
        )
    if retained:
        raise Refused(
            command_id,
            "retained commands are refused (and cleared from the broker): publish commands "
            "with retain off",
        )
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise Refused(command_id, "args must be a JSON object")
    expires_at = None
    if body.get("expires_at") is not None:
        expires_at = _parse_time(body["expires_at"], command_id)
        if expires_at <= now:
            raise Refused(command_id, f"command expired at {body['expires_at']}")
    by = body.get("by", "")
    return RemoteCommand(command_id, name, args, expires_at, by if isinstance(by, str) else "")


def _parse_time(value: Any, command_id: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        raise Refused(
            command_id, f"expires_at {value!r} is wrong: expected ISO 8601 with a UTC offset"
        )
    return when


def _guess_id(payload: bytes) -> str:
    """The id of an oversized command, if its first bytes say it, so the admin hears back."""
    match = re.match(rb'\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_.:-]{1,64})"', payload)
    return match[1].decode() if match else INVALID_ID
