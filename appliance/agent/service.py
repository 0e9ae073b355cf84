"""The agent process: the box's MQTT link to the fleet broker (see docs/mqtt.md).

Threads: paho's network thread (connects, reconnects, receives), a few command workers (a door
opening may wait for the kiosk), the marketplace sync loop when configured, and the main loop
(outbox forwarding, telemetry, heartbeat, systemd watchdog). Each thread has its own database
connection. The agent never drives hardware: door and label commands go to the kiosk's queue.

Without `[mqtt] url` (a shop with no fleet) the agent runs without a broker: no link, no
telemetry, but the box's own jobs still run, closings at night first among them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from appliance import __version__, clock
from appliance.agent import cold_chain, pasteque_loop, remote_config, telemetry, topics
from appliance.agent.db_check import DatabaseCheck
from appliance.agent.fiscal_jobs import FiscalJobs
from appliance.agent.forwarding import OutboxForwarder
from appliance.agent.handlers import Handlers
from appliance.agent.link import LinkSettings, make_client
from appliance.agent.logs import LogSource, secrets_of
from appliance.agent.remote_command import Answer, Refused, parse
from appliance.agent.remote_config import BadDesired, LiveSettings
from appliance.agent.restart import Restarter
from appliance.agent.sync_loop import SyncLoop
from appliance.agent.update_job import Reporter, Updates
from appliance.config import Config
from appliance.marketplace.sync import run_forever
from appliance.store import agent_state, fiscal_key, technical_events
from appliance.store.db import disk_full, open_database
from appliance.systemd_notify import Notifier

log = logging.getLogger(__name__)

HEARTBEAT_S = 10
DISK_FULL = "the box's disk is full: the command was not run; free space in the data directory"
IDLE_TICK_S = 1.0


class Agent:
    def __init__(self, config: Config, *, restarter: Restarter | None = None) -> None:
        self.config = config
        self.device_id = config.device.id
        self._local = threading.local()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._desired_lock = threading.Lock()
        db = self.db()
        self.settings = LiveSettings.of(config, agent_state.overrides(db))
        self.session = agent_state.counter(db, agent_state.SESSION)
        #: The status last published, with its reasons: republished when either changes.
        self._status: tuple[str, list[str]] = ("", [])
        self._telemetry_at = 0.0
        self._heartbeat_at = 0.0
        self._cold_chain_at = 0.0
        self._full = False  # a write was refused for want of room, none succeeded since
        mqtt_config = config.mqtt
        #: Whether there is a fleet broker; without one, `_connected` is never set, so nothing
        #: is ever published and the outbox keeps its events for the day a broker is set.
        self.linked = bool(mqtt_config.url)
        self.client, self.address = make_client(
            LinkSettings(
                mqtt_config.url or "mqtt://127.0.0.1",
                mqtt_config.username,
                mqtt_config.password_file,
                mqtt_config.ca_file,
                mqtt_config.cert_file,
                mqtt_config.key_file,
            ),
            client_id=f"comptoir-{self.device_id}",
        )
        self.client.max_inflight_messages_set(100)
        self.client.on_pre_connect = self._on_pre_connect
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.forwarder = OutboxForwarder(self.client, self.device_id)
        log_file = mqtt_config.log_file
        if not log_file.is_absolute():
            log_file = config.device.data_dir / log_file
        self.handlers = Handlers(
            config=config,
            restarter=restarter or Restarter(mqtt_config.restart_command),
            log_source=LogSource(
                mqtt_config.logs_source,
                log_file,
                secrets_of(
                    (
                        mqtt_config.password_file,
                        mqtt_config.key_file,
                        config.marketplace.api_key_file,
                        config.pasteque.password_file,
                        config.smtp.password_file,
                        config.lockers.device_key_file,
                        config.device.data_dir / "web_secret_key",
                    )
                ),
                supervisor_logs=config.updates.root / "logs",
            ),
            session=lambda: self.session,
            telemetry_changed=self._telemetry_changed,
            updates=Updates(config, self._stop),
        )
        self.update_reporter = Reporter(self._publish_update)
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="agent-cmd")
        self.sync_loop: SyncLoop | None = None
        self.database_check = DatabaseCheck(config.database_path, config.device.timezone)
        self.fiscal_jobs = FiscalJobs(config, publish=self._publish_archive)
        self.pasteque_loop: SyncLoop | None = None

    def db(self) -> sqlite3.Connection:
        """This thread's own connection to the shared database."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_database(self.config.database_path)
        return db

    # -- lifecycle --------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect and serve until `stop()`; the broker may be away at start or at any time."""
        notifier = Notifier()
        with self._unless_disk_full():
            technical_events.process_started(self.db(), self.config, "agent")
        if self.linked:
            self.client.connect_async(self.address.host, self.address.port, keepalive=30)
            self.client.loop_start()
            # host and port only: a URL may carry a user and password
            where = f"broker {self.address.host}:{self.address.port}"
        else:
            where = "no broker ([mqtt] url not set): closings, archives and checks run here only"
        self._start_sync()
        self.handlers.updates.resume(self.db())
        self.pasteque_loop = pasteque_loop.start(self.config, self._stop)
        notifier.ready(where)
        log.info("agent %s started, %s", self.device_id, where)
        try:
            while not self._stop.is_set():
                busy = self._tick()
                notifier.watchdog()
                if not busy:
                    self._wake.wait(IDLE_TICK_S)
                    self._wake.clear()
        finally:
            self._shut_down()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _shut_down(self) -> None:
        """A clean stop says offline itself (the will only fires on an unclean loss)."""
        if self._connected.is_set():
            info = self._publish_status("offline")
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=5)
        self._workers.shutdown(wait=False, cancel_futures=True)
        if self.linked:
            self.client.disconnect()
            self.client.loop_stop()
        with self._unless_disk_full():
            technical_events.process_stopped(self.db(), "agent")

    def _tick(self) -> bool:
        db = self.db()
        now = time.monotonic()
        if now >= self._heartbeat_at:
            self._heartbeat_at = now + HEARTBEAT_S
            # The kiosk's installer screen says whether the box reached the fleet's broker.
            broker = "connected" if self._connected.is_set() else "offline" if self.linked else ""
            with self._unless_disk_full():
                agent_state.beat(
                    db, "agent", stale_after_s=3 * HEARTBEAT_S, detail={"broker": broker}
                )
                if self._full:
                    log.info("room on the disk again: the agent writes again")
                    self._full = False
        if self.config.haccp.zones and now >= self._cold_chain_at:
            self._cold_chain_at = now + self.config.haccp.interval_s
            self._log_temperatures()
        self.fiscal_jobs.tick()
        self.database_check.tick()
        if self._connected.is_set():
            self.update_reporter.step(db)
        busy = False
        with self._unless_disk_full():  # the batch stays in flight, its cursor moved later
            busy = self.forwarder.step(db, self._connected.is_set())
        if self._connected.is_set() and now >= self._telemetry_at:
            self._telemetry_at = now + self.settings.telemetry_period_s
            self._publish_telemetry(db)
        return busy

    @contextlib.contextmanager
    def _unless_disk_full(self) -> Iterator[None]:
        """A write the full disk refused is skipped, said once: the agent stays up and linked,
        its telemetry and status say `disk full`, and the write is made again once there is
        room (the heartbeat's success says when)."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            if not disk_full(exc):
                raise
            if not self._full:
                log.warning("disk full: the agent writes nothing until there is room (%s)", exc)
                self._full = True

    def _log_temperatures(self) -> None:
        """One round of the cold-chain log; a failing round is logged, the agent goes on.

        Its own connection: the forwarder notices new events by `PRAGMA data_version`, which
        does not move for writes made through the forwarder's connection.
        """
        db = open_database(self.config.database_path)
        try:
            cold_chain.log_once(self.config, db, clock.now())
        except Exception as exc:
            if not disk_full(exc):
                log.exception("temperature logging failed this round")
            else:
                log.warning("temperatures not logged this round: the disk is full (%s)", exc)
        finally:
            db.close()

    def _start_sync(self) -> None:
        """The marketplace sync in its own thread, when `[marketplace] url` is set."""
        if not self.config.marketplace.url:
            return
        self.sync_loop = SyncLoop(
            lambda stop: run_forever(self.config, self.db(), stop), self._stop
        )
        self.sync_loop.start()

    # -- status and telemetry ---------------------------------------------------------------------

    def _publish_status(self, state: str, reasons: list[str] | None = None) -> mqtt.MQTTMessageInfo:
        self._status = (state, reasons or [])
        body: dict[str, Any] = {
            "state": state,
            "session": self.session,
            "version": __version__,
            "ts": clock.now_iso(),
        }
        if reasons:
            body["reasons"] = reasons
        return self.client.publish(
            topics.status(self.device_id), json.dumps(body), qos=1, retain=True
        )

    def _publish_telemetry(self, db: sqlite3.Connection) -> None:
        body = telemetry.snapshot(
            self.config,
            db,
            session=self.session,
            period_s=self.settings.telemetry_period_s,
            forwarded=self.forwarder.forwarded,
            sync_loop=self.sync_loop.state() if self.sync_loop else None,
            pasteque_loop=self.pasteque_loop.state() if self.pasteque_loop else None,
        )
        self.client.publish(topics.telemetry(self.device_id), json.dumps(body), qos=0)
        wanted = ("alert" if body["alerts"] else "online", body["alerts"])
        if wanted != self._status:
            self._publish_status(*wanted)

    def _publish_fiscal_key(self) -> None:
        """The public key of the box's fiscal signatures, retained, at every connect: the
        fleet keeps it apart from the box, to check archives and records (docs/fiscal.md)."""
        key = fiscal_key.public_key(self.config.device.data_dir)
        if key:
            body = {"box": self.device_id, "algorithm": "Ed25519", "public_key": key}
            self.client.publish(
                topics.fiscal_key(self.device_id), json.dumps(body), qos=1, retain=True
            )

    def _publish_archive(self, number: int, payload: bytes) -> bool:
        """A fiscal archive to the fleet's storage; True once the broker acknowledged it."""
        if not self._connected.is_set():
            return False
        info = self.client.publish(
            topics.archive(self.device_id, number), payload, qos=1, retain=True
        )
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=30)
        return info.is_published()

    def _publish_update(self, body: dict[str, Any]) -> None:
        """The latest update job's state, retained: the fleet sees where each box stands."""
        self.client.publish(topics.update(self.device_id), json.dumps(body), qos=1, retain=True)

    def _telemetry_changed(self, period_s: int) -> None:
        """A new period takes effect now, with a report at once (as Tasmota's TelePeriod)."""
        self.settings = LiveSettings(telemetry_period_s=period_s)
        self._telemetry_at = 0.0
        self._wake.set()

    # -- paho callbacks (network thread) ----------------------------------------------------------

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        # On a full disk the new session is counted in memory only: the link comes back all
        # the same, and the next session written to the database is above it.
        self.session += 1
        with self._unless_disk_full():
            self.session = agent_state.next_session(self.db(), at_least=self.session)
        offline = {"state": "offline", "session": self.session, "version": __version__}
        client.will_set(topics.status(self.device_id), json.dumps(offline), qos=1, retain=True)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        log.info("connected to the broker, session %d", self.session)
        # Every command topic, deeper ones too (so a wrong one is answered, not ignored), with
        # the retain flag as published: a retained command is refused whenever it arrives.
        as_published = SubscribeOptions(qos=1, retainAsPublished=True)
        client.subscribe(
            [
                (topics.command(self.device_id, "#"), as_published),
                (topics.desired(self.device_id), SubscribeOptions(qos=1)),
            ]
        )
        # The reasons known before the link was lost: a box in alert does not flash `online`
        # at each reconnection (the telemetry that follows at once corrects them).
        reasons = self._status[1]
        self._publish_status("alert" if reasons else "online", reasons)
        self._publish_fiscal_key()
        self.update_reporter.reconnected()
        self._connected.set()
        self._telemetry_at = 0.0
        self._wake.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("lost the broker (%s), reconnecting", reason)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        self.forwarder.on_puback(mid)
        self._wake.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        _, kind, rest = topics.split(message.topic)
        if kind == "cmd" and message.payload:  # empty: a retained command being cleared
            self._workers.submit(self._guarded, self._handle_command, rest, message)
        elif kind == "config" and rest == "desired" and message.payload:
            self._workers.submit(self._guarded, self._apply_desired, message.payload)

    # -- commands and desired config (worker threads) ---------------------------------------------

    def _guarded(self, work: Any, *args: Any) -> None:
        try:
            work(*args)
        except Exception:
            log.exception("remote request failed; the agent keeps running")

    def _handle_command(self, name: str, message: mqtt.MQTTMessage) -> None:
        db = self.db()
        try:
            command = parse(name, bytes(message.payload), retained=message.retain, now=clock.now())
        except Refused as refused:
            log.warning("refused command %s: %s", name, refused.reason)
            if message.retain:  # refused, so it must not replay at every reconnection
                self.client.publish(message.topic, b"", qos=1, retain=True)
            self._answer(
                refused.command_id, Answer(False, error=refused.reason).payload(refused.command_id)
            )
            return
        try:
            known = agent_state.claim_command(
                db,
                command.id,
                command.name,
                command.args,
                requested_by=command.requested_by,
                session=self.session,
            )
        except (sqlite3.Error, OSError) as exc:
            if not disk_full(exc):
                raise
            self._answer(command.id, Answer(False, error=DISK_FULL).payload(command.id))
            return
        if known is not None:
            if known.done and known.answer is not None:
                self._answer(command.id, known.answer)
            return  # still running in this session: its answer is on the way
        log.info("command %s %s from %s", command.name, command.id, command.requested_by or "?")
        try:
            answer = self.handlers.run(command, db)
        except Exception as exc:
            log.exception("command %s failed", command.name)
            answer = Answer(False, error=f"internal error: {type(exc).__name__}")
        payload = answer.payload(command.id)
        if answer.final:
            agent_state.record_answer(db, command.id, answer.ok, payload)
        else:
            agent_state.release_command(db, command.id)
        self._answer(command.id, payload)

    def _answer(self, command_id: str, payload: dict[str, Any]) -> None:
        self.client.publish(
            topics.result(self.device_id, command_id), json.dumps(payload), qos=1, retain=False
        )

    def _apply_desired(self, payload: bytes) -> None:
        db = self.db()
        with self._desired_lock:
            current = agent_state.counter(db, agent_state.DESIRED_VERSION)
            try:
                decision = remote_config.decide(payload)
            except BadDesired as exc:
                self._report(db, current, {}, str(exc))
                return
            if decision.version > current:
                agent_state.replace_overrides(db, decision.accepted, decision.version)
                self.settings = LiveSettings.of(self.config, agent_state.overrides(db))
                self._telemetry_at = 0.0
                self._wake.set()
            self._report(db, decision.version, decision.refused)

    def _report(
        self, db: sqlite3.Connection, version: int, refused: dict[str, str], error: str = ""
    ) -> None:
        body = remote_config.reported(
            version, agent_state.overrides(db), refused, clock.now_iso(), error
        )
        self.client.publish(topics.reported(self.device_id), json.dumps(body), qos=1, retain=True)
