"""`comptoir web` as a box runs it: HTTPS with the box's certificate, plain HTTP only redirects,
and it says where it listens."""

from __future__ import annotations

import http.client
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.certificate import ensure_certificate, fingerprint, load_authority, web_fingerprint
from appliance.store import web_users
from appliance.store.web_users import Role
from tests.ca_support import make_ca
from tests.found import found

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """`comptoir web` running: its ports, what it said on stderr, its process id."""

    https_port: int
    http_port: int
    said: list[str]
    pid: int


@pytest.fixture
def web(config_file: Path, data_dir: Path) -> Iterator[Served]:
    https_port, http_port = free_port(), free_port()
    config_file.write_text(
        config_file.read_text()
        + f'[web]\nlisten = "127.0.0.1:{https_port}"\nhttp_listen = "127.0.0.1:{http_port}"\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config_file), "web"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    said: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("listening on" in line for line in said):
            assert time.monotonic() < deadline and process.poll() is None, said
            said.append(found(process.stderr).readline())
        yield Served(https_port, http_port, said, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_admin_is_served_over_https_with_the_boxs_certificate_and_says_where(
    web: Served, data_dir: Path
) -> None:
    https_port, http_port, said = web.https_port, web.http_port, web.said
    cert_file = data_dir / "web-tls.crt"
    print_ = fingerprint(cert_file)
    assert web_fingerprint(data_dir) == print_  # what the kiosk's about screen shows
    assert any(
        f"web admin listening on https://127.0.0.1:{https_port}/ (certificate {print_}); "
        f"http://127.0.0.1:{http_port}/ redirects there" in line
        for line in said
    )
    trusted = ssl.create_default_context(cafile=str(cert_file))
    connection = http.client.HTTPSConnection("127.0.0.1", https_port, context=trusted, timeout=20)
    connection.request("GET", "/login")
    response = connection.getresponse()
    assert response.status == 200
    cookie = found(response.getheader("Set-Cookie"))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert b'<html lang="fr">' in response.read()


def test_plain_http_only_redirects_to_the_same_page_over_https(web: Served) -> None:
    https_port, http_port = web.https_port, web.http_port
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=20)
    connection.request("GET", "/sales/?day=2026-07-01", headers={"Host": f"127.0.0.1:{http_port}"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == f"https://127.0.0.1:{https_port}/sales/?day=2026-07-01"
    assert response.read() == b""  # nothing of the admin crosses in clear


def test_a_browser_that_trusts_the_coops_ca_trusts_the_box_without_a_warning(
    request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path
) -> None:
    ca_file, ca_key_file = make_ca(tmp_path)
    authority = load_authority(ca_file.read_bytes(), ca_key_file.read_bytes())
    made = ensure_certificate(data_dir, "ferme-test", "Ferme test", authority)
    served = request.getfixturevalue("web")  # started on the signed certificate
    https_port = served.https_port
    assert any(made.fingerprint in line for line in served.said)
    trusted = ssl.create_default_context(cafile=str(ca_file))  # the CA only, not the box
    connection = http.client.HTTPSConnection("localhost", https_port, context=trusted, timeout=20)
    connection.request("GET", "/login")  # the name is checked too: localhost is in the SAN
    assert connection.getresponse().status == 200


def test_logins_leave_the_web_process_no_bigger(
    web: Served, db: sqlite3.Connection, data_dir: Path
) -> None:
    """Each login's password check takes 16 MiB: given back to the system once done, so a day
    of logins keeps the admin within the box's memory (docs/admin.md, `make bench`)."""
    web_users.set_password(db, "marie", "radis-et-navets-42", Role.PRODUCER)
    trusted = ssl.create_default_context(cafile=str(data_dir / "web-tls.crt"))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", web.https_port, context=trusted, timeout=60
    )
    dashboard(connection, log_in(connection, "marie", "radis-et-navets-42"))  # pages loaded once
    before = resident_mb(web.pid)
    for _ in range(4):
        dashboard(connection, log_in(connection, "marie", "radis-et-navets-42"))
    assert resident_mb(web.pid) - before < 8


def log_in(connection: http.client.HTTPSConnection, user: str, password: str) -> str:
    """The session cookie of a login made as a browser does (the form's CSRF token first)."""
    connection.request("GET", "/login")
    response = connection.getresponse()
    token = found(re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()))[1]
    cookie = found(response.getheader("Set-Cookie")).split(";")[0]
    connection.request(
        "POST",
        "/login",
        f"csrf_token={token}&username={user}&password={password}",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    return found(response.getheader("Set-Cookie")).split(";")[0]


def dashboard(connection: http.client.HTTPSConnection, cookie: str) -> None:
    connection.request("GET", "/", headers={"Cookie": cookie})
    response = connection.getresponse()
    assert response.status == 200 and b"Tableau de bord" in response.read()


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(found(re.search(r"VmRSS:\s+(\d+) kB", status))[1]) / 1024
