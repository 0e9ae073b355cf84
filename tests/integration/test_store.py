"""The one SQLite database: migrations, the hash-chained journal, the outbox and the command queue.

Everything runs against real database files; tampering goes through a second, raw sqlite3
connection, the way someone with a shell on the box would try it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import pytest

from appliance.core.catalogue import Product, SoldBy
from appliance.store import catalogue, device_commands, journal, outbox
from appliance.store.db import (
    CommitWatch,
    apply_migrations,
    insert_row,
    migrations,
    open_database,
    transaction,
)
from appliance.store.device_commands import CommandName
from tests.found import found

REPO = Path(__file__).resolve().parents[2]


def comptoir(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config_file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@pytest.fixture
def raw(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A second connection that ignores the rules, as a tamperer would: triggers dropped."""
    conn = sqlite3.connect(data_dir / "comptoir.db", isolation_level=None)
    yield conn
    conn.close()


def weighings(db: sqlite3.Connection, count: int) -> None:
    for n in range(1, count + 1):
        with transaction(db):
            journal.append(db, "weighing", {"weight_g": 100 * n, "price_cents": 59 * n})


# -- opening the database -------------------------------------------------------------------------


def test_migrations_are_applied_once_and_recorded(data_dir: Path) -> None:
    path = data_dir / "comptoir.db"
    first = open_database(path)
    shipped = [(version, name) for version, name, _ in migrations()]
    recorded = first.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    assert list(recorded) == shipped
    assert shipped[0] == (1, "foundation")
    first.close()
    again = open_database(path)
    assert apply_migrations(again) == []
    assert again.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(shipped)
    again.close()


def test_every_connection_uses_wal_foreign_keys_and_full_sync(data_dir: Path) -> None:
    connections = [open_database(data_dir / "comptoir.db") for _ in range(3)]
    for db in connections:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        with pytest.raises(sqlite3.IntegrityError), transaction(db):
            db.execute(
                "INSERT INTO order_lines (order_number, line_no, name, quantity) "
                "VALUES ('R-NOWHERE', 1, 'Panier', 1)"
            )
        db.close()


# -- journal --------------------------------------------------------------------------------------


def test_journal_verifies_after_appends(db: sqlite3.Connection, config_file: Path) -> None:
    weighings(db, 5)
    assert journal.verify(db) == (5, None)
    result = comptoir(config_file, "journal", "verify")
    assert result.returncode == 0, result.stderr
    assert "5 entries" in result.stdout


