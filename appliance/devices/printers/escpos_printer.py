"""Labels on an ESC/POS printer through python-escpos (Usb, Serial, Network or File back-end).

Each job opens the connection, asks the real-time status (DLE EOT 1 and 4) where the back-end
reads back, refuses a printer out of paper or offline, sends the label and closes; a printer
that was unplugged and plugged back in is simply found again at the next label. python-escpos
prints the barcode digits it is given, so they carry our own check digits (`check=False`).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator

import serial
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError

from appliance.core.label import LabelContent, LineSize
from appliance.devices.printers import status as rt
from appliance.devices.printers.base import LabelPrinter, refuse_unless_printable
from appliance.devices.printers.preview import DOTS_PER_MM
from appliance.devices.printers.receipt import write_receipt
from appliance.devices.printers.status import PrinterStatus
from appliance.errors import PrinterUnavailable

log = logging.getLogger(__name__)

BARCODE_HEIGHT_DOTS = 64
EAN13_WIDTH_MODULES = 95 + 2 * 11  # with the quiet zones


class EscposPrinter(LabelPrinter):
    """A python-escpos printer made fresh for each job by `connect`."""

    def __init__(
        self,
        connect: Callable[[], Escpos],
        where: str,
        *,
        reads_back: bool,
        width_mm: int,
    ) -> None:
        self._connect = connect
        self.where = where
        self.reads_back = reads_back
        # EAN-13 module width in dots: as wide as the label allows, 2 to 4 (GS w accepts 2-6).
        self.module_dots = max(2, min(4, width_mm * DOTS_PER_MM // EAN13_WIDTH_MODULES))

    def status(self) -> PrinterStatus:
        try:
            with self._connection() as printer:
                return self._status(printer)
        except PrinterUnavailable:
            return PrinterStatus.OFFLINE

    def print_label(self, content: LabelContent) -> str:
        with self._connection() as printer:
            refuse_unless_printable(self._status(printer), self.where)
            write_label(printer, content, self.module_dots)
        log.info("label %s printed on %s", content.ticket, self.where)
        return self.where

    def print_receipt(
        self, receipt_number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> str:
        with self._connection() as printer:
            refuse_unless_printable(self._status(printer), self.where)
            write_receipt(printer, lines, qr_url)
        log.info("%s %s printed on %s", kind, receipt_number, self.where)
        return self.where

    def _status(self, printer: Escpos) -> PrinterStatus:
        if not self.reads_back:
            return PrinterStatus.UNKNOWN
        printer_byte = _ask(printer, rt.PRINTER)
        if printer_byte is None:  # no answer: do not wait a second time for the paper sensor
            return PrinterStatus.OFFLINE
        return rt.judge(printer_byte, _ask(printer, rt.PAPER))

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Escpos]:
        printer = None
        try:
            printer = self._connect()
            printer.open()
            yield printer
        except (OSError, EscposError, serial.SerialException) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise PrinterUnavailable(
                f"the label printer at {self.where} cannot be reached: {detail}"
            ) from None
        finally:
            if printer is not None:
                with contextlib.suppress(OSError, EscposError):
                    printer.close()


def _ask(printer: Escpos, kind: int) -> int | None:
    """One real-time status byte, or None when the reply is missing or not a status byte."""
    try:
        reply = bytes(printer.query_status(rt.request(kind)))
    except TimeoutError:
        return None
    valid = [b for b in reply if rt.is_status_byte(b)]
    return valid[-1] if valid else None


def write_label(printer: Escpos, content: LabelContent, module_dots: int = 3) -> None:
    """The ESC/POS bytes of one label: the same lines as the preview, the EAN-13, a cut."""
    printer.hw("INIT")
    for line in content.lines():
        large = line.size is LineSize.LARGE
        printer.set(
            align="center",
            font="b" if line.size is LineSize.SMALL else "a",
            bold=line.bold,
            double_width=large,
            double_height=large,
            normal_textsize=not large,
        )
        printer.textln(line.text)
    printer.set(align="center", font="a", bold=False, normal_textsize=True)
    # python-escpos announces its barcode renderer on stdout; the CLI's stdout is for results.
    with contextlib.redirect_stdout(io.StringIO()):
        printer.barcode(
            content.barcode,
            "EAN13",
            height=BARCODE_HEIGHT_DOTS,
            width=module_dots,
            pos="BELOW",
            check=False,
        )
    printer.cut()
