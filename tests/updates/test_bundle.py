"""A bundle is one signed file: the box (or anyone with the public key) checks it offline and
is told exactly what is wrong; a box installs only what it may, and nothing changes otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appliance import __version__
from appliance.release import install, keys, migrations_rule
from appliance.release.bundle import MANIFEST
from appliance.release.errors import BundleRefused, ReleaseError
from appliance.release.layout import Layout
from tests.release_support import ROOT, bundle, rewritten, run_comptoir


@pytest.fixture(scope="module")
def good(keys_module) -> Path:
    return bundle(keys_module, __version__)


@pytest.fixture(scope="module")
def keys_module():
    from tests.release_support import make_keys

    return make_keys()


def _verify_json(path: Path, public: Path) -> tuple[int, dict]:
    done = run_comptoir(
        "release", "verify", str(path), "--public-key", str(public), "--json", check=False
    )
    return done.returncode, json.loads(done.stdout)


def test_a_good_bundle_verifies_and_says_what_it_holds(good, keys_module):
    code, report = _verify_json(good, keys_module.public)
    assert code == 0 and report["ok"]
    manifest = report["manifest"]
    assert manifest["version"] == __version__
    assert manifest["requirement"] == f"comptoir[kiosk]=={__version__}"
    assert manifest["files"] > 10  # Comptoir and every dependency, offline-installable
    assert len(manifest["legal"]["sha256"]) == 64


def test_a_changed_manifest_has_a_bad_signature(good, keys_module, tmp_path):
    def change(name: str, data: bytes) -> bytes:
        if name == MANIFEST:
            body = json.loads(data)
            body["notes"] = "free upgrade"
            return json.dumps(body).encode()
        return data

    code, report = _verify_json(rewritten(good, tmp_path / "x.bundle", change), keys_module.public)
    assert code == 1
    assert report["problems"] == [
        f"bad signature: manifest.json was changed after key "
        f"{keys.load_public(keys_module.public).key_id} signed it"
    ]


def test_a_changed_wheel_is_named(good, keys_module, tmp_path):
    def change(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("wheels/comptoir-") else data

    code, report = _verify_json(rewritten(good, tmp_path / "x.bundle", change), keys_module.public)
    assert code == 1
    [problem] = report["problems"]
    assert problem.startswith("wheels/comptoir-") and "SHA-256 differs" in problem


def test_a_bundle_signed_by_another_key_is_refused_with_the_keys_named(good, tmp_path):
    other = keys.keygen(tmp_path / "other")[1]
    code, report = _verify_json(good, other)
    assert code == 1
    [problem] = report["problems"]
    assert "signed by an unknown key" in problem and "trusted_keys" in problem
    assert keys.load_public(other).key_id in problem


def test_a_truncated_bundle_is_refused(good, keys_module, tmp_path):
    cut = tmp_path / "cut.bundle"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    code, report = _verify_json(cut, keys_module.public)
    assert code == 1
    assert any(
        "cut short" in p or "missing from the bundle" in p or "differs" in p
        for p in report["problems"]
    ), report


def test_the_box_refuses_a_downgrade_and_changes_nothing(good, keys_module, tmp_path):
    layout = _box_running(tmp_path, "9.0.0")
    with pytest.raises(BundleRefused, match=r"older than the running 9\.0\.0: a downgrade"):
        install.install(layout, good, [keys.load_public(keys_module.public)], keep_free_mb=0)
    assert layout.installed() == ["9.0.0"] and layout.current() == "9.0.0"


def test_the_box_refuses_a_bundle_that_would_fill_its_disk(good, keys_module, tmp_path):
    layout = _box_running(tmp_path, "0.0.1")
    free_mb = shutil.disk_usage(tmp_path).free // 2**20
    with pytest.raises(ReleaseError, match="disk too full") as refused:
        install.install(layout, good, [keys.load_public(keys_module.public)], keep_free_mb=free_mb)
    assert "nothing was changed" in str(refused.value)
    assert layout.installed() == ["0.0.1"] and not layout.folder(__version__).exists()


def _box_running(tmp_path: Path, version: str) -> Layout:
    """A root whose current release is `version` (a marker folder: nothing runs from it)."""
    layout = Layout(tmp_path / "root")
    layout.folder(version).mkdir(parents=True)
    layout.mark_complete(version)
    layout.point(layout.current_link, version)
    return layout


def test_the_repository_migrations_only_add():
    assert migrations_rule.check_folder(ROOT / "appliance" / "store" / "migrations") == []


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("DROP TABLE sales;", "drops a table"),
        ("ALTER TABLE sales DROP COLUMN masked_pan;", "drops a column"),
        ("ALTER TABLE sales RENAME TO tickets;", "renames"),
        ("ALTER TABLE sales ADD COLUMN till TEXT NOT NULL;", "NOT NULL column without a DEFAULT"),
    ],
)
def test_a_migration_the_previous_release_could_not_run_on_is_named(sql, why):
    [problem] = migrations_rule.problems(sql)
    assert why in problem


def test_an_adding_migration_passes():
    sql = (
        "-- DROP TABLE in a comment is fine\nCREATE TABLE x (id INTEGER);\n"
        "ALTER TABLE sales ADD COLUMN till TEXT NOT NULL DEFAULT '';"
    )
    assert migrations_rule.problems(sql) == []


def test_build_refuses_a_checkout_whose_migration_drops_a_table(keys_module, tmp_path):
    from tests.release_support import checkout_copy

    bad = {"appliance/store/migrations/0998_oops.sql": ("", "DROP TABLE sales;\n")}
    source = checkout_copy(tmp_path / "src", __version__, bad)
    done = run_comptoir(
        "release",
        "build",
        "--key",
        str(keys_module.private),
        "--out",
        str(tmp_path / "out"),
        "--source",
        str(source),
        check=False,
    )
    assert done.returncode == 1
    assert "0998_oops.sql drops a table" in done.stderr
    assert not list((tmp_path / "out").glob("*.bundle"))


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_replaces_it(tmp_path):
    run_comptoir("release", "keygen", "--out", str(tmp_path / "k"))
    assert (tmp_path / "k" / "release.key").stat().st_mode & 0o777 == 0o600
    again = run_comptoir("release", "keygen", "--out", str(tmp_path / "k"), check=False)
    assert again.returncode == 1 and "--force" in again.stderr


def test_a_box_platform_takes_every_wheel_of_its_glibc_or_an_older_one():
    """Pillow 13 ships only manylinux_2_28 wheels: manylinux2014 alone built no bundle."""
    from appliance.release.bundle import pip_platforms

    tags = pip_platforms("manylinux_2_41_aarch64")
    assert tags[0] == "manylinux_2_41_aarch64" and "manylinux_2_28_aarch64" in tags
    assert tags[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert "manylinux_2_42_aarch64" not in tags
    assert pip_platforms("manylinux2014_x86_64") == [
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ]
    assert pip_platforms("win_amd64") == ["win_amd64"]
    with pytest.raises(ReleaseError, match="older than any box"):
        pip_platforms("manylinux_2_5_x86_64")
