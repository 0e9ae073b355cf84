"""The box fetches a bundle over HTTPS from the fleet's file server, resuming after a cut, and
keeps nothing that is not exactly the file the admin announced."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys

import pytest

from appliance.release.download import fetch
from appliance.release.errors import ReleaseError
from tests.agent_support import make_tls
from tests.release_support import file_server

SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    data = bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256)
    (folder / "comptoir-9.bundle").write_bytes(data)
    return folder, hashlib.sha256(data).hexdigest()


def _url(server) -> str:
    return f"https://localhost:{server.server_address[1]}/comptoir-9.bundle"


def test_a_download_cut_at_half_resumes_and_fetches_only_the_missing_half(served, tls, tmp_path):
    folder, sha = served
    with file_server(folder, tls, cut_after=SIZE // 2) as server:
        seen = []
        path = fetch(
            _url(server),
            tmp_path / "dl" / "b.bundle",
            sha,
            ca_file=tls["ca"],
            progress=lambda done, total: seen.append(done),
            pause_s=0.01,
        )
        sent = server.cuts.sent["comptoir-9.bundle"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert sent == SIZE  # half, then exactly the missing half
    assert seen[-1] == SIZE and not (tmp_path / "dl" / "b.bundle.part").exists()


def test_a_file_that_is_not_the_announced_one_is_thrown_away(served, tls, tmp_path):
    folder, sha = served
    (folder / "comptoir-9.bundle").write_bytes(b"truncated")
    with file_server(folder, tls) as server, pytest.raises(ReleaseError, match="SHA-256 differs"):
        fetch(_url(server), tmp_path / "b.bundle", sha, ca_file=tls["ca"], pause_s=0.01)
    assert list(tmp_path.glob("b.bundle*")) == []


def test_a_server_whose_certificate_is_not_trusted_is_refused(served, tls, tmp_path):
    folder, sha = served
    other = make_tls(tmp_path / "other-ca")
    with file_server(folder, tls) as server, pytest.raises(ReleaseError, match="not trusted"):
        fetch(_url(server), tmp_path / "b.bundle", sha, ca_file=other["ca"], pause_s=0.01)


def test_a_ca_without_key_usage_is_refused_on_every_box_as_python_3_13_does(served, tmp_path):
    """Found in the test image (Trixie, Python 3.13): its strict X.509 refused the file server
    that every box on 3.11 had accepted; now every box checks the same way and says why."""
    folder, sha = served
    loose = make_tls(tmp_path / "loose", strict=False)
    with file_server(folder, loose) as server, pytest.raises(ReleaseError, match="keyCertSign"):
        fetch(_url(server), tmp_path / "b", sha, ca_file=loose["ca"], pause_s=0)


def test_only_https_urls_are_fetched(tmp_path):
    with pytest.raises(ReleaseError, match="expected https://"):
        fetch("http://localhost/b.bundle", tmp_path / "b.bundle", "0" * 64)


def test_the_size_is_checked_against_the_room_before_anything_is_written(served, tls, tmp_path):
    folder, sha = served

    def no_room(total: int) -> None:
        raise ReleaseError(f"disk too full for {total} bytes")

    with file_server(folder, tls) as server, pytest.raises(ReleaseError, match="disk too full"):
        fetch(_url(server), tmp_path / "b.bundle", sha, ca_file=tls["ca"], room=no_room)
    assert not (tmp_path / "b.bundle.part").exists()


def test_a_power_cut_half_way_through_the_download_resumes_where_it_stopped(served, tls, tmp_path):
    folder, sha = served
    target = tmp_path / "dl" / "b.bundle"
    script = (
        "import sys; from pathlib import Path; from appliance.release.download import fetch; "
        "fetch(sys.argv[1], Path(sys.argv[2]), sys.argv[3], ca_file=Path(sys.argv[4]))"
    )
    with file_server(folder, tls) as server:
        cut = subprocess.run(
            [sys.executable, "-c", script, _url(server), str(target), sha, str(tls["ca"])],
            env={**os.environ, "COMPTOIR_FAILPOINT": "download:half"},
            check=False,
            timeout=60,
        )
        assert cut.returncode == -signal.SIGKILL
        kept = target.with_name("b.bundle.part").stat().st_size
        assert SIZE // 2 <= kept < SIZE
        before = server.cuts.sent["comptoir-9.bundle"]
        fetch(_url(server), target, sha, ca_file=tls["ca"])
        again = server.cuts.sent["comptoir-9.bundle"] - before
    assert again == SIZE - kept  # only what the cut left missing
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
