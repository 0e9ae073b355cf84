"""The label printer described by `[printer]`: an ESC/POS connection, a PNG folder, or none."""

from __future__ import annotations

from appliance.config import Printer
from appliance.devices import registry
from appliance.devices.printers.base import LabelPrinter

_BACKENDS = "appliance.devices.printers.backends"

#: `[printer] backend` -> what opens it from the [printer] section.
BACKENDS = {
    "file": f"{_BACKENDS}:file_printer",
    "usb": f"{_BACKENDS}:usb_printer",
    "serial": f"{_BACKENDS}:serial_printer",
    "network": f"{_BACKENDS}:network_printer",
    "preview": "appliance.devices.printers.preview:PreviewPrinter.from_settings",
    "none": "appliance.devices.printers.base:NoPrinter.from_settings",
}


def open_printer(settings: Printer) -> LabelPrinter:
    """The printer of [printer]; a wrong target or profile is a ConfigError naming the key.

    Never None: with `backend = "none"` it is a printer that refuses every label, saying so."""
    printer: LabelPrinter = registry.load("printer.backend", settings.backend, BACKENDS)(settings)
    return printer
