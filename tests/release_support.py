"""Real releases for the update tests: bundles built from this checkout, a box root, its units.

Bundles are built with `comptoir release build` from a copy of the checkout (the second with a
bumped version, some deliberately broken) and kept in a cache keyed by the source they come
from, so a second run does not build them again. The cache keeps the `KEEP` bundles used last
(each ~57 MB; a use touches its folder): every change of the checkout makes new ones, and the
older ones are removed after each build, with any half build an interrupted run left.

A box is a root folder with the first release installed, a config, and `comptoir supervise`
running the three real processes (the kiosk in a private Xvfb).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from appliance import __version__
from appliance.release.file_server import FileServer, serve
from appliance.release.layout import Layout
from tests.agent_support import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
COMPTOIR = Path(sys.executable).with_name("comptoir")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "comptoir-test-bundles"
NEXT = f"{__version__}.1"
#: Bundles kept in the cache: every one the update tests, the bench and the image's update smoke
#: use for one checkout (6), and a little room.
KEEP = 8

#: Source changes that make a release broken in a way a box must notice by itself.
AGENT_EXITS = {
    "appliance/commands/agent.py": (
        "def run(args: argparse.Namespace) -> int:\n",
        "def run(args: argparse.Namespace) -> int:\n    return 3\n",
    ),
}
KIOSK_SILENT = {
    "appliance/kiosk/health.py": (
        '        agent_state.beat(db, "kiosk", stale_after_s=STALE_AFTER_S, detail=self.health())',
        "        return None  # this release's kiosk never says it is alive",
    ),
}
#: A migration that only adds: the release before it must keep running on the migrated database.
NEW_MIGRATION = {
    "appliance/store/migrations/0999_update_probe.sql": (
        "",
        "CREATE TABLE update_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT '');\n"
        "ALTER TABLE sales ADD COLUMN probe_note TEXT NOT NULL DEFAULT '';\n",
    ),
}


def tracked_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in done.stdout.splitlines() if (ROOT / name).is_file()]


def checkout_copy(target: Path, version: str, patches: dict[str, tuple[str, str]]) -> Path:
    """This checkout's files in `target`, at `version`, with `patches` (old -> new) applied."""
    for name in tracked_files():
        if name.startswith(("tests/", "docs/", "bench/")):
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    bump = {
        "pyproject.toml": (f'version = "{__version__}"', f'version = "{version}"'),
        "appliance/__init__.py": (f'__version__ = "{__version__}"', f'__version__ = "{version}"'),
    }
    for name, (old, new) in {**bump, **patches}.items():
        path = target / name
        if not old:
            path.write_text(new)
            continue
        text = path.read_text()
        assert old in text, f"{name} no longer has {old!r}: update the test's patch"
        path.write_text(text.replace(old, new, 1))
    return target


def _source_key(
    version: str, patches: dict[str, tuple[str, str]], public: bytes, target: tuple[str, ...]
) -> str:
    digest = hashlib.sha256(
        version.encode() + repr(sorted(patches.items())).encode() + public + repr(target).encode()
    )
    for name in tracked_files():
        if name.startswith(("appliance/", "image/constraints", "pyproject")):
            digest.update(name.encode() + (ROOT / name).read_bytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class Keys:
    private: Path
    public: Path


def make_keys() -> Keys:
    """One signing key for every test run (cached with the bundles it signed)."""
    folder = CACHE / "keys"
    if not (folder / "release.key").exists():
        run_comptoir("release", "keygen", "--out", str(folder))
    return Keys(folder / "release.key", folder / "release.pub")


def bundle(
    keys: Keys,
    version: str,
    patches: dict[str, tuple[str, str]] | None = None,
    *,
    platform: str = "",
    python: str = "",
) -> Path:
    """A real bundle of this checkout at `version` (with `patches`), built once and cached;
    `platform` and `python` as `release build` takes them (another box than this machine)."""
    patches = patches or {}
    target = ("--platform", platform, "--python", python) if platform else ()
    key = _source_key(version, patches, keys.public.read_bytes(), target)
    folder = CACHE / key
    found = list(folder.glob("comptoir-*.bundle"))
    if found:
        os.utime(folder)  # used last: kept by the next prune
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".work-{key}-", dir=CACHE))  # two runs may build at once
    source = checkout_copy(work / "src", version, patches)
    run_comptoir(
        "release",
        "build",
        "--key",
        str(keys.private),
        "--out",
        str(work / "out"),
        "--source",
        str(source),
        *target,
    )
    folder.mkdir(parents=True, exist_ok=True)
    [built] = (work / "out").glob("comptoir-*.bundle")
    path = folder / built.name
    os.replace(built, path)  # whole or not there: a run building the same one may read it
    shutil.rmtree(work, ignore_errors=True)
    prune(CACHE, KEEP)
    return path


