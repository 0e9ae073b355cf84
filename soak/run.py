"""One soak run: the world, the box, a week of shop days with faults, the checks, the report.

Each simulated day: online orders come in at dawn, the producer deposits them, customers buy
at the kiosk, collectors take their orders, admins look in on the web and over MQTT, the faults
of the day strike at seeded instants; then the shop empties and the clock skips to the night,
when the agent closes the day, and on to the next morning. Between two visits the clock skips
the idle time (only while the kiosk is on its home screen and every door is shut).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance import __version__
from appliance.core.closing import Period
from appliance.devices.payment.caisse_ap import request_id
from appliance.devices.payment.simulator import Scenario
from appliance.devices.printers.simulator import Paper
from appliance.devices.scales.simulator.base import Fault as LineFault
from appliance.marketplace.fake import Fault as OfnFault
from appliance.marketplace.fake import seed
from appliance.release.bundle import sha256_of
from appliance.store import closings as box_closings
from soak import checks, clock, site
from soak.box import NAMES, Box, sample
from soak.browser import Browser
from soak.kiosk_driver import KioskDriver, KioskStuck
from soak.people import Collector, Customer, Producer, back_home
from soak.processes import Reaper
from soak.report import FaultRecord, Report
from soak.world import SENSORS, World
from tests.agent_support import Watcher, make_tls
from tests.release_support import AGENT_EXITS, NEXT, bundle, file_server, make_keys, url_of

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Europe/Paris")
OPEN, CLOSE = 8, 19
#: Fixed real-time costs: start-up, the end's checks; the rest is shared among the days.
OVERHEAD_S = 50.0
CUSTOMER_S = 13.0  # what one kiosk customer takes in real time, about

#: Alerts each fault may cause (the "every alert was for an injected fault" check).
ALERTS_OF = {
    "terminal answer lost (unknown outcome)": {"payment_unknown"},
    "SIGKILL kiosk during a payment": {"payment_unknown"},
    "door left open": {"door_left_open"},
    "lock board silent": {"lock_board_down", "lock_fault", "door_failed"},
    "thermometer gone": {"temperature_sensor_fault"},
    "order cancelled online after the deposit": {"cancelled", "cancelled_in_locker"},
    "Pastèque down for hours": {"pasteque_unreachable"},
}
#: The release the broken update brings (its agent exits at start): above NEXT, which it follows.
BROKEN = f"{__version__}.2"
#: The box's data directory is a file system of its own this size (a tmpfs: the disk fault).
DATA_MB = 256
#: What the disk fault leaves free: less than the kiosk's reserve for a sale (checkout.py).
NEARLY_FULL_KB = 512


#: Every fault of issue 16 that the box has today: (name, Soak method, its arguments).
FAULTS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("SIGKILL kiosk", "_kill", ("kiosk",)),
    ("SIGKILL agent", "_kill", ("agent",)),
    ("SIGKILL web", "_kill", ("web",)),
    ("SIGKILL kiosk during a payment", "f_kill_during_payment", ()),
    ("broker down 20 min", "f_broker_down", ()),
    ("marketplace HTML 503", "f_marketplace", (OfnFault.MAINTENANCE,)),
    ("marketplace 401", "f_marketplace", (OfnFault.UNAUTHORIZED,)),
    ("marketplace truncated JSON", "f_marketplace", (OfnFault.TRUNCATED,)),
    ("marketplace slow", "f_marketplace", (OfnFault.SLOW,)),
    ("scale unplugged", "f_scale", (LineFault.SILENCE,)),
    ("garbage on the scale line", "f_scale", (LineFault.GARBAGE,)),
    ("printer out of paper", "f_printer", (True,)),
    ("printer cover open", "f_printer", (False,)),
    ("terminal answer lost (unknown outcome)", "f_unknown_outcome", ()),
    ("lock board silent", "f_lock_board", ()),
    ("thermometer gone", "f_thermometer", ()),
    ("clock jumps forward 1 h", "f_clock", (3600,)),
    ("clock jumps back 30 min", "f_clock", (-1800,)),
    ("door left open", "f_door_left_open", ()),
    ("wrong pickup code typed ten times", "f_wrong_codes", ()),
    ("order cancelled online after the deposit", "f_cancelled", ()),
    ("Pastèque down for hours", "f_pasteque_down", ()),
    ("disk nearly full", "f_disk_full", ()),
    ("signed update over MQTT", "f_update", (NEXT, False)),
    ("broken update over MQTT (rolled back)", "f_update", (BROKEN, True)),
)
#: Faults of the middle of the week only (a real release installed each: minutes of real time).
MID_WEEK = ("signed update over MQTT", "broken update over MQTT (rolled back)")
#: The shortest run that has them.
MID_WEEK_DAYS = 4


#: Customers sent to the kiosk, one after the other, until one reaches the payment.
KILL_TRIES = 3


@dataclass
class Killed:
    """The kiosk killed while the terminal was charging: its pid and the request (CJ)."""

    pid: int = 0
    request: str = ""
    seen: str = ""  # when not killed: the screens the customer went through

    def __bool__(self) -> bool:
        return bool(self.request)


@dataclass(frozen=True)
class Params:
    days: int = 7
    minutes: float = 20.0
    seed: int = 1
    folder: Path | None = None
    report: Path = Path("soak-report.json")
    start: date | None = None

    @classmethod
    def from_env(cls) -> Params:
        env = os.environ
        start = env.get("SOAK_START")
        return cls(
            days=int(env.get("SOAK_DAYS", "7")),
            minutes=float(env.get("SOAK_MINUTES", "20")),
            seed=int(env.get("SOAK_SEED", "1")),
            folder=Path(env["SOAK_DIR"]) if env.get("SOAK_DIR") else None,
            report=Path(env.get("SOAK_REPORT", "soak-report.json")),
            start=date.fromisoformat(start) if start else None,
        )

    def first_day(self) -> date:
        """A week across a month end (monthly closing and archive) and, for a long run, the
        spring clock change (a 23-hour day): the last night of March 2027 is the month end."""
        if self.start:
            return self.start
        return date(2027, 3, 31) - timedelta(days=max(0, self.days - 2))


class Soak:
    def __init__(self, params: Params) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.reaper = Reaper()
        self.folder = params.folder or Path(tempfile.mkdtemp(prefix="comptoir-soak-"))
        self.report = Report(
            {
                "days": params.days,
                "minutes": params.minutes,
                "seed": params.seed,
                "folder": str(self.folder),
                "first_day": params.first_day().isoformat(),
            }
        )
        self.activity: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.cancelled: dict[str, str] = {}
        self.in_lockers: dict[str, int] = {}  # order -> door
        self.day_index = 0
        self.faults_active: set[str] = set()
        self.days_closed: list[str] = []
        self.started_real = clock.real_monotonic()

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> Report:
        self.reaper.install_signal_handlers()
        atexit.register(self.reaper.close)
        try:
            self._set_up()
            for day in range(self.p.days):
                self._day(day)
            self._finish()
        except KeyboardInterrupt:
            self.report.findings.append("interrupted: the run did not finish")
        except Exception:
            self.report.findings.append("the harness failed: " + traceback.format_exc()[-1500:])
        finally:
            self._tear_down()
        self.report.figures["real_minutes"] = round(
            (clock.real_monotonic() - self.started_real) / 60, 1
        )
        self.report.figures["activity"] = dict(self.activity)
        return self.report

    def _set_up(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        hook = self._python_hook()
        start = datetime.combine(self.p.first_day(), datetime.min.time(), ZONE).replace(
            hour=OPEN - 1, minute=30
        )
        self.clock = clock.SharedClock(self.folder / "clock.json", start.timestamp())
        clock.install(self.folder / "clock.json")
        self.world = World(self.folder / "world", self.reaper).start(site.DEVICE_ID)
        root = self.folder / "box" / "root"
        self.tls = make_tls(self.folder / "tls")
        self.keys = make_keys()
        updates = {
            "root": str(root),
            "trusted_keys": [str(self.keys.public)],
            "ca_file": str(self.tls["ca"]),
            "health_s": 20,
            "services": "supervisor",
            "keep_free_mb": 10,
        }
        config, web_port = site.write_site(self.world, self.folder / "box", root / "logs", updates)
        self.data = self.folder / "box" / "data"
        self.small_disk = self._mount_data()
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(hook),
            COMPTOIR_SOAK_CLOCK=str(self.folder / "clock.json"),
            COMPTOIR_KIOSK_PROBE=str(self.folder / "kiosk-screen.json"),
            DISPLAY=self.world.display,
            KIVY_HOME=str(self.folder / "kivy"),
        )
        env.pop("COMPTOIR_CONFIG", None)
        self.box = Box(self.reaper, config, env, self.folder / "logs", root)
        self.box.link_first_release()
        self.people = site.set_up(self.box)
        if self.p.days >= MID_WEEK_DAYS:  # built once per source, cached with the tests'
            self.bundles = {
                NEXT: bundle(self.keys, NEXT),
                BROKEN: bundle(self.keys, BROKEN, AGENT_EXITS),
            }
        self.web_url = f"https://127.0.0.1:{web_port}"
        assert self.world.broker and self.world.admin_identity
        self.consumer = Watcher(
            self.world.broker,
            self.world.admin_identity,
            subscribe=(f"comptoir/v1/{site.DEVICE_ID}/event/#",),
            client_id="soak-backend",
        ).ready()
        self.admin = Watcher(
            self.world.broker,
            self.world.admin_identity,
            subscribe=(
                f"comptoir/v1/{site.DEVICE_ID}/result/#",
                f"comptoir/v1/{site.DEVICE_ID}/status",
                f"comptoir/v1/{site.DEVICE_ID}/tele/state",
            ),
        ).ready()
        self.box.start(self._real())
        self.kiosk = KioskDriver(
            self.world.display,
            self.folder / "kiosk-screen.json",
            lambda: self.box.services["kiosk"].pid,
        )
        self.kiosk.wait_settled()
        self._wait(lambda: self._ping(), "the agent online", 60)
        self._wait(lambda: self._web_up(), "the web admin", 60)

    def _python_hook(self) -> Path:
        """PYTHONPATH of the box's processes: the shared clock and time-machine, nothing more
        (so a release installed by an update still imports its own packages)."""
        import time_machine

        hook = self.folder / "pythonpath"
        hook.mkdir(exist_ok=True)
        here = Path(__file__).resolve().parent
        shutil.copy(here / "clock.py", hook / "soak_clock.py")
        shutil.copy(here / "hook" / "sitecustomize.py", hook / "sitecustomize.py")
        package = Path(time_machine.__file__).parent
        if not (hook / "time_machine").exists():
            (hook / "time_machine").symlink_to(package)
        for extension in package.parent.glob("_time_machine*.so"):
            if not (hook / extension.name).exists():
                (hook / extension.name).symlink_to(extension)
        return hook

    def _mount_data(self) -> bool:
        """The box's data directory on a small file system of its own (a tmpfs), so that the
        disk fault fills it and never the machine's disk; mounting needs root (CI has it)."""
        self.data.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DATA_MB}m,mode=0755", "tmpfs", str(self.data)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            self._finding(f"the data directory is not a file system of its own: {done.stderr}")
        return done.returncode == 0

    def _tear_down(self) -> None:
        box = getattr(self, "box", None)
        if box is not None:
            codes = box.stop_all(self._real())
            self.report.figures["exit_codes_at_stop"] = codes
        for name in ("consumer", "admin"):
            watcher = getattr(self, name, None)
            if watcher is not None:
                with contextlib.suppress(Exception):
                    watcher.close()
        world = getattr(self, "world", None)
        if world is not None:
            try:
                world.stop()
            except Exception:
                self.report.findings.append("stopping the world: " + traceback.format_exc()[-300:])
        self.reaper.close()
        if getattr(self, "small_disk", False):
            subprocess.run(["umount", "-l", str(self.data)], check=False)

    # -- time ---------------------------------------------------------------------------------

    def _real(self) -> float:
        return clock.real_monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), ZONE)

    def sim_day(self) -> float:
        first = datetime.combine(self.p.first_day(), datetime.min.time(), ZONE)
        return (self.clock.now() - first.timestamp()) / 86400

    def _idle(self) -> bool:
        assert self.world.shop
        return self.kiosk.screen == "home" and not self.world.shop.open_doors()

    def skip_to(self, moment: datetime, why: str) -> None:
        """Skip idle time up to `moment` (never while someone is at the kiosk or a door is
        open: then the person finishes first)."""
        if moment.timestamp() <= self.clock.now():
            return
        back_home(self.kiosk)
        self.clock.skip_to(moment.timestamp(), why)
        time.sleep(clock.POLL_S * 3)  # every process has read the clock
        self.tick()

    def tick(self) -> None:
        """What runs between activities: the units' restarts, samples, the consumer's mail."""
        self.box.watch(self._real())
        day = self.sim_day()
        for service in self.box.services.values():
            pid = service.pid
            if pid is None:
                continue
            found = sample(pid)
            if found:
                service.incarnations[-1].samples.append(
                    {
                        "day": round(day, 4),
                        "rss_mb": round(found[0], 2),
                        "fds": found[1],
                        "fault": bool(self.faults_active),  # its open files are not the rest's
                    }
                )
        for _topic, payload, _retained in self.consumer.drain():
            if isinstance(payload, dict) and "event_id" in payload:
                self.received[payload["event_id"]] += 1
        self.consumer.seen.clear()

    def _pass_time(self, seconds: float) -> None:
        """A person at the kiosk waits: the clock skips (they are there, so no idle check)."""
        self.clock.skip(seconds, "a person waits at the kiosk")
        time.sleep(clock.POLL_S * 3 + 0.6)  # every process has read it, the kiosk has ticked

    def _wait(self, condition: Callable[[], Any], what: str, timeout_s: float) -> Any:
        deadline = self._real() + timeout_s
        while self._real() < deadline:
            self.box.watch(self._real())
            try:
                value = condition()
            except Exception:
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{what} within {timeout_s:.0f} s")

    # -- a day --------------------------------------------------------------------------------

    def _day(self, day: int) -> None:
        self.day_index = day
        today = self.p.first_day() + timedelta(days=day)
        opening = datetime.combine(today, datetime.min.time(), ZONE).replace(hour=OPEN)
        self.skip_to(opening, "the shop opens")
        plan = self._plan(day, today)
        for moment, name, action in plan:
            self.skip_to(moment, "idle between two visits")
            self.tick()
            started = self._real()
            try:
                action()
            except KioskStuck as stuck:
                self._finding(f"day {day + 1} {name}: the kiosk stuck: {stuck}")
                back_home_quietly(self.kiosk)
            except Exception as exc:
                self._finding(f"day {day + 1} {name}: {type(exc).__name__}: {exc}")
                back_home_quietly(self.kiosk)
            self.activity[name.split(":")[0]] += 1
            self.tick()
            if self._real() - started > 90:
                self._finding(f"day {day + 1} {name} took {self._real() - started:.0f} s")
        self._night(today)

    def _plan(self, day: int, today: date) -> list[tuple[datetime, str, Callable[[], object]]]:
        """The day's visits and faults at seeded instants, in time order."""
        at = datetime.combine(today, datetime.min.time(), ZONE)
        budget = max(30.0, (self.p.minutes * 60 - OVERHEAD_S) / self.p.days)
        faults = self._faults_of(day)
        fixed = 45 + 14 * len(faults)
        customers = max(2, int((budget - fixed) / CUSTOMER_S))
        items: list[tuple[datetime, str, Callable[[], object]]] = [
            (at.replace(hour=8, minute=5), "online orders", self.online_orders),
            (at.replace(hour=8, minute=40), "producer deposit", self.producer_deposit),
            (at.replace(hour=12, minute=30), "admin on the web", self.web_admin),
            (at.replace(hour=18, minute=45), "admin on the web", self.web_admin),
            (at.replace(hour=13, minute=10), "admin over MQTT", self.mqtt_admin),
        ]
        for n in range(customers):
            minute = self.rng.randrange(9 * 60, 18 * 60 + 30)
            card = self.rng.choices(
                [Scenario.APPROVED, Scenario.DECLINED, Scenario.ABANDONED], [90, 7, 3]
            )[0]
            items.append(
                (
                    at + timedelta(minutes=minute),
                    f"customer:{n}",
                    functools.partial(self.customer, card),
                )
            )
        for n in range(2):
            minute = self.rng.randrange(10 * 60, 18 * 60)
            items.append((at + timedelta(minutes=minute), f"collector:{n}", self.collector))
        for name, action in faults:
            minute = self.rng.randrange(9 * 60, 18 * 60)
            if name in MID_WEEK:  # the good release first (10:00), the broken over it (14:00)
                minute = 10 * 60 + 4 * 60 * MID_WEEK.index(name)
            items.append((at + timedelta(minutes=minute), f"fault:{name}", action))
        items.sort(key=lambda item: item[0])
        return items

    def _night(self, today: date) -> None:
        """The shop empties; the agent closes the day at the closing hour; next morning."""
        tomorrow = today + timedelta(days=1)
        closing = datetime.combine(tomorrow, datetime.min.time(), ZONE).replace(
            hour=1, minute=0, second=5
        )
        before = self._closings_count()
        self.skip_to(closing, "the night")
        try:
            self._wait(lambda: self._closings_count() > before, "the night's closing", 90)
            self.days_closed.append(today.isoformat())
        except TimeoutError:
            self._finding(f"no closing made by the agent in the night after {today}")
        self.tick()

    def _closings_count(self) -> int:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            return db.execute(
                "SELECT count(*) FROM fiscal_records WHERE type = 'closing'"
            ).fetchone()[0]
        except Exception:
            return 0
        finally:
            db.close()

    def _finding(self, text: str) -> None:
        self.report.findings.append(f"[{self.now():%a %d %H:%M}] {text}")

    # -- people ---------------------------------------------------------------------------------

    def customer(self, card: Scenario = Scenario.APPROVED) -> Any:
        visit = Customer(self.kiosk, self.world, self.rng, "customer").shop(card)
        if visit.walked_away and not self.faults_active:
            self._finding(f"a customer walked away: {visit.walked_away}")
        return visit

    def online_orders(self) -> None:
        """Two or three people order online for the locker; the admin asks for a sync."""
        ofn = self.world.ofn
        assert ofn
        variants = [v.id for v in ofn.variants.values() if v.on_demand or v.on_hand > 20]
        for _ in range(self.rng.randrange(2, 4)):
            who = uuid.uuid4().hex[:6]
            ofn.place_order(
                distributor_id=seed.HUB_ID,
                order_cycle_id=seed.ORDER_CYCLE_ID,
                shipping_method_id=seed.LOCKER_METHOD_ID,
                full_name=f"Client {who}",
                email=f"client-{who}@example.test",
                lines=[(self.rng.choice(variants), self.rng.randrange(1, 3))],
            )
            self.activity["orders placed online"] += 1
        self._sync_now()

    def _sync_now(self) -> dict[str, Any]:
        return self._command("sync_now", {}, timeout_s=60)

    def producer_deposit(self) -> None:
        producer = Producer(self.kiosk, self.world, self.people.producer_pin)
        try:
            producer.deposit(3)
        finally:
            for number, door in producer.deposited:
                self.in_lockers[number] = door
            self.activity["orders deposited"] += len(producer.deposited)

    def collector(self, *, leave_open: bool = False) -> str:
        if not self.in_lockers:
            return "nothing to collect"
        number = self.rng.choice(sorted(self.in_lockers))
        door = self.in_lockers[number]
        ended = Collector(self.kiosk, self.world).collect(number, door, leave_open=leave_open)
        if ended in ("done", "left_open"):
            del self.in_lockers[number]
            self.activity["orders collected"] += 1
        elif not self.faults_active:
            self._finding(f"collecting {number} from door {door} ended on {ended}")
        return ended

    def web_admin(self) -> None:
        """A producer looks in: dashboard, sales, temperatures, alerts; settles what is open."""
        browser = Browser(self.web_url)
        name, password = self.people.installer
        page = browser.log_in(name, password)
        if page.status != 200 or "/login" in page.url:
            raise RuntimeError(f"web login failed: {page.status} {page.url}")
        for path in ("/", "/sales/", "/temperatures/", "/orders/", "/alerts/"):
            seen = browser.get(path)
            if seen.status != 200:
                self._finding(f"web {path} answered {seen.status}")
        self._settle_alerts(browser)
        self.activity["web pages"] += 6

    def _settle_alerts(self, browser: Browser) -> None:
        """The producer checks their terminal's journal for unknown payments and notes what they
        did for the rest."""
        assert self.world.shop
        charged = {r.request_id for r in self.world.shop.terminal.ledger if r.charged}
        page = browser.get("/alerts/")
        for form in page.forms():
            if "/resolve" not in form.action:
                continue
            if any(b[1] == "charged" for b in form.buttons):
                subject = self._alert_subject(form.action)
                was = request_id(subject) in charged if subject else True
                button = next(
                    b for b in form.buttons if b[1] == ("charged" if was else "not_charged")
                )
                answer = browser.submit(page, form, button=button)
            else:
                answer = browser.submit(page, form, {"note": "vérifié sur place par le soak"})
            self.activity["alerts settled"] += 1
            if answer.status >= 400:
                self._finding(f"settling an alert answered {answer.status}")
            page = browser.get("/alerts/")

    def _alert_subject(self, action: str) -> str:
        alert_id = int(action.rstrip("/").split("/")[-2])
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            row = db.execute("SELECT subject FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        finally:
            db.close()
        return row[0] if row else ""

    def mqtt_admin(self) -> None:
        for name, args in (("ping", {}), ("get_logs", {"lines": 50}), ("sync_now", {})):
            answer = self._command(name, args)
            if not answer.get("ok", False) and name != "sync_now":
                self._finding(f"MQTT {name} answered {answer}")
        self.activity["MQTT commands"] += 3

    def _command(
        self, name: str, args: dict[str, Any], timeout_s: float = 30, command_id: str = ""
    ) -> dict[str, Any]:
        command_id = command_id or uuid.uuid4().hex
        self.admin.publish(
            f"comptoir/v1/{site.DEVICE_ID}/cmd/{name}", {"id": command_id, "args": args}
        )
        topic = f"comptoir/v1/{site.DEVICE_ID}/result/{command_id}"
        return self.admin.wait_for(lambda t, p, r: t == topic, timeout_s)[1]

    def _ping(self) -> bool:
        try:
            return bool(self._command("ping", {}, timeout_s=5).get("ok"))
        except AssertionError:
            return False

    def _web_up(self) -> bool:
        try:
            return Browser(self.web_url, timeout_s=3).get("/login").status == 200
        except OSError:
            return False

    # -- faults ---------------------------------------------------------------------------------

    def _faults_of(self, day: int) -> list[tuple[str, Callable[[], None]]]:
        """Every fault at least once in the run, at a seeded day; some twice in a long run."""
        if not hasattr(self, "_fault_days"):
            table = self._fault_table()
            days: dict[int, list[tuple[str, Callable[[], tuple[bool, str]]]]] = {}
            for name, action in table:
                if name in MID_WEEK:
                    if self.p.days >= MID_WEEK_DAYS:
                        days.setdefault(self.p.days // 2, []).append((name, action))
                    continue
                if name == "disk nearly full" and not self.small_disk:
                    continue
                for _ in range(1 if self.p.days < 4 else self.rng.choice((1, 1, 2))):
                    days.setdefault(self.rng.randrange(self.p.days), []).append((name, action))
            self._fault_days = days
        return [(n, self._fault(n, a)) for n, a in self._fault_days.get(day, [])]

    def _fault(self, name: str, action: Callable[[], tuple[bool, str]]) -> Callable[[], None]:
        def run() -> None:
            started = self._real()
            at = f"{self.now():%a %d %H:%M}"
            self.faults_active.add(name)
            try:
                survived, detail = action()
            except Exception as exc:
                survived, detail = False, f"{type(exc).__name__}: {exc}"[:300]
            finally:
                self.faults_active.discard(name)
            self.report.faults.append(
                FaultRecord(name, self.day_index + 1, at, survived, detail, self._real() - started)
            )

        return run

    def _fault_table(self) -> list[tuple[str, Callable[[], tuple[bool, str]]]]:
        return [
            (name, functools.partial(getattr(self, method), *args)) for name, method, args in FAULTS
        ]

    def _kill(self, name: str) -> tuple[bool, str]:
        old = self.box.kill(name, self._real())
        if name == "kiosk":
            self.kiosk.forget_window()
        self._wait(lambda: self.box.services[name].pid not in (None, old), f"{name} restarted", 60)
        if name == "kiosk":
            self.kiosk.wait_settled()
        elif name == "agent":
            self._wait(self._ping, "the agent online again", 90)
        else:
            self._wait(self._web_up, "the web admin again", 60)
        return True, f"pid {old} -> {self.box.services[name].pid}"

    def f_kill_during_payment(self) -> tuple[bool, str]:
        """SIGKILL while the terminal charges (its request in, its answer not yet out): at the
        restart the attempt is an unknown outcome with an alert for staff, never lost and never
        charged again (the payment invariant checks the terminal's ledger at the end). A
        customer who did not reach the payment (sent home, walked away) is followed by another,
        as in a shop."""
        terminal = self.world.shop.terminal if self.world.shop else None
        assert terminal
        before = self._alerts("payment_unknown")
        terminal.delay_s = 4.0
        tries: list[str] = []
        try:
            for _ in range(KILL_TRIES):
                killed = self._kill_while_charging(terminal)
                if killed:
                    break
                tries.append(killed.seen)
        finally:
            terminal.delay_s = 0.0
        if not killed:
            return False, "the payment never started; customers saw " + " | ".join(tries)
        self._wait(
            lambda: self.box.services["kiosk"].pid not in (None, killed.pid), "kiosk back", 60
        )
        self.kiosk.wait_settled()
        state = self._wait(lambda: self._attempt_state(killed.request), "the attempt", 30)
        alerted = self._alerts("payment_unknown") > before
        return (
            state == "unknown" and alerted,
            f"killed while charging (try {len(tries) + 1}); then {state}, "
            f"alert {'raised' if alerted else 'MISSING'}",
        )

    def _kill_while_charging(self, terminal: Any) -> Killed:
        """One customer pays; the kiosk is killed the moment the terminal holds their request."""
        back_home_quietly(self.kiosk)
        self.kiosk.wait_screen("home", timeout=60)
        self.box.watch(self._real())
        pid = self.box.services["kiosk"].pid
        killed = Killed()
        paid = threading.Event()

        def killer() -> None:
            while not paid.is_set():
                request = terminal.charging
                if request is not None and pid is not None:
                    self.box.kill_pid("kiosk", pid)
                    killed.pid, killed.request = pid, request
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            visit = Customer(self.kiosk, self.world, self.rng, "customer").shop(budget_s=150)
        finally:
            paid.set()
            thread.join(10)
        if killed:
            self.kiosk.forget_window()
        else:
            killed.seen = " > ".join(visit.screens[-6:]) + (
                f" ({visit.walked_away[:80]})" if visit.walked_away else ""
            )
        return killed

    def _attempt_state(self, request: str) -> str:
        """The box's record of the payment attempt the terminal knows as `request` (its CJ)."""
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            rows = db.execute("SELECT id, state FROM payment_attempts").fetchall()
        finally:
            db.close()
        return next((state for aid, state in rows if request_id(aid) == request), "")

    def f_broker_down(self) -> tuple[bool, str]:
        broker = self.world.broker
        assert broker
        broker.stop()
        try:
            self.customer()  # sales go on: their events wait in the outbox
            self.skip_to(self.now() + timedelta(minutes=20), "the broker is away")
            time.sleep(3)
        finally:
            broker.start()
        self._wait(self._ping, "the agent back on the broker", 120)
        return True, "the agent came back online"

    def f_marketplace(self, fault: OfnFault) -> tuple[bool, str]:
        ofn = self.world.ofn
        assert ofn
        if fault is OfnFault.SLOW:
            ofn.slow_s = 8.0  # more than the box's [marketplace] timeout_s
        ofn.fail_next(fault, times=1 if fault is OfnFault.SLOW else 3)
        first = self._command("sync_now", {}, timeout_s=90)
        for _ in range(4):
            answer = self._command("sync_now", {}, timeout_s=90)
            if answer.get("ok"):
                return True, f"refused first ({str(first.get('error', 'ok'))[:50]}), then synced"
        return False, f"the sync did not recover: {answer.get('error', answer)}"

    def f_scale(self, fault: LineFault) -> tuple[bool, str]:
        shop = self.world.shop
        assert shop
        shop.pan.fault = fault
        try:
            self.customer()
        finally:
            shop.pan.fault = LineFault.NONE
        word = self._wait(lambda: self._health("scale") == "ok" and "ok", "the scale ok again", 30)
        return bool(word), "the kiosk saw the scale again"

    def f_printer(self, paper_out: bool) -> tuple[bool, str]:
        shop = self.world.shop
        assert shop
        if paper_out:
            shop.paper(Paper.OUT)
        else:
            shop.printer.online = False
        try:
            self.customer()
        finally:
            shop.paper(Paper.OK)
            shop.printer.online = True
        self._wait(lambda: self._health("printer") == "ok", "the printer ok again", 30)
        return True, "the printer is back in the heartbeat"

    def _health(self, device: str) -> str:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            row = db.execute(
                "SELECT detail FROM process_heartbeats WHERE process = 'kiosk'"
            ).fetchone()
        finally:
            db.close()
        return json.loads(row[0]).get(device, "") if row else ""

    def f_unknown_outcome(self) -> tuple[bool, str]:
        before = self._alerts("payment_unknown")
        self.customer(Scenario.CLOSED_AFTER_APPROVAL)
        after = self._alerts("payment_unknown")
        return after > before, f"{after - before} unknown-payment alert raised"

    def _alerts(self, kind: str) -> int:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            return db.execute("SELECT count(*) FROM alerts WHERE kind = ?", (kind,)).fetchone()[0]
        finally:
            db.close()

    def f_lock_board(self) -> tuple[bool, str]:
        shop = self.world.shop
        assert shop
        if not self.in_lockers:
            self.producer_deposit()
        if not self.in_lockers:
            return False, "no order in a locker to try"
        shop.silence_locks(True)
        try:
            number = sorted(self.in_lockers)[0]
            door = self.in_lockers[number]
            first = Collector(self.kiosk, self.world).collect(number, door)
        finally:
            shop.silence_locks(False)
        time.sleep(2)
        if first == "done":
            del self.in_lockers[number]
            return False, "the order came out while the board was silent?"
        second = Collector(self.kiosk, self.world).collect(number, door)
        if second == "done":
            del self.in_lockers[number]
            self.activity["orders collected"] += 1
        return second == "done", f"first try {first}, then {second}"

    def f_thermometer(self) -> tuple[bool, str]:
        w1 = self.world.w1
        assert w1
        w1.remove(SENSORS[0])
        try:
            self.skip_to(self.now() + timedelta(minutes=20), "a thermometer is gone")
            time.sleep(6)
        finally:
            w1.set(SENSORS[0], 3300)
        count = self._temperature_rows()
        self._wait(lambda: self._temperature_rows() > count, "readings again", 40)
        return True, "readings resumed"

    def _temperature_rows(self) -> int:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            return db.execute("SELECT count(*) FROM temperature_readings").fetchone()[0]
        finally:
            db.close()

    def f_clock(self, seconds: int) -> tuple[bool, str]:
        self.clock.jump_wall(seconds, "clock jump fault")
        time.sleep(1)
        self._wait(self._ping, "the agent still answering", 60)
        return True, f"wall clock moved {seconds:+d} s"

    def f_door_left_open(self) -> tuple[bool, str]:
        shop = self.world.shop
        assert shop
        if not self.in_lockers:
            self.producer_deposit()
        before = self._alerts("door_left_open")
        number = sorted(self.in_lockers)[0] if self.in_lockers else None
        if number is None:
            return False, "no order in a locker"
        door = self.in_lockers[number]
        ended = self.collector_for(number, leave_open=True)
        if ended != "left_open":
            return False, f"the pickup ended on {ended}"
        # Nobody comes: the alarm's delay passes (the clock skips with the door open).
        self.clock.skip(180, "a door left open")
        time.sleep(2)
        raised = self._wait(lambda: self._alerts("door_left_open") > before, "the alarm", 30)
        shop.close_door(door)
        back_home(self.kiosk)
        return bool(raised), "alarm raised, door then closed"

    def collector_for(self, number: str, *, leave_open: bool = False) -> str:
        door = self.in_lockers[number]
        ended = Collector(self.kiosk, self.world).collect(number, door, leave_open=leave_open)
        if ended in ("done", "left_open"):
            del self.in_lockers[number]
            self.activity["orders collected"] += 1
        return ended

    def f_wrong_codes(self) -> tuple[bool, str]:
        again = self.kiosk.touches_again
        typed, locked = Collector(self.kiosk, self.world, self._pass_time).wrong_codes(10, self.rng)
        if self.kiosk.touches_again > again:
            missed = self.kiosk.touches_again - again
            self._finding(f"{missed} keypad digits did not register and were pressed again")
        assert self.world.shop
        opened = self.world.shop.open_doors()
        # The lockout after ten wrong codes is 16 minutes (core.pickup_code.lockout_s): a
        # customer with a good code comes later.
        self.skip_to(self.now() + timedelta(minutes=20), "the keypad's lockout passes")
        after = self.collector() if self.in_lockers else "no order to try"
        return (
            typed == 10 and locked and not opened and after in ("done", "no order to try"),
            f"{typed} wrong codes, keypad locked: {locked}, doors opened: {opened}; "
            f"then a good code: {after}",
        )

    def f_cancelled(self) -> tuple[bool, str]:
        if not self.in_lockers:
            self.producer_deposit()
        if not self.in_lockers:
            return False, "no order in a locker"
        number = sorted(self.in_lockers)[-1]
        assert self.world.ofn
        self.world.ofn.cancel(number)
        self.cancelled[number] = datetime.now(UTC).isoformat(timespec="microseconds")
        self._sync_now()
        door = self.in_lockers.pop(number)
        ended = Collector(self.kiosk, self.world).collect(number, door)
        return ended != "done", f"the customer's code ended on {ended}"

    def f_pasteque_down(self) -> tuple[bool, str]:
        """The shop's Pastèque away for three hours of trading: the box sells on, keeps each
        ticket, and sends it once the till answers again (the till invariants check the rest:
        once each, and the day's session equal to the box's closing)."""
        till = self.world.pasteque
        assert till
        before = self._sales()
        till.down = True
        try:
            self.customer()
            self.skip_to(self.now() + timedelta(hours=3), "Pastèque is down")
        finally:
            till.down = False
        during = self._sales() - before
        # the gateway's backoff (at most 5 minutes) passes while the shop is quiet
        self.skip_to(self.now() + timedelta(minutes=10), "Pastèque is back")
        self._wait(lambda: not self._till_behind(), "every sale in Pastèque", 120)
        return True, f"{during} sales while it was down, each in the till after"

    def _sales(self) -> int:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            return db.execute("SELECT count(*) FROM sales").fetchone()[0]
        finally:
            db.close()

    def _till_behind(self) -> int:
        """Sales of the box the till does not hold yet, and daily closings with sales whose
        cash session the till has not closed yet."""
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            sales = db.execute("SELECT count(*) FROM sales").fetchone()[0]
            sent = db.execute(
                "SELECT count(*) FROM pasteque_tickets WHERE kind = 'sale' AND state = 'sent'"
            ).fetchone()[0]
            queued = db.execute(
                "SELECT count(*) FROM pasteque_tickets WHERE state = 'queued'"
            ).fetchone()[0]
            closed = db.execute(
                "SELECT count(*) FROM pasteque_sessions WHERE closed_at IS NOT NULL"
            ).fetchone()[0]
            with_sales = sum(
                1 for c in box_closings.closings(db, Period.DAY) if c.data.get("tickets")
            )
        finally:
            db.close()
        return sales - sent + queued + max(0, with_sales - closed)

    def f_disk_full(self) -> tuple[bool, str]:
        """The data directory's file system filled but for NEARLY_FULL_KB: the kiosk refuses
        the sale before any card is charged, the fleet's status says the disk is full,
        a sync fails without harm; once the space is back the next customer pays and the status
        is clear again (the end's journal and fiscal checks say nothing recorded was harmed)."""
        assert self.world.shop
        ledger = self.world.shop.terminal.ledger
        charges, sales = len(ledger), self._sales()
        filler = self.data / "soak-filler"
        self._status_seen()
        try:
            _fill(filler, NEARLY_FULL_KB * 1024)
            visit = Customer(self.kiosk, self.world, self.rng, "customer").shop(budget_s=30)
            refused = "out_of_order" in visit.screens
            charged = len(ledger) - charges
            with contextlib.suppress(AssertionError):
                self._sync_now()
            self.skip_to(self.now() + timedelta(minutes=1), "the disk is full")  # telemetry
            # The retained status, as the fleet reads it: it says each new reason, even on a
            # box already in `alert` for another one.
            alerted = self._status_says(lambda s: any("disk" in r for r in s.get("reasons", [])))
            self._status_seen()  # what clears it comes after
        finally:
            filler.unlink(missing_ok=True)
        back_home_quietly(self.kiosk)
        self.skip_to(self.now() + timedelta(minutes=1), "room again")
        cleared = self._status_says(
            lambda s: (
                s.get("state") in ("online", "alert")
                and not any("disk" in r for r in s.get("reasons", []))
            )
        )
        paid = self.customer()
        sold = self._sales() - sales
        return (
            refused and not charged and alerted and cleared and sold == 1,
            f"sale refused: {refused} ({charged} charged), fleet alerted: {alerted}, "
            f"clear again: {cleared}, then {sold} sale ({' > '.join(paid.screens[-3:])})",
        )

    def _status_seen(self) -> None:
        """Forget the box's statuses seen so far: the next one read is news."""
        self.admin.drain()
        self.admin.seen.clear()

    def _status_says(self, test: Callable[[dict[str, Any]], bool], timeout_s: float = 90) -> bool:
        """Whether the box's status or telemetry (as the fleet reads them) comes to pass `test`
        within `timeout_s`; the telemetry runs on the simulated clock, so it moves."""
        deadline = self._real() + timeout_s
        while self._real() < deadline:
            try:
                self.admin.wait_for(
                    lambda t, p, r: (
                        t.endswith(("/status", "/tele/state")) and isinstance(p, dict) and test(p)
                    ),
                    5,
                )
                return True
            except AssertionError:
                self.tick()
        return False

    def f_update(self, version: str, broken: bool) -> tuple[bool, str]:
        """A signed bundle over MQTT, as `comptoir fleet update` sends it, from an HTTPS file
        server; a customer buys while the new release is judged. The good one is kept and the
        fleet sees its version; the broken one (its agent exits at start) is rolled back by the
        box itself and the fleet sees the old version again. No sale lost or doubled across the
        switch: the payment invariants at the end."""
        path = self.bundles[version]
        before = self.box.layout.current()
        job = f"soak-{version}"
        self._status_seen()
        self.box.expecting = True
        bought = ""
        try:
            with file_server(path.parent, self.tls) as server:
                args = {"url": url_of(server, path), "sha256": sha256_of(path), "version": version}
                answer = self._command("update", args, timeout_s=60, command_id=job)
                if not answer.get("ok"):
                    return False, f"the update was refused: {answer}"
                deadline = self._real() + 600
                state, reason = "", ""
                while self._real() < deadline:
                    self.tick()
                    state, reason = self._update_job(job)
                    if state == "health_check" and not bought:
                        self.kiosk.forget_window()
                        visit = self.customer()
                        bought = visit.receipt or visit.walked_away[:60] or "no receipt"
                    if state in ("succeeded", "rolled_back", "failed"):
                        break
                    time.sleep(1)
            wanted = "rolled_back" if broken else "succeeded"
            now_on = before if broken else version
            seen = self._status_says(lambda s: s.get("version") == now_on, 120)
            self.kiosk.forget_window()
            for name in NAMES:
                self._wait(functools.partial(self._running, name), f"{name} running", 60)
            self.kiosk.wait_settled()
            self._wait(self._ping, "the agent online", 90)
            self.box.watch(self._real())
        finally:
            self.box.expecting = False
        current = self.box.layout.current()
        return (
            state == wanted and current == now_on and seen,
            f"{state} ({reason[:80]}); runs {current}, the fleet sees it: {seen}; "
            f"a customer during the health check: {bought or 'none'}",
        )

    def _running(self, name: str) -> bool:
        return self.box.services[name].pid is not None

    def _update_job(self, job: str) -> tuple[str, str]:
        db = checks.open_readonly(self.data / "comptoir.db")
        try:
            row = db.execute(
                "SELECT state, reason FROM update_jobs WHERE job = ?", (job,)
            ).fetchone()
        finally:
            db.close()
        return (row[0], row[1]) if row else ("", "")

    # -- the end ----------------------------------------------------------------------------------

    def _finish(self) -> None:
        self.tick()
        data = self.box.config_path.parent / "data"
        try:
            self._wait(lambda: self._outbox_drained(), "the outbox delivered", 90)
        except TimeoutError:
            self._finding("the outbox was not delivered within 90 s of the end")
        try:  # the night's closing reaches the till at the gateway's next round
            self._wait(lambda: not self._till_behind(), "the till up to date", 120)
        except TimeoutError:
            self._finding("the till was not up to date 120 s after the end")
        try:  # the last pickups reach the marketplace at the next sync
            self._wait(lambda: self._pickups_reported(), "the last pickups reported", 120)
        except TimeoutError:
            self._finding("collected orders not reported to the marketplace 120 s after the end")
        self.tick()
        codes = self.box.stop_all(self._real())
        self.report.figures["exit_codes_at_stop"] = codes
        self._check(data)

    def _ship_requests(self) -> list[str]:
        assert self.world.ofn
        with self.world.ofn.lock:
            requests = list(self.world.ofn.requests)
        return [p.split("/")[4] for m, p in requests if m == "PUT" and p.endswith("/ship")]

    def _pickups_reported(self) -> bool:
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            collected = {
                n for (n,) in db.execute("SELECT number FROM orders WHERE state = 'collected'")
            }
        finally:
            db.close()
        assert self.world.ofn
        with self.world.ofn.lock:
            shipped = {n for n, subject in self.world.ofn.emails if "réception" in subject}
        if collected <= shipped:
            return True
        self._sync_now()
        return False

    def _outbox_drained(self) -> bool:
        self.tick()
        db = checks.open_readonly(self.box.config_path.parent / "data" / "comptoir.db")
        try:
            produced = {e for (e,) in db.execute("SELECT event_id FROM outbox")}
        finally:
            db.close()
        return produced <= set(self.received)

    def _check(self, data: Path) -> None:
        assert self.world.shop and self.world.ofn
        report = self.report
        db = checks.open_readonly(data / "comptoir.db")
        try:
            report.checks += checks.payments(db, self.world.shop.terminal.ledger)
            with self.world.ofn.lock:
                shipped = [n for n, subject in self.world.ofn.emails if "réception" in subject]
            report.checks += checks.orders(db, self._ship_requests(), shipped, self.cancelled)
            report.checks.append(checks.outbox_delivered(db, self.received))
            closings = json.loads(self.box.cli("closing", "list", "--json").stdout or "[]")
            report.checks.append(checks.closings_equal_tickets(db, closings, self.days_closed))
            assert self.world.pasteque
            daily = box_closings.closings(db, Period.DAY)
            report.checks += checks.till_sessions(db, self.world.pasteque, daily)
            report.checks.append(self._alerts_explained(db))
        finally:
            db.close()
        report.checks.append(checks.command("journal verifies", self.box.cli("journal", "verify")))
        report.checks.append(
            checks.command("fiscal records verify", self.box.cli("fiscal", "verify"))
        )
        archives = sorted((data / "archives").glob("*.zip"))
        if archives:
            report.checks.append(
                checks.command(
                    "monthly archive verifies",
                    self.box.cli("fiscal", "verify-archive", *map(str, archives)),
                )
            )
        resource_checks, figures = checks.resources(self.box.services, min(1.0, self.p.days / 4))
        report.checks += resource_checks
        report.figures["resources"] = figures
        report.checks.append(self._restarts())
        logs = [*self.box.unit_logs(), *sorted((self.folder / "logs").glob("*.log"))]
        report.checks.append(checks.logs_clean(logs))
        report.checks.append(
            checks.Check(
                "the kiosk never stuck outside a fault",
                not [f for f in report.findings if "stuck" in f or "walked away" in f],
                f"{self.kiosk.touches} touches ({self.kiosk.touches_again} again), "
                f"{self.kiosk.prompts_answered} 'are you still there?' answered",
                [f for f in report.findings if "stuck" in f or "walked away" in f],
            )
        )
        report.figures["clock_moves"] = len(self.clock.jumps)
        report.figures["kiosk"] = {
            "touches": self.kiosk.touches,
            "prompts_answered": self.kiosk.prompts_answered,
            "touches_again": self.kiosk.touches_again,
        }

    def _alerts_explained(self, db: Any) -> checks.Check:
        injected = {f.name for f in self.report.faults}
        allowed = set().union(*(ALERTS_OF.get(n, set()) for n in injected))
        kinds = Counter(k for (k,) in db.execute("SELECT kind FROM alerts"))
        stray = [f"{k} x{c}" for k, c in kinds.items() if k not in allowed]
        return checks.Check(
            "every alert raised was for an injected fault",
            not stray,
            ", ".join(f"{k} x{c}" for k, c in sorted(kinds.items())) or "no alert",
            stray,
        )

    def _restarts(self) -> checks.Check:
        loops = []
        figure = []
        for name, service in self.box.services.items():
            unexpected = [i for i in service.incarnations[:-1] if not i.expected]
            figure.append(f"{name} {len(service.incarnations)} runs")
            loops += [f"{name} pid {i.pid} exited by itself" for i in unexpected]
            extra = service.restarts - service.expected_restarts
            if extra > 0:  # exits the supervisor restarted faster than the soak looked
                loops.append(f"{name}: {extra} restarts by the supervisor the soak did not cause")
        return checks.Check(
            "no restart loop, no exit but the soak's kills", not loops, ", ".join(figure), loops
        )


def _fill(path: Path, leave: int) -> None:
    """Fill the file system of `path` with it, but for `leave` bytes."""
    with path.open("wb") as stream:
        while True:
            stat = os.statvfs(path.parent)
            room = stat.f_bavail * stat.f_frsize - leave
            if room <= 0:
                return
            stream.write(b"\0" * min(room, 8 << 20))
            stream.flush()


def back_home_quietly(kiosk: KioskDriver) -> None:
    with contextlib.suppress(Exception):
        back_home(kiosk)


def main() -> int:
    params = Params.from_env()
    print(
        f"soak: {params.days} simulated days in about {params.minutes:g} minutes, "
        f"seed {params.seed}",
        flush=True,
    )
    report = Soak(params).run()
    report.write(params.report)
    print(report.table())
    print(f"\nreport: {params.report.resolve()}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
