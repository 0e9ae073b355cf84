"""Dialog 06: the retail scale computes the price, the kiosk shows it unchanged (reference §3.2).

The kiosk sends the article (record 01/03/04/05), asks for the result with EOT ENQ and takes
weight, unit price and price from record 02 exactly as sent (§5.2 rule 7). A NAK is followed by
the status request 08, whose record 09 code says why there is no weight. The scale may answer an
article with record 11 D0=2: the kiosk must prove its legally relevant code by sending checksum
pairs (record 10) computed with the maker's polynomial, or the scale refuses to weigh.

Checksum pairs (our exact choice; a real scale needs its maker's polynomial, under NDA):
- CS1..CS5 are the first 20 hex digits of the legal SHA-256 (`comptoir version --legal`), four
  digits each;
- KW = remainder of CS(x)·x^16 divided by x^16 + P(x) over GF(2), P the configured 16 bits (the
  CRC convention: KW is the non-reflected CRC-16 with polynomial P, initial value 0, of CS's two
  bytes, most significant first);
- with the random number Z, CS is rotated left by Z's high nibble and KW right by its low
  nibble; record 10 carries the pairs as 8 upper-case hex digits each, one after the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import serial

from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.scales.base import Article, Scale
from appliance.devices.scales.serial_port import lost_port

if TYPE_CHECKING:
    from appliance import config

EOT = b"\x04"
STX = b"\x02"
ETX = b"\x03"
ENQ = b"\x05"
ACK = b"\x06"
NAK = b"\x15"
ESC = b"\x1b"

#: "Give me the weighing result."
ENQUIRY = EOT + ENQ
#: Record 08, the status request: safe to send at any time (also the detection probe).
STATUS_REQUEST = EOT + STX + b"08" + ETX

UNIT_PRICE_DIGITS = 6
TARE_DIGITS = 4
TEXT_CHARS = 13
#: Record 02 unit status for kilograms; 0-2 are pound variants.
KILOGRAMS = "3"
#: Longest scale frame we accept; record 02 is 26 bytes.
MAX_FRAME = 64
HEX_DIGITS = "0123456789ABCDEFabcdef"
#: Checksum pairs sent in record 10 (the protocol allows 1 to 5).
CHECKSUM_PAIRS = 5

ERROR_CODES = {
    "00": "no error",
    "01": "general error",
    "02": "parity error or buffer overflow",
    "10": "invalid record number",
    "11": "invalid unit price",
    "12": "invalid tare",
    "13": "invalid text",
    "20": "scale still in motion",
    "21": "no motion since the last weighing",
    "22": "measurement not yet finished",
    "30": "weight below the minimum",
    "31": "weight below zero",
    "32": "scale overloaded",
}
STATUS_OF_CODE = {
    "20": ReadingStatus.MOTION,
    "22": ReadingStatus.MOTION,
    "21": ReadingStatus.UNCHANGED,
    "30": ReadingStatus.BELOW_MIN,
    "31": ReadingStatus.UNDER_ZERO,
    "32": ReadingStatus.OVERLOAD,
}
#: After these codes the article stays on the scale and EOT ENQ may simply be repeated.
RETRY_ENQUIRY_CODES = frozenset({"20", "22"})


class FrameError(ValueError):
    """A scale frame that does not parse: garbled, cut, or not the record expected."""


@dataclass(frozen=True)
class Result:
    """Record 02: what the scale weighed and priced, digits as sent."""

    weight_g: int
    unit_price_cents: int
    price_cents: int


@dataclass(frozen=True)
class ChecksumAnswer:
    """Record 11: D0 = 0 refused, 1 valid, 2 challenge with random number Z."""

    verdict: str
    z: int | None = None


# --- building POS records -------------------------------------------------------------------


def pos_record(number: str, *fields: str, trailing_esc: bool = False) -> bytes:
    """EOT STX number [ESC field]... ETX, all ASCII."""
    body = number.encode("ascii") + b"".join(ESC + f.encode("ascii") for f in fields)
    return EOT + STX + body + (ESC if trailing_esc else b"") + ETX


def article_record(article: Article) -> bytes:
    """The shortest record that tells the scale this article: 01, 03, 04 or 05."""
    if not 0 <= article.unit_price_cents < 10**UNIT_PRICE_DIGITS:
        raise ValueError(
            f"unit price {article.unit_price_cents} cents does not fit the scale's "
            f"{UNIT_PRICE_DIGITS} digits"
        )
    if not 0 <= article.tare_g < 10**TARE_DIGITS:
        raise ValueError(f"tare {article.tare_g} g does not fit the scale's {TARE_DIGITS} digits")
    price = f"{article.unit_price_cents:0{UNIT_PRICE_DIGITS}d}"
    tare = f"{article.tare_g:0{TARE_DIGITS}d}"
    text = scale_text(article.text)
    if article.tare_g and article.text:
        return pos_record("05", price, tare, text)
    if article.text:
        return pos_record("04", price, text)
    if article.tare_g:
        return pos_record("03", price, tare)
    return pos_record("01", price, trailing_esc=True)


def scale_text(text: str) -> str:
    """The article name in the 13 printable ASCII characters the scale displays."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    printable = "".join(c if " " <= c <= "~" else " " for c in plain)
    return printable[:TEXT_CHARS].ljust(TEXT_CHARS)


