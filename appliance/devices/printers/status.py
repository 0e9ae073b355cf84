"""ESC/POS real-time status (DLE EOT n): the request bytes and what the one-byte replies mean.

Every reply has the fixed form 0xx1xx10 (metrology reference §4.3). DLE EOT 1 sets bit 3 when
the printer is offline (cover open, paper out, error); DLE EOT 4 sets bits 2-3 when the roll
nears its end and bits 5-6 when it is out. A reply of another form is not a status at all.
"""

from __future__ import annotations

from enum import StrEnum

DLE_EOT = b"\x10\x04"
PRINTER = 1
PAPER = 4
FIXED_MASK = 0b1001_0011
FIXED_BITS = 0b0001_0010
OFFLINE_BIT = 0x08
PAPER_NEAR_END_BITS = 0x0C
PAPER_OUT_BITS = 0x60


class PrinterStatus(StrEnum):
    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    #: The back-end cannot read back (a file or device node written blindly).
    UNKNOWN = "unknown"

    @property
    def can_print(self) -> bool:
        return self not in (PrinterStatus.PAPER_OUT, PrinterStatus.OFFLINE)


def request(kind: int) -> bytes:
    """The real-time status request for `kind` (PRINTER or PAPER)."""
    return DLE_EOT + bytes([kind])


def is_status_byte(value: int) -> bool:
    return value & FIXED_MASK == FIXED_BITS


def judge(printer_byte: int | None, paper_byte: int | None) -> PrinterStatus:
    """The status from the DLE EOT 1 and DLE EOT 4 replies (None: no valid reply in time)."""
    if printer_byte is None or paper_byte is None:
        return PrinterStatus.OFFLINE
    if paper_byte & PAPER_OUT_BITS:
        return PrinterStatus.PAPER_OUT
    if printer_byte & OFFLINE_BIT:
        return PrinterStatus.OFFLINE
    if paper_byte & PAPER_NEAR_END_BITS:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.ONLINE
