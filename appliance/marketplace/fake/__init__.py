"""A contract-faithful fake Open Food Network, for tests, the benchmark and `make demo`.

`create_app(state)` is the Flask app; `serve(state)` runs it on a free port in a thread over
real HTTP (werkzeug's `make_server`), as tests and the benchmark need.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from appliance import fake_server
from appliance.marketplace.fake.app import create_app
from appliance.marketplace.fake.state import FakeState, Fault

__all__ = ["FakeState", "Fault", "create_app", "serve"]


@contextmanager
def serve(state: FakeState, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the fake until the block ends; yields its base URL."""
    with fake_server.serve(create_app(state), "fake-ofn", host, port) as url:
        yield url
