"""The agent's `update` job: download, verify, install, wait for a quiet kiosk, hand over.

`update` args: `url` (https, the fleet's file server), `sha256` of the bundle, `version`, and
optionally `health_s` and `window` ("21:00-07:00", local time: switch only then). The command is
answered at once with the job id (the command id); the job then reports each state, which the
agent publishes retained on `comptoir/v1/<id>/update` (docs/updates.md, "States"). After the
install it starts the updater (comptoir-update), which switches, gates and reports the end: the
agent that received the command is restarted by it. Sending the same update again is answered
with the job already under way, or done.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time as daytime
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from appliance import __version__, clock
from appliance.agent.remote_command import Answer, RemoteCommand
from appliance.config import SWITCH_WINDOW, Config
from appliance.release import apply, bundle, install, keys, services
from appliance.release.errors import ReleaseError
from appliance.release.layout import Layout
from appliance.release.version import Version
from appliance.store import agent_state, device_commands, lockers, update_jobs
from appliance.store.db import open_database

if TYPE_CHECKING:
    from appliance.agent.handlers import Handlers

log = logging.getLogger(__name__)

SHA256 = re.compile(r"[0-9a-f]{64}")
WINDOW = re.compile(SWITCH_WINDOW)
#: How long the kiosk keeps its "back in a minute" screen if no restart comes.
HOLD_S = 300
RETRY_S = 10.0
#: States the agent's job owns; after them the updater reports.
AGENT_STATES = ("queued", "downloading", "verifying", "installing", "waiting")


class BadOrder(ValueError):
    pass


@dataclass(frozen=True)
class Order:
    job: str
    url: str
    sha256: str
    version: str
    health_s: int
    window: tuple[daytime, daytime] | None = None
    by: str = ""


def parse_order(command: RemoteCommand, default_health_s: int, default_window: str = "") -> Order:
    """The command's order; without a `window` of its own, the box's `[updates] window`."""
    args = command.args
    url = args.get("url")
    if not isinstance(url, str) or not url.startswith("https://") or len(url) > 2000:
        raise BadOrder("update needs args.url, the bundle's https:// address")
    sha256 = args.get("sha256")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise BadOrder("update needs args.sha256, the bundle's SHA-256 (64 lower-case hex)")
    version = args.get("version")
    try:
        Version(str(version))
    except ReleaseError as exc:
        raise BadOrder(f"update needs args.version: {exc}") from None
    health_s = args.get("health_s", default_health_s)
    if isinstance(health_s, bool) or not isinstance(health_s, int) or not 10 <= health_s <= 3600:
        raise BadOrder(f"args.health_s = {health_s!r} is wrong: expected 10 to 3600 seconds")
    window = _parse_window(default_window)
    if args.get("window"):
        window = _parse_window(str(args["window"]))
        if window is None:
            raise BadOrder(
                "args.window is wrong: expected HH:MM-HH:MM, such as 21:00-07:00 "
                "(00:00-00:00: any time)"
            )
    return Order(command.id, url, sha256, str(version), health_s, window, command.requested_by)


def _parse_window(text: str) -> tuple[daytime, daytime] | None:
    match = WINDOW.fullmatch(text)
    if match is None:
        return None
    return daytime(int(match[1]), int(match[2])), daytime(int(match[3]), int(match[4]))


def _window_text(window: tuple[daytime, daytime] | None) -> str:
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}" if window else ""


def in_window(window: tuple[daytime, daytime] | None, now: daytime) -> bool:
    if window is None or window[0] == window[1]:  # none, or the whole day
        return True
    start, end = window
    return start <= now < end if start <= end else now >= start or now < end


class Box(Protocol):
    """What an update does to a box: the agent's `RealBox`, or a simulated box in tests."""

    def running(self) -> str: ...

    def download(self, order: Order, progress: Callable[[int], None]) -> Path: ...

    def verify(self, path: Path) -> bundle.Manifest: ...

    def install(self, path: Path, manifest: bundle.Manifest) -> None: ...

    def discard(self, path: Path) -> None: ...

    def busy(self, order: Order) -> str: ...

    def hand_over(self, order: Order) -> None: ...


Report = Callable[..., None]  # report(state, percent=None, reason="")


