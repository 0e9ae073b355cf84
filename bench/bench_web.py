"""Web admin: dashboard and sales pages on a big database, and the web process's memory.

The database holds 1,000,000 journal entries (a valid hash chain), 100,000 sales (two lines
each) spread over the last year, about 270 a day, and a year of fridge and freezer readings
every minute (1,051,200 rows): what the dashboard reads on a box a year old. `comptoir web`
runs as its own process, as on a box (HTTPS, cheroot); the bench logs in like a browser and
asks each page SAMPLES times over one kept-alive TLS connection. The journal was never checked
on this box (as one restored from a backup): each dashboard load checks 2,000 more entries of
it, the first is reported apart. RSS is read from /proc once listening and after the samples.
Goals: p99 under 200 ms for each page, RSS under 60 MB.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from appliance import clock
from appliance.certificate import ensure_certificate
from appliance.store import web_users
from appliance.store.db import open_database, transaction
from appliance.store.web_users import Role
from appliance.web.dashboard import CHECK_PER_LOAD
from bench._table import percentile, print_table
from bench.bench_lockers import _chain

JOURNAL = 1_000_000
SALES = 100_000
SAMPLES = 200
GOAL_MS = 200.0
GOAL_RSS_MB = 60.0
DEVICE = "bench-web"
PASSWORD = "bench-password-123"
PAGES = {"dashboard": "/", "sales list": "/sales/"}
ZONES = (
    '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nsensors = ["28-a"]\n'
    '[[haccp.zones]]\nname = "congel"\nlimit_c = -18\nsensors = ["28-b"]\n'
)
READINGS_EVERY_S = 60


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        _big_database(folder / "data" / "comptoir.db")
        ensure_certificate(folder / "data", DEVICE, "Bench")  # made at provisioning on a box
        rows: list[list[object]] = [
            ["database build", f"{time.perf_counter() - started:.1f} s", "", "", ""]
        ]
        port = _free_port()
        config = folder / "comptoir.toml"
        config.write_text(
            f'[device]\nid = "{DEVICE}"\nname = "Bench"\ndata_dir = "{folder / "data"}"\n'
            f'[web]\nlisten = "127.0.0.1:{port}"\nhttp_listen = ""\n' + ZONES
        )
        web = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(config), "web"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_listening(web)
            rows += _measure(port, folder / "data" / "web-tls.crt", web.pid)
        finally:
            web.terminate()
            web.wait(timeout=30)
    print_table(["measure", "value", "goal", "ratio", "note"], rows)


def _measure(port: int, cert: Path, pid: int) -> list[list[object]]:
    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
    started_rss = _rss_mb(pid)
    cookie = _log_in(connection)
    first = time.perf_counter()
    _get(connection, "/", cookie)
    rows: list[list[object]] = [
        [
            "first dashboard",
            f"{(time.perf_counter() - first) * 1000:.0f} ms",
            "",
            "",
            f"{CHECK_PER_LOAD:,} of {JOURNAL:,} entries checked",
        ]
    ]
    for name, path in PAGES.items():
        samples = []
        for _ in range(SAMPLES):
            began = time.perf_counter()
            _get(connection, path, cookie)
            samples.append((time.perf_counter() - began) * 1000)
        p99 = percentile(samples, 99)
        rows.append(
            [
                f"{name} p99",
                f"{p99:.1f} ms",
                f"< {GOAL_MS:.0f} ms",
                f"{p99 / GOAL_MS:.2f}",
                f"p50 {percentile(samples, 50):.1f} ms, {SAMPLES} requests",
            ]
        )
    rss = _rss_mb(pid)
    rows.append(["web process RSS at start", f"{started_rss:.1f} MB", "", "", "listening"])
    rows.append(
        [
            "web process RSS",
            f"{rss:.1f} MB",
            f"< {GOAL_RSS_MB:.0f} MB",
            f"{rss / GOAL_RSS_MB:.2f}",
            "after the samples",
        ]
    )
    return rows


def _big_database(path: Path) -> None:
    db = open_database(path)
    now = clock.now()
    stamp = clock.iso(now)
    with transaction(db):
        db.executemany(
            "INSERT INTO journal (seq, ts, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            _chain(JOURNAL, stamp),
        )
        db.executemany(
            "INSERT INTO payment_attempts (id, amount_cents, basket, state, created_at) "
            "VALUES (?, 1203, '{}', 'approved', ?)",
            ((f"att-{n}", stamp) for n in range(SALES)),
        )
        db.executemany(
            "INSERT INTO sales (id, device_id, receipt_number, token, attempt_id, total_cents, "
            "payment_reference, created_at) VALUES (?, ?, ?, ?, ?, 1203, 'ref', ?)",
            _sales(now),
        )
        db.executemany(
            "INSERT INTO sale_lines (sale_id, line_no, sku, name, sold_by, weight_g, quantity, "
            "unit_price_cents, price_cents, vat_rate_bp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 550)",
            _lines(),
        )
        db.executemany(
            "INSERT INTO temperature_readings (zone, ts, sensor, temp_mc) VALUES (?, ?, ?, ?)",
            _readings(now),
        )
    web_users.set_password(db, "bench", PASSWORD, Role.INSTALLER)
    db.close()


def _sales(now: datetime) -> Iterator[tuple[object, ...]]:
    step = timedelta(days=365) / SALES
    for n in range(SALES):
        when = now - step * (SALES - n)
        yield n + 1, DEVICE, n + 1, uuid.uuid4().hex, f"att-{n}", clock.iso(when)


def _readings(now: datetime) -> Iterator[tuple[object, ...]]:
    end = int(now.timestamp())
    for ts in range(end - 365 * 86400, end, READINGS_EVERY_S):
        yield "frigo", ts, "28-a", 3000 + ts % 900
        yield "congel", ts, "28-b", -20000 + ts % 1500


def _lines() -> Iterator[tuple[object, ...]]:
    for n in range(1, SALES + 1):
        sku = f"P{n % 40:02d}"
        yield n, 1, sku, f"Produit {sku}", "weight", 1250, 1, 450, 563
        yield n, 2, "OEUF6", "Oeufs x6", "piece", None, 2, 320, 640


def _log_in(connection: http.client.HTTPSConnection) -> str:
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    body = f"csrf_token={token}&username=bench&password={PASSWORD}"
    connection.request(
        "POST",
        "/login",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"bench login refused: {response.status}")
    return response.getheader("Set-Cookie", "").split(";")[0]


def _get(connection: http.client.HTTPSConnection, path: str, cookie: str) -> None:
    connection.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "fr"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")


def _wait_listening(web: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    assert web.stderr is not None
    while time.monotonic() < deadline:
        line = web.stderr.readline()
        if "listening on" in line:
            return
        if web.poll() is not None:
            raise RuntimeError(f"comptoir web stopped: {line}")
    raise RuntimeError("comptoir web did not start")


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = int(re.search(r"VmRSS:\s+(\d+) kB", status)[1])  # type: ignore[index]
    return kb / 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
