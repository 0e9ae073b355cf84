"""The label printer over python-escpos's real Network back-end, against the socket simulator."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from appliance.config import Printer
from appliance.core.barcode import BarcodeLayout, decode, ean13_check_digit
from appliance.core.catalogue import Product, SoldBy
from appliance.core.label import LabelContent, Shop, label_for_weighing
from appliance.core.weighing import Reading, ReadingStatus, ScaleSpec, WeighingGate
from appliance.devices.printers import status as rt
from appliance.devices.printers.factory import open_printer
from appliance.devices.printers.simulator import Paper, PrinterSimulator
from appliance.devices.printers.status import PrinterStatus
from appliance.errors import ConfigError, PrinterUnavailable

LAYOUT = BarcodeLayout.parse("20 IIIII V PPPP C")
GS_K_EAN13 = b"\x1dk\x02"


def _label() -> LabelContent:
    product = Product("CAR-BIO", "Carottes bio", SoldBy.WEIGHT, 280, 550, plu=314, origin="France")
    weighing = WeighingGate(ScaleSpec(2, 15000, 40)).accept(
        Reading(ReadingStatus.STABLE, 1502), product.unit_price_cents
    )
    shop = Shop("Ferme test", "Valence", "test-box", ZoneInfo("Europe/Paris"))
    return label_for_weighing(
        weighing,
        product,
        shop=shop,
        interval_g=2,
        layout=LAYOUT,
        packed_at=datetime(2025, 6, 1, 8, 0, tzinfo=UTC),
        ticket=3,
    )


@pytest.fixture
def simulator() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as sim:
        yield sim


def _printer(**printer: Any):
    return open_printer(Printer(**printer))


def _network_printer(address: str):
    return _printer(backend="network", target=address)


def test_printed_label_carries_the_ean13_with_our_check_digits(simulator):
    label = _label()
    printer = _network_printer(simulator.address)
    assert printer.print_label(label) == simulator.address
    assert simulator.wait_for(lambda data: b"\x1dV" in data)
    data = simulator.received
    digits = data.split(GS_K_EAN13, 1)[1][:13].decode()
    assert digits == label.barcode
    assert int(digits[12]) == ean13_check_digit(digits[:12])
    assert decode(LAYOUT, digits).price_cents == 421  # 1.502 kg x 2.80 = 4.2056
    assert b"PAYER 4,21" in data and b"Carottes bio" in data
    assert rt.request(rt.PRINTER) in data and rt.request(rt.PAPER) in data


@pytest.mark.parametrize(
    "paper, expected",
    [
        (Paper.OK, PrinterStatus.ONLINE),
        (Paper.NEAR_END, PrinterStatus.PAPER_NEAR_END),
        (Paper.OUT, PrinterStatus.PAPER_OUT),
    ],
)
def test_paper_state_is_read_from_the_printer(simulator, paper, expected):
    simulator.paper = paper
    assert _network_printer(simulator.address).status() is expected


def test_printer_offline_is_reported(simulator):
    simulator.online = False
    assert _network_printer(simulator.address).status() is PrinterStatus.OFFLINE


def test_paper_out_refuses_to_print(simulator):
    simulator.paper = Paper.OUT
    with pytest.raises(PrinterUnavailable, match="out of paper"):
        _network_printer(simulator.address).print_label(_label())
    assert GS_K_EAN13 not in simulator.received
    assert simulator.labels_received() == 0


def test_paper_near_end_still_prints(simulator):
    simulator.paper = Paper.NEAR_END
    _network_printer(simulator.address).print_label(_label())
    assert simulator.wait_for(lambda data: b"\x1dV" in data)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_unreachable_printer_is_offline_and_refuses_with_its_address():
    address = _closed_port()
    printer = _network_printer(address)
    assert printer.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterUnavailable, match=address):
        printer.print_label(_label())


def test_printer_that_does_not_answer_status_is_offline():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        printer = _printer(backend="network", target=f"{host}:{port}")
        assert printer.status() is PrinterStatus.OFFLINE


def test_file_backend_writes_the_label_without_status(tmp_path):
    device = tmp_path / "lp0"
    printer = _printer(backend="file", target=str(device))
    assert printer.status() is PrinterStatus.UNKNOWN
    printer.print_label(_label())
    assert GS_K_EAN13 + _label().barcode.encode() in device.read_bytes()


def test_preview_backend_writes_a_png_of_the_label_size(tmp_path):
    labels = tmp_path / "labels"
    printer = _printer(backend="preview", target=str(labels), label_width_mm=50, label_height_mm=30)
    assert printer.status() is PrinterStatus.ONLINE
    path = Path(printer.print_label(_label()))
    assert path.parent == labels
    assert Image.open(path).size == (400, 240)


def test_no_printer_refuses_every_label():
    with pytest.raises(PrinterUnavailable, match="none"):
        _printer(backend="none").print_label(_label())


@pytest.mark.parametrize(
    "printer, key",
    [
        ({"backend": "network", "target": "printer-without-port"}, "printer.target"),
        ({"backend": "usb", "target": "04b8"}, "printer.target"),
        ({"backend": "serial"}, "printer.target"),
        ({"backend": "network", "target": "h:9100", "profile": "nope"}, "printer.profile"),
    ],
)
def test_wrong_printer_config_names_the_key(printer, key):
    with pytest.raises(ConfigError, match=key):
        _printer(**printer)


def test_serial_backend_reads_status_and_prints_through_a_pyserial_url(simulator):
    simulator.paper = Paper.NEAR_END
    printer = _printer(backend="serial", target=f"socket://{simulator.address}")
    assert printer.status() is PrinterStatus.PAPER_NEAR_END
    printer.print_label(_label())
    assert simulator.wait_for(lambda data: GS_K_EAN13 + _label().barcode.encode() in data)
