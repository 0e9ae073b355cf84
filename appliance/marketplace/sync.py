"""Keeping the shop and the marketplace in step: every direction once, on a timer, or by hand.

Down: the hub's catalogue (`hub_catalogue`) and the orders to hand out here
(`orders_to_hand_out`). Up: pickups (`pickups`) and stock sold on site (`on_site_sales`, or
`shop_sales_order` when `[marketplace] shop_sales_order` is set). Pickups and sales arrive
through the outbox (destination `marketplace`); they are copied into the sync's own queues in
the transaction that moves the cursor, so nothing is lost offline and one stuck report never
holds back the others. The agent, the lockers code and `comptoir sync` call `sync_once`,
`run_forever` and `reread_order` from here.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.core.order import Order
from appliance.errors import ComptoirError
from appliance.marketplace import (
    hub_catalogue,
    on_site_sales,
    orders_to_hand_out,
    pickups,
    shop_sales_order,
)
from appliance.marketplace.client import (
    Client,
    MarketplaceAuthError,
    MarketplaceError,
    MarketplaceUnavailable,
    read_api_key,
)
from appliance.store import agent_state, outbox
from appliance.store.db import transaction
from appliance.store.sync_state import directions

log = logging.getLogger(__name__)

DESTINATION = "marketplace"
HEARTBEAT = "sync"
Step = Callable[[Config, sqlite3.Connection, Client, datetime], tuple[int, int]]


@dataclass(frozen=True)
class DirectionReport:
    direction: str
    ok: bool
    changed: int = 0
    skipped: int = 0
    error: str = ""


@dataclass(frozen=True)
class SyncReport:
    at: str
    directions: tuple[DirectionReport, ...]
    requests: int

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.directions)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


#: At the locker door a customer is waiting: one try, a short timeout, then the local copy.
AT_THE_DOOR_TIMEOUT_S = 5


def client_for(
    config: Config, sleep: Callable[[float], object] = time.sleep, *, at_the_door: bool = False
) -> Client:
    """A client for `[marketplace]`; a missing url, hub or key is an error the admin can fix."""
    m = config.marketplace
    if not m.url:
        raise MarketplaceError("[marketplace] url is not set: put the instance's address there")
    if not m.hub_id:
        raise MarketplaceError("[marketplace] hub_id is not set: put the hub's enterprise id there")
    key = read_api_key(m.api_key_file)
    if at_the_door:
        timeout_s = min(m.timeout_s, AT_THE_DOOR_TIMEOUT_S)
        return Client(m.url, key, timeout_s=timeout_s, key_file=m.api_key_file, attempts=1)
    return Client(m.url, key, timeout_s=m.timeout_s, key_file=m.api_key_file, sleep=sleep)


def sync_once(
    config: Config,
    db: sqlite3.Connection,
    now: datetime,
    *,
    client: Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Every direction once, then a heartbeat. The marketplace down or the key refused stops
    the round early: the directions left are recorded as failed with the same error."""
    client = client or client_for(config, sleep)
    at = clock.iso(now)
    take_outbox(db)
    stock = shop_sales_order.report if config.marketplace.shop_sales_order else None
    steps: list[tuple[str, Step]] = [
        ("pickups", pickups.report),
        ("catalogue", hub_catalogue.download),
        ("orders", orders_to_hand_out.download),
        ("stock", stock or on_site_sales.write_stock),
    ]
    reports = []
    stopped = ""
    for name, step in steps:
        error = stopped
        if not error:
            try:
                changed, skipped = step(config, db, client, now)
            except (MarketplaceUnavailable, MarketplaceAuthError) as exc:
                error = stopped = str(exc)
            except MarketplaceError as exc:
                error = str(exc)
            else:
                reports.append(DirectionReport(name, True, changed, skipped))
                continue
        reports.append(DirectionReport(name, False, error=error))
        with transaction(db):
            directions.record_error(db, name, at, error)
    report = SyncReport(at, tuple(reports), client.requests)
    beat(config, db, ok=report.ok)
    return report


def run_forever(
    config: Config,
    db: sqlite3.Connection,
    stop_event: threading.Event,
    *,
    now: Callable[[], datetime] = clock.now,
) -> None:
    """The agent's loop: a sync every `sync_interval_s` until `stop_event` is set.

    A marketplace down, a refused key or a bad setting is logged, shown in the heartbeat, and
    the next round tries again; anything else (a bug, a broken database) escapes to the agent's
    `SyncLoop`, which counts it and starts the loop again. Backoff pauses end with the event.
    """
    while not stop_event.is_set():
        try:
            client = client_for(config, sleep=stop_event.wait)
            report = sync_once(config, db, now(), client=client)
            if not report.ok:
                log.warning("marketplace sync incomplete: %s", _first_error(report))
        except ComptoirError as exc:
            log.error("marketplace sync: %s", exc)
            beat(config, db, ok=False, error=str(exc))
        stop_event.wait(config.marketplace.sync_interval_s)


def reread_order(
    config: Config, db: sqlite3.Connection, number: str, *, client: Client | None = None
) -> Order | None:
    """Read one order again right now (at deposit and at pickup): a cancelled or edited order
    is never handed out from stale data. Raises MarketplaceUnavailable when offline; someone is
    waiting at the door, so it tries once, for at most a few seconds."""
    client = client or client_for(config, at_the_door=True)
    return orders_to_hand_out.reread(config, db, client, number, clock.now())


def take_outbox(db: sqlite3.Connection) -> int:
    """Copy new pickups and on-site sales from the outbox into the sync's own queues."""
    takers = {"order_collected": pickups.take, "sale": on_site_sales.take}
    taken = 0
    while events := outbox.pending(db, DESTINATION, 200, tuple(takers)):
        with transaction(db):
            for event in events:
                takers[event.type](db, event)
            outbox.acknowledge(db, DESTINATION, events[-1].id)
        taken += len(events)
    return taken


def beat(config: Config, db: sqlite3.Connection, *, ok: bool, error: str = "") -> None:
    """The sync's heartbeat for telemetry: how each direction last went, what waits."""
    waiting = directions.waiting(db)
    states = directions.states(db)
    detail = {
        "ok": ok,
        "last_success": {d.direction: d.last_success_at for d in states},
        "last_error": error or next((d.last_error for d in states if d.last_error), ""),
        "pickups_to_report": waiting["pickups_to_report"],
        "pickups_refused": waiting["pickups_refused"],
        "sale_lines_to_report": waiting["sale_lines_to_report"],
    }
    # A round may run long on a slow marketplace (timeouts and backoff): allow two of them.
    stale_after_s = 2 * config.marketplace.sync_interval_s + 600
    agent_state.beat(db, HEARTBEAT, stale_after_s=stale_after_s, detail=detail)


def _first_error(report: SyncReport) -> str:
    return next((f"{d.direction}: {d.error}" for d in report.directions if d.error), "")
