"""Forwarding the outbox to `event/<type>`: QoS 1, in order, at least once, cursor moved on PUBACK.

One batch is in flight at a time. If the link drops, paho sends the batch again after it
reconnects; the cursor only moves when the broker has acknowledged every message of the batch,
so an event produced while the broker was away waits in the database, and a crash between
PUBACK and cursor costs a duplicate with the same `event_id`, never a loss.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import paho.mqtt.client as mqtt

from appliance.agent import topics
from appliance.store import outbox
from appliance.store.db import CommitWatch, transaction

DESTINATION = "mqtt"
BATCH = 200
# A batch still unacknowledged this long on a live link is sent again (duplicates are harmless).
STUCK_S = 60.0


class OutboxForwarder:
    def __init__(self, client: mqtt.Client, device_id: str) -> None:
        self._client = client
        self._device_id = device_id
        self._acked: set[int] = set()
        self._acked_lock = threading.Lock()
        self._batch: list[tuple[int, int]] = []  # (outbox row id, mid)
        self._sent_at = 0.0
        self._commits = CommitWatch()  # new events are commits of the other processes
        self.forwarded = 0

    def on_puback(self, mid: int) -> None:
        """Called from paho's network thread for every acknowledged publish."""
        with self._acked_lock:
            self._acked.add(mid)

    def step(self, db: sqlite3.Connection, connected: bool) -> bool:
        """Do one unit of work; True when there may be more to do right away."""
        if self._batch:
            return self._settle(db, connected)
        if not connected:
            return False
        if not self._commits.changed(db):
            return False
        events = outbox.pending(db, DESTINATION, BATCH)
        if not events:
            return False
        with self._acked_lock:
            self._acked.clear()
        for event in events:
            body = {
                "event_id": event.event_id,
                "seq": event.id,  # grows with every event of this box: order across consumers
                "type": event.type,
                "ts": event.ts,
                "device": self._device_id,
                "data": event.payload,
            }
            info = self._client.publish(
                topics.event(self._device_id, event.type), json.dumps(body), qos=1
            )
            self._batch.append((event.id, info.mid))
        self._sent_at = time.monotonic()
        return True

    def _settle(self, db: sqlite3.Connection, connected: bool) -> bool:
        with self._acked_lock:
            done = all(mid in self._acked for _, mid in self._batch)
        if done:
            with transaction(db):
                outbox.acknowledge(db, DESTINATION, self._batch[-1][0])
            self.forwarded += len(self._batch)
            self._batch = []
            self._commits.forget()  # there may be more behind this batch
            return True
        if connected and time.monotonic() - self._sent_at > STUCK_S:
            self._batch = []
            self._commits.forget()
        return False
