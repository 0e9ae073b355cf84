"""A farm shop's hardware made of simulators: the demo, the UI tests and the benchmark use it.

A Toledo 8217 scale on a pseudo-terminal, an ESC/POS printer on TCP whose paper can run out, and
a Caisse-AP terminal with scripted outcomes. `site(config)` points a config at them, so the kiosk
talks to them through its real drivers. Labels also land as PNG previews in a folder, so a person
running the demo can see them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from appliance.config import Config
from appliance.core.label import LabelContent
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.devices.printers.backends import open_label_printer
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.preview import PreviewPrinter
from appliance.devices.printers.simulator import Paper, PrinterSimulator
from appliance.devices.printers.status import PrinterStatus
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.devices.scales.simulator.toledo8217 import Toledo8217Simulator


class PreviewingPrinter(LabelPrinter):
    """The printer simulator for status and bytes, plus a PNG of every label it accepted."""

    def __init__(self, printer: LabelPrinter, preview: PreviewPrinter) -> None:
        self.printer = printer
        self.preview = preview
        self.where = printer.where

    def status(self) -> PrinterStatus:
        return self.printer.status()

    def print_label(self, content: LabelContent) -> str:
        self.printer.print_label(content)
        return self.preview.print_label(content)

    def print_receipt(self, receipt_number: int, lines: list[str], qr_url: str = "") -> str:
        self.printer.print_receipt(receipt_number, lines, qr_url)
        return self.preview.print_receipt(receipt_number, lines, qr_url)


class SimulatedShop:
    """Start, steer and stop the simulated devices of one kiosk."""

    def __init__(self, *, interval_g: int = 2, capacity_g: int = 15000, pace: bool = True) -> None:
        self.pan = Pan()
        self.scale_simulator = Toledo8217Simulator(
            self.pan, interval_g=interval_g, capacity_g=capacity_g
        )
        self.scale = PtyServer(self.scale_simulator, pace=pace)
        self.printer = PrinterSimulator()
        self.terminal = TerminalSimulator()

    def start(self) -> SimulatedShop:
        self.scale.start()
        self.printer.start()
        self.terminal.start()
        return self

    def stop(self) -> None:
        self.terminal.stop()
        self.printer.stop()
        self.scale.stop()

    def __enter__(self) -> SimulatedShop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def site(self, config: Config) -> Config:
        """`config` with its scale, printer and terminal pointed at the simulators."""
        scale = dataclasses.replace(
            config.scale,
            protocol="toledo8217",
            port=self.scale.path,
            interval_g=self.scale_simulator.interval_g,
            capacity_g=self.scale_simulator.capacity_g,
            poll_interval_ms=100,
        )
        printer = dataclasses.replace(
            config.printer, backend="network", target=self.printer.address
        )
        payment = dataclasses.replace(
            config.payment, terminal="caisse-ap", address=self.terminal.address, timeout_s=30
        )
        return dataclasses.replace(config, scale=scale, printer=printer, payment=payment)

    def label_printer(self, site: Config, preview_folder: Path) -> LabelPrinter:
        real = open_label_printer(site)
        preview = PreviewPrinter(
            preview_folder, site.printer.label_width_mm, site.printer.label_height_mm
        )
        return PreviewingPrinter(real, preview)

    # -- what a person (or a test) does to the shop -----------------------------------------------

    def put(self, grams: int) -> None:
        """Something settles on the pan (0: the pan is emptied)."""
        self.pan.motion = False
        self.pan.load_g = grams

    def shake(self, moving: bool = True) -> None:
        self.pan.motion = moving

    def overload(self, on: bool = True) -> None:
        self.pan.overload = on

    def unplug_scale(self, unplugged: bool = True) -> None:
        """The scale stops answering (cable out); plugging back makes it answer again."""
        self.pan.fault = Fault.SILENCE if unplugged else Fault.NONE

    def paper(self, paper: Paper) -> None:
        self.printer.paper = paper

    def next_payment(self, scenario: Scenario) -> None:
        self.terminal.scenario = scenario
