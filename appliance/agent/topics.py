"""The topic tree of the fleet: `comptoir/v1/<device id>/...` (see docs/mqtt.md).

Each device only ever touches its own subtree (the broker's ACL enforces it); the admin reads
everything and writes only `cmd/...` and `config/desired`.
"""

from __future__ import annotations

import re

from appliance.errors import UsageError

ROOT = "comptoir/v1"
SHARE_GROUP = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def base(device_id: str) -> str:
    return f"{ROOT}/{device_id}"


def status(device_id: str) -> str:
    return f"{base(device_id)}/status"


def telemetry(device_id: str) -> str:
    return f"{base(device_id)}/tele/state"


def event(device_id: str, event_type: str) -> str:
    return f"{base(device_id)}/event/{event_type}"


def archive(device_id: str, number: int) -> str:
    """A monthly fiscal archive's zip (docs/fiscal.md), retained for the fleet's storage."""
    return f"{base(device_id)}/archive/{number}"


def fiscal_key(device_id: str) -> str:
    """The box's public signing key (retained): anyone checks its fiscal records with it."""
    return f"{base(device_id)}/fiscal/public_key"


def command(device_id: str, name: str) -> str:
    return f"{base(device_id)}/cmd/{name}"


def result(device_id: str, command_id: str) -> str:
    return f"{base(device_id)}/result/{command_id}"


def desired(device_id: str) -> str:
    return f"{base(device_id)}/config/desired"


def reported(device_id: str) -> str:
    return f"{base(device_id)}/config/reported"


def update(device_id: str) -> str:
    """The state of the box's latest update job (retained, see docs/updates.md)."""
    return f"{base(device_id)}/update"


def shared(group: str, topic_filter: str) -> str:
    """`topic_filter` as an MQTT shared subscription: the group's members split its messages."""
    if not SHARE_GROUP.fullmatch(group):
        raise UsageError(
            f"shared subscription group {group!r} is wrong: expected 1 to 64 of A-Z a-z 0-9 _ . -"
        )
    return f"$share/{group}/{topic_filter}"


def split(topic: str) -> tuple[str, str, str]:
    """(device id, kind, rest) of a fleet topic: ("box-1", "cmd", "ping")."""
    parts = topic.split("/", 4)
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != ROOT:
        return "", "", ""
    return parts[2], parts[3], parts[4] if len(parts) > 4 else ""
