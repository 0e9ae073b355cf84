"""A keyboard-wedge scanner types what it read, then Enter: this collects it into one text.

A scanner types a QR token or a badge in a burst; characters that arrive after a long pause
start a new text, so a stray key pressed minutes ago never joins the next scan. Pure: the
window's key handler feeds it characters with the time.
"""

from __future__ import annotations

#: A pause longer than this between two characters starts a new text.
GAP_S = 2.0
MAX_LENGTH = 200


class Wedge:
    def __init__(self, gap_s: float = GAP_S) -> None:
        self.gap_s = gap_s
        self._text = ""
        self._last = 0.0

    def feed(self, char: str, now: float) -> None:
        if now - self._last > self.gap_s:
            self._text = ""
        self._last = now
        if char.isprintable() and len(self._text) < MAX_LENGTH:
            self._text += char

    def enter(self, now: float) -> str | None:
        """The text scanned, if any, when Enter arrives; the buffer starts afresh."""
        text, self._text = self._text.strip(), ""
        if not text or now - self._last > self.gap_s:
            return None
        return text
