"""The agent's fiscal jobs: closings at the closing hour, clock jumps, the privacy purge.

Called from the agent's main loop; each round opens its own connection (so the outbox
forwarder notices the closings' events through `PRAGMA data_version`) and a failing round is
logged while the agent goes on. Closings need neither the kiosk nor the network: a box alone in
an empty shop closes its day at night, and a day missed while the box was off is closed at
the next start, for the right period.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from appliance import clock
from appliance.config import Config
from appliance.core.fiscal import RecordType
from appliance.store import archives, closings, fiscal, privacy, technical_events
from appliance.store.db import disk_full, open_database, transaction
from appliance.store.technical_events import EventKind

log = logging.getLogger(__name__)

#: How often the jobs look whether something is due.
ROUND_S = 30.0
#: A wall clock that moved this much more (or less) than the monotonic clock jumped.
CLOCK_JUMP_S = 120


def run_forever(config: Config, db: sqlite3.Connection, stop: threading.Event) -> None:
    """The jobs on their own until `stop`, for the demo's desk box that runs no agent. The
    mode is recorded first, so the first closings say DÉMO even before the kiosk starts."""
    technical_events.sync_mode(db, config.shop.mode, by="demo")
    jobs = FiscalJobs(config)
    while not stop.is_set():
        jobs.tick()
        stop.wait(1.0)


class FiscalJobs:
    def __init__(
        self,
        config: Config,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        publish: Callable[[int, bytes], bool] | None = None,
    ) -> None:
        self.config = config
        self.settings = closings.ClosingSettings.of(config)
        self._wall = wall
        self._monotonic = monotonic
        self._offset = wall() - monotonic()
        self._next_round = 0.0
        self._publish = publish

    def tick(self) -> None:
        """One look, at most every ROUND_S seconds."""
        if self._monotonic() < self._next_round:
            return
        self._next_round = self._monotonic() + ROUND_S
        db = open_database(self.config.database_path)
        try:
            self._round(db)
        except Exception as exc:
            if not disk_full(exc):
                log.exception("fiscal jobs failed this round; the agent goes on")
            else:  # nothing was written: the same round is made again once there is room
                log.warning("fiscal jobs wait for room on the disk (%s)", exc)
        finally:
            db.close()

    def _round(self, db: sqlite3.Connection) -> None:
        self._check_clock(db)
        now = datetime.fromtimestamp(self._wall(), UTC)
        for record in closings.run_due(
            db, self.settings, now, self.config.shop.closing_hour, by="agent"
        ):
            log.info(
                "closing %d made: %s %s", record.number, record.data["period"], record.data["label"]
            )
        self._archive_months(db, now)
        self._send_archives(db)
        purged = privacy.purge_contacts(db, self.config.privacy.keep_contact_days, now, by="agent")
        if purged:
            log.info("contact details of %d orders erased", purged)

    def _archive_months(self, db: sqlite3.Connection, now: datetime) -> None:
        """An archive for each finished month since the last one, once its closings are made
        (after the closing hour of the month's first day)."""
        local = now.astimezone(self.settings.zone)
        if local.hour < self.config.shop.closing_hour:
            local -= timedelta(days=1)
        this_month = local.date().replace(day=1)
        for first, last in archives.months_to_archive(db, self.settings.zone, this_month):
            name = archives.default_name(self.config.device.id, first, last)
            made = archives.make_archive(
                db,
                first,
                last,
                self.config.device.data_dir / "archives" / name,
                box=self.config.device.id,
                zone=self.settings.zone,
                fiscal_year_start_month=self.config.shop.fiscal_year_start_month,
                by="agent",
            )
            log.info("archive %d made: %s", made.number, made.path)

    def _send_archives(self, db: sqlite3.Connection) -> None:
        """Every archive not yet acknowledged by the broker, oldest first."""
        if self._publish is None:
            return
        sent = int(fiscal.state(db, "archives_sent") or 0)
        for record in fiscal.records(db, RecordType.ARCHIVE, after=sent):
            path = self.config.device.data_dir / "archives" / record.data["file"]
            if not path.is_file():
                log.warning("archive %d is not in %s: not sent", record.number, path.parent)
            elif not self._publish(record.number, path.read_bytes()):
                return  # the broker is away: next round
            with transaction(db):
                fiscal.set_state(db, "archives_sent", str(record.number))

    def _check_clock(self, db: sqlite3.Connection) -> None:
        offset = self._wall() - self._monotonic()
        jump = offset - self._offset
        if abs(jump) > CLOCK_JUMP_S:
            technical_events.record(
                db,
                EventKind.CLOCK_JUMP,
                {
                    "from": clock.iso(
                        datetime.fromtimestamp(self._monotonic() + self._offset, UTC)
                    ),
                    "to": clock.iso(datetime.fromtimestamp(self._wall(), UTC)),
                    "seconds": int(jump),
                },
                by="agent",
            )
            log.warning("the wall clock jumped by %d s", int(jump))
        self._offset = offset
