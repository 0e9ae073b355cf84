"""A staged rollout over the fleet: canaries first, then the rest a few at a time, stopping by
itself after too many failures (AWS IoT Jobs' abort criteria, Mender's phased deployments).

Pure bookkeeping: who gets the update next, who is done, whether to stop. The fleet console
(`comptoir fleet update`) feeds it the states the boxes publish and sends the commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DONE_OK = ("succeeded",)
DONE_BAD = ("failed", "rolled_back", "timed_out")
NOT_SENT = "not_sent"
#: A box offline when the rollout starts is left for the next one: not a failure, not waited for.
OFFLINE = "offline"


@dataclass
class BoxProgress:
    device: str
    canary: bool
    state: str = NOT_SENT
    percent: int | None = None
    version: str = ""
    reason: str = ""
    sent_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state in (*DONE_OK, *DONE_BAD, OFFLINE)

    @property
    def in_flight(self) -> bool:
        return self.state != NOT_SENT and not self.finished


@dataclass
class Rollout:
    devices: list[str]
    canary: int
    max_failures: int
    parallel: int = 10
    offline: frozenset[str] = frozenset()
    boxes: dict[str, BoxProgress] = field(default_factory=dict)

    def __post_init__(self) -> None:
        online = [device for device in self.devices if device not in self.offline]
        canaries = set(online[: self.canary])
        for device in self.devices:
            box = BoxProgress(device, canary=device in canaries)
            if device in self.offline:
                box.state, box.reason = OFFLINE, "offline when the rollout started"
            self.boxes[device] = box

    @property
    def failures(self) -> int:
        return sum(1 for box in self.boxes.values() if box.state in DONE_BAD)

    @property
    def stopped(self) -> bool:
        """Too many failures: nothing more is sent (boxes already updating finish)."""
        return self.max_failures > 0 and self.failures >= self.max_failures

    def next_to_send(self) -> list[str]:
        """Boxes to send the update to now: canaries all at once, the rest once every canary
        succeeded or failed, `parallel` at a time."""
        if self.stopped:
            return []
        canaries = [b for b in self.boxes.values() if b.canary]
        unsent = [b.device for b in canaries if b.state == NOT_SENT]
        if unsent:
            return unsent
        if any(b.in_flight for b in canaries):
            return []
        room = self.parallel - sum(1 for b in self.boxes.values() if b.in_flight)
        waiting = [b.device for b in self.boxes.values() if b.state == NOT_SENT]
        return waiting[: max(room, 0)]

    def update(
        self,
        device: str,
        state: str,
        percent: int | None = None,
        reason: str = "",
        version: str = "",
    ) -> bool:
        """A box said where it stands; True when that changed something shown."""
        box = self.boxes.get(device)
        if box is None or box.finished:
            return False
        changed = (box.state, box.percent, box.reason) != (state, percent, reason)
        box.state, box.percent, box.reason = state, percent, reason
        box.version = version or box.version
        return changed

    @property
    def over(self) -> bool:
        """Nothing in flight and nothing more to send."""
        return not any(b.in_flight for b in self.boxes.values()) and not self.next_to_send()

    def summary(self) -> str:
        done = sum(1 for b in self.boxes.values() if b.state in DONE_OK)
        unsent = sum(1 for b in self.boxes.values() if b.state == NOT_SENT)
        text = f"{done} succeeded, {self.failures} failed or rolled back, {unsent} not sent"
        offline = sum(1 for b in self.boxes.values() if b.state == OFFLINE)
        if offline:
            text += f", {offline} offline (send the rollout again when they are back)"
        if self.stopped:
            text += f": stopped after {self.failures} failures (--max-failures {self.max_failures})"
        return text
