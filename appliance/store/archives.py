"""Fiscal archives: a zip anyone checks with the box's public key (format in docs/fiscal.md).

`make_archive` freezes the records of a period (at most one fiscal year) into a zip: the
records exactly as signed (`records.jsonl`), their signatures, a signed manifest naming each
chain's first and last record, and the previous archive's manifest hash, so archives chain too.
Making one is itself a record of the `archive` chain and a technical event. `check_archive`
names the first bad record of an archive (or the first break between archives given in order).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.core.closing import Period, span
from appliance.core.fiscal import RecordType, digest, parse
from appliance.core.journal import canonical_json
from appliance.errors import ComptoirError
from appliance.store import fiscal, fiscal_key, outbox, technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind

FORMAT = "comptoir-fiscal-archive"
MANIFEST, MANIFEST_SIG = "manifest.json", "manifest.sig"
RECORDS, SIGNATURES, PUBLIC_KEY = "records.jsonl", "signatures.txt", "public_key.txt"
#: Archived chains, in the order they appear in records.jsonl (the archive chain itself is not).
CHAINS = tuple(kind for kind in RecordType if kind is not RecordType.ARCHIVE)


class ArchiveError(ComptoirError):
    """The archive asked cannot be made, or the file given is not an archive."""


@dataclass(frozen=True)
class Made:
    number: int
    path: Path
    records: int
    manifest_sha256: str


def make_archive(
    db: sqlite3.Connection,
    first: date,
    last: date,
    out: Path,
    *,
    box: str,
    zone: ZoneInfo,
    fiscal_year_start_month: int,
    by: str,
) -> Made:
    """Archive the records stamped from `first` to `last` (local days, both included)."""
    if last < first:
        raise ArchiveError(f"--to {last} is before --from {first}")
    year = span(Period.YEAR, first, fiscal_year_start_month)
    if last >= year.after:
        raise ArchiveError(
            f"an archive holds at most one fiscal year: {first} to {last} crosses into the "
            f"fiscal year starting {year.after}; make one archive per fiscal year"
        )
    start = clock.iso(clock.day_span(first, zone)[0])
    end = clock.iso(clock.day_span(last, zone)[1])
    if end > clock.now_iso():
        raise ArchiveError(f"{last} is not over yet: archive only past days")
    signer = fiscal_key.signer_for(db, has_records=True)
    lines: list[str] = []
    signatures: list[str] = []
    chains = []
    with transaction(db):
        for kind in CHAINS:
            low, high = db.execute(
                "SELECT min(number), max(number) FROM fiscal_records WHERE type = ? "
                "AND ts >= ? AND ts < ?",
                (kind.value, start, end),
            ).fetchone()
            if low is None:
                continue
            records = list(fiscal.records(db, kind, after=low - 1, until=high))
            lines += [r.body for r in records]
            signatures += [f"{r.type.value} {r.number} {r.hash} {r.signature}" for r in records]
            chains.append(
                {
                    "type": kind.value,
                    "first": low,
                    "last": high,
                    "count": len(records),
                    "prev": records[0].prev,
                    "last_hash": records[-1].hash,
                }
            )
        previous = fiscal.last(db, RecordType.ARCHIVE)
        number = previous.number + 1 if previous else 1
        records_text = "".join(line + "\n" for line in lines)
        manifest = canonical_json(
            {
                "format": FORMAT,
                "v": 1,
                "box": box,
                "number": number,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "made": clock.now_iso(),
                "public_key": signer.public_key,
                "chains": chains,
                "records": len(lines),
                "records_sha256": digest(records_text),
                "previous_archive": (
                    {
                        "number": previous.number,
                        "manifest_sha256": previous.data["manifest_sha256"],
                    }
                    if previous
                    else None
                ),
            }
        )
        manifest_sha = digest(manifest)
        _write_zip(
            out,
            {
                MANIFEST: manifest + "\n",
                MANIFEST_SIG: signer.sign(manifest.encode("utf-8")) + "\n",
                RECORDS: records_text,
                SIGNATURES: "".join(s + "\n" for s in signatures),
                PUBLIC_KEY: signer.public_key + "\n",
            },
        )
        fiscal.append(
            db,
            RecordType.ARCHIVE,
            {
                "archive": number,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "records": len(lines),
                "manifest_sha256": manifest_sha,
                "file": out.name,
            },
        )
        outbox.emit(
            db,
            "fiscal_archive",
            {
                "archive": number,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "records": len(lines),
                "manifest_sha256": manifest_sha,
            },
            event_id=f"fiscal-archive-{number}",
        )
        technical_events.record(
            db,
            EventKind.ARCHIVE,
            {"archive": number, "from": first.isoformat(), "to": last.isoformat()},
            by=by,
        )
    return Made(number, out, len(lines), manifest_sha)


def _write_zip(out: Path, files: dict[str, str]) -> None:
    """Written beside and renamed over, so a crash never leaves half an archive."""
    out.parent.mkdir(parents=True, exist_ok=True)
    draft = out.with_name(out.name + ".part")
    with zipfile.ZipFile(draft, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    draft.replace(out)


# -- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What one archive holds once checked; `problem` is None when it verifies."""

    path: Path
    number: int
    records: int
    manifest_sha256: str
    problem: str | None
    chains: tuple[dict[str, Any], ...] = ()


