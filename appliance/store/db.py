"""The one place that opens the database and applies migrations.

Three processes share this SQLite file in WAL mode. Each opens its own connection with foreign
keys on, `synchronous=FULL` (a sale or a journal entry that was committed survives a power cut)
and a busy timeout, and writes inside `transaction()` (BEGIN IMMEDIATE, so writers queue up
instead of failing half-way).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from appliance import clock
from appliance.errors import StoreError

MIGRATION_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


def open_database(
    path: Path, *, migrate: bool = True, must_exist: bool = False
) -> sqlite3.Connection:
    """Open (and create) the database at `path` and bring its schema up to date.

    `must_exist` is for commands that only read: they must not create an empty database in a
    mistyped data directory and then report on it.
    """
    if must_exist and not path.is_file():
        raise StoreError(f"no database at {path}: check [device] data_dir in the configuration")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _private(path)
        conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from None
    if migrate:
        apply_migrations(conn)
    return conn


def _private(path: Path) -> None:
    """The database holds password hashes and customers' contact data: mode 0600, created so
    (SQLite gives its WAL and shared-memory files the database file's mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def damaged_tables(db: sqlite3.Connection, *, full: bool = False) -> dict[str, str]:
    """Each table whose pages or indexes are damaged, with SQLite's first complaint about it.

    `PRAGMA quick_check(TABLE)` (or the slower `integrity_check`, which also compares every
    index with its table) table by table, so the alert can name what is damaged."""
    check = "integrity_check" if full else "quick_check"
    found: dict[str, str] = {}
    try:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
    except sqlite3.DatabaseError as exc:
        return {"sqlite_master": str(exc)}
    for table in tables:
        try:
            rows = db.execute(f'PRAGMA {check}("{table}")').fetchall()
        except sqlite3.DatabaseError as exc:
            found[table] = str(exc)
            continue
        if rows != [("ok",)]:
            found[table] = str(rows[0][0])
    return found


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All or nothing: a change and its outbox event and journal entry commit together."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def disk_full(error: BaseException) -> bool:
    """Whether `error` is the data directory's disk (or quota) being full: SQLite's
    SQLITE_FULL, or ENOSPC/EDQUOT from writing a file. Nothing was written; room again, the
    same write succeeds."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class CommitWatch:
    """Tells cheaply whether another connection committed since the last look.

    `PRAGMA data_version` moves only for commits made on *other* connections, so a process that
    must notice its own writes makes them on a connection of its own. The version belongs to
    one connection: ask with the same one every time (or `forget` after changing it).
    """

    def __init__(self) -> None:
        self._seen: int | None = None

    def changed(self, db: sqlite3.Connection) -> bool:
        """True at the first look, then whenever another connection committed since the last
        look that said True."""
        version: int = db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._seen:
            return False
        self._seen = version
        return True

    def forget(self) -> None:
        """Make the next look say True (there may be more to do than one look found)."""
        self._seen = None


def insert_row(db: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
    """Run an INSERT of one row and return its id. sqlite3 keeps the connection's last id when a
    statement added nothing (OR IGNORE, ON CONFLICT DO NOTHING): that is refused, not returned."""
    cursor = db.execute(sql, params)
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        raise RuntimeError(f"expected one new row from {sql.split('(')[0].strip()!r}, got none")
    return cursor.lastrowid


def require_transaction(db: sqlite3.Connection, what: str) -> None:
    """Refuse a write that must commit with the change it belongs to (a programming error)."""
    if not db.in_transaction:
        raise RuntimeError(f"{what} must run inside store.db.transaction()")


def migrations() -> list[tuple[int, str, str]]:
    """Every migration shipped with the package, as (number, name, SQL), in order."""
    found = []
    for entry in resources.files("appliance.store.migrations").iterdir():
        match = MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(conn: sqlite3.Connection) -> list[int]:
    """Apply the forward migrations not yet applied, each in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        now = clock.now_iso()
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;"
                f"INSERT INTO schema_migrations VALUES ({version}, '{name}', '{now}');\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"database migration {version:04d}_{name} failed: {exc}") from None
        applied.append(version)
    return applied
