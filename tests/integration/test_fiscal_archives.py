"""Archives anyone can check: Comptoir's own check and the outside script written from
docs/fiscal.md both catch edits, deletions, reorders, truncations and swapped archives."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine
from appliance.errors import ComptoirError
from appliance.store import archives, fiscal_key, tickets
from appliance.store.db import transaction

PARIS = ZoneInfo("Europe/Paris")
OUTSIDE = Path(__file__).resolve().parents[1] / "fiscal_archive_check.py"
APPLES = Product("pommes", "Pommes", SoldBy.WEIGHT, 260, 550)


def sell(db: sqlite3.Connection, day: date, grams: int) -> None:
    when = datetime(day.year, day.month, day.day, 11, tzinfo=PARIS).astimezone(UTC)
    basket = Basket((SaleLine.weighed(APPLES, grams),))
    sale = Sale(1, "box-1", "t", "a", when.isoformat(), basket, CardPayment("1"))
    with transaction(db):
        tickets.record_sale_ticket(db, sale, 0)


def archive(db: sqlite3.Connection, first: date, last: date, out: Path) -> Path:
    archives.make_archive(
        db, first, last, out, box="box-1", zone=PARIS, fiscal_year_start_month=1, by="test"
    )
    return out


@pytest.fixture
def two_months(db: sqlite3.Connection, tmp_path: Path) -> tuple[Path, Path]:
    for month in (9, 10):
        for day in range(1, 6):
            sell(db, date(2026, month, day), 100 * day * (month - 8))
    first = archive(db, date(2026, 9, 1), date(2026, 9, 30), tmp_path / "a1.zip")
    second = archive(db, date(2026, 10, 1), date(2026, 10, 31), tmp_path / "a2.zip")
    return first, second


def public(data_dir: Path) -> str:
    return fiscal_key.public_key(data_dir)


def outside(key: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(OUTSIDE), key, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def rewrite(path: Path, out: Path, change) -> Path:
    """A copy of the archive with records.jsonl (and signatures.txt) changed by `change`."""
    with zipfile.ZipFile(path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    records = files["records.jsonl"].split(b"\n")[:-1]
    signatures = files["signatures.txt"].split(b"\n")[:-1]
    records, signatures = change(records, signatures)
    files["records.jsonl"] = b"".join(r + b"\n" for r in records)
    files["signatures.txt"] = b"".join(s + b"\n" for s in signatures)
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out


def problem(path: Path, key: str) -> str:
    return archives.check_archive(path, key).problem or ""


def test_an_intact_archive_verifies_with_comptoir_and_without(
    two_months: tuple[Path, Path], data_dir: Path
) -> None:
    key = public(data_dir)
    assert [r.problem for r in archives.check_sequence(list(two_months), key)] == [None, None]
    result = outside(key, *two_months)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": OK") == 2


def test_an_edited_record_is_named(
    two_months: tuple[Path, Path], tmp_path: Path, data_dir: Path
) -> None:
    def edit(records, signatures):
        records[2] = records[2].replace(b'"weight_g":300', b'"weight_g":30')
        return records, signatures

    bad = rewrite(two_months[0], tmp_path / "edited.zip", edit)
    assert problem(bad, public(data_dir)) == (
        "ticket record 3: its content was changed after it was signed"
    )
    assert "ticket record 3: content changed" in outside(public(data_dir), bad).stdout


def test_a_deleted_record_is_named(
    two_months: tuple[Path, Path], tmp_path: Path, data_dir: Path
) -> None:
    def delete(records, signatures):
        return records[:1] + records[2:], signatures[:1] + signatures[2:]

    bad = rewrite(two_months[0], tmp_path / "deleted.zip", delete)
    assert problem(bad, public(data_dir)).startswith("ticket record 2: found ticket record 3")
    assert "ticket record 2 moved" in outside(public(data_dir), bad).stdout


def test_two_records_swapped_are_named(
    two_months: tuple[Path, Path], tmp_path: Path, data_dir: Path
) -> None:
    def swap(records, signatures):
        records[1], records[2] = records[2], records[1]
        signatures[1], signatures[2] = signatures[2], signatures[1]
        return records, signatures

    bad = rewrite(two_months[0], tmp_path / "swapped.zip", swap)
    assert problem(bad, public(data_dir)).startswith("ticket record 2: found ticket record 3")
    assert outside(public(data_dir), bad).returncode == 1


def test_a_truncated_archive_is_named(
    two_months: tuple[Path, Path], tmp_path: Path, data_dir: Path
) -> None:
    bad = rewrite(two_months[0], tmp_path / "cut.zip", lambda r, s: (r[:3], s[:3]))
    assert problem(bad, public(data_dir)) == (
        "ticket record 4: missing (the archive was cut short)"
    )
    assert "ticket record 4 is missing" in outside(public(data_dir), bad).stdout


def test_two_archives_given_out_of_order_are_caught(
    two_months: tuple[Path, Path], data_dir: Path
) -> None:
    first, second = two_months
    results = archives.check_sequence([second, first], public(data_dir))
    assert results[0].problem is None
    assert "does not follow archive 2" in (results[1].problem or "")
    assert "out of order" in outside(public(data_dir), second, first).stdout


def test_another_box_key_does_not_verify(two_months: tuple[Path, Path], tmp_path: Path) -> None:
    other = fiscal_key.ensure_key(tmp_path / "other-box")
    assert "manifest's signature" in problem(two_months[0], other)
    assert outside(other, two_months[0]).returncode == 1


def test_an_archive_holds_at_most_one_fiscal_year(db: sqlite3.Connection, tmp_path: Path) -> None:
    sell(db, date(2025, 12, 30), 500)
    with pytest.raises(ComptoirError, match="at most one fiscal year"):
        archive(db, date(2025, 12, 1), date(2026, 1, 31), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
