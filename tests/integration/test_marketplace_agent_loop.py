"""`run_forever`, the agent's sync loop, against the fake Open Food Network over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.marketplace import sync
from appliance.marketplace.fake import FakeState, seed, serve
from appliance.marketplace.fake.scripting import demo_site
from appliance.store import agent_state, orders
from appliance.store.db import open_database
from tests.agent_support import wait_until


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def config(fake: FakeState, tmp_path: Path, data_dir: Path) -> Iterator[Config]:
    with serve(fake) as url:
        yield demo_site(url, tmp_path / "ofn.key", data_dir)


class Loop:
    """`run_forever` in its own thread with its own connection, as the agent runs it."""

    def __init__(self, config: Config) -> None:
        self.stop = threading.Event()
        self.db = open_database(config.database_path)
        self.thread = threading.Thread(
            target=sync.run_forever, args=(config, self.db, self.stop), daemon=True
        )
        self.thread.start()

    def end(self) -> bool:
        """Stop the loop; True when it ended promptly."""
        self.stop.set()
        self.thread.join(timeout=15)
        self.db.close()
        return not self.thread.is_alive()


@pytest.fixture
def loop(config: Config) -> Iterator[Loop]:
    running = Loop(config)
    yield running
    running.end()


def sync_beat(db) -> agent_state.Heartbeat | None:
    return agent_state.heartbeats(db).get("sync")


def test_the_loop_syncs_then_waits_and_ends_when_told(config, db, fake, loop):
    beat = wait_until(lambda: sync_beat(db), 30, "the first round's heartbeat")
    requests = len(fake.requests)

    assert loop.thread.is_alive()  # waiting for the next round, sync_interval_s away
    assert loop.end()
    assert beat.detail["ok"] is True
    assert len(orders.list_orders(db)) == 4
    assert len(fake.requests) == requests  # no second round before the interval


def test_the_loop_outlives_a_missing_key_and_says_why(config, db):
    config.marketplace.api_key_file.unlink()
    running = Loop(config)
    try:
        beat = wait_until(lambda: sync_beat(db), 30, "a heartbeat of the failed round")
        still_running = running.thread.is_alive()
    finally:
        ended = running.end()

    assert still_running and ended
    assert beat.detail["ok"] is False
    assert "[marketplace] api_key_file" in beat.detail["last_error"]


def test_the_loop_ends_promptly_while_the_marketplace_is_down(config, db, fake):
    fake.down = True  # every request gets the maintenance page: retries with backoff
    running = Loop(config)
    try:
        wait_until(lambda: fake.requests, 30, "a first request")
    finally:
        ended = running.end()

    assert ended  # the backoff pauses ended with the stop event
    assert sync_beat(db).detail["ok"] is False  # the round ended early, and said so
