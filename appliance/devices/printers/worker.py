"""The label printer's own thread: prints when asked and reads the paper in between.

One thread alone talks to the printer, so a status read never interleaves with a label's bytes.
The paper is read every `interval_s` and `on_status` hears each change (a printer whose status
read fails counts as offline); labels and receipts are jobs whose Future says where they went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from appliance.core.label import LabelContent
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.status import PrinterStatus
from appliance.devices.worker import Worker

log = logging.getLogger(__name__)

#: How often the paper is read while nothing prints.
PAPER_POLL_S = 2.0


class PrinterWorker(Worker):
    def __init__(
        self,
        printer: LabelPrinter,
        on_status: Callable[[PrinterStatus], None],
        *,
        interval_s: float = PAPER_POLL_S,
    ) -> None:
        super().__init__("printer", interval_s=interval_s)
        self.printer = printer
        self.on_status = on_status
        self.status: PrinterStatus | None = None  # None until first read

    def print_label(self, content: LabelContent) -> Future[str]:
        return self.submit(lambda: self._after(self.printer.print_label(content)))

    def print_receipt(
        self, number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> Future[str]:
        return self.submit(
            lambda: self._after(self.printer.print_receipt(number, lines, qr_url, kind=kind))
        )

    def chore(self) -> None:
        try:
            status = self.printer.status()
        except Exception:  # a broken status read is an offline printer, not a dead thread
            log.exception("printer status failed")
            status = PrinterStatus.OFFLINE
        if status is not self.status:
            self.status = status
            self.on_status(status)

    def _after(self, where: str) -> str:
        """A print may have used the last of the paper: read it again at once."""
        self.chore()
        return where