def check_archive(path: Path, public_key: str | None = None) -> Checked:
    """Every check of docs/fiscal.md, in order; the first failure named."""
    try:
        with zipfile.ZipFile(path) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveError(f"{path} is not a readable archive: {exc}") from None
    missing = [n for n in (MANIFEST, MANIFEST_SIG, RECORDS, SIGNATURES) if n not in files]
    if missing:
        return Checked(path, 0, 0, "", f"the archive lacks {', '.join(missing)}")
    manifest_bytes = files[MANIFEST].rstrip(b"\n")
    manifest = json.loads(manifest_bytes)
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    number = int(manifest.get("number", 0))

    def result(problem: str | None) -> Checked:
        return Checked(
            path,
            number,
            int(manifest.get("records", 0)),
            manifest_sha,
            problem,
            tuple(manifest.get("chains", ())),
        )

    key = public_key or manifest.get("public_key", "")
    verify = fiscal_key.verifier(key)
    if not verify(manifest_bytes, files[MANIFEST_SIG].decode().strip()):
        return result("the manifest's signature does not match (wrong key, or it was edited)")
    lines = files[RECORDS].decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    signatures = files[SIGNATURES].decode("ascii").split()
    problem = _walk(manifest["chains"], lines, signatures, verify)
    if problem:
        return result(problem)
    if hashlib.sha256(files[RECORDS]).hexdigest() != manifest["records_sha256"]:
        return result("records.jsonl is not the file the manifest signed")
    return result(None)


def _walk(
    chains: list[dict[str, Any]], lines: list[str], signatures: list[str], verify: Any
) -> str | None:
    position = 0
    for chain in chains:
        kind, expected, prev = chain["type"], chain["first"], chain["prev"]
        while expected <= chain["last"]:
            if position >= len(lines):
                return f"{kind} record {expected}: missing (the archive was cut short)"
            try:
                record = parse(lines[position], "")
            except ValueError:
                return f"line {position + 1} of records.jsonl is not a record"
            sig_fields = signatures[position * 4 : position * 4 + 4]
            if record.type.value != kind or record.number != expected:
                return (
                    f"{kind} record {expected}: found {record.type} record {record.number} "
                    f"there instead (deleted, moved or from another archive)"
                )
            if record.prev != prev:
                return f"{kind} record {expected}: its link to the previous record is broken"
            if len(sig_fields) < 4 or sig_fields[2] != record.hash:
                return f"{kind} record {expected}: its content was changed after it was signed"
            if not verify(lines[position].encode("utf-8"), sig_fields[3]):
                return f"{kind} record {expected}: its signature does not match its content"
            prev, expected, position = record.hash, expected + 1, position + 1
        if prev != chain["last_hash"]:
            return f"{kind} record {chain['last']}: not the last record the manifest signed"
    if position != len(lines):
        return f"records.jsonl has {len(lines) - position} record(s) the manifest does not name"
    return None


def check_sequence(paths: list[Path], public_key: str | None = None) -> list[Checked]:
    """Several archives in the order they were made: each checked, then each linked to the one
    before (archive numbers, manifest hashes, and each chain carrying on)."""
    checked = [check_archive(path, public_key) for path in paths]
    for before, after in itertools.pairwise(checked):
        if after.problem or before.problem:
            continue
        problem = _link(before, after)
        if problem:
            index = checked.index(after)
            checked[index] = Checked(
                after.path,
                after.number,
                after.records,
                after.manifest_sha256,
                problem,
                after.chains,
            )
    return checked


def _link(before: Checked, after: Checked) -> str | None:
    with zipfile.ZipFile(after.path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    previous = manifest.get("previous_archive") or {}
    if previous.get("number") != before.number or after.number != before.number + 1:
        return (
            f"archive {after.number} does not follow archive {before.number} "
            f"(it names archive {previous.get('number')} as its previous one): swapped or missing"
        )
    if previous.get("manifest_sha256") != before.manifest_sha256:
        return f"archive {after.number} names another archive {before.number} than {before.path}"
    ends = {c["type"]: c for c in before.chains}
    for chain in after.chains:
        end = ends.get(chain["type"])
        if end and chain["first"] == end["last"] + 1 and chain["prev"] != end["last_hash"]:
            return (
                f"{chain['type']} record {chain['first']}: does not carry on from "
                f"{before.path.name}"
            )
    return None


def months_to_archive(
    db: sqlite3.Connection, zone: ZoneInfo, before: date
) -> list[tuple[date, date]]:
    """The (first, last) days of each month before `before` not archived yet, from the month
    after the last archive (or the box's first record)."""
    last = fiscal.last(db, RecordType.ARCHIVE)
    if last is not None:
        start = date.fromisoformat(last.data["to"]) + timedelta(days=1)
    else:
        row = db.execute("SELECT min(ts) FROM fiscal_records").fetchone()
        if row[0] is None:
            return []
        start = datetime.fromisoformat(row[0]).astimezone(zone).date().replace(day=1)
    months = []
    while start < before:
        after = span(Period.MONTH, start).after
        months.append((start, min(after, before) - timedelta(days=1)))
        start = after
    return months


def default_name(box: str, first: date, last: date) -> str:
    return f"comptoir-{box}-{first:%Y%m%d}-{last:%Y%m%d}.zip"
