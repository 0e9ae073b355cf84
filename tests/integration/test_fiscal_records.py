"""Signed fiscal chains and the technical events journal in a real SQLite store."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import stat
from pathlib import Path

import pytest

from appliance.config import Config, Mqtt, Shop
from appliance.core.fiscal import RecordType
from appliance.errors import StoreError
from appliance.store import fiscal, fiscal_key, technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind
from tests.found import found


def write_events(db: sqlite3.Connection, n: int) -> None:
    for i in range(n):
        technical_events.record(db, EventKind.ADMIN_ACTION, {"i": i}, by="test")


def tamper(db: sqlite3.Connection, sql: str, *params: object) -> None:
    """What someone with the database file and sqlite3 could do: triggers off, then edit."""
    db.execute("DROP TRIGGER IF EXISTS fiscal_records_no_update")
    db.execute("DROP TRIGGER IF EXISTS fiscal_records_no_delete")
    db.execute(sql, params)


def broken(db: sqlite3.Connection, kind: RecordType = RecordType.EVENT) -> str:
    (report,) = [r for r in fiscal.verify(db) if r.type is kind]
    return str(report.broken) if report.broken else ""


def test_records_are_numbered_without_gaps_chained_and_signed(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    write_events(db, 5)
    chain = list(fiscal.records(db, RecordType.EVENT))
    assert [r.number for r in chain] == [1, 2, 3, 4, 5]
    assert all(b.prev == a.hash for a, b in itertools.pairwise(chain))
    check = fiscal_key.verifier(fiscal_key.public_key(data_dir))
    assert all(check(r.body.encode(), r.signature) for r in chain)
    assert all(report.broken is None for report in fiscal.verify(db))


def test_the_private_key_is_a_file_only_the_service_user_reads(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    write_events(db, 1)
    key = data_dir / fiscal_key.KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    assert len(fiscal_key.public_key(data_dir)) == 64
    assert b"PRIVATE" not in (data_dir / "comptoir.db").read_bytes()


def test_a_lost_key_is_not_replaced_while_signed_records_exist(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    write_events(db, 1)
    (data_dir / fiscal_key.KEY_NAME).unlink()
    with pytest.raises(StoreError, match="restore the key file"):
        write_events(db, 1)
    assert fiscal.count(db, RecordType.EVENT) == 1


def test_a_record_cannot_be_changed_or_deleted_through_sqlite(db: sqlite3.Connection) -> None:
    write_events(db, 2)
    with pytest.raises(sqlite3.DatabaseError, match="never changed"):
        db.execute("UPDATE fiscal_records SET ts = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM fiscal_records")


def test_an_edited_record_is_named_by_its_signature(db: sqlite3.Connection) -> None:
    write_events(db, 3)
    body = found(fiscal.get(db, RecordType.EVENT, 2)).body.replace('"i":1', '"i":7')
    tamper(db, "UPDATE fiscal_records SET body = ? WHERE type = 'event' AND number = 2", body)
    assert broken(db).startswith("event record 2: its signature")


def test_a_re_hashed_edit_breaks_the_link_of_the_next_record(db: sqlite3.Connection) -> None:
    """Without the key, an edit that keeps the old signature fails; the hash chain alone shows
    the link from record 3 to the edited record 2."""
    write_events(db, 3)
    body = found(fiscal.get(db, RecordType.EVENT, 2)).body.replace('"i":1', '"i":7')
    tamper(db, "UPDATE fiscal_records SET body = ? WHERE type = 'event' AND number = 2", body)
    reports = fiscal.verify(db, signatures=False)
    (events,) = [r for r in reports if r.type is RecordType.EVENT]
    assert str(events.broken) == "event record 3: its link to the previous record is broken"


def test_a_deleted_record_in_the_middle_is_named(db: sqlite3.Connection) -> None:
    write_events(db, 4)
    tamper(db, "DELETE FROM fiscal_records WHERE type = 'event' AND number = 2")
    assert broken(db) == "event record 2: found record 3 here: a record was deleted or moved"


def test_records_cut_off_at_the_end_are_caught_by_the_signed_tail(
    db: sqlite3.Connection,
) -> None:
    write_events(db, 4)
    tamper(db, "DELETE FROM fiscal_records WHERE type = 'event' AND number >= 3")
    assert "records 3 to 4 were deleted" in broken(db)


def test_a_forged_tail_does_not_hide_a_truncation(db: sqlite3.Connection) -> None:
    write_events(db, 4)
    two = found(fiscal.get(db, RecordType.EVENT, 2))
    tamper(db, "DELETE FROM fiscal_records WHERE type = 'event' AND number >= 3")
    db.execute("UPDATE fiscal_tails SET number = 2, hash = ? WHERE type = 'event'", (two.hash,))
    assert "end of the chain was tampered with" in broken(db)


def test_the_chains_of_each_type_are_numbered_apart(db: sqlite3.Connection) -> None:
    write_events(db, 2)
    with transaction(db):
        rec = fiscal.append(db, RecordType.TRAINING, {"total_cents": 100})
    assert rec.number == 1
    assert found(fiscal.last(db, RecordType.EVENT)).number == 2


def test_a_start_records_mode_version_and_config_changes_with_secrets_masked(
    db: sqlite3.Connection,
) -> None:
    config = Config()
    technical_events.process_started(db, config, "agent")
    changed = dataclasses.replace(
        config,
        shop=Shop(mode="training"),
        mqtt=Mqtt(url="mqtts://broker.example:8883", username="box-1"),
    )
    technical_events.process_started(db, changed, "agent")
    kinds = [e.kind for e in technical_events.events(db)]
    assert kinds.count("start") == 2
    (mode,) = technical_events.events(db, EventKind.MODE_CHANGE)
    assert mode.details == {"old": "live", "new": "training"}
    changes = {
        e.details["key"]: (e.details["old"], e.details["new"])
        for e in technical_events.events(db, EventKind.CONFIG_CHANGE)
    }
    assert changes["mqtt.url"] == ("", "mqtts://broker.example:8883")
    assert changes["shop.mode"] == ("live", "training")


def test_a_secret_never_reaches_the_recorded_configuration(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cr3t-pw\n")
    technical_events.process_started(db, Config(), "agent")
    with_secret = dataclasses.replace(Config(), mqtt=Mqtt(password_file=secret))
    technical_events.process_started(db, with_secret, "agent")
    (change,) = technical_events.events(db, EventKind.CONFIG_CHANGE)
    assert change.details == {"key": "mqtt.password_file", "old": "null", "new": str(secret)}
    dump = "\n".join(db.iterdump())
    assert "s3cr3t-pw" not in dump


def test_an_event_written_inside_a_transaction_rolls_back_with_it(
    db: sqlite3.Connection,
) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        technical_events.record(db, EventKind.ADMIN_ACTION, {"what": "x"})
        raise RuntimeError("the change failed")
    assert technical_events.events(db) == []


def _edit(db: sqlite3.Connection, number: int) -> None:
    body = found(fiscal.get(db, RecordType.EVENT, number)).body.replace('"i":', '"i":9')
    tamper(
        db, "UPDATE fiscal_records SET body = ? WHERE type = 'event' AND number = ?", body, number
    )


def _delete(db: sqlite3.Connection, number: int) -> None:
    tamper(db, "DELETE FROM fiscal_records WHERE type = 'event' AND number = ?", number)


def _two_breaks(db: sqlite3.Connection, edited: int, deleted: int) -> None:
    _edit(db, edited)
    _delete(db, deleted)


TAMPERINGS = {
    "nothing": lambda db: None,
    "an edit in the second stretch": lambda db: _edit(db, 17),
    "the first record of a stretch deleted": lambda db: _delete(db, 11),
    "the last record of a stretch deleted": lambda db: _delete(db, 20),
    "two breaks: the earlier one is named": lambda db: _two_breaks(db, 27, 14),
    "the end cut off": lambda db: tamper(db, "DELETE FROM fiscal_records WHERE number > 25"),
    "the signed end deleted": lambda db: db.execute("DELETE FROM fiscal_tails"),
}


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_chain_checked_in_stretches_on_several_cores_names_the_same_first_break(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, tampering: str
) -> None:
    write_events(db, 30)
    TAMPERINGS[tampering](db)
    in_one = broken(db)
    monkeypatch.setattr(fiscal, "STRETCH", 5)
    (report,) = [r for r in fiscal.verify(db, workers=3) if r.type is RecordType.EVENT]
    assert str(report.broken or "") == in_one
    assert bool(in_one) is (tampering != "nothing")


def test_a_box_whose_folder_name_has_uri_characters_is_verified_in_stretches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.store.db import open_database

    db = open_database(tmp_path / "caisse #1?x=y" / "comptoir.db")
    write_events(db, 12)
    monkeypatch.setattr(fiscal, "STRETCH", 5)
    assert [r.broken for r in fiscal.verify(db, workers=2)] == [None] * len(RecordType)
    db.close()
