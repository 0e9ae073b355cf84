"""CAS "ECR" protocol (PD-II type 6, AP-1; reference §3.3): ENQ, ACK, DC1, one weight frame.

The kiosk sends ENQ; the scale answers ACK when it has data (NAK: ask again, a bounded number of
times), then DC1 brings `SOH STX STA SIGN W W . W W W U U BCC ETX EOT`. BCC is the XOR of the
bytes between STX and BCC; it can take any value, even ETX or EOT, so the frame is read by length.
The weight is turned into integer grams from its digits, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import serial

from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.scales.base import Scale
from appliance.devices.scales.serial_port import lost_port

SOH = b"\x01"
STX = b"\x02"
ETX = b"\x03"
EOT = b"\x04"
ENQ = b"\x05"
ACK = b"\x06"
DC1 = b"\x11"
NAK = b"\x15"

STABLE = "S"
UNSTABLE = "U"
#: SIGN byte: space for zero or more, minus below zero, F overload (weight digits all F).
POSITIVE = " "
NEGATIVE = "-"
OVERLOAD = "F"
KILOGRAMS = "kg"
WEIGHT_CHARS = 6
#: SOH STX STA SIGN + 6 weight chars + 2 unit chars + BCC ETX EOT.
FRAME_LENGTH = 15
#: ENQ is repeated at most this many times while the scale answers NAK.
ENQ_ATTEMPTS = 3


class FrameError(ValueError):
    """A CAS frame that does not parse or whose BCC does not match."""


@dataclass(frozen=True)
class WeightFrame:
    stable: bool
    sign: str
    weight_g: int | None  # None on overload


def bcc(data: bytes) -> int:
    """XOR of the bytes: the frame's block check character."""
    return reduce(lambda a, b: a ^ b, data, 0)


def weight_to_grams(text: str) -> int:
    """'01.234' kg -> 1234 g from the digits alone (leading spaces allowed); whole grams only."""
    whole, point, fraction = text.lstrip(" ").partition(".")
    digits = whole + fraction
    if point != "." or not digits.isascii() or not digits.isdigit():
        raise FrameError(f"weight {text!r} is not digits with one decimal point")
    if len(fraction) > 3 and int(fraction[3:]):
        raise FrameError(f"weight {text!r} kg is not a whole number of grams")
    return int(whole or "0") * 1000 + int(fraction[:3].ljust(3, "0"))


def parse_frame(frame: bytes) -> WeightFrame:
    """SOH STX STA SIGN WW.WWW kg BCC ETX EOT -> WeightFrame; FrameError on any fault."""
    if len(frame) != FRAME_LENGTH or frame[:2] != SOH + STX or frame[-2:] != ETX + EOT:
        raise FrameError(f"not a CAS weight frame: {frame!r}")
    body, check = frame[2:-3], frame[-3]
    if bcc(body) != check:
        raise FrameError(f"BCC mismatch in {frame!r}: computed {bcc(body):02X}, sent {check:02X}")
    if any(b < 0x20 or b > 0x7E for b in body):
        raise FrameError(f"garbled characters in the CAS frame {frame!r}")
    text = body.decode("ascii")
    status, sign, weight, unit = text[0], text[1], text[2 : 2 + WEIGHT_CHARS], text[-2:]
    if status not in (STABLE, UNSTABLE):
        raise FrameError(f"status {status!r} is neither S (stable) nor U (unstable)")
    if unit != KILOGRAMS:
        raise FrameError(f"the scale reports in {unit!r}: set it to kilograms")
    if sign == OVERLOAD:
        return WeightFrame(status == STABLE, sign, None)
    if sign not in (POSITIVE, NEGATIVE):
        raise FrameError(f"sign {sign!r} is not space, '-' or 'F'")
    return WeightFrame(status == STABLE, sign, weight_to_grams(weight))


def reading_from_frame(frame: WeightFrame) -> Reading:
    """Weight only on a stable, non-negative, in-range frame."""
    if frame.sign == OVERLOAD:
        return Reading(ReadingStatus.OVERLOAD, detail="the scale is overloaded")
    if frame.sign == NEGATIVE and frame.weight_g:
        return Reading(ReadingStatus.UNDER_ZERO, detail="the scale is under zero")
    if not frame.stable:
        return Reading(ReadingStatus.MOTION, detail="the scale is not stable")
    return Reading(ReadingStatus.STABLE, weight_g=frame.weight_g)


class _NoAnswer(Exception):
    """Nothing, or only part of a frame, arrived in time."""


def _ask(port: serial.Serial, request: bytes, size: int) -> bytes:
    port.reset_input_buffer()
    port.write(request)
    return port.read(size)


def _enquire(port: serial.Serial) -> bool:
    """ENQ until ACK; False when the scale keeps answering NAK."""
    for _ in range(ENQ_ATTEMPTS):
        answer = _ask(port, ENQ, 1)
        if answer == ACK:
            return True
        if not answer:
            raise _NoAnswer("the scale does not answer ENQ")
        if answer != NAK:
            raise FrameError(f"garbled answer to ENQ: {answer!r}")
    return False


class CasScale(Scale):
    """A CAS scale (or an emulation of it) in ECR type 6 mode."""

    protocol = "cas"
    default_framing = "8N1"

    def read(self) -> Reading:
        with lost_port(self.port):
            try:
                if not _enquire(self.port):
                    return Reading(
                        ReadingStatus.ERROR,
                        detail=f"the scale answered NAK to {ENQ_ATTEMPTS} ENQ in a row: not ready",
                    )
                frame = _ask(self.port, DC1, FRAME_LENGTH)
                if len(frame) < FRAME_LENGTH:
                    raise _NoAnswer(f"incomplete frame from the scale: {frame!r}")
                return reading_from_frame(parse_frame(frame))
            except _NoAnswer as exc:
                return Reading(ReadingStatus.TIMEOUT, detail=str(exc))
            except FrameError as exc:
                return Reading(ReadingStatus.ERROR, detail=str(exc))

    @classmethod
    def probe(cls, port: serial.Serial) -> bool:
        return _ask(port, ENQ, 1) in (ACK, NAK)