def run_job(
    box: Box,
    order: Order,
    report: Report,
    *,
    wait: Callable[[float], bool],
    downloaded: int | None = None,
) -> bool:
    """The job up to the hand-over; False (reported `failed` with the reason) when refused.

    `wait(seconds)` sleeps and returns True when the job must stop (the agent is stopping).
    `downloaded`: the percent a job taken up again had already reported (100 past the download),
    so the fleet never sees it go back to `downloading 0` while the download resumes.
    """
    try:
        running = box.running()
        if Version(order.version) < Version(running):
            raise ReleaseError(
                f"{order.version} is older than the running {running}: a downgrade is refused"
            )
        shown = [downloaded or 0]
        if downloaded is None:
            report("downloading", percent=0)

        def progress(percent: int) -> None:
            if percent > shown[0]:
                shown[0] = percent
                report("downloading", percent=percent)

        path = box.download(order, progress)
        report("verifying")
        try:
            manifest = box.verify(path)
            if manifest.version != order.version:
                raise ReleaseError(
                    f"the bundle is {manifest.version}, the command said {order.version}"
                )
        except ReleaseError:
            box.discard(path)  # a refused bundle would only fill the disk
            raise
        report("installing")
        box.install(path, manifest)
        while why := box.busy(order):
            report("waiting", reason=why)
            if wait(RETRY_S):
                return False
        box.hand_over(order)
        return True
    except ReleaseError as exc:
        report("failed", reason=str(exc))
        return False


