"""The bundle: one file that a box can check and install offline (docs/updates.md).

`comptoir-<version>.bundle` is a plain tar: `manifest.json`, `manifest.sig` (the 64-byte
Ed25519 signature of manifest.json's exact bytes), then `wheels/*.whl`, the wheels of Comptoir
and of every dependency, pinned. The manifest lists each file with its SHA-256 and size, so the
signature covers everything. Building uses pip (wheels come from the index or pip's cache);
installing never reaches an index.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import clock
from appliance.legal import identify
from appliance.release import migrations_rule
from appliance.release.errors import BundleRefused, ReleaseError
from appliance.release.keys import TrustedKey, key_id
from appliance.release.version import Version

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
WHEELS = "wheels/"
EXTRAS = "kiosk"
MAX_MANIFEST_BYTES = 1 << 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    requirement: str
    python: str
    files: dict[str, FileEntry]
    legal: dict[str, Any]
    key_id: str
    installs_over: str = ""
    notes: str = ""
    built_at: str = ""
    format: int = FORMAT
    migrations: list[int] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, indent=1, ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
            files = {name: FileEntry(**entry) for name, entry in body.pop("files").items()}
            manifest = cls(files=files, **body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise BundleRefused([f"the manifest is not a Comptoir manifest ({exc})"]) from None
        if manifest.format != FORMAT:
            raise BundleRefused(
                [f"bundle format {manifest.format} is not known here (this box reads {FORMAT})"]
            )
        Version(manifest.version)
        return manifest

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def wheel_names(self) -> list[str]:
        return sorted(name.removeprefix(WHEELS) for name in self.files)


def bundle_name(version: str) -> str:
    return f"comptoir-{version}.bundle"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- building (the admin's machine) ---------------------------------------------------------------


def source_root() -> Path:
    """The checkout this Comptoir runs from (a bundle is built from a checkout, not a box)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ReleaseError(
            f"{root} is not a Comptoir checkout (no pyproject.toml): pass --source CHECKOUT"
        )
    return root


_MANYLINUX = re.compile(r"manylinux_2_(\d+)_(\w+)|manylinux2014_(\w+)")
_OLDEST_GLIBC = 17  # manylinux2014


def pip_platforms(platform: str) -> list[str]:
    """The wheel tags a box of `platform` runs, for pip download, which takes only the tags it
    is given: `manylinux_2_36_aarch64` (a box with glibc 2.36) runs every wheel built for that
    glibc or an older one (Pillow 13 ships manylinux_2_28 only, so manylinux2014 alone found
    no Pillow); any other tag is taken as it is."""
    match = _MANYLINUX.fullmatch(platform)
    if match is None:
        return [platform]
    glibc, arch = (int(match[1]), match[2]) if match[1] else (_OLDEST_GLIBC, match[3])
    if glibc < _OLDEST_GLIBC:
        raise ReleaseError(f"--platform {platform}: glibc 2.{glibc} is older than any box's")
    return [f"manylinux_2_{n}_{arch}" for n in range(glibc, _OLDEST_GLIBC - 1, -1)] + [
        f"manylinux2014_{arch}"
    ]


def build(
    source: Path,
    private: Ed25519PrivateKey,
    out: Path,
    *,
    notes: str = "",
    installs_over: str = "",
    python: str = "",
    platform: str = "",
    constraints: Path | None = None,
) -> Path:
    """Build `out/comptoir-<version>.bundle` from the checkout at `source`; returns its path.

    `platform` (a wheel platform tag such as manylinux_2_41_aarch64: see `pip_platforms`) and
    `python` (3.13) build for a box that is not this machine; pip then takes binary wheels only.
    """
    problems = migrations_rule.check_folder(source / "appliance" / "store" / "migrations")
    if problems:
        raise ReleaseError("; ".join(problems))
    if installs_over:
        Version(installs_over)
    out.mkdir(parents=True, exist_ok=True)
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=out) as work:
        wheels = Path(work) / "wheels"
        _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(source))
        [own] = wheels.glob("comptoir-*.whl")
        version = own.name.split("-")[1]
        Version(version)
        target = (
            []
            if not platform
            else [
                *(arg for tag in pip_platforms(platform) for arg in ("--platform", tag)),
                "--python-version",
                python,
                "--implementation",
                "cp",
            ]
        )
        pins = ["--constraint", str(constraints)] if constraints else []
        # With a lock that has hashes pip checks every file: ours gets its hash too.
        wanted = Path(work) / "requirements.txt"
        wanted.write_text(f"comptoir[{EXTRAS}] @ {own.as_uri()} --hash=sha256:{sha256_of(own)}\n")
        _pip(
            "download",
            "--only-binary=:all:",
            "--dest",
            str(wheels),
            *target,
            *pins,
            "--requirement",
            str(wanted),
        )
        legal = identify(source / "appliance", version)
        manifest = Manifest(
            version=version,
            requirement=f"comptoir[{EXTRAS}]=={version}",
            python=python,
            files={
                WHEELS + path.name: FileEntry(sha256_of(path), path.stat().st_size)
                for path in sorted(wheels.glob("*.whl"))
            },
            legal={"version": legal.version, "sha256": legal.sha256, "files": len(legal.files)},
            key_id=key_id(private.public_key()),
            installs_over=installs_over,
            notes=notes,
            built_at=clock.now_iso(),
            migrations=_migration_numbers(source / "appliance" / "store" / "migrations"),
        )
        raw = manifest.to_bytes()
        target_path = out / bundle_name(version)
        partial = target_path.with_suffix(".bundle.part")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, raw)
            _add_bytes(tar, SIGNATURE, private.sign(raw))
            for name in manifest.files:
                tar.add(wheels / name.removeprefix(WHEELS), arcname=name, filter=_plain)
        os.replace(partial, target_path)
    return target_path


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = done.stderr or done.stdout
        if "must have their versions pinned" in said:
            raise ReleaseError(
                "the lock does not pin every dependency of pyproject.toml: run `make lock` and "
                "commit image/constraints.txt, then build again"
            )
        tail = said.strip().splitlines()[-5:]
        raise ReleaseError(f"pip {args[0]} failed: " + " | ".join(tail))


