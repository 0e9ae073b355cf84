"""The customer's receipt on an ESC/POS printer, through python-escpos.

Takes any python-escpos printer (Network, Usb, Serial, File) opened by the printer back-ends, so
the label printer and the receipt share one roll and one connection policy. The QR code uses the
printer's native QR command (GS ( k), which ESC/POS receipt printers render themselves.
"""

from __future__ import annotations

from escpos.escpos import Escpos

QR_SIZE = 5  # module size in dots: about 2.5 cm for a 50-character link at 203 dpi


def write_receipt(printer: Escpos, lines: list[str], qr_url: str = "") -> None:
    """Print `lines` (from core.receipt.receipt_lines), the QR code when there is a link, cut."""
    printer.hw("INIT")
    printer.set(align="left", font="a", bold=False, normal_textsize=True)
    for line in lines:
        printer.textln(line)
    if qr_url:
        printer.set(align="center")
        printer.qr(qr_url, size=QR_SIZE, native=True, center=False)
        printer.set(align="left")
    printer.cut()