def test_journal_refuses_to_append_outside_a_transaction(db: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        journal.append(db, "weighing", {"weight_g": 100})
    assert journal.verify(db) == (0, None)


def test_journal_rows_cannot_be_changed_or_deleted_through_the_app(
    db: sqlite3.Connection,
) -> None:
    weighings(db, 2)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE journal SET data = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM journal WHERE seq = 2")
    assert journal.verify(db) == (2, None)


def test_rolled_back_sale_leaves_no_journal_entry(db: sqlite3.Connection) -> None:
    weighings(db, 1)
    with pytest.raises(ZeroDivisionError), transaction(db):
        journal.append(db, "sale", {"total_cents": 728})
        _ = 1 / 0
    assert journal.verify(db) == (1, None)


def _drop_guards(raw: sqlite3.Connection) -> None:
    raw.execute("DROP TRIGGER journal_no_update")
    raw.execute("DROP TRIGGER journal_no_delete")


TAMPERING = {
    "changed": (
        ['UPDATE journal SET data = \'{"price_cents":1,"weight_g":300}\' WHERE seq = 3'],
        3,
    ),
    "deleted": (["DELETE FROM journal WHERE seq = 3"], 4),
    "cut off at the end": (["DELETE FROM journal WHERE seq >= 4"], 4),
    "reordered": (
        [
            "CREATE TEMP TABLE keep AS SELECT * FROM journal WHERE seq IN (2, 3)",
            "UPDATE journal SET (ts, kind, data, prev_hash, hash) = "
            "(SELECT ts, kind, data, prev_hash, hash || '-' FROM keep "
            "WHERE keep.seq = 5 - journal.seq) "
            "WHERE seq IN (2, 3)",
            "UPDATE journal SET hash = rtrim(hash, '-') WHERE seq IN (2, 3)",
        ],
        2,
    ),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_verify_names_the_first_tampered_entry(
    how: str, db: sqlite3.Connection, raw: sqlite3.Connection, config_file: Path
) -> None:
    statements, first_bad = TAMPERING[how]
    weighings(db, 5)
    _drop_guards(raw)
    for sql in statements:
        raw.execute(sql)
    if how == "reordered":
        moved = raw.execute("SELECT data FROM journal WHERE seq = 2").fetchone()[0]
        assert json.loads(moved)["weight_g"] == 300
    result = comptoir(config_file, "journal", "verify")
    assert result.returncode == 1
    assert f"journal BROKEN at entry {first_bad}:" in result.stdout
    as_json = comptoir(config_file, "journal", "verify", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["first_bad_entry"] == first_bad
    assert report["reason"]


def test_a_quick_check_walks_only_new_entries_and_still_catches_them(
    db: sqlite3.Connection, raw: sqlite3.Connection
) -> None:
    weighings(db, 3)
    assert journal.verify(db) == (3, None)  # a full walk records how far the chain is good
    _drop_guards(raw)
    raw.execute("UPDATE journal SET data = '{}' WHERE seq = 1")  # before the checkpoint
    weighings(db, 2)
    assert journal.verify(db, since_last_check=True) == (5, None)  # old entries not re-read
    raw.execute("UPDATE journal SET data = '{}' WHERE seq = 5")  # after the checkpoint
    assert found(journal.verify(db, since_last_check=True)[1])[0] == 5
    assert found(journal.verify(db)[1])[0] == 1  # the full walk finds the older change too


def test_a_float_is_refused_on_append_and_a_float_slipped_in_is_a_changed_entry(
    db: sqlite3.Connection, raw: sqlite3.Connection
) -> None:
    weighings(db, 2)
    with pytest.raises(TypeError), transaction(db):
        journal.append(db, "weighing", {"weight_g": 1.5})
    assert journal.verify(db) == (2, None)  # nothing written
    _drop_guards(raw)
    raw.execute("""UPDATE journal SET data = '{"weight_g":1.5}' WHERE seq = 2""")
    assert journal.verify(db) == (2, (2, "its content was changed after it was written"))


def test_a_bounded_check_goes_a_little_further_each_time_and_still_catches_a_change(
    db: sqlite3.Connection, raw: sqlite3.Connection
) -> None:
    weighings(db, 12)
    first = journal.check_more(db, limit=5)
    assert (first.entries, first.checked, first.broken, first.complete) == (12, 5, None, False)
    assert journal.check_more(db, limit=5).checked == 10
    _drop_guards(raw)
    raw.execute("UPDATE journal SET data = '{}' WHERE seq = 11")  # not checked yet
    broken = journal.check_more(db, limit=5)
    assert broken.broken is not None and broken.broken[0] == 11 and broken.checked == 10
    assert journal.check_more(db, limit=5).broken == broken.broken  # stays broken


def test_a_bounded_check_reaches_the_end_and_the_seal(db: sqlite3.Connection) -> None:
    weighings(db, 7)
    assert journal.check_more(db, limit=4).complete is False
    done = journal.check_more(db, limit=4)
    assert (done.checked, done.complete) == (7, True)
    weighings(db, 1)
    assert journal.check_more(db, limit=1).complete is True  # the one new entry


def _append_many(path: str, writer: str, count: int, start: EventType) -> None:
    db = open_database(Path(path))
    start.wait(30)
    for n in range(count):
        with transaction(db):
            journal.append(db, "weighing", {"writer": writer, "n": n})
    db.close()


def test_two_processes_appending_at_once_never_fork_the_chain(data_dir: Path) -> None:
    path = data_dir / "comptoir.db"
    open_database(path).close()
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    writers = [
        spawn.Process(target=_append_many, args=(str(path), name, 60, start))
        for name in ("kiosk", "agent")
    ]
    for process in writers:
        process.start()
    start.set()
    for process in writers:
        process.join(90)
        assert process.exitcode == 0
    db = open_database(path)
    assert journal.verify(db) == (120, None)
    seqs = [e.seq for e in journal.entries(db)]
    assert seqs == list(range(1, 121))
    by_writer = {
        w: [e.data["n"] for e in journal.entries(db) if e.data["writer"] == w]
        for w in ("kiosk", "agent")
    }
    assert by_writer == {"kiosk": list(range(60)), "agent": list(range(60))}
    db.close()


# -- outbox ---------------------------------------------------------------------------------------


def test_each_destination_keeps_its_own_place_in_the_outbox(db: sqlite3.Connection) -> None:
    with transaction(db):
        sale = outbox.emit(db, "sale", {"total_cents": 728})
        pickup = outbox.emit(db, "pickup", {"order": "R123"})
    assert [e.event_id for e in outbox.pending(db, "mqtt")] == [sale.event_id, pickup.event_id]
    outbox.acknowledge(db, "mqtt", sale.id)
    assert [e.type for e in outbox.pending(db, "mqtt")] == ["pickup"]
    assert [e.type for e in outbox.pending(db, "marketplace")] == ["sale", "pickup"]
    assert [e.type for e in outbox.pending(db, "marketplace", types=("pickup",))] == ["pickup"]
    outbox.acknowledge(db, "mqtt", pickup.id)
    outbox.acknowledge(db, "mqtt", sale.id)  # a late duplicate never moves the cursor back
    assert outbox.pending(db, "mqtt") == []
    assert outbox.pending(db, "marketplace")[0].payload == {"total_cents": 728}


def test_an_insert_that_added_nothing_gives_no_other_rows_id(db: sqlite3.Connection) -> None:
    with transaction(db):
        first = outbox.emit(db, "sale", {"n": 1}, event_id="e-1")
        sql = "INSERT OR IGNORE INTO outbox (event_id, ts, type, payload) VALUES (?, ?, ?, ?)"
        with pytest.raises(RuntimeError, match="expected one new row"):
            insert_row(db, sql, ("e-1", first.ts, "sale", "{}"))
    assert [event.id for event in outbox.pending(db, "mqtt")] == [first.id]


def test_outbox_event_is_only_written_inside_a_transaction(db: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        outbox.emit(db, "sale", {"total_cents": 1})
    assert outbox.pending(db, "mqtt") == []


def test_rolled_back_change_leaves_neither_change_nor_event(db: sqlite3.Connection) -> None:
    eggs = Product("OEUFS-6", "Œufs plein air x6", SoldBy.PIECE, 240, 550, stock=24)
    with pytest.raises(RuntimeError, match="card declined"), transaction(db):
        catalogue.save(db, eggs)
        outbox.emit(db, "stock_changed", {"sku": "OEUFS-6", "stock": 24})
        raise RuntimeError("card declined")
    assert catalogue.get(db, "OEUFS-6") is None
    assert outbox.pending(db, "mqtt") == []
    with transaction(db):
        catalogue.save(db, eggs)
        outbox.emit(db, "stock_changed", {"sku": "OEUFS-6", "stock": 24})
    assert found(catalogue.get(db, "OEUFS-6")).stock == 24
    assert [e.type for e in outbox.pending(db, "mqtt")] == ["stock_changed"]


# -- device command queue -------------------------------------------------------------------------


def test_queued_command_is_taken_once_and_its_result_recorded(db: sqlite3.Connection) -> None:
    first = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 12}, requested_by="web:anne"
    )
    second = device_commands.queue(db, CommandName.PRINT_TEST_LABEL, requested_by="mqtt:admin")
    taken = found(device_commands.take_next(db))
    assert (taken.id, taken.state, taken.args) == (first.id, "running", {"compartment": 12})
    assert found(device_commands.take_next(db)).id == second.id
    assert device_commands.take_next(db) is None
    device_commands.finish(db, first.id, True, {"opened": True})
    device_commands.finish(db, second.id, False, {"error": "out of paper"})
    done = found(device_commands.get(db, first.id))
    assert (done.state, done.result, done.finished) == ("done", {"opened": True}, True)
    assert found(device_commands.get(db, second.id)).state == "failed"
    assert found(device_commands.wait(db, first.id, timeout_s=5)).state == "done"


def test_queueing_the_same_command_id_twice_queues_it_once(db: sqlite3.Connection) -> None:
    a = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 3}, requested_by="mqtt", command_id="c-1"
    )
    b = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 4}, requested_by="mqtt", command_id="c-1"
    )
    assert a == b
    assert len(device_commands.recent(db)) == 1


