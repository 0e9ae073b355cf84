"""The python-escpos connections of `[printer] backend`: each opens a fresh one per job.

backend   target                                   reads status back
file      a device node or file, /dev/usb/lp0      no (python-escpos File cannot read)
usb       VID:PID in hex, 0416:5011                yes (needs pyusb)
serial    a device path or pyserial URL, 9600 8N1  yes
network   host:port, 192.168.1.50:9100             yes
"""

from __future__ import annotations

import re
from collections.abc import Callable

import serial
from escpos.escpos import Escpos
from escpos.printer import File, Network, Serial, Usb

from appliance.config import Printer, split_host_port
from appliance.devices.printers.escpos_printer import EscposPrinter
from appliance.devices.printers.paper import paper_of
from appliance.errors import ConfigError, PrinterUnavailable

NETWORK_PORT = 9100
SERIAL_BAUD = 9600
#: How long a status reply or a connection may take before the printer counts as offline.
TIMEOUT_S = 3.0


def file_printer(settings: Printer) -> EscposPrinter:
    """A device node or file written blindly (python-escpos File cannot read a status back)."""
    return _escpos(settings, lambda: File(settings.target, profile=settings.profile), False)


def usb_printer(settings: Printer) -> EscposPrinter:
    match = re.fullmatch(r"([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})", settings.target)
    if not match:
        raise ConfigError(
            f"printer.target = {settings.target!r} is wrong: expected VID:PID in hexadecimal, "
            f"such as 0416:5011 (see lsusb)"
        )
    vendor, product = int(match[1], 16), int(match[2], 16)

    def connect() -> Escpos:
        if not Usb.is_usable():
            raise PrinterUnavailable("the usb printer backend needs the pyusb package installed")
        return Usb(vendor, product, timeout=int(TIMEOUT_S * 1000), profile=settings.profile)

    return _escpos(settings, connect, True)


def serial_printer(settings: Printer) -> EscposPrinter:
    return _escpos(
        settings,
        lambda: _SerialUrl(
            settings.target, baudrate=SERIAL_BAUD, timeout=TIMEOUT_S, profile=settings.profile
        ),
        True,
    )


def network_printer(settings: Printer) -> EscposPrinter:
    found = split_host_port(settings.target)
    if found is None:
        raise ConfigError(
            f"printer.target = {settings.target!r} is wrong: expected host:port, "
            f"such as 192.168.1.50:{NETWORK_PORT}"
        )
    host, port = found
    return _escpos(
        settings, lambda: Network(host, port, timeout=TIMEOUT_S, profile=settings.profile), True
    )


def _escpos(settings: Printer, connect: Callable[[], Escpos], reads_back: bool) -> EscposPrinter:
    """The printer a python-escpos connection reaches; the target and profile checked first."""
    paper = paper_of(settings)
    if not settings.target:
        raise ConfigError(f"printer.target is missing: the {settings.backend} backend needs one")
    return EscposPrinter(connect, settings.target, reads_back=reads_back, width_mm=paper.width_mm)


class _SerialUrl(Serial):  # type: ignore[misc]  # python-escpos ships no type information
    """python-escpos Serial opening any pyserial URL (socket://, rfc2217://) as well as a path."""

    def open(self, raise_not_found: bool = True) -> None:
        self.device = serial.serial_for_url(
            self.devfile, baudrate=self.baudrate, timeout=self.timeout
        )

    def _read(self) -> bytes:
        # One status byte is the whole reply: do not wait for 16 as python-escpos does.
        first = self.device.read(1)
        return first + self.device.read(self.device.in_waiting) if first else first
