"""The sd_notify protocol each long-running process speaks: READY=1 once it serves, WATCHDOG=1
only while its real main loop runs. A socket of the test stands in for systemd's; the VM of
`make image-smoke` shows systemd itself restarting a hung process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.systemd_notify import Notifier, ServingWatch
from tests.agent_support import free_port

REPO = Path(__file__).resolve().parents[2]


class FakeSystemd:
    """The notify socket: collects every datagram a process sends."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.5)
        self.messages: list[str] = []

    def env(self, watchdog_s: float = 2.0) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(int(watchdog_s * 1e6))}

    def wait_for(self, text: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in message for message in self.messages):
                return
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        raise AssertionError(f"no {text!r} within {timeout_s} s; got {self.messages}")

    def count(self, text: str, over_s: float) -> int:
        self.messages.clear()
        deadline = time.monotonic() + over_s
        while time.monotonic() < deadline:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        return sum(text in message for message in self.messages)


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    fake = FakeSystemd(tmp_path)
    yield fake
    fake.sock.close()


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "appliance", *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def test_outside_systemd_the_notifier_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    notifier.ready("up")
    notifier.watchdog()
    assert notifier.watchdog_every_s == 0.0


def test_the_web_admin_says_ready_then_pings_while_its_page_answers(
    systemd: FakeSystemd, tmp_path: Path, config_file: Path
) -> None:
    port = free_port()
    config_file.write_text(
        config_file.read_text() + f'\n[web]\nlisten = "127.0.0.1:{port}"\nhttp_listen = ""\n'
    )
    web = start(["--config", str(config_file), "web"], systemd.env(), tmp_path / "web.log")
    try:
        systemd.wait_for("READY=1")
        systemd.wait_for("WATCHDOG=1")
        assert systemd.count("WATCHDOG=1", over_s=3.5) >= 2
        # The server stopped dead: its page no longer answers, so the pings stop.
        web.send_signal(19)  # SIGSTOP
        assert systemd.count("WATCHDOG=1", over_s=3.0) == 0
        web.send_signal(18)  # SIGCONT
    finally:
        stop(web)


def test_a_server_that_accepts_but_never_answers_gets_no_ping(systemd: FakeSystemd) -> None:
    stuck = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(stuck.accept()[0]), daemon=True).start()
    os.environ.update(systemd.env(watchdog_s=1.0))
    try:
        notifier = Notifier()
    finally:
        for key in systemd.env():
            os.environ.pop(key)
    port = stuck.getsockname()[1]
    watch = ServingWatch(f"http://127.0.0.1:{port}/login", notifier, timeout_s=0.5).start()
    try:
        assert systemd.count("WATCHDOG=1", over_s=2.0) == 0
    finally:
        watch.stop()
        stuck.close()
        for conn in accepted:
            conn.close()


def test_the_agent_pings_from_its_main_loop_even_with_the_broker_away(
    systemd: FakeSystemd, tmp_path: Path, config_file: Path
) -> None:
    away = free_port()  # nothing listens there
    config_file.write_text(
        config_file.read_text() + f'\n[mqtt]\nurl = "mqtt://127.0.0.1:{away}"\n'
        'logs_source = "file"\n'
    )
    agent = start(["--config", str(config_file), "agent"], systemd.env(), tmp_path / "agent.log")
    try:
        systemd.wait_for("READY=1")
        assert systemd.count("WATCHDOG=1", over_s=3.5) >= 2
        agent.send_signal(19)  # SIGSTOP: the main loop hangs
        assert systemd.count("WATCHDOG=1", over_s=2.5) == 0
        agent.send_signal(18)
    finally:
        stop(agent)
