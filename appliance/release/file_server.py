"""A small HTTPS file server for bundles, with HTTP Range (resume): `comptoir release serve`.

For a co-op without a web server of its own, for tests and for the benchmark. Serves the
regular files of one folder, nothing else (no listing, no path outside it). `cut_after`
closes the first transfer of each file after that many bytes, to rehearse a resumed download.
"""

from __future__ import annotations

import re
import ssl
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
CHUNK = 64 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "comptoir-files"

    def __init__(self, *args: Any, folder: Path, cuts: _Cuts, **kw: Any) -> None:
        self.folder = folder
        self.cuts = cuts
        super().__init__(*args, **kw)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stderr
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        name = self.path.split("?", 1)[0].lstrip("/")
        path = self.folder / name
        if "/" in name or name.startswith(".") or not path.is_file():
            self.send_error(404, "no such bundle")
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        wanted = self.headers.get("Range")
        if wanted:
            match = _RANGE.fullmatch(wanted.strip())
            if match is None or int(match[1]) >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if not send_body:
            return
        limit = self.cuts.limit(name, end - start + 1)
        with path.open("rb") as source:
            source.seek(start)
            left = limit
            while left > 0 and (chunk := source.read(min(CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)
        if limit < end - start + 1:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)


class _Cuts:
    """Which files had their first transfer cut already."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.done: set[str] = set()
        self.sent: dict[str, int] = {}
        self._lock = threading.Lock()

    def limit(self, name: str, length: int) -> int:
        with self._lock:
            if self.after and name not in self.done:
                self.done.add(name)
                length = min(length, self.after)
            self.sent[name] = self.sent.get(name, 0) + length
            return length


class FileServer(ThreadingHTTPServer):
    daemon_threads = True
    cuts: _Cuts


def serve(
    folder: Path, address: tuple[str, int], cert: Path, key: Path, *, cut_after: int = 0
) -> FileServer:
    """A started-on-demand server (call serve_forever); `server.cuts.sent` counts bytes sent."""
    cuts = _Cuts(cut_after)
    server = FileServer(address, partial(_Handler, folder=folder.resolve(), cuts=cuts))
    server.cuts = cuts
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server
