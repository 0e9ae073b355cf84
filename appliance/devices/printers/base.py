"""What a label printer is, whatever it is plugged into (gpiozero style: the device, then how)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from appliance.config import Printer
from appliance.core.label import LabelContent
from appliance.devices.printers.status import PrinterStatus
from appliance.errors import PrinterUnavailable


class LabelPrinter(ABC):
    """Prints legal price labels (and the customer's receipts, on the same roll) and says
    whether it can."""

    #: Where labels go, for messages: "192.168.1.50:9100", "/dev/usb/lp0", a folder.
    where: str

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Online, paper near end, paper out, offline, or unknown when it cannot read back."""

    @abstractmethod
    def print_label(self, content: LabelContent) -> str:
        """Print one label; returns where it went. Raises PrinterUnavailable if it cannot."""

    @abstractmethod
    def print_receipt(
        self, receipt_number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> str:
        """Print a receipt (lines from core.receipt) with a QR code of `qr_url` if given; `kind`
        names another document on the same roll ("closing": a Z from core.closing_paper)."""


class NoPrinter(LabelPrinter):
    """[printer] backend = "none": every label is refused with a message saying so."""

    where = "no printer"

    @classmethod
    def from_settings(cls, settings: Printer) -> NoPrinter:
        return cls()

    def status(self) -> PrinterStatus:
        return PrinterStatus.OFFLINE

    def print_label(self, content: LabelContent) -> str:
        raise PrinterUnavailable(NO_PRINTER)

    def print_receipt(
        self, receipt_number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> str:
        raise PrinterUnavailable(NO_PRINTER)


NO_PRINTER = 'no printer is configured ([printer] backend = "none"): set a backend'


def refuse_unless_printable(status: PrinterStatus, where: str) -> None:
    """A printer out of paper or offline is never sent a label."""
    if status is PrinterStatus.PAPER_OUT:
        raise PrinterUnavailable(f"the label printer at {where} is out of paper: load a new roll")
    if status is PrinterStatus.OFFLINE:
        raise PrinterUnavailable(
            f"the label printer at {where} is offline: check its power, cable and cover"
        )
