"""The shared half of every scale simulator: the load on the pan, faults, and the pty server.

A protocol simulator only turns request bytes into answer bytes from the current `Pan`; the
`PtyServer` carries them over a real pseudo-terminal, paced at the line's baud rate, and applies
the line faults (silence, garbage, partial frames) that every protocol can suffer. Like
OctoPrint's virtual printer, it lets anyone run the appliance and its tests without hardware.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from appliance.devices.pty_link import PtyLink


class Fault(StrEnum):
    NONE = "none"
    SILENCE = "silence"  # the scale answers nothing
    GARBAGE = "garbage"  # random bytes instead of the answer
    PARTIAL = "partial"  # only the first half of each answer
    BAD_CHECKSUM = "bad_checksum"  # a well-formed answer whose check fails (where there is one)


@dataclass
class Pan:
    """What is on the scale now; tests and the demo change it while the simulator serves."""

    load_g: int = 0
    motion: bool = False
    overload: bool = False
    under_zero: bool = False
    fault: Fault = Fault.NONE


class ScaleSimulator(ABC):
    """One protocol's answers; stateful (a frame may arrive in pieces)."""

    #: Bits on the wire per character, for pacing (start + data + parity + stop).
    bits_per_char = 10

    def __init__(self, pan: Pan, *, interval_g: int = 2, capacity_g: int = 15000) -> None:
        self.pan = pan
        self.interval_g = interval_g
        self.capacity_g = capacity_g

    @abstractmethod
    def feed(self, data: bytes) -> bytes:
        """Consume request bytes; return the bytes the scale sends back (maybe none yet)."""

    def corrupt_checksum(self, answer: bytes) -> bytes:
        """The answer with its check broken; protocols with a checksum override this."""
        return answer[:-1] + bytes([answer[-1] ^ 0x01]) if answer else answer

    def shown_weight_g(self) -> int:
        """The load rounded to the scale interval, as the scale would display it."""
        step = self.interval_g
        return (
            (self.pan.load_g + step // 2) // step * step
            if self.pan.load_g >= 0
            else (-((-self.pan.load_g + step // 2) // step * step))
        )


class PtyServer(PtyLink):
    """Serves a scale simulator on a pseudo-terminal, paced at the baud rate, with line faults."""

    name = "scale-simulator"

    def __init__(self, simulator: ScaleSimulator, *, baud: int = 9600, pace: bool = True) -> None:
        super().__init__()
        self.simulator = simulator
        self.baud = baud
        self.pace = pace

    def answer(self, request: bytes) -> bytes:
        reply = self._apply_fault(self.simulator.feed(request))
        if reply and self.pace:
            self.pause(len(reply) * self.simulator.bits_per_char / self.baud)
        return reply

    def _apply_fault(self, answer: bytes) -> bytes:
        fault = self.simulator.pan.fault
        if not answer or fault is Fault.NONE:
            return answer
        if fault is Fault.SILENCE:
            return b""
        if fault is Fault.GARBAGE:
            return bytes(random.randrange(0x20, 0x7F) for _ in answer)
        if fault is Fault.PARTIAL:
            return answer[: max(1, len(answer) // 2)]
        return self.simulator.corrupt_checksum(answer)