def _migration_numbers(folder: Path) -> list[int]:
    return sorted(int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(clock.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


# -- checking (the box, or anyone with the public key) ---------------------------------------------


@contextmanager
def opened(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError:
        raise ReleaseError(f"no bundle at {path}") from None
    except (tarfile.TarError, OSError) as exc:
        raise BundleRefused([f"{path.name} is not a bundle, or it is cut short ({exc})"]) from None
    with tar:
        yield tar


def verify(path: Path, keys: list[TrustedKey]) -> Manifest:
    """The manifest of a good bundle; BundleRefused naming every problem otherwise."""
    with opened(path) as tar:
        try:
            members = {m.name: m for m in tar.getmembers()}
        except (tarfile.TarError, OSError) as exc:
            raise BundleRefused([f"{path.name} is cut short or damaged ({exc})"]) from None
        raw = _read_member(tar, members, MANIFEST, MAX_MANIFEST_BYTES)
        signature = _read_member(tar, members, SIGNATURE, 64)
        manifest = Manifest.from_bytes(raw)
        known = {key.key_id: key for key in keys}
        key = known.get(manifest.key_id)
        if key is None:
            trusted = ", ".join(sorted(known)) or "none"
            raise BundleRefused(
                [
                    f"signed by an unknown key {manifest.key_id} (this box trusts {trusted}): "
                    "add that key's release.pub to [updates] trusted_keys, or sign with a "
                    "trusted key"
                ]
            )
        if not key.verifies(signature, raw):
            raise BundleRefused(
                [f"bad signature: manifest.json was changed after key {key.key_id} signed it"]
            )
        problems = _file_problems(tar, members, manifest)
    if problems:
        raise BundleRefused(problems)
    return manifest


def _read_member(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str, limit: int
) -> bytes:
    member = members.get(name)
    if member is None or not member.isfile() or member.size > limit:
        raise BundleRefused([f"{name} is missing or malformed: this is not a signed bundle"])
    source = tar.extractfile(member)
    assert source is not None
    return source.read()


def _file_problems(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], manifest: Manifest
) -> list[str]:
    problems = []
    for name in sorted(set(members) - set(manifest.files) - {MANIFEST, SIGNATURE}):
        problems.append(f"{name} is in the bundle but not in the signed manifest")
    for name, entry in sorted(manifest.files.items()):
        member = members.get(name)
        if not name.startswith(WHEELS) or "/" in name.removeprefix(WHEELS) or ".." in name:
            problems.append(f"{name} is not a wheel name the manifest may list")
        elif member is None or not member.isfile():
            problems.append(f"{name} is listed in the manifest but missing from the bundle")
        elif member.size != entry.size:
            problems.append(f"{name} has {member.size} bytes, the manifest says {entry.size}")
        elif _member_sha256(tar, member) != entry.sha256:
            problems.append(f"{name} was changed: its SHA-256 differs from the manifest")
    return problems


def _member_sha256(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def unpack_wheels(path: Path, manifest: Manifest, folder: Path) -> list[Path]:
    """Write the (already verified) wheels into `folder`, checking each hash again as written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with opened(path) as tar:
        for name, entry in sorted(manifest.files.items()):
            source = tar.extractfile(name)
            if source is None:
                raise BundleRefused([f"{name} vanished from the bundle while installing"])
            target = folder / name.removeprefix(WHEELS)
            digest = hashlib.sha256()
            with target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != entry.sha256:
                raise BundleRefused([f"{name} changed while installing: the bundle file moved"])
            written.append(target)
    return written


def copy_manifest(path: Path, folder: Path) -> None:
    """manifest.json and manifest.sig beside the installed venv, as the record of the release."""
    with opened(path) as tar:
        for name in (MANIFEST, SIGNATURE):
            source = tar.extractfile(name)
            assert source is not None
            with (folder / name).open("wb") as out:
                shutil.copyfileobj(source, out)
