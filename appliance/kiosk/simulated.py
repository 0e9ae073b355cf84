"""A farm shop's hardware made of simulators: the demo, the UI tests and the benchmark use it.

A Toledo 8217 scale on a pseudo-terminal, an ESC/POS printer on TCP whose paper can run out, a
Caisse-AP terminal with scripted outcomes, and a bus of Kerong CU16 lock boards on another pty
(doors that a person or a test closes). `site(config)` points a config at them, so the kiosk
talks to them through its real drivers. Labels also land as PNG previews in a folder, so a person
running the demo can see them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from appliance.config import Config
from appliance.core.label import LabelContent
from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.factory import open_printer
from appliance.devices.printers.paper import paper_of
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

    def print_receipt(
        self, receipt_number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> str:
        self.printer.print_receipt(receipt_number, lines, qr_url, kind=kind)
        return self.preview.print_receipt(receipt_number, lines, qr_url, kind=kind)


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
        self.locks = Cu16Bus((0, 1))
        self.lock_bus = Cu16PtyServer(self.locks)
        self._wiring: dict[int, tuple[int, int]] = {}

    def start(self) -> SimulatedShop:
        self.lock_bus.start()
        self.scale.start()
        self.printer.start()
        self.terminal.start()
        return self

    def stop(self) -> None:
        self.terminal.stop()
        self.printer.stop()
        self.scale.stop()
        self.lock_bus.stop()

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
        site = dataclasses.replace(config, scale=scale, printer=printer, payment=payment)
        if not config.lockers.compartments:
            return site
        self._wiring = {c.number: (c.board, c.lock) for c in config.lockers.compartments}
        lockers = dataclasses.replace(
            config.lockers, controller="kerong", port=self.lock_bus.path, status_poll_ms=50
        )
        return dataclasses.replace(site, lockers=lockers)

    def label_printer(self, site: Config, preview_folder: Path) -> LabelPrinter:
        real = open_printer(site.printer)
        preview = PreviewPrinter(
            preview_folder, paper_of(site.printer).width_mm, site.printer.label_height_mm
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

    # -- the locker wall --------------------------------------------------------------------------

    def _board(self, number: int):
        board, lock = self._wiring[number]
        return self.locks.board(board), lock

    @property
    def lock_numbers(self) -> list[int]:
        return sorted(self._wiring)

    def is_jammed(self, number: int) -> bool:
        board, lock = self._board(number)
        return lock in board.jammed

    def has_item(self, number: int) -> bool:
        board, lock = self._board(number)
        return lock in board.items

    def door_open(self, number: int) -> bool:
        board, lock = self._board(number)
        return lock in board.open_doors

    def close_door(self, number: int) -> None:
        board, lock = self._board(number)
        board.close_door(lock)

    def open_doors(self) -> list[int]:
        return [n for n in self.lock_numbers if self.door_open(n)]

    def close_all_doors(self) -> list[int]:
        """Close every open door (a person pushing them shut); returns their numbers."""
        opened = self.open_doors()
        for number in opened:
            self.close_door(number)
        return opened

    def jam(self, number: int, jammed: bool = True) -> None:
        board, lock = self._board(number)
        (board.jammed.add if jammed else board.jammed.discard)(lock)

    def put_item(self, number: int, present: bool = True) -> None:
        """Something sits in the compartment (its infrared sensor sees it)."""
        board, lock = self._board(number)
        (board.items.add if present else board.items.discard)(lock)

    def silence_locks(self, silent: bool = True) -> None:
        for board in self.locks.boards.values():
            board.silent = silent
