"""`comptoir web` as a box runs it: HTTPS with the box's certificate, plain HTTP only redirects,
and it says where it listens."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.certificate import ensure_certificate, fingerprint, load_authority, web_fingerprint
from tests.ca_support import make_ca

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def web(config_file: Path, data_dir: Path) -> Iterator[tuple[int, int, list[str]]]:
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
            said.append(process.stderr.readline())
        yield https_port, http_port, said
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_admin_is_served_over_https_with_the_boxs_certificate_and_says_where(
    web: tuple[int, int, list[str]], data_dir: Path
) -> None:
    https_port, http_port, said = web
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
    cookie = response.getheader("Set-Cookie")
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert b'<html lang="fr">' in response.read()


def test_plain_http_only_redirects_to_the_same_page_over_https(
    web: tuple[int, int, list[str]],
) -> None:
    https_port, http_port, _ = web
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
    https_port, _, said = request.getfixturevalue("web")  # started on the signed certificate
    assert any(made.fingerprint in line for line in said)
    trusted = ssl.create_default_context(cafile=str(ca_file))  # the CA only, not the box
    connection = http.client.HTTPSConnection("localhost", https_port, context=trusted, timeout=20)
    connection.request("GET", "/login")  # the name is checked too: localhost is in the SAN
    assert connection.getresponse().status == 200