def checksum_record(pairs: Sequence[tuple[int, int]]) -> bytes:
    """Record 10: each (CS, KW) pair as 8 upper-case hex digits."""
    if not 1 <= len(pairs) <= CHECKSUM_PAIRS:
        raise ValueError(f"record 10 carries 1 to {CHECKSUM_PAIRS} checksum pairs")
    return pos_record("10", "".join(f"{cs:04X}{kw:04X}" for cs, kw in pairs))


# --- the checksum handshake -----------------------------------------------------------------


def parse_polynomial(text: str) -> int:
    """'8005' -> 0x8005; ValueError names what is expected."""
    if len(text) != 4 or any(c not in HEX_DIGITS for c in text):
        raise ValueError(f"Dialog 06 polynomial {text!r} is not 4 hexadecimal digits")
    return int(text, 16)


def gf2_remainder(value: int, bits: int, polynomial: int) -> int:
    """Remainder of value(x)·x^16 divided by x^16 + P(x) over GF(2): a CRC-16 of `bits` bits."""
    generator = (1 << 16) | polynomial
    remainder = value << 16
    for shift in range(bits - 1, -1, -1):
        if remainder & (1 << (shift + 16)):
            remainder ^= generator << shift
    return remainder


def rotate_left16(word: int, count: int) -> int:
    count %= 16
    return ((word << count) | (word >> (16 - count))) & 0xFFFF


def rotate_right16(word: int, count: int) -> int:
    return rotate_left16(word, 16 - count % 16)


def legal_checksums(sha256_hex: str, count: int = CHECKSUM_PAIRS) -> list[int]:
    """CS1..CSn: the legal SHA-256's leading hex digits, four per checksum."""
    return [int(sha256_hex[4 * i : 4 * i + 4], 16) for i in range(count)]


def answer_challenge(z: int, checksums: Sequence[int], polynomial: int) -> list[tuple[int, int]]:
    """The (CS, KW) pairs for random number Z: CS rotated left by Z1, KW right by Z2."""
    high, low = z >> 4, z & 0x0F
    return [
        (rotate_left16(cs, high), rotate_right16(gf2_remainder(cs, 16, polynomial), low))
        for cs in checksums
    ]


# --- parsing scale frames -------------------------------------------------------------------


def split_frame(frame: bytes) -> tuple[str, list[str]]:
    """STX number [ESC field]... ETX -> (number, fields); FrameError on anything else."""
    if len(frame) < 4 or frame[:1] != STX or frame[-1:] != ETX:
        raise FrameError(f"not a Dialog 06 frame: {frame!r}")
    body = frame[1:-1]
    if any((b < 0x20 and b != ESC[0]) or b > 0x7E for b in body):
        raise FrameError(f"garbled characters in the scale's answer: {frame!r}")
    number, *fields = body.decode("ascii").split(ESC.decode("ascii"))
    if len(number) != 2 or not number.isdigit():
        raise FrameError(f"no record number in the scale's answer: {frame!r}")
    return number, fields


