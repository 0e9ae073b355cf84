"""`comptoir label` and `comptoir barcode` as an installer runs them: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from appliance.core.barcode import BarcodeLayout, decode
from appliance.core.catalogue import Product, SoldBy
from appliance.devices.printers.simulator import Paper, PrinterSimulator
from appliance.store import catalogue, journal
from appliance.store.db import transaction

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = "20 IIIII V PPPP C"


def comptoir(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "appliance"]
    if config:
        command += ["--config", str(config)]
    return subprocess.run(
        command + list(args), cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _config(tmp_path: Path, data_dir: Path, printer: str) -> Path:
    path = tmp_path / "label.toml"
    path.write_text(
        f'[device]\nid = "test-box"\nname = "Ferme test"\naddress = "Valence"\n'
        f'data_dir = "{data_dir}"\n\n'
        f"[scale]\ninterval_g = 2\ncapacity_g = 6000\n\n"
        f'[printer]\nlabel_width_mm = 50\nlabel_height_mm = 30\nbarcode_layout = "{LAYOUT}"\n'
        f"{printer}"
    )
    return path


@pytest.fixture
def products(db) -> None:
    with transaction(db):
        catalogue.save(
            db, Product("POMME", "Pomme Golden", SoldBy.WEIGHT, 260, 550, plu=101, origin="France")
        )
        catalogue.save(db, Product("OEUFS", "Œufs x6", SoldBy.PIECE, 290, 550, plu=202))


@pytest.fixture
def simulator() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as sim:
        yield sim


def _labels_in_journal(db) -> list:
    return list(journal.entries(db, "label"))


def test_preview_writes_a_png_of_the_configured_label_size(tmp_path, data_dir, products):
    config = _config(tmp_path, data_dir, 'backend = "none"\n')
    out = tmp_path / "label.png"
    result = comptoir(
        "label",
        "preview",
        "--product",
        "POMME",
        "--weight-g",
        "1234",
        "--out",
        str(out),
        "--json",
        config=config,
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (400, 240)
    shown = json.loads(result.stdout)
    assert shown["price_cents"] == 321  # 1.234 kg x 2.60 = 3.2084
    assert decode(BarcodeLayout.parse(LAYOUT), shown["barcode"]).price_cents == 321


def test_preview_of_pieces(tmp_path, data_dir, products):
    config = _config(tmp_path, data_dir, "")
    out = tmp_path / "eggs.png"
    result = comptoir(
        "label",
        "preview",
        "--product",
        "OEUFS",
        "--quantity",
        "2",
        "--out",
        str(out),
        config=config,
    )
    assert result.returncode == 0, result.stderr
    assert "5,80 €" in result.stdout and out.exists()


@pytest.mark.parametrize(
    "weight, message",
    [
        ("20", "below the scale's minimum"),
        ("6002", "over the scale's capacity"),
        ("1235", "not a multiple of the scale interval 2 g"),
    ],
)
def test_weight_the_rules_refuse_makes_no_label(tmp_path, data_dir, products, weight, message):
    config = _config(tmp_path, data_dir, "")
    out = tmp_path / "refused.png"
    result = comptoir(
        "label",
        "preview",
        "--product",
        "POMME",
        "--weight-g",
        weight,
        "--out",
        str(out),
        config=config,
    )
    assert result.returncode != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_print_on_a_network_printer_is_journalled_after_it_was_accepted(
    tmp_path, data_dir, db, products, simulator
):
    config = _config(tmp_path, data_dir, f'backend = "network"\ntarget = "{simulator.address}"\n')
    result = comptoir(
        "label",
        "print",
        "--product",
        "POMME",
        "--weight-g",
        "998",
        "--tare-g",
        "150",
        "--lot",
        "L7",
        "--json",
        config=config,
    )
    assert result.returncode == 0, result.stderr
    barcode = json.loads(result.stdout)["barcode"]
    assert b"\x1dk\x02" + barcode.encode() in simulator.received
    [entry] = _labels_in_journal(db)
    assert entry.data["sku"] == "POMME" and entry.data["name"] == "Pomme Golden"
    assert (entry.data["weight_g"], entry.data["tare_g"], entry.data["net"]) == (998, 150, True)
    assert (entry.data["unit_price_cents"], entry.data["price_cents"]) == (260, 259)
    assert entry.data["barcode"] == barcode and entry.data["device_id"] == "test-box"
    assert entry.data["ticket"] == 1 and entry.data["lot"] == "L7"
    assert comptoir("journal", "verify", config=config).returncode == 0


def test_paper_out_prints_nothing_and_records_nothing(tmp_path, data_dir, db, products, simulator):
    simulator.paper = Paper.OUT
    config = _config(tmp_path, data_dir, f'backend = "network"\ntarget = "{simulator.address}"\n')
    result = comptoir("label", "print", "--product", "POMME", "--weight-g", "500", config=config)
    assert result.returncode != 0
    assert "out of paper" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert simulator.labels_received() == 0
    assert _labels_in_journal(db) == []


def test_status_reports_paper_near_end(tmp_path, data_dir, simulator):
    simulator.paper = Paper.NEAR_END
    config = _config(tmp_path, data_dir, f'backend = "network"\ntarget = "{simulator.address}"\n')
    result = comptoir("label", "status", "--json", config=config)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "paper_near_end"


def test_barcode_encode_prints_the_13_digits():
    result = comptoir(
        "barcode",
        "encode",
        "--layout",
        "2F IIIII V PPPP C",
        "--item",
        "12345",
        "--price-cents",
        "2875",
        "--flag",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2312345928757"


def test_barcode_decode_catches_a_wrong_check_digit():
    result = comptoir("barcode", "decode", "2312345928758", "--layout", "2F IIIII V PPPP C")
    assert result.returncode != 0 and "check digit" in result.stderr


def test_bad_layout_is_a_one_line_error():
    result = comptoir(
        "barcode", "encode", "--layout", "30 IIIII V PPPP C", "--item", "1", "--price-cents", "100"
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "comptoir: --layout: barcode layout '30 IIIII V PPPP C': must start with a prefix 20-29 "
        "(2, then a digit or F)"
    ]
