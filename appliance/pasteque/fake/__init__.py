"""A contract-faithful fake Pastèque server (API v8), for tests, `make demo` and installers.

`create_app(state)` is the Flask app; `serve(state)` runs it on a free port in a thread over
real HTTP (werkzeug's `make_server`), as the fake Open Food Network does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from appliance import fake_server
from appliance.pasteque.fake.app import create_app
from appliance.pasteque.fake.state import FakeState, Fault

__all__ = ["FakeState", "Fault", "create_app", "serve"]


@contextmanager
def serve(state: FakeState, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the fake until the block ends; yields its base URL (the API is under /api/)."""
    with fake_server.serve(create_app(state), "fake-pasteque", host, port) as url:
        yield url
