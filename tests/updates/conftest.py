"""Fixtures of the update tests: the signing key, real bundles, a broker, a display, TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent_support import make_tls
from tests.release_support import Keys, make_keys
from tests.ui.conftest import display  # noqa: F401 (the private Xvfb, a session fixture)


@pytest.fixture(scope="session")
def keys() -> Keys:
    return make_keys()


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict[str, Path]:
    return make_tls(tmp_path_factory.mktemp("tls"))
