"""The health gate's judgment over time: a slow start settles, a crash ends it, a box that never
comes up is rolled back with what was missing."""

from __future__ import annotations

import time

from appliance.release import gate


class Box:
    """A gate over a box that is ready after `ready_after` judgments, and that crashes at
    judgment `crash_at` (0: never)."""

    def __init__(self, ready_after: int, crash_at: int = 0) -> None:
        self.ready_after, self.crash_at, self.judged = ready_after, crash_at, 0

    def fatal(self) -> list[str]:
        return (
            ["kiosk stopped by itself 1 time(s)"]
            if self.crash_at and self.judged >= (self.crash_at)
            else []
        )

    def final(self) -> list[str]:
        self.judged += 1
        if self.fatal():
            return self.fatal()
        return [] if self.judged > self.ready_after else ["the kiosk wrote no fresh heartbeat"]


def test_a_box_slow_to_start_is_kept_once_it_is_up(monkeypatch) -> None:
    monkeypatch.setattr(gate, "SETTLE_TICK_S", 0.01)
    box = Box(ready_after=3)
    verdict = gate.run(box, 0.05)  # type: ignore[arg-type]
    assert verdict.ok and box.judged == 4


def test_a_box_that_never_comes_up_is_judged_after_twice_the_gate(monkeypatch) -> None:
    monkeypatch.setattr(gate, "SETTLE_TICK_S", 0.01)
    start = time.monotonic()
    verdict = gate.run(Box(ready_after=10**9), 0.2)  # type: ignore[arg-type]
    assert not verdict.ok and verdict.reason == "the kiosk wrote no fresh heartbeat"
    assert time.monotonic() - start >= 0.4


def test_a_crash_while_settling_ends_the_gate_with_the_crash(monkeypatch) -> None:
    monkeypatch.setattr(gate, "SETTLE_TICK_S", 0.01)
    box = Box(ready_after=10**9, crash_at=3)
    verdict = gate.run(box, 0.05)  # type: ignore[arg-type]
    assert not verdict.ok and "stopped by itself" in verdict.reason
    assert box.judged == 3
