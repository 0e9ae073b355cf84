"""The kiosk's heartbeat for the agent's telemetry, and the catalogue following the database.

Two small threads of the device layer, each with its own database connection:
- `Heartbeat` writes `agent_state.beat(db, "kiosk", ...)` every few seconds with one plain word
  per device ("ok", "missing", "paper_out", "not_configured", ...), so the agent can tell a
  wedged kiosk from a dead scale without ever opening a device itself.
- `CatalogueWatch` asks `PRAGMA data_version` on a short timer (it changes only when another
  connection commits: a price edited in the web admin, an import, a marketplace sync) and hands
  the product list to `on_change` when it differs; the journey decides when to show it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from appliance.config import Haccp
from appliance.core.catalogue import Product
from appliance.core.weighing import ReadingStatus
from appliance.devices.sensors.ds18b20 import DEVICES
from appliance.store import agent_state
from appliance.store.alerts import Alarm, open_alerts
from appliance.store.catalogue import list_products
from appliance.store.db import CommitWatch, open_database

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
STALE_AFTER_S = 15
CATALOGUE_CHECK_S = 1.0
NOT_CONFIGURED = "not_configured"


def scale_word(status: ReadingStatus | None) -> str:
    if status is None:
        return "starting"
    if status in (ReadingStatus.ERROR, ReadingStatus.TIMEOUT):
        return "missing"
    return "overload" if status is ReadingStatus.OVERLOAD else "ok"


def sensors_word(haccp: Haccp) -> str:
    """Whether every configured 1-wire sensor is on the bus (the agent logs their readings)."""
    sensors = [s for zone in haccp.zones for s in zone.sensors]
    if not sensors:
        return NOT_CONFIGURED
    present = all((haccp.w1_root / DEVICES / s / "w1_slave").exists() for s in sensors)
    return "ok" if present else "missing"


class _Loop:
    """A daemon thread that runs `step` every `interval_s` on its own connection."""

    def __init__(self, database_path: Path, interval_s: float, name: str) -> None:
        self.database_path = database_path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def step(self, db: sqlite3.Connection) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        db = open_database(self.database_path)
        try:
            while True:
                try:
                    self.step(db)
                except Exception:  # the database busy for a moment: try again next time
                    log.exception("%s failed", self._thread.name)
                if self._stop.wait(self.interval_s):
                    return
        finally:
            db.close()


class Heartbeat(_Loop):
    """The beat, and at each beat the tables the agent's database check found damaged (its open
    `database_damaged` alerts): `on_damage` hears when that set changes."""

    def __init__(
        self,
        database_path: Path,
        health: Callable[[], dict[str, str]],
        *,
        interval_s: float = HEARTBEAT_S,
        on_damage: Callable[[frozenset[str]], None] | None = None,
    ) -> None:
        super().__init__(database_path, interval_s, "kiosk-heartbeat")
        self.health = health
        self.on_damage = on_damage
        self._damaged: frozenset[str] = frozenset()

    def step(self, db: sqlite3.Connection) -> None:
        if self.on_damage is not None:
            damaged = frozenset(a.subject for a in open_alerts(db, Alarm.DATABASE_DAMAGED))
            if damaged != self._damaged:
                log.warning("damaged tables: %s", ", ".join(sorted(damaged)) or "none")
                self._damaged = damaged
                self.on_damage(damaged)
        agent_state.beat(db, "kiosk", stale_after_s=STALE_AFTER_S, detail=self.health())


class CatalogueWatch(_Loop):
    def __init__(
        self,
        database_path: Path,
        on_change: Callable[[tuple[Product, ...]], None],
        *,
        interval_s: float = CATALOGUE_CHECK_S,
    ) -> None:
        super().__init__(database_path, interval_s, "catalogue-watch")
        self.on_change = on_change
        self._commits = CommitWatch()
        self._products: tuple[Product, ...] | None = None

    def step(self, db: sqlite3.Connection) -> None:
        if not self._commits.changed(db):
            return
        products = tuple(list_products(db, active_only=True))
        if self._products is not None and products != self._products:
            log.info("catalogue changed: %d products", len(products))
            self.on_change(products)
        self._products = products