class RealBox:
    """This box: its layout, its keys, its database, its kiosk and its service manager."""

    def __init__(self, config: Config, db: sqlite3.Connection) -> None:
        self.config = config
        self.db = db
        self.layout = Layout(config.updates.root)
        self.services = services.for_config(config.updates.services, self.layout.root)

    def running(self) -> str:
        return self.layout.current() or __version__

    def download(self, order: Order, progress: Callable[[int], None]) -> Path:
        from appliance.release.download import fetch

        updates = self.config.updates

        def step(done: int, total: int) -> None:
            progress(
                (done * 10 // total) * 10 if total else 0
            )  # every 10 % (run_job says each once)

        def room(total: int) -> None:
            install.check_space(
                self.layout, total * (1 + install.SPACE_FACTOR), updates.keep_free_mb
            )

        target = self._bundle_path(order)
        self._drop_other_downloads(target)
        path = fetch(
            order.url, target, order.sha256, ca_file=updates.ca_file, progress=step, room=room
        )
        progress(100)  # also when it was whole already: kept from before an agent restart
        return path

    def _bundle_path(self, order: Order) -> Path:
        return self.layout.downloads / bundle.bundle_name(order.version)

    def _drop_other_downloads(self, target: Path) -> None:
        """What an earlier job left (a refused version's partial file): one job at a time."""
        if not self.layout.downloads.is_dir():
            return
        for left in self.layout.downloads.iterdir():
            if left.name not in (target.name, f"{target.name}.part"):
                left.unlink(missing_ok=True)

    def verify(self, path: Path) -> bundle.Manifest:
        manifest = bundle.verify(path, keys.trusted(self.config.updates.trusted_keys))
        install.check_fits(
            self.layout, manifest, self.layout.current(), self.config.updates.keep_free_mb
        )
        return manifest

    def install(self, path: Path, manifest: bundle.Manifest) -> None:
        install.install(
            self.layout,
            path,
            keys.trusted(self.config.updates.trusted_keys),
            keep_free_mb=self.config.updates.keep_free_mb,
        )

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def busy(self, order: Order) -> str:
        """Why the switch must wait: outside the window, a customer, an open door."""
        now = clock.now().astimezone(ZoneInfo(self.config.device.timezone))
        if not in_window(order.window, now.time()):
            start, end = order.window or (daytime(), daytime())
            return f"waiting for the update window {start:%H:%M}-{end:%H:%M}"
        open_doors = lockers.open_compartments(self.db)
        if open_doors:
            return "a locker door is open: " + ", ".join(map(str, open_doors))
        return self._pause_kiosk(order)

    def _pause_kiosk(self, order: Order) -> str:
        kiosk = agent_state.heartbeats(self.db).get("kiosk")
        if kiosk is None or not kiosk.alive(clock.now()):
            return ""  # no kiosk running: nobody can be in the middle of a sale
        asked = device_commands.queue(
            self.db,
            device_commands.CommandName.PAUSE_FOR_UPDATE,
            {"hold_s": HOLD_S, "version": order.version},
            requested_by="update",
            reason=f"update to {order.version}",
            expires_at=clock.iso(clock.now() + timedelta(seconds=30)),
        )
        done = device_commands.wait(self.db, asked.id, 20)
        if done is None or not done.finished:
            return "the kiosk did not answer the pause for the update"
        if done.state == "done":
            return ""
        error = str((done.result or {}).get("error", done.state))
        if "unknown command" in error:
            return ""  # a kiosk that cannot show the screen: its heartbeat said it is alive
        return error

    def hand_over(self, order: Order) -> None:
        apply.prepare(self.layout, order.job, order.version, order.health_s)
        # Kept until now so that an agent restarted while the switch waits does not fetch it again.
        self.discard(self._bundle_path(order))
        self.services.start_updater()


def report_to_db(db: sqlite3.Connection, job: str) -> Report:
    def report(state: str, percent: int | None = None, reason: str = "") -> None:
        update_jobs.set_state(db, job, state, percent=percent, reason=reason)

    return report


class Updates:
    """The update jobs of one agent: at most one runs; one left mid-way is taken up again."""

    def __init__(self, config: Config, stop: threading.Event) -> None:
        self.config = config
        self.stop = stop
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
        try:
            order = parse_order(command, self.config.updates.health_s, self.config.updates.window)
        except BadOrder as exc:
            return Answer(False, error=str(exc))
        with self._lock:
            known = update_jobs.get(db, order.job)
            if known is None:
                for other in update_jobs.unfinished(db):
                    if other.version == order.version:
                        return Answer(True, other.report())
                    return Answer(
                        False,
                        error=f"update {other.job} to {other.version} is "
                        f"{other.state}: wait for it to finish",
                    )
                running = RealBox(self.config, db).running()
                known = update_jobs.create(
                    db,
                    order.job,
                    version=order.version,
                    from_version=running,
                    url=order.url,
                    sha256=order.sha256,
                    requested_by=order.by,
                    health_s=order.health_s,
                    switch_window=_window_text(order.window),
                )
                if order.version == running:
                    update_jobs.set_state(
                        db, order.job, "succeeded", reason=f"{running} is already running"
                    )
                    known = update_jobs.get(db, order.job) or known
                else:
                    self._spawn(order)
        return Answer(True, known.report())

    def resume(self, db: sqlite3.Connection) -> None:
        """At agent start: a job the last agent left in one of its own states goes on."""
        for job in update_jobs.unfinished(db):
            if job.state in AGENT_STATES:
                order = Order(
                    job.job,
                    job.url,
                    job.sha256,
                    job.version,
                    job.health_s,
                    _parse_window(job.switch_window),
                    job.requested_by,
                )
                self._spawn(order, _downloaded(job))

    def _spawn(self, order: Order, downloaded: int | None = None) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(
            target=self._run, args=(order, downloaded), name=f"update-{order.job}", daemon=True
        )
        self._thread.start()

    def _run(self, order: Order, downloaded: int | None) -> None:
        db = open_database(self.config.database_path)
        try:
            run_job(
                RealBox(self.config, db),
                order,
                report_to_db(db, order.job),
                wait=self.stop.wait,
                downloaded=downloaded,
            )
        except Exception:
            log.exception("update %s failed", order.job)
            update_jobs.set_state(db, order.job, "failed", reason="internal error, see the logs")
        finally:
            db.close()


def _downloaded(job: update_jobs.UpdateJob) -> int | None:
    """How far a job taken up again had got with its download, as the fleet last saw it."""
    if job.state == "queued":
        return None
    return (job.percent or 0) if job.state == "downloading" else 100


def do_update(handlers: Handlers, command: RemoteCommand, db: sqlite3.Connection) -> Answer:
    """The `update` command (see the module's docstring)."""
    return handlers.updates.start(command, db)


class Reporter:
    """Publishes the latest job's state when it changed (and again after each reconnection)."""

    def __init__(self, publish: Callable[[dict[str, Any]], None]) -> None:
        self.publish = publish
        self._last: str | None = None

    def reconnected(self) -> None:
        self._last = None

    def step(self, db: sqlite3.Connection) -> None:
        job = update_jobs.latest(db)
        if job is None:
            return
        body = job.report()
        key = json.dumps(body, sort_keys=True)
        if key != self._last:
            self.publish(body)
            self._last = key
