"""A Mettler-Toledo 8217 that answers from the `Pan`: W, Z, T, T+preset, C, A/B, and E...F echo.

It shares the frame constants with the driver but builds its own answers, so a misreading of the
protocol cannot hide on both sides. A plain `T` is told from a preset `T01234<CR>` by what follows
it in the same chunk of bytes, as a driver writes a command in one go.
"""

from __future__ import annotations

from appliance.devices.scales.simulator.base import Pan, ScaleSimulator
from appliance.devices.scales.toledo8217 import (
    BIT_ALWAYS,
    BIT_CENTER_OF_ZERO,
    BIT_MOTION,
    BIT_NET,
    BIT_OUTSIDE_ZERO_RANGE,
    BIT_OVER_CAPACITY,
    BIT_UNDER_ZERO,
    CLEAR_TARE,
    CR,
    ECHO_OFF,
    ECHO_ON,
    STATUS_MARK,
    STX,
    TARE,
    WEIGH,
    ZERO,
)

#: The scale zeroes only within this share of its capacity (OIML: 4 % in all, ±2 % here).
ZERO_RANGE_PERCENT = 2
#: It shows a weight up to capacity plus 9 intervals, then "over capacity".
OVER_INTERVALS = 9
CONFIDENCE_TEST = b"A"
CONFIDENCE_RESULT = b"B"
ALL_PASSED = ord("@")


class Toledo8217Simulator(ScaleSimulator):
    """8217 answers; the scale holds its own zero offset and tare, as the real one does."""

    bits_per_char = 10  # 7E1: start, 7 data, parity, stop

    def __init__(self, pan: Pan, *, interval_g: int = 2, capacity_g: int = 15000) -> None:
        super().__init__(pan, interval_g=interval_g, capacity_g=capacity_g)
        self.zero_offset_g = 0
        self.tare_g = 0
        self.echo = False
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        buffer = self._pending + data
        self._pending = b""
        out = bytearray()
        while buffer:
            if self.echo:
                char, buffer = buffer[:1], buffer[1:]
                if char == ECHO_OFF:
                    self.echo = False
                else:
                    out += char
                continue
            if buffer[:1] == TARE and buffer[1:2].isdigit():
                if CR not in buffer:
                    self._pending = buffer  # the rest of the preset is on its way
                    break
                end = buffer.index(CR)
                out += self._preset_tare(buffer[1:end])
                buffer = buffer[end + 1 :]
                continue
            char, buffer = buffer[:1], buffer[1:]
            out += self._answer(char)
        return bytes(out)

    def corrupt_checksum(self, answer: bytes) -> bytes:
        """8217 has no checksum, only parity: one character arrives with its parity bit wrong."""
        return answer[:1] + bytes([answer[1] | 0x80]) + answer[2:] if len(answer) > 2 else answer

    def _answer(self, char: bytes) -> bytes:
        if char == WEIGH:
            return self._weight_answer()
        if char == ZERO:
            if self._stable() and not self.tare_g and self._within_zero_range():
                self.zero_offset_g = self.pan.load_g
            return self._status_answer()
        if char == TARE:
            if self._stable() and self._gross_g() > 0:
                self.tare_g = self._gross_g()
            return self._status_answer()
        if char == CLEAR_TARE:
            if self._stable():
                self.tare_g = 0
            return self._status_answer()
        if char == ECHO_ON:
            self.echo = True
            return b""
        if char == CONFIDENCE_TEST:
            return bytes([STX, CR])
        if char == CONFIDENCE_RESULT:
            return bytes([STX, STATUS_MARK, ALL_PASSED, CR])
        return b""  # CR, other protocols' probes and noise are ignored, as by the real scale

    def _preset_tare(self, digits: bytes) -> bytes:
        if len(digits) == 5 and self._stable():
            self.tare_g = int(digits)
        return self._status_answer()

    def _weight_answer(self) -> bytes:
        if self._status_bits() & ~(BIT_ALWAYS | BIT_NET | BIT_CENTER_OF_ZERO):
            return self._status_answer()
        shown = self._gross_g() - self.tare_g
        net = b"N" if self.tare_g else b""
        return bytes([STX]) + b"%02d.%03d" % divmod(shown, 1000) + net + bytes([CR])

    def _status_answer(self) -> bytes:
        return bytes([STX, STATUS_MARK, self._status_bits(), CR])

    def _status_bits(self) -> int:
        bits = BIT_ALWAYS
        gross = self._gross_g()
        if self.pan.motion:
            bits |= BIT_MOTION
        if self.pan.overload or gross > self.capacity_g + OVER_INTERVALS * self.interval_g:
            bits |= BIT_OVER_CAPACITY
        if self.pan.under_zero or gross - self.tare_g < 0:
            bits |= BIT_UNDER_ZERO
        if gross * 100 < -ZERO_RANGE_PERCENT * self.capacity_g:
            bits |= BIT_OUTSIDE_ZERO_RANGE  # far under zero: the zero it holds is no longer true
        if gross == 0 and not self.pan.motion:
            bits |= BIT_CENTER_OF_ZERO
        if self.tare_g:
            bits |= BIT_NET
        return bits

    def _gross_g(self) -> int:
        """The load as displayed: rounded to the interval, after the scale's own zero."""
        step = self.interval_g
        load = self.pan.load_g - self.zero_offset_g
        rounded = (abs(load) + step // 2) // step * step
        return rounded if load >= 0 else -rounded

    def _within_zero_range(self) -> bool:
        return abs(self.pan.load_g) * 100 <= ZERO_RANGE_PERCENT * self.capacity_g

    def _stable(self) -> bool:
        return not (self.pan.motion or self.pan.overload or self.pan.under_zero)
