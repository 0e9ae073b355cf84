"""`comptoir catalogue import|list` as a producer runs them: whole files, all rows or none."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import cli
from appliance.core.catalogue import Product, SoldBy
from appliance.store import catalogue
from appliance.store.db import transaction

REPO = Path(__file__).resolve().parents[2]
DEMO_CATALOGUE = REPO / "config" / "demo-catalogue.csv"
HEADER = "sku,name,sold_by,unit_price,vat_rate,producer,plu\n"


def comptoir(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config_file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def in_process(
    capsys: pytest.CaptureFixture[str], config_file: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The same command line run in this process: quicker, for the many small cases."""
    capsys.readouterr()
    code = cli.main(["--config", str(config_file), *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def listed(config_file: Path, *flags: str) -> list[dict]:
    result = comptoir(config_file, "catalogue", "list", "--json", *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write(tmp_path: Path, text: str, name: str = "produits.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_catalogue_imports_and_lists_in_cents(config_file: Path) -> None:
    result = comptoir(config_file, "catalogue", "import", str(DEMO_CATALOGUE), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["created"] == summary["products"] >= 30
    products = {p["sku"]: p for p in listed(config_file)}
    tomato = products["TOM-COEUR"]
    assert tomato["name"] == "Tomate cœur de bœuf"
    assert (tomato["sold_by"], tomato["unit_price_cents"], tomato["vat_rate_bp"]) == (
        "weight",
        590,
        550,
    )
    assert products["CIDRE-BRUT"]["vat_rate_bp"] == 2000
    assert products["OEUFS-6"]["stock"] == 24
    assert all(isinstance(p["unit_price_cents"], int) for p in products.values())
    assert "FRAISE-GARIGUETTE" not in products  # inactive: out of season
    everything = {p["sku"]: p for p in listed(config_file, "--all")}
    assert everything["FRAISE-GARIGUETTE"]["active"] is False
    assert len(everything) == summary["products"]


def test_text_list_shows_price_per_kg_and_per_piece(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_process(capsys, config_file, "catalogue", "import", str(DEMO_CATALOGUE))
    text = in_process(capsys, config_file, "catalogue", "list").stdout
    assert "5,90 €/kg" in text
    assert "2,40 €/piece" in text
    assert "VAT 5.5 %" in text


def test_reimport_updates_by_sku_and_keeps_columns_left_out(
    tmp_path: Path, config_file: Path, db: sqlite3.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    first = "sku,name,sold_by,unit_price,vat_rate,stock\nOEUFS-6,Œufs x6,piece,2.40,5.5,24\n"
    imported = in_process(capsys, config_file, "catalogue", "import", str(write(tmp_path, first)))
    assert imported.returncode == 0, imported.stderr
    again = write(
        tmp_path,
        "sku,name,sold_by,unit_price_cents,vat_rate\n"
        "OEUFS-6,Œufs x6,piece,250,5.5\n"
        "1234,Miel,piece,950,5.5\n",
        "again.csv",
    )
    result = in_process(capsys, config_file, "catalogue", "import", str(again))
    assert result.returncode == 0, result.stderr
    assert "1 new, 1 updated" in result.stdout
    products = {p.sku: p for p in catalogue.list_products(db)}
    assert products["OEUFS-6"].unit_price_cents == 250
    assert products["OEUFS-6"].stock == 24  # no stock column: the count is kept
    assert products["1234"].unit_price_cents == 950
    assert len(products) == 2


BAD_FILES = {
    "bad price": (
        HEADER + "TOM-COEUR,Tomate,weight,3.90,5.5,,1\nCAR,Carotte,weight,1.9O,5.5,,2\n",
        (3, "unit_price", "'1.9O'"),
    ),
    "unknown sold_by": (HEADER + "TOM-COEUR,Tomate,kilo,3.90,5.5,,1\n", (2, "sold_by", "'kilo'")),
    "missing column": (
        "sku,name,unit_price,vat_rate\nTOM-COEUR,Tomate,3.90,5.5\n",
        (1, "sold_by", "a column named sold_by"),
    ),
    "price with 3 decimals": (
        HEADER + "TOM-COEUR,Tomate,weight,3.905,5.5,,\n",
        (2, "unit_price", "'3.905'"),
    ),
    "duplicate sku": (
        HEADER + "TOM-COEUR,Tomate,weight,3.90,5.5,,1\nTOM-COEUR,Tomate,weight,3.90,5.5,,2\n",
        (3, "sku", "line 2"),
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_imports_nothing_and_names_line_and_column(
    case: str,
    tmp_path: Path,
    config_file: Path,
    db: sqlite3.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text, (line, column, shown) = BAD_FILES[case]
    with transaction(db):
        catalogue.save(db, Product("TOM-COEUR", "Tomate cœur de bœuf", SoldBy.WEIGHT, 590, 550))
    before = catalogue.list_products(db)
    result = in_process(capsys, config_file, "catalogue", "import", str(write(tmp_path, text)))
    assert result.returncode == 1
    assert f"line {line}, column {column}:" in result.stderr
    assert shown in result.stderr
    assert "nothing was imported" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert catalogue.list_products(db) == before


def test_bad_file_as_json_lists_every_error(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, HEADER + "A,Pomme,weight,2.6,5.5,,1\nB,,piece,x,150,,1\n")
    result = in_process(capsys, config_file, "catalogue", "import", str(bad), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    found = {(e["line"], e["column"], e["value"]) for e in report["errors"]}
    assert found == {(3, "name", ""), (3, "unit_price", "x"), (3, "vat_rate", "150")}
    assert json.loads(in_process(capsys, config_file, "catalogue", "list", "--json").stdout) == []


def test_bad_csv_does_not_even_create_the_database(
    tmp_path: Path, config_file: Path, data_dir: Path
) -> None:
    bad = write(tmp_path, HEADER + "A,Pomme,fruit,2.6,5.5,,1\n")
    assert comptoir(config_file, "catalogue", "import", str(bad)).returncode == 1
    assert not (data_dir / "comptoir.db").exists()


def test_spreadsheet_export_with_semicolons_and_decimal_commas(
    tmp_path: Path, config_file: Path, db: sqlite3.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\ufeffsku;name;sold_by;unit_price;vat_rate\nPOMME;Pomme Golden;weight;2,60;5,5\n"
    result = in_process(capsys, config_file, "catalogue", "import", str(write(tmp_path, text)))
    assert result.returncode == 0, result.stderr
    [apple] = catalogue.list_products(db)
    assert (apple.unit_price_cents, apple.vat_rate_bp) == (260, 550)


def test_file_that_is_not_utf8_is_refused_with_what_to_do(
    tmp_path: Path, config_file: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("sku,name,sold_by,unit_price,vat_rate\nA,Pâté,piece,3,5.5\n".encode("latin-1"))
    result = comptoir(config_file, "catalogue", "import", str(path))
    assert result.returncode == 1
    assert "UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_file_is_a_usage_error(tmp_path: Path, config_file: Path) -> None:
    result = comptoir(config_file, "catalogue", "import", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert "nope.csv does not exist" in result.stderr