def _digits(field: str, sizes: tuple[int, ...], what: str) -> int:
    if len(field) not in sizes or not field.isascii() or not field.isdigit():
        raise FrameError(f"{what} {field!r} is not {' or '.join(map(str, sizes))} digits")
    return int(field)


def parse_result(frame: bytes) -> Result:
    """Record 02: STX 02 ESC X ESC WWWWW ESC PPPPPP ESC IIIIII ETX."""
    number, fields = split_frame(frame)
    if number != "02" or len(fields) != 4:
        raise FrameError(f"expected the result record 02, got {frame!r}")
    unit, weight, unit_price, price = fields
    if unit != KILOGRAMS:
        raise FrameError(f"the scale reports in pounds (unit {unit!r}): set it to kilograms")
    return Result(
        weight_g=_digits(weight, (5,), "weight"),
        unit_price_cents=_digits(unit_price, (5, 6), "unit price"),
        price_cents=_digits(price, (6,), "price"),
    )


def parse_status(frame: bytes) -> str:
    """Record 09: STX 09 ESC S1 S0 ETX -> the two-digit error code."""
    number, fields = split_frame(frame)
    if number != "09" or len(fields) != 1 or len(fields[0]) != 2 or not fields[0].isdigit():
        raise FrameError(f"expected the status record 09, got {frame!r}")
    return fields[0]


def parse_checksum_answer(frame: bytes) -> ChecksumAnswer:
    """Record 11: STX 11 ESC D0 [Z Z] ETX."""
    number, fields = split_frame(frame)
    if number != "11" or len(fields) != 1:
        raise FrameError(f"expected the checksum record 11, got {frame!r}")
    field = fields[0]
    if field in ("0", "1"):
        return ChecksumAnswer(field)
    if len(field) == 3 and field[0] == "2" and all(c in HEX_DIGITS for c in field[1:]):
        return ChecksumAnswer("2", int(field[1:], 16))
    raise FrameError(f"record 11 field {field!r} is not 0, 1 or 2 with a random number")


def reading_from_result(result: Result, tare_g: int) -> Reading:
    """A stable reading carrying the scale's three values unchanged."""
    return Reading(
        ReadingStatus.STABLE,
        weight_g=result.weight_g,
        tare_g=tare_g,
        net=tare_g > 0,
        unit_price_cents=result.unit_price_cents,
        price_cents=result.price_cents,
    )


def reading_from_status(code: str) -> Reading:
    """Record 09's code after a NAK, as a reading without weight."""
    meaning = ERROR_CODES.get(code, "unknown error code")
    status = STATUS_OF_CODE.get(code, ReadingStatus.ERROR)
    if code == "00":
        meaning = "the scale refused the request but reports no error"
    return Reading(status, detail=f"Dialog 06 code {code}: {meaning}")


# --- the I/O --------------------------------------------------------------------------------


class _NoAnswer(Exception):
    """Nothing, or only part of a frame, arrived in time."""


def exchange(port: serial.Serial, request: bytes) -> bytes:
    """Send one request; return ACK, NAK or a whole scale frame (reassembled from pieces)."""
    port.reset_input_buffer()
    port.write(request)
    first = port.read(1)
    if not first:
        raise _NoAnswer("the scale does not answer")
    if first in (ACK, NAK):
        return first
    if first != STX:
        port.read(port.in_waiting)
        raise FrameError(f"garbled answer from the scale (starts with {first!r})")
    rest = port.read_until(ETX, MAX_FRAME)
    if not rest.endswith(ETX):
        raise _NoAnswer(f"incomplete frame from the scale: {first + rest!r}")
    return first + rest


def _finish(port: serial.Serial) -> None:
    """The POS answers every scale frame with EOT."""
    port.write(EOT)


