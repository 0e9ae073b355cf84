"""The label printer named by config `[printer]`: backend, target and python-escpos profile.

backend   target                                   reads status back
file      a device node or file, /dev/usb/lp0      no (python-escpos File cannot read)
usb       VID:PID in hex, 0416:5011                yes (needs pyusb)
serial    a device path or pyserial URL, 9600 8N1  yes
network   host:port, 192.168.1.50:9100             yes
preview   a folder for PNG files (default: data_dir/labels)
none      -                                        every label refused
"""

from __future__ import annotations

import re
from collections.abc import Callable

import serial
from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.printer import File, Network, Serial, Usb

from appliance.config import Config, Printer, split_host_port
from appliance.devices.printers.base import LabelPrinter, NoPrinter
from appliance.devices.printers.escpos_printer import EscposPrinter
from appliance.devices.printers.preview import PreviewPrinter
from appliance.errors import ConfigError, PrinterUnavailable

NETWORK_PORT = 9100
SERIAL_BAUD = 9600
#: How long a status reply or a connection may take before the printer counts as offline.
TIMEOUT_S = 3.0


def open_label_printer(site: Config, *, timeout_s: float = TIMEOUT_S) -> LabelPrinter:
    """The printer of `site.printer`; a wrong target or profile is a ConfigError naming the key."""
    config = site.printer
    data_dir = site.device.data_dir
    if config.backend == "none":
        return NoPrinter()
    if config.backend == "preview":
        folder = (data_dir / config.target).resolve() if config.target else data_dir / "labels"
        return PreviewPrinter(folder, config.label_width_mm, config.label_height_mm)
    try:
        get_profile(config.profile)
    except KeyError:
        raise ConfigError(
            f"printer.profile = {config.profile!r} is wrong: expected a python-escpos printer "
            f"profile, such as default, TM-T88V or TM-T20II"
        ) from None
    if not config.target:
        raise ConfigError(f"printer.target is missing: the {config.backend} backend needs one")
    connect, reads_back = _CONNECTORS[config.backend](config, timeout_s)
    return EscposPrinter(
        connect, config.target, reads_back=reads_back, label_width_mm=config.label_width_mm
    )


Connector = tuple[Callable[[], Escpos], bool]


def _file(config: Printer, timeout_s: float) -> Connector:
    return (lambda: File(config.target, profile=config.profile)), False


def _usb(config: Printer, timeout_s: float) -> Connector:
    match = re.fullmatch(r"([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})", config.target)
    if not match:
        raise ConfigError(
            f"printer.target = {config.target!r} is wrong: expected VID:PID in hexadecimal, "
            f"such as 0416:5011 (see lsusb)"
        )
    vendor, product = int(match[1], 16), int(match[2], 16)

    def connect() -> Escpos:
        if not Usb.is_usable():
            raise PrinterUnavailable("the usb printer backend needs the pyusb package installed")
        return Usb(vendor, product, timeout=int(timeout_s * 1000), profile=config.profile)

    return connect, True


class _SerialUrl(Serial):
    """python-escpos Serial opening any pyserial URL (socket://, rfc2217://) as well as a path."""

    def open(self, raise_not_found: bool = True) -> None:
        self.device = serial.serial_for_url(
            self.devfile, baudrate=self.baudrate, timeout=self.timeout
        )

    def _read(self) -> bytes:
        # One status byte is the whole reply: do not wait for 16 as python-escpos does.
        first = self.device.read(1)
        return first + self.device.read(self.device.in_waiting) if first else first


def _serial(config: Printer, timeout_s: float) -> Connector:
    return (
        lambda: _SerialUrl(
            config.target, baudrate=SERIAL_BAUD, timeout=timeout_s, profile=config.profile
        )
    ), True


def _network(config: Printer, timeout_s: float) -> Connector:
    found = split_host_port(config.target)
    if found is None:
        raise ConfigError(
            f"printer.target = {config.target!r} is wrong: expected host:port, "
            f"such as 192.168.1.50:{NETWORK_PORT}"
        )
    host, port = found
    return (lambda: Network(host, port, timeout=timeout_s, profile=config.profile)), True


_CONNECTORS: dict[str, Callable[[Printer, float], Connector]] = {
    "file": _file,
    "usb": _usb,
    "serial": _serial,
    "network": _network,
}
