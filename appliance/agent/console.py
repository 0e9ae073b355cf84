"""The admin's side of the fleet link: list boxes, watch them, send a command, change a setting.

Used by `comptoir fleet ...` on an admin's machine (not a box), with the admin identity's broker
settings. Every call connects, does one thing and disconnects.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt

from appliance import clock
from appliance.agent import topics
from appliance.agent.link import LinkSettings, make_client
from appliance.errors import ComptoirError
from appliance.release.rollout import Rollout

CONNECT_TIMEOUT_S = 10.0
RETAINED_SETTLE_S = 1.0


class FleetError(ComptoirError):
    """The broker could not be reached or refused the admin identity."""


@dataclass(frozen=True)
class Message:
    topic: str
    payload: Any
    retained: bool


class FleetConsole:
    def __init__(self, settings: LinkSettings, admin: str = "") -> None:
        self.settings = settings
        self.admin = admin or settings.username or "admin"

    @contextmanager
    def session(self, *subscriptions: str) -> Iterator[tuple[mqtt.Client, queue.Queue[Message]]]:
        """A connected client subscribed to `subscriptions`; messages arrive on the queue."""
        client, address = make_client(self.settings, client_id=f"fleet-{uuid.uuid4().hex[:12]}")
        inbox: queue.Queue[Message] = queue.Queue()
        ready = threading.Event()
        outcome: list[Any] = []
        closed: list[Any] = []

        def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
            outcome.append(reason)
            if not reason.is_failure and subscriptions:
                c.subscribe([(s, 1) for s in subscriptions])
            else:
                ready.set()

        def on_subscribe(c: mqtt.Client, u: Any, mid: int, reasons: Any, p: Any) -> None:
            ready.set()

        def on_disconnect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
            if not ready.is_set():  # closed before it said yes: a refused certificate does that
                closed.append(reason)
                ready.set()

        def on_message(c: mqtt.Client, u: Any, m: mqtt.MQTTMessage) -> None:
            try:
                payload = json.loads(m.payload) if m.payload else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                payload = m.payload.decode("utf-8", "replace")
            inbox.put(Message(m.topic, payload, bool(m.retain)))

        client.on_connect, client.on_subscribe = on_connect, on_subscribe
        client.on_message, client.on_disconnect = on_message, on_disconnect
        try:
            client.connect(address.host, address.port, keepalive=30)
        except OSError as exc:
            raise FleetError(f"cannot reach the broker {self.settings.url}: {exc}") from None
        client.loop_start()
        try:
            if not ready.wait(CONNECT_TIMEOUT_S):
                raise FleetError(f"the broker {self.settings.url} did not answer")
            if outcome and outcome[0].is_failure:
                raise FleetError(f"the broker refused the admin identity: {outcome[0]}")
            if closed:
                raise FleetError(
                    f"the broker {self.settings.url} closed the connection ({closed[0]}): "
                    "check the admin's password or client certificate"
                )
            yield client, inbox
        finally:
            client.disconnect()
            client.loop_stop()

    # -- what the admin does ----------------------------------------------------------------------

    def list_boxes(self) -> list[dict[str, Any]]:
        """Every box's retained status (and its last telemetry time when one arrives)."""
        with self.session(f"{topics.ROOT}/+/status") as (_, inbox):
            boxes = {}
            for message in _drain(inbox, RETAINED_SETTLE_S):
                device, _, _ = topics.split(message.topic)
                if isinstance(message.payload, dict):
                    boxes[device] = {"device": device, **message.payload}
        return [boxes[d] for d in sorted(boxes)]

    def watch(
        self,
        device: str,
        show: Callable[[Message], bool],
        *,
        share: str = "",
        ready: Callable[[list[str]], None] | None = None,
    ) -> None:
        """Live events, telemetry, status and results until `show` returns False.

        With `share`, the subscriptions are MQTT shared ones (`$share/<share>/...`): consumers
        of the same group split the stream, each message going to one of them. `ready` is told
        the subscriptions once the broker has granted them.
        """
        subscriptions = [
            f"{topics.base(device or '+')}/{kind}"
            for kind in ("event/#", "tele/#", "status", "result/+")
        ]
        if share:
            subscriptions = [topics.shared(share, s) for s in subscriptions]
        with self.session(*subscriptions) as (_, inbox):
            if ready:
                ready(subscriptions)
            while True:
                try:
                    message = inbox.get(timeout=1.0)
                except queue.Empty:
                    continue
                if not show(message):
                    return

    def send(
        self, device: str, name: str, args: dict[str, Any], timeout_s: float
    ) -> dict[str, Any]:
        """Publish one command and wait for its result; FleetError on timeout."""
        command_id = uuid.uuid4().hex
        expires = clock.now() + timedelta(seconds=max(timeout_s, 1.0))
        body = {
            "id": command_id,
            "args": args,
            "expires_at": clock.iso(expires),
            "by": self.admin,
        }
        with self.session(topics.result(device, command_id)) as (client, inbox):
            client.publish(topics.command(device, name), json.dumps(body), qos=1, retain=False)
            for message in _drain(inbox, timeout_s, until=lambda m: True):
                return message.payload
        raise FleetError(f"{device} did not answer {name} within {timeout_s:g} s")

    def configure(self, device: str, settings: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Merge `settings` into the box's desired config, bump its version, wait for reported."""
        with self.session(topics.desired(device)) as (client, inbox):
            current: dict[str, Any] = {"version": 0, "settings": {}}
            for message in _drain(inbox, RETAINED_SETTLE_S):
                if isinstance(message.payload, dict):
                    current = message.payload
        desired = {
            "version": int(current.get("version", 0)) + 1,
            "settings": {**current.get("settings", {}), **settings},
            "by": self.admin,
        }
        with self.session(topics.reported(device)) as (client, inbox):
            client.publish(topics.desired(device), json.dumps(desired), qos=1, retain=True)
            for message in _drain(
                inbox,
                timeout_s,
                until=lambda m: (
                    isinstance(m.payload, dict)
                    and m.payload.get("version", 0) >= desired["version"]
                ),
            ):
                return {"desired": desired, "reported": message.payload}
        raise FleetError(
            f"{device} did not report desired version {desired['version']} within {timeout_s:g} s"
            " (it applies it when it next connects)"
        )

    def releases(self) -> list[dict[str, Any]]:
        """Every box: which version it runs (its retained status) and its last update job."""
        with self.session(f"{topics.ROOT}/+/status", f"{topics.ROOT}/+/update") as (_, inbox):
            boxes: dict[str, dict[str, Any]] = {}
            for message in _drain(inbox, RETAINED_SETTLE_S):
                device, kind, _ = topics.split(message.topic)
                if not isinstance(message.payload, dict):
                    continue
                box = boxes.setdefault(device, {"device": device})
                if kind == "status":
                    box.update(
                        state=message.payload.get("state"), version=message.payload.get("version")
                    )
                else:
                    box["update"] = message.payload
        return [boxes[d] for d in sorted(boxes)]

    def roll_out(
        self,
        plan: Rollout,
        args: dict[str, Any],
        *,
        timeout_s: float,
        show: Callable[[Rollout], None],
    ) -> Rollout:
        """Send `update` as `plan` says, follow each box's states until the plan is over.

        One command id for the whole rollout: it is each box's job id, and sending it again to
        a box that has it already only gets the job's state back. A box already updating to
        this version (an earlier rollout cut short) answers with that job: it is followed."""
        job = f"rollout-{uuid.uuid4().hex[:12]}"
        body = {"id": job, "args": args, "by": self.admin}
        events = f"{topics.ROOT}/+/event/update_state"
        with self.session(events, f"{topics.ROOT}/+/result/{job}") as (client, inbox):
            sent: dict[str, float] = {}
            jobs: dict[str, str] = {}  # device -> the job it runs, when not this rollout's
            while not plan.over:
                for device in plan.next_to_send():
                    client.publish(topics.command(device, "update"), json.dumps(body), qos=1)
                    plan.update(device, "sent")
                    sent[device] = time.monotonic()
                show(plan)
                try:
                    message = inbox.get(timeout=1.0)
                except queue.Empty:
                    message = None
                if message is not None:
                    _follow(plan, job, jobs, message)
                for device, at in sent.items():
                    box = plan.boxes[device]
                    if box.in_flight and time.monotonic() - at > timeout_s:
                        plan.update(
                            device,
                            "timed_out",
                            box.percent,
                            f"no end within {timeout_s:g} s (last state {box.state})",
                        )
        show(plan)
        return plan


def _follow(plan: Rollout, job: str, jobs: dict[str, str], message: Message) -> None:
    """One state from a box, as an update_state event or the answer to the command."""
    device, kind, _ = topics.split(message.topic)
    payload = message.payload if isinstance(message.payload, dict) else {}
    if kind == "event":
        data = payload.get("data") or {}
        if data.get("job") == jobs.get(device, job):
            plan.update(
                device,
                data.get("state", "?"),
                data.get("percent"),
                data.get("reason", ""),
                data.get("version", ""),
            )
    elif kind == "result":
        if payload.get("ok"):
            result = payload.get("result") or {}
            if result.get("job", job) != job:
                jobs[device] = str(result["job"])
            box = plan.boxes.get(device)
            state = result.get("state")
            # The answer may come after the job's first events: it only ends or starts the view.
            if state in ("succeeded", "failed", "rolled_back") or (
                state and box and box.state == "sent"
            ):
                plan.update(
                    device,
                    str(state),
                    result.get("percent"),
                    result.get("reason", ""),
                    result.get("version", ""),
                )
        else:
            plan.update(device, "failed", None, str(payload.get("error", "refused")))


def _drain(
    inbox: queue.Queue[Message],
    timeout_s: float,
    until: Callable[[Message], bool] | None = None,
) -> Iterator[Message]:
    """Messages until `timeout_s` passes; with `until`, only the first one matching it."""
    deadline = clock.now() + timedelta(seconds=timeout_s)
    while (left := (deadline - clock.now()).total_seconds()) > 0:
        try:
            message = inbox.get(timeout=left)
        except queue.Empty:
            return
        if until is None:
            yield message
        elif until(message):
            yield message
            return