class Dialog06Scale(Scale):
    """A price-computing retail scale speaking Dialog 06."""

    protocol = "dialog06"
    default_framing = "7O1"
    computes_price = True

    def __init__(
        self, port: serial.Serial, *, interval_g: int = 1, polynomial: str | None = None
    ) -> None:
        super().__init__(port, interval_g=interval_g)
        self.polynomial = None if polynomial is None else parse_polynomial(polynomial)
        self._article = Article(0)
        self._record = article_record(self._article)
        #: The scale has acknowledged the current article and still holds it.
        self._article_shown = False
        self._checksums: list[int] | None = None

    @classmethod
    def from_settings(cls, port: serial.Serial, settings: config.Scale) -> Dialog06Scale:
        return cls(
            port, interval_g=settings.interval_g, polynomial=settings.dialog06_polynomial or None
        )

    def set_article(self, article: Article) -> None:
        self._record = article_record(article)
        self._article = article
        self._article_shown = False

    def tare(self, preset_g: int | None = None) -> None:
        """Dialog 06 holds only a preset tare, sent with the unit price (record 03/05)."""
        if preset_g is None:
            raise NotImplementedError("dialog06 takes only a preset tare, with the unit price")
        self.set_article(Article(self._article.unit_price_cents, preset_g, self._article.text))

    def clear_tare(self) -> None:
        self.set_article(Article(self._article.unit_price_cents, 0, self._article.text))

    def read(self) -> Reading:
        with lost_port(self.port):
            try:
                return self._weigh()
            except _NoAnswer as exc:
                self._article_shown = False
                return Reading(ReadingStatus.TIMEOUT, detail=str(exc))
            except FrameError as exc:
                self._article_shown = False
                return Reading(ReadingStatus.ERROR, detail=str(exc))

    @classmethod
    def probe(cls, port: serial.Serial) -> bool:
        try:
            answer = exchange(port, STATUS_REQUEST)
            parse_status(answer)
        except (_NoAnswer, FrameError):
            return False
        _finish(port)
        return True

    def _weigh(self) -> Reading:
        if not self._article_shown:
            refusal = self._show_article()
            if refusal is not None:
                return refusal
        answer = exchange(self.port, ENQUIRY)
        if answer == NAK:
            reading, code = self._error()
            self._article_shown = code in RETRY_ENQUIRY_CODES
            return reading
        if answer == ACK:
            raise FrameError("the scale answered ACK instead of the result record 02")
        self._article_shown = False
        result = parse_result(answer)
        _finish(self.port)
        return reading_from_result(result, self._article.tare_g)

    def _show_article(self) -> Reading | None:
        """Send the article; None once the scale shows it, else the reading that says why not."""
        for _ in range(2):
            answer = exchange(self.port, self._record)
            if answer == ACK:
                self._article_shown = True
                return None
            if answer == NAK:
                return self._error()[0]
            challenge = parse_checksum_answer(answer)
            _finish(self.port)
            if challenge.verdict != "2" or challenge.z is None:
                raise FrameError(f"record 11 D0={challenge.verdict} answered an article record")
            refusal = self._prove_checksums(challenge.z)
            if refusal is not None:
                return refusal
        return Reading(ReadingStatus.ERROR, detail="the scale asked for the checksums again")

    def _prove_checksums(self, z: int) -> Reading | None:
        """Answer the challenge Z; None when the scale accepts, else an ERROR reading."""
        if self.polynomial is None:
            return Reading(
                ReadingStatus.ERROR,
                detail="the scale asks for the software checksums but [scale] "
                "dialog06_polynomial is empty: set the polynomial given by the scale maker",
            )
        if self._checksums is None:
            from appliance.legal import legal_identity

            self._checksums = legal_checksums(legal_identity().sha256)
        pairs = answer_challenge(z, self._checksums, self.polynomial)
        answer = exchange(self.port, checksum_record(pairs))
        if answer == NAK:
            return self._error()[0]
        if answer != ACK:
            raise FrameError(f"expected ACK to the checksum record 10, got {answer!r}")
        verdict = parse_checksum_answer(exchange(self.port, ENQUIRY))
        _finish(self.port)
        if verdict.verdict == "1":
            return None
        if verdict.verdict == "0":
            return Reading(
                ReadingStatus.ERROR,
                detail="the scale refused the software checksums and will not weigh: check "
                "[scale] dialog06_polynomial (a real scale needs its maker's polynomial)",
            )
        raise FrameError("the scale answered the checksums with a new challenge")

    def _error(self) -> tuple[Reading, str]:
        """After a NAK: ask record 08, read the code of record 09."""
        code = parse_status(exchange(self.port, STATUS_REQUEST))
        _finish(self.port)
        return reading_from_status(code), code
