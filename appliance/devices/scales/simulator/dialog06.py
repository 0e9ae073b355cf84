"""A Dialog 06 retail scale: takes articles, weighs, prices, and challenges the POS's checksums.

It writes its own answers (price, checksum verification) rather than calling the driver's code,
so a misreading of the protocol cannot hide on both sides. The scale weighs only after a valid
checksum handshake: at power-on and again every `challenge_every` weighings.
"""

from __future__ import annotations

import random

from appliance.devices.scales.dialog06 import ACK, ENQ, EOT, ESC, ETX, NAK, STX
from appliance.devices.scales.simulator.base import Pan, ScaleSimulator

#: A request longer than this without ETX is dropped (a real scale's buffer overflows).
MAX_REQUEST = 128
_HEX = "0123456789ABCDEF"


class Dialog06Simulator(ScaleSimulator):
    def __init__(
        self,
        pan: Pan,
        *,
        interval_g: int = 2,
        capacity_g: int = 15000,
        polynomial: str = "8005",
        challenge_every: int = 50,
        seed: int | None = None,
    ) -> None:
        super().__init__(pan, interval_g=interval_g, capacity_g=capacity_g)
        self.polynomial = int(polynomial, 16)
        self.challenge_every = challenge_every
        self.min_load_g = 20 * interval_g
        self.random = random.Random(seed)
        self.text = ""
        #: A code to answer the next weighing with (rare errors such as 22 or 02, for tests).
        self.next_error: str | None = None
        #: Handshakes asked for, and how many the POS passed (for tests).
        self.challenges = 0
        self.challenges_passed = 0
        self._buffer = b""
        self._article: tuple[int, int] | None = None  # unit price, tare
        self._error = "00"
        self._challenge: int | None = None  # Z sent, record 10 awaited
        self._verdict: bool | None = None  # record 10 judged, EOT ENQ awaited
        self._checksums_valid = False  # power-on: a handshake is due
        self._weighings = 0
        self._last_weighed_g: int | None = None

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        answers = []
        while True:
            start = self._buffer.find(EOT)
            if start < 0:
                self._buffer = b""
                break
            rest = self._buffer[start + 1 :]
            if not rest:
                self._buffer = self._buffer[start:]
                break
            if rest[:1] == ENQ:
                self._buffer = rest[1:]
                answers.append(self._enquiry())
            elif rest[:1] == STX:
                end = rest.find(ETX)
                if end < 0:
                    self._buffer = self._buffer[start:] if len(rest) < MAX_REQUEST else b""
                    break
                self._buffer = rest[end + 1 :]
                answers.append(self._record(rest[1:end]))
            else:
                self._buffer = rest  # a lone EOT resets the interface
        return b"".join(answers)

    def corrupt_checksum(self, answer: bytes) -> bytes:
        """Dialog 06 has only parity: a frame with one character whose parity bit is wrong."""
        if not answer.startswith(STX):
            return answer
        middle = len(answer) // 2
        return answer[:middle] + bytes([answer[middle] | 0x80]) + answer[middle + 1 :]

    # --- records ----------------------------------------------------------------------------

    def _record(self, body: bytes) -> bytes:
        if any(b > 0x7E for b in body):
            return self._refuse("02")
        number, *fields = body.decode("ascii").split("\x1b")
        if number in ("01", "03", "04", "05"):
            return self._take_article(number, fields)
        if number == "08":
            code, self._error = self._error, "00"
            return _frame("09", code)
        if number == "10" and self._challenge is not None:
            return self._take_checksums(fields)
        return self._refuse("10")

    def _take_article(self, number: str, fields: list[str]) -> bytes:
        layout = {
            "01": ("price", "end"),
            "03": ("price", "tare"),
            "04": ("price", "text"),
            "05": ("price", "tare", "text"),
        }[number]
        if len(fields) != len(layout):
            return self._refuse("10")
        values = dict(zip(layout, fields, strict=True))
        if values.get("end", "") != "":
            return self._refuse("10")
        if len(values["price"]) != 6 or not values["price"].isdigit():
            return self._refuse("11")
        tare = values.get("tare", "0000")
        if len(tare) != 4 or not tare.isdigit():
            return self._refuse("12")
        text = values.get("text", " " * 13)
        if len(text) != 13:
            return self._refuse("13")
        if not self._checksums_valid or (
            self.challenge_every and self._weighings >= self.challenge_every
        ):
            self._article = None
            self._challenge = self.random.randrange(256)
            self.challenges += 1
            return _frame("11", "2" + _HEX[self._challenge >> 4] + _HEX[self._challenge & 15])
        self._article = (int(values["price"]), int(tare))
        self.text = text
        return ACK

    def _take_checksums(self, fields: list[str]) -> bytes:
        z, self._challenge = self._challenge, None
        assert z is not None
        digits = fields[0] if len(fields) == 1 else ""
        if not digits or len(digits) % 8 or len(digits) > 40 or any(c not in _HEX for c in digits):
            self._checksums_valid = False
            return self._refuse("10")
        valid = True
        for i in range(0, len(digits), 8):
            sent_cs, sent_kw = int(digits[i : i + 4], 16), int(digits[i + 4 : i + 8], 16)
            cs = _rotate(sent_cs, 16 - (z >> 4))  # undo the left rotation
            kw = _rotate(sent_kw, z & 15)  # undo the right rotation
            valid = valid and self._check_word(cs) == kw
        self._verdict = valid
        return ACK

    def _check_word(self, cs: int) -> int:
        """CRC-16 of CS's two bytes with this scale's polynomial, MSB first, initial 0."""
        register = 0
        for byte in (cs >> 8, cs & 0xFF):
            register ^= byte << 8
            for _ in range(8):
                register <<= 1
                if register & 0x10000:
                    register ^= 0x10000 | self.polynomial
        return register

    # --- weighing ---------------------------------------------------------------------------

    def _enquiry(self) -> bytes:
        if self._verdict is not None:
            valid, self._verdict = self._verdict, None
            self._checksums_valid = valid
            if valid:
                self._weighings = 0
                self.challenges_passed += 1
            return _frame("11", "1" if valid else "0")
        if self._article is None:
            return self._refuse("01")
        unit_price, tare = self._article
        shown = self.shown_weight_g()
        code = self._weighing_error(shown, tare)
        if code:
            if code not in ("20", "22"):
                self._article = None
            return self._refuse(code)
        net = shown - tare
        price = (net * unit_price + 500) // 1000
        if price > 999999:
            self._article = None
            return self._refuse("11")
        self._article = None
        self._weighings += 1
        self._last_weighed_g = shown
        return _frame("02", "3", f"{net:05d}", f"{unit_price:06d}", f"{price:06d}")

    def _weighing_error(self, shown: int, tare: int) -> str:
        if self.next_error:
            code, self.next_error = self.next_error, None
            return code
        pan = self.pan
        if shown <= 0 or shown != self._last_weighed_g or pan.motion:
            self._last_weighed_g = None  # back at zero, changed or moved: a new weighing
        if pan.overload or shown > self.capacity_g:
            return "32"
        if pan.under_zero or shown - tare < 0:
            return "31"
        if pan.motion:
            return "20"
        if shown - tare < self.min_load_g:
            return "30"
        if self._last_weighed_g is not None:
            return "21"
        return ""

    def _refuse(self, code: str) -> bytes:
        self._error = code
        return NAK


def _frame(number: str, *fields: str) -> bytes:
    return STX + number.encode() + b"".join(ESC + f.encode() for f in fields) + ETX


def _rotate(word: int, left: int) -> int:
    left %= 16
    return ((word << left) | (word >> (16 - left))) & 0xFFFF
