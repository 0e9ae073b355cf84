"""The health gate: is the whole box well on the new release, and for long enough?

For `health_s` after the switch: no unit may die or hang (the service manager restarting it
is enough to fail); at the end each unit must be up, each unit with a watchdog must have
pinged it since the switch, the kiosk must have written a fresh heartbeat, the agent must be
online on the broker as the new version (its retained status, seen with the box's own
identity), and the journal must verify. Run by the updater: the known-good release's code.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.release.services import UNITS, Services, UnitState
from appliance.store import agent_state, journal

TICK_S = 1.0
SETTLE_TICK_S = 2.0  # final() verifies the journal: not every second on a big one


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


class BrokerWatch:
    """The box's own retained status on the broker, followed with the box's identity."""

    def __init__(self, config: Config) -> None:
        from appliance.agent import topics
        from appliance.agent.link import LinkSettings, make_client

        mqtt = config.mqtt
        self.status: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.client, address = make_client(
            LinkSettings(
                mqtt.url,
                mqtt.username,
                mqtt.password_file,
                mqtt.ca_file,
                mqtt.cert_file,
                mqtt.key_file,
            ),
            client_id=f"comptoir-{config.device.id}-update",
        )
        topic = topics.status(config.device.id)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(topic, 1)
        self.client.on_message = self._on_message
        self.client.connect_async(address.host, address.port, keepalive=30)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            body = json.loads(message.payload)
        except ValueError:
            return
        with self._lock:
            self.status = body if isinstance(body, dict) else None

    def problem(self, version: str, session_before: int) -> str:
        with self._lock:
            status = self.status
        if (
            status
            and status.get("state") in ("online", "alert")
            and status.get("version") == version
            and int(status.get("session") or 0) > session_before
        ):
            return ""
        seen = json.dumps(status) if status else "nothing"
        return f"the agent did not come back online on the broker as {version} (status: {seen})"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Gate:
    def __init__(
        self,
        config: Config,
        services: Services,
        db: sqlite3.Connection,
        *,
        version: str,
        since: float,
        session_before: int,
        broker: BrokerWatch | None,
    ) -> None:
        self.config = config
        self.services = services
        self.db = db
        self.version = version
        self.since = since
        self.session_before = session_before
        self.broker = broker
        self.baseline = {unit: services.state(unit).restarts for unit in UNITS}

    def fatal(self) -> list[str]:
        """Problems that end the gate at once: a unit died, hung or gave up."""
        found = []
        for unit in UNITS:
            state = self.services.state(unit)
            if state.failed:
                found.append(f"{unit} failed (it kept stopping: start limit hit)")
            elif state.restarts > self.baseline[unit]:
                times = state.restarts - self.baseline[unit]
                found.append(
                    f"{unit} stopped by itself {times} time(s) since the switch (it exits or hangs)"
                )
        return found

    def final(self) -> list[str]:
        """Everything that must hold at the end of the gate."""
        now = time.time()
        found = self.fatal()
        for unit in UNITS:
            found += _unit_problems(self.services.state(unit), self.since, now)
        beats = agent_state.heartbeats(self.db)
        kiosk = beats.get("kiosk")
        since_iso = clock.iso(datetime.fromtimestamp(self.since, UTC))
        if kiosk is None or kiosk.beat_at < since_iso or not kiosk.alive(clock.now()):
            found.append("the kiosk wrote no fresh heartbeat since the switch")
        if self.broker is not None:
            problem = self.broker.problem(self.version, self.session_before)
            if problem:
                found.append(problem)
        _count, broken = journal.verify(self.db)
        if broken is not None:
            found.append(f"journal verify failed at entry {broken[0]}: {broken[1]}")
        return list(dict.fromkeys(found))


def _unit_problems(state: UnitState, since: float, now: float) -> list[str]:
    if not state.active:
        return [f"{state.name} is not running"]
    if state.watchdog_s and (state.last_ping < since or now - state.last_ping > state.watchdog_s):
        return [f"{state.name} did not ping its watchdog since the switch"]
    return []


def run(gate: Gate, health_s: float, *, tick: Callable[[], None] = lambda: None) -> Verdict:
    """Watch for `health_s`; fail at the first fatal problem, else judge at the end.

    A box slow to start (a loaded Pi, a big database) gets up to `health_s` more for what is
    only not there yet (a first heartbeat, the agent back online), as long as nothing dies: a
    slow start is not a reason to roll back; a unit that stops by itself still is."""
    deadline = time.monotonic() + health_s
    while time.monotonic() < deadline:
        problems = gate.fatal()
        if problems:
            return Verdict(False, tuple(problems))
        tick()
        time.sleep(min(TICK_S, max(0.0, deadline - time.monotonic())))
    settled_by = time.monotonic() + health_s
    while (problems := gate.final()) and not gate.fatal() and time.monotonic() < settled_by:
        tick()
        time.sleep(min(SETTLE_TICK_S, max(0.0, settled_by - time.monotonic())))
    return Verdict(not problems, tuple(problems))
