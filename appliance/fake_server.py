"""What the project's fake servers share (the fake Open Food Network, the fake Pastèque): the
hooks tests script on them, and their thread over real HTTP on a free port.

A fault is an answer the next matching request gets instead of the real one; `down` gives every
request the fake's "server down" fault. `arrive` is what each fake calls first for every request.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

F = TypeVar("F")


class Scripted(Generic[F]):
    """A fake's scripting hooks, behind its one lock (the fake servers are threaded)."""

    def __init__(self, down_fault: F) -> None:
        self.lock = threading.RLock()
        self.faults: deque[tuple[F, str]] = deque()  # (fault, path prefix)
        self.down = False  # every request gets `down_fault`
        self.slow_s = 2.0  # how long a "slow" fault waits before the real answer
        self.before_request: list[Callable[[str, str], None]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self._down_fault = down_fault

    def arrive(self, method: str, path: str) -> F | None:
        """Record a request, run the hooks, and say which fault it gets, if any."""
        with self.lock:
            self.requests.append((method, path))
        for hook in list(self.before_request):
            hook(method, path)
        return self.take_fault(path)

    def fail_next(self, fault: F, times: int = 1, path: str = "/") -> None:
        with self.lock:
            self.faults.extend([(fault, path)] * times)

    def take_fault(self, path: str) -> F | None:
        with self.lock:
            if self.down:
                return self._down_fault
            for i, (fault, prefix) in enumerate(self.faults):
                if path.startswith(prefix):
                    del self.faults[i]
                    return fault
            return None

    def count(self, method: str, path_prefix: str = "/") -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        """The fakes' callers count requests in `state.requests`; no line per request."""


@contextmanager
def serve(app: Flask, name: str, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` until the block ends; yields its base URL."""
    server = make_server(host, port, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
