"""Mettler-Toledo 8217 ("ECR weight-only"): one-letter commands, weight or status answers.

Reference §3.1. The POS sends `W`; the scale answers `STX WW.WWW [N] CR` (kg, N when net) only
for a stable, in-range weight, and `STX ? <status> CR` otherwise. The status character carries
one flag per bit; bit 6 is always set. Unlike Odoo's drivers, a status answer never keeps the
previous weight and never becomes 0: it becomes the reading status it says.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import serial

from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.scales.base import Scale
from appliance.devices.scales.serial_port import lost_port
from appliance.errors import ScaleUnavailable

STX = 0x02
CR = 0x0D

WEIGH = b"W"
ZERO = b"Z"
TARE = b"T"
CLEAR_TARE = b"C"
ECHO_ON = b"E"
ECHO_OFF = b"F"
STATUS_MARK = ord("?")
NET_MARK = ord("N")

#: Status character bits (bit 7 is the parity bit on the wire).
BIT_MOTION = 0x01
BIT_OVER_CAPACITY = 0x02
BIT_UNDER_ZERO = 0x04
BIT_OUTSIDE_ZERO_RANGE = 0x08
BIT_CENTER_OF_ZERO = 0x10
BIT_NET = 0x20
BIT_ALWAYS = 0x40

#: Longest answer: STX, 6-character weight field, N, CR.
MAX_ANSWER = 9
MAX_PRESET_TARE_G = 99_999
#: Sent in echo mode to recognise the scale; no command letter, so nothing can change.
PROBE_TOKEN = b"comptoir"

_WEIGHT = re.compile(rb"\x02([0-9]{2})\.([0-9]{3})(N?)\r")


@dataclass(frozen=True)
class Status:
    """The flags of one status character."""

    motion: bool
    over_capacity: bool
    under_zero: bool
    outside_zero_range: bool
    center_of_zero: bool
    net: bool


def preset_tare_command(tare_g: int) -> bytes:
    """`T` + 5 digits (kg with 3 implied decimals) + CR: 250 g -> b'T00250\\r'."""
    if not 0 <= tare_g <= MAX_PRESET_TARE_G:
        raise ValueError(f"a preset tare is 0 to {MAX_PRESET_TARE_G} g, not {tare_g} g")
    return TARE + b"%05d\r" % tare_g


def decode_status(char: int) -> Status | None:
    """The flags of a status character, or None when it cannot be one (bit 6 clear, bit 7 set)."""
    if char & 0x80 or not char & BIT_ALWAYS:
        return None
    return Status(
        motion=bool(char & BIT_MOTION),
        over_capacity=bool(char & BIT_OVER_CAPACITY),
        under_zero=bool(char & BIT_UNDER_ZERO),
        outside_zero_range=bool(char & BIT_OUTSIDE_ZERO_RANGE),
        center_of_zero=bool(char & BIT_CENTER_OF_ZERO),
        net=bool(char & BIT_NET),
    )


def parse_status_answer(answer: bytes) -> Status | None:
    """The status of `STX ? <status> CR`, or None when `answer` is not exactly that."""
    if len(answer) != 4 or answer[0] != STX or answer[1] != STATUS_MARK or answer[3] != CR:
        return None
    return decode_status(answer[2])


def parse_weight_answer(answer: bytes, *, tare_g: int = 0) -> Reading:
    """Translate what came back for `W` (b'' when nothing did); `tare_g` is the known tare."""
    if not answer:
        return Reading(ReadingStatus.TIMEOUT, detail="the scale did not answer")
    match = _WEIGHT.fullmatch(answer)
    if match:
        kg, grams, net = match.groups()
        weight_g = int(kg) * 1000 + int(grams)
        return Reading(ReadingStatus.STABLE, weight_g, tare_g if net else 0, bool(net))
    status = parse_status_answer(answer)
    if status is None:
        return Reading(ReadingStatus.ERROR, detail=f"garbled answer from the scale: {answer!r}")
    return _status_reading(status)


def _status_reading(status: Status) -> Reading:
    if status.outside_zero_range:
        return Reading(
            ReadingStatus.ERROR,
            net=status.net,
            detail="zero error: empty the pan and zero the scale",
        )
    if status.over_capacity:
        return Reading(ReadingStatus.OVERLOAD, net=status.net)
    if status.under_zero:
        return Reading(ReadingStatus.UNDER_ZERO, net=status.net)
    if status.motion:
        return Reading(ReadingStatus.MOTION, net=status.net)
    # Some 8217 scales send a weight once, then only their status until the load changes.
    return Reading(ReadingStatus.UNCHANGED, net=status.net, detail="the scale sent no new weight")


class Toledo8217Scale(Scale):
    """The 8217 protocol on an open port; remembers the tare it set, which answers do not carry."""

    protocol = "toledo8217"
    default_baud = 9600
    default_framing = "7E1"

    def __init__(self, port: serial.Serial, *, interval_g: int = 1) -> None:
        super().__init__(port, interval_g=interval_g)
        self._tare_g = 0
        self._failed = False

    def read(self) -> Reading:
        reading = parse_weight_answer(self._ask(WEIGH), tare_g=self._tare_g)
        if reading.status is ReadingStatus.STABLE and not reading.net:
            self._tare_g = 0  # the scale dropped its tare (cleared, or a one-shot tare)
        return reading

    def zero(self) -> None:
        self._command(ZERO)

    def tare(self, preset_g: int | None = None) -> None:
        if preset_g is not None:
            status = self._command(preset_tare_command(preset_g))
            self._tare_g = preset_g if status.net else self._tare_g
            return
        # The scale tares a stable load and reports only "net" back: the value is that load.
        before = self.read()
        status = self._command(TARE)
        if status.net and before.status is ReadingStatus.STABLE and not before.net:
            assert before.weight_g is not None
            self._tare_g = before.weight_g

    def clear_tare(self) -> None:
        if not self._command(CLEAR_TARE).net:
            self._tare_g = 0

    @classmethod
    def probe(cls, port: serial.Serial) -> bool:
        """Echo mode (`E`) repeats every character until `F`: only an 8217 repeats the token."""
        with lost_port(port):
            port.reset_input_buffer()
            port.write(ECHO_ON + PROBE_TOKEN)
            echoed = port.read(len(PROBE_TOKEN))
            port.write(ECHO_OFF)
            return echoed == PROBE_TOKEN

    def _command(self, command: bytes) -> Status:
        """Send a zero/tare command; its status answer, or ScaleUnavailable if it has none."""
        answer = self._ask(command)
        status = parse_status_answer(answer)
        if status is None:
            raise ScaleUnavailable(
                f"the scale on {self.port.name} did not acknowledge {command!r}: got {answer!r}"
            )
        return status

    def _ask(self, command: bytes) -> bytes:
        """One request and its answer (b'' or a fragment on timeout), never an older answer."""
        with lost_port(self.port):
            if self._failed:
                # A late answer to the failed request may still be on its way: let it land first.
                time.sleep(self.port.timeout or 0)
            self.port.reset_input_buffer()
            self.port.write(command)
            answer = self.port.read_until(bytes([CR]), MAX_ANSWER)
        self._failed = not answer.endswith(bytes([CR]))
        return answer