def test_expired_command_is_refused_with_a_reason_instead_of_run(
    db: sqlite3.Connection,
) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="microseconds")
    stale = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 7}, requested_by="mqtt", expires_at=past
    )
    fresh = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 8}, requested_by="mqtt"
    )
    assert found(device_commands.take_next(db)).id == fresh.id
    refused = found(device_commands.get(db, stale.id))
    assert refused.state == "refused"
    assert "expired" in found(refused.result)["error"]
    assert refused.finished_at


def test_command_refused_by_the_kiosk_says_why(db: sqlite3.Connection) -> None:
    command = device_commands.queue(
        db, CommandName.OPEN_DOOR, {"compartment": 99}, requested_by="web"
    )
    device_commands.refuse(db, command.id, "no compartment 99 in [lockers]")
    refused = found(device_commands.get(db, command.id))
    assert (refused.state, refused.result) == (
        "refused",
        {"error": "no compartment 99 in [lockers]"},
    )
    assert device_commands.take_next(db) is None


def test_a_commit_watch_notices_other_processes_writes_not_its_own(
    data_dir: Path, db: sqlite3.Connection
) -> None:
    watch = CommitWatch()
    assert watch.changed(db)  # the first look: read everything once
    with transaction(db):
        outbox.emit(db, "sale", {"receipt": 1})
    assert not watch.changed(db)  # our own commit
    other = open_database(data_dir / "comptoir.db")
    with transaction(other):
        outbox.emit(other, "sale", {"receipt": 2})
    other.close()
    assert watch.changed(db)
    assert not watch.changed(db)
    watch.forget()
    assert watch.changed(db)
