"""Web admin users: hashed passwords, the growing delay after wrong ones, `comptoir web passwd`."""

from __future__ import annotations

import io
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.store import web_users
from appliance.store.db import open_database
from appliance.store.web_users import LoginRefused, Role

PASSWORD = "radis-et-navets-42"
T0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def test_passwords_are_stored_only_as_salted_scrypt_hashes(db: sqlite3.Connection) -> None:
    web_users.set_password(db, "marie", PASSWORD)
    web_users.set_password(db, "jules", PASSWORD)
    stored = [row[0] for row in db.execute("SELECT password_hash FROM web_users")]
    assert all(h.startswith("scrypt$16384$8$1$") for h in stored)
    assert stored[0] != stored[1]  # same password, different salt
    dump = "\n".join(db.iterdump())
    assert PASSWORD not in dump


def test_the_right_password_logs_in_with_the_role(db: sqlite3.Connection) -> None:
    web_users.set_password(db, "marie", PASSWORD, Role.INSTALLER)
    user = web_users.log_in(db, " Marie ", PASSWORD, T0)
    assert (user.username, user.role) == ("marie", Role.INSTALLER)


def test_after_five_failures_each_try_waits_a_growing_delay(db: sqlite3.Connection) -> None:
    web_users.set_password(db, "marie", PASSWORD)
    now = T0
    for _ in range(4):
        with pytest.raises(LoginRefused) as refused:
            web_users.log_in(db, "marie", "wrong-password", now)
        assert refused.value.wait_s == 0
    waits = []
    for _ in range(4):
        with pytest.raises(LoginRefused) as refused:
            web_users.log_in(db, "marie", "wrong-password", now)
        waits.append(refused.value.wait_s)
        with pytest.raises(LoginRefused, match="too many wrong passwords"):
            web_users.log_in(db, "marie", PASSWORD, now + timedelta(seconds=waits[-1] - 1))
        now += timedelta(seconds=waits[-1])
    assert waits == [30, 60, 120, 240]
    assert web_users.log_in(db, "marie", PASSWORD, now).username == "marie"
    # a success starts the count again
    with pytest.raises(LoginRefused) as refused:
        web_users.log_in(db, "marie", "wrong-password", now)
    assert refused.value.wait_s == 0


def test_an_unknown_user_is_refused_like_a_wrong_password(db: sqlite3.Connection) -> None:
    with pytest.raises(LoginRefused, match=r"^wrong user name or password$"):
        web_users.log_in(db, "nobody", PASSWORD, T0)


def test_the_delay_never_grows_past_an_hour(db: sqlite3.Connection) -> None:
    now = T0
    for _ in range(20):
        with pytest.raises(LoginRefused) as refused:
            web_users.log_in(db, "marie", "wrong-password", now)
        now += timedelta(seconds=refused.value.wait_s)
    assert refused.value.wait_s == web_users.MAX_DELAY_S


def test_passwd_from_stdin_creates_an_installer(
    config_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = main(
        ["--config", str(config_file), "web", "passwd", "ines", "--role", "installer", "--stdin"]
    )
    assert code == 0
    assert "password set for ines (installer)" in capsys.readouterr().out
    shop = open_database(data_dir / "comptoir.db")
    assert web_users.log_in(shop, "ines", PASSWORD, T0).role is Role.INSTALLER


def test_passwd_refuses_a_short_password_and_changes_nothing(
    config_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("court\n"))
    code = main(["--config", str(config_file), "web", "passwd", "ines", "--stdin"])
    assert code == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert web_users.list_users(open_database(data_dir / "comptoir.db")) == []


def test_passwd_prompts_twice_on_the_terminal_and_refuses_two_different_answers(
    config_file: Path, data_dir: Path
) -> None:
    assert _passwd_on_a_terminal(config_file, PASSWORD, PASSWORD + "x").returncode == 2
    assert web_users.list_users(open_database(data_dir / "comptoir.db")) == []
    assert _passwd_on_a_terminal(config_file, PASSWORD, PASSWORD).returncode == 0
    shop = open_database(data_dir / "comptoir.db")
    assert web_users.log_in(shop, "ines", PASSWORD, T0).role is Role.PRODUCER


def _passwd_on_a_terminal(config_file: Path, first: str, second: str) -> subprocess.Popen:
    """Run `comptoir web passwd ines` with a pseudo-terminal as its controlling terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config_file), "web", "passwd", "ines"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
        preexec_fn=lambda: _take_terminal(follower),
    )
    os.close(follower)
    seen = b""
    for answer in (first, second):
        seen = _read_until(leader, b"password", seen)
        os.write(leader, answer.encode() + b"\n")
        seen = b""
    process.wait(timeout=60)
    os.close(leader)
    return process


def _take_terminal(fd: int) -> None:
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)


def _read_until(fd: int, marker: bytes, seen: bytes) -> bytes:
    deadline = time.monotonic() + 60
    while marker not in seen.lower():
        if time.monotonic() > deadline:
            raise AssertionError(f"no prompt; saw {seen!r}")
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            seen += os.read(fd, 1024)
    return seen
