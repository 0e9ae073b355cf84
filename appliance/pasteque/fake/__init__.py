"""A contract-faithful fake Pastèque server (API v8), for tests, `make demo` and installers.

`create_app(state)` is the Flask app; `serve(state)` runs it on a free port in a thread over
real HTTP (werkzeug's `make_server`), as the fake Open Food Network does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server

from appliance.pasteque.fake.app import create_app
from appliance.pasteque.fake.state import FakeState, Fault

__all__ = ["FakeState", "Fault", "create_app", "serve"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        """The fake's callers count requests in `state.requests`; no line per request."""


@contextmanager
def serve(state: FakeState, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the fake until the block ends; yields its base URL (the API is under /api/)."""
    server = make_server(host, port, create_app(state), threaded=True, request_handler=_Quiet)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="fake-pasteque",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