def prune(cache: Path, keep: int, *, stale_s: float = 3600) -> list[Path]:
    """Remove all but the `keep` bundle folders used last, and half builds (`.work-*`) older
    than `stale_s` (a run building now is younger); the signing key stays. What was removed."""
    folders = [p for p in cache.iterdir() if p.is_dir() and p.name != "keys"]
    built = sorted(
        (p for p in folders if not p.name.startswith(".work-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    now = time.time()
    stale = [
        p for p in folders if p.name.startswith(".work-") and now - p.stat().st_mtime > stale_s
    ]
    removed = built[keep:] + stale
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def rewritten(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """A copy of the bundle with its members changed by `change(name, data) -> data`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            extracted = old.extractfile(member)
            assert extracted is not None
            data = change(member.name, extracted.read())
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    return target


def run_comptoir(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(COMPTOIR), *args], capture_output=True, text=True, env=env, check=False, timeout=600
    )
    if check and done.returncode != 0:
        raise AssertionError(f"comptoir {' '.join(args)} failed: {done.stderr[-3000:]}")
    return done


@contextmanager
def file_server(folder: Path, tls: dict[str, Path], cut_after: int = 0) -> Iterator[FileServer]:
    """`comptoir release serve`'s server on 127.0.0.1, its certificate made by the test."""
    server = serve(folder, ("127.0.0.1", free_port()), tls["cert"], tls["key"], cut_after=cut_after)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: FileServer, path: Path) -> str:
    return f"https://localhost:{server.server_address[1]}/{path.name}"


@dataclass
class Box:
    """One box: a root with its releases, a data dir, a config; `start()` runs its units."""

    folder: Path
    keys: Keys
    tls: dict[str, Path]
    broker_url: str
    health_s: int = 20
    display: str = ""
    supervisor: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.folder / "root"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def config(self) -> Path:
        return self.folder / "comptoir.toml"

    @property
    def layout(self) -> Layout:
        return Layout(self.root)

    def write_config(self, device_id: str = "box-1") -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            f'[device]\nid = "{device_id}"\nname = "Ferme test"\ndata_dir = "{self.data_dir}"\n'
            f'[printer]\nbackend = "preview"\ntarget = "{self.data_dir / "labels"}"\n'
            "[kiosk]\nwidth = 800\nheight = 480\nfullscreen = false\n"
            f'[mqtt]\nurl = "{self.broker_url}"\nusername = "{device_id}"\n'
            f"telemetry_period_s = 5\n"
            f'[web]\nlisten = "127.0.0.1:{free_port()}"\n'
            f'[updates]\nroot = "{self.root}"\ntrusted_keys = ["{self.keys.public}"]\n'
            f'ca_file = "{self.tls["ca"]}"\nhealth_s = {self.health_s}\n'
            'services = "supervisor"\nkeep_free_mb = 10\n'
        )

    def install_first(self, bundle_path: Path) -> None:
        run_comptoir(
            "--config", str(self.config), "release", "install", str(bundle_path), "--first"
        )

    def link_release(self, version: str, agent_exit: int | None = None) -> None:
        """A release that runs this checkout's comptoir, made in a blink instead of installed
        (the short tests); with `agent_exit`, its agent exits with that code at start."""
        executable = self.layout.executable(version)
        executable.parent.mkdir(parents=True)
        if agent_exit is None:
            executable.symlink_to(COMPTOIR)
        else:
            executable.write_text(
                "#!/bin/sh\n"
                f'for arg; do [ "$arg" = agent ] && exit {agent_exit}; done\n'
                f'exec "{COMPTOIR}" "$@"\n'
            )
            executable.chmod(0o755)
        self.layout.mark_complete(version)

    def comptoir(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_comptoir("--config", str(self.config), *args, check=check)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
        env.update(
            DISPLAY=self.display,
            SDL_VIDEODRIVER="x11",
            KIVY_NO_CONSOLELOG="1",
            KIVY_NO_FILELOG="1",
            KIVY_HOME=str(self.folder / "kivy"),
            KIVY_WINDOW="sdl2",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        """`comptoir supervise` with the real unit files, the three processes under it."""
        log = (self.folder / "supervisor.log").open("ab")
        self.supervisor = subprocess.Popen(
            [
                str(COMPTOIR),
                "--config",
                str(self.config),
                "supervise",
                "--root",
                str(self.root),
                "--units",
                str(ROOT / "systemd"),
                "--env",
                f"DISPLAY={self.display}",
                "--env",
                "SDL_VIDEODRIVER=x11",
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: (self.root / "supervisor.sock").exists(), 30, "the supervisor")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process = self.supervisor
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        process.wait(30)
        self.supervisor = None

    def power_cut(self) -> None:
        """Every process of the box SIGKILLed at the same instant: supervisor, units, updater."""
        from appliance.release.services import UNITS, UPDATER, Supervised

        control = Supervised(self.root)
        pids = [control.state(name).pid for name in (*UNITS, UPDATER)]
        assert self.supervisor is not None
        pids.append(self.supervisor.pid)
        for pid in pids:
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.supervisor.wait(30)
        self.supervisor = None

    def logs(self) -> str:
        parts = []
        for path in [*sorted((self.root / "logs").glob("*.log")), self.folder / "supervisor.log"]:
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


#: Run by a release's own Python: one card sale of a dozen eggs, approved, as the kiosk writes it.
SALE_SCRIPT = """
import sys
from appliance import config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket, SaleLine
from appliance.store import payments, sales
from appliance.store.db import open_database

site = config.load(config.config_path(sys.argv[1]))
db = open_database(site.database_path)
eggs = Product("OEUFS", "Oeufs x12", SoldBy.PIECE, 450, 550)
basket = Basket((SaleLine.pieces(eggs, 1),))
attempt = payments.begin_attempt(db, basket.total_cents, basket)
result = PaymentResult(PaymentOutcome.APPROVED, basket.total_cents, authorisation="A1")
print(sales.complete_sale(db, attempt, result, site.device.id).receipt_number)
"""


def sell_with(release_python: Path, config: Path) -> int:
    """One sale recorded by the code of the release whose Python this is; its receipt number."""
    done = subprocess.run(
        [str(release_python), "-c", SALE_SCRIPT, str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip())
