"""Settings the admin changes remotely: `config/desired` in, `config/reported` out (Shadow-like).

The desired document is `{"version": N, "settings": {"section.key": value, ...}}`, the whole set
of overrides: a key no longer listed goes back to the config file's value. Only keys the agent
can validate and apply live are accepted; the others are refused with why. The accepted set is
kept in the database, so it survives a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from appliance import config as config_module
from appliance.config import Config
from appliance.errors import ConfigError

LIVE_KEYS = ("mqtt.telemetry_period_s",)


@dataclass(frozen=True)
class LiveSettings:
    """The settings in force now: the config file, then the remote overrides."""

    telemetry_period_s: int

    @classmethod
    def of(cls, config: Config, overrides: dict[str, Any]) -> LiveSettings:
        return cls(
            telemetry_period_s=overrides.get(
                "mqtt.telemetry_period_s", config.mqtt.telemetry_period_s
            )
        )


@dataclass(frozen=True)
class Decision:
    version: int
    accepted: dict[str, Any] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


class BadDesired(ValueError):
    """The desired document as a whole is unusable."""


def why_refused(key: str, value: Any) -> str:
    """'' when `key = value` can be applied live, else the reason it cannot."""
    if key not in LIVE_KEYS:
        return f"{key} cannot be changed remotely; live settings: {', '.join(LIVE_KEYS)}"
    section, _, name = key.partition(".")
    try:
        config_module.from_dict({section: {name: value}})
    except ConfigError as exc:
        return str(exc)
    return ""


def decide(payload: bytes) -> Decision:
    """Split a desired document into what can be applied and what is refused."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadDesired("desired config is not JSON") from None
    if not isinstance(body, dict):
        raise BadDesired("desired config is not a JSON object")
    version, settings = body.get("version"), body.get("settings", {})
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BadDesired("desired config needs a whole version number of at least 1")
    if not isinstance(settings, dict):
        raise BadDesired("desired settings must be a JSON object of section.key: value")
    decision = Decision(version)
    for key, value in settings.items():
        reason = why_refused(key, value)
        if reason:
            decision.refused[key] = reason
        else:
            decision.accepted[key] = value
    return decision


def reported(
    version: int, applied: dict[str, Any], refused: dict[str, str], ts: str, error: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {"version": version, "applied": applied, "refused": refused, "ts": ts}
    if error:
        body["error"] = error
    return body
