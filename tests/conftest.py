"""Fixtures every layer shares: a data directory with its config, and an open store."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store.db import open_database
from tests.agent_support import Mosquitto


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`cli.main()` run in-process points the root logger at pytest's captured stderr, which is
    closed after the test: put the root logger back so later tests do not log to a dead stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def config_file(tmp_path: Path, data_dir: Path) -> Path:
    """A minimal valid config whose data directory is a fresh temporary folder."""
    path = tmp_path / "comptoir.toml"
    path.write_text(f'[device]\nid = "test-box"\nname = "Ferme test"\ndata_dir = "{data_dir}"\n')
    return path


@pytest.fixture
def db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    database = open_database(data_dir / "comptoir.db")
    yield database
    database.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real mosquitto for one test, on a free port of 127.0.0.1 (suites that share one for a
    module define their own)."""
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()
