"""`make image-smoke`: the field installer's whole job on the QEMU test image, measured.

Builds the test image (or finds it cached), starts a real mosquitto with the project's ACL and
the project's fake Open Food Network on 127.0.0.1 of this machine (the VM reaches them through
guestfwd only), writes comptoir.txt onto the image's FAT partition with mtools, boots it and
times each step from power on; then checks the box from outside as the remote admin would
(over MQTT), boots it again with the same card, hangs its agent for the real systemd watchdog,
cuts its power three times while it sells, boots it once with its data partition unmountable,
and gives it a card with a bad line. Prints a table and exits 1 when a check fails. Root, about
20 minutes under TCG. `--then=STEP` runs the first boot and that later step only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from appliance.agent.identity import new_identity, write_password_file
from appliance.marketplace.fake import seed, serve
from tests.agent_support import Mosquitto, Watcher
from tests.image import testimage
from tests.image.vm import Box, Forward, require_tools

REPO = Path(__file__).resolve().parents[2]
DEVICE = "smoke-box-1"
BROKER_IP, MARKET_IP = "10.0.2.100", "10.0.2.101"
# Masked for the floor. Not comptoir-data-partition: it sizes the fresh card at its first boot in
# place of Raspberry Pi OS's own resize, which a bare Pi does too; its time is reported.
COMPTOIR_UNITS = ("comptoir-provision", "comptoir-kiosk", "comptoir-agent", "comptoir-web")
# The data partition's mount options (docs/image.md), as findmnt prints them once mounted:
# commit=5 is ext4's default, which the kernel does not show (it is checked in fstab).
DATA_OPTIONS = ("noatime", "nodev", "nosuid", "noexec", "errors=remount-ro")
STEP_TIMEOUT_S = 420.0
GOAL_RATIO, GOAL_S = 1.5, 120.0
TELEMETRY_PERIOD_S = 10  # set as the remote admin would, by the retained desired config
COMPTOIR = "/opt/comptoir/current/venv/bin/comptoir"
CATALOGUE = (
    "sku,name,sold_by,unit_price,vat_rate,active\\n"
    "PAIN,Pain,piece,2.50,5.5,yes\\nMIEL,Miel,piece,8.00,5.5,yes\\n"
)
# The simulated shop inside the VM: one real checkout after another (a Caisse-AP terminal
# simulator on a socket), in demo mode (training sales are kept apart with no outbox event),
# each sale written to the serial console once committed: the console is a file on this
# machine, so what was acknowledged survives the cut.
SHOP = f"""
sed -n p /etc/comptoir/comptoir.toml > /run/shop.toml
printf '\\n[shop]\\nmode = "demo"\\n' >> /run/shop.toml
chown comptoir /run/shop.toml
printf '{CATALOGUE}' > /run/shop.csv
shop() {{ runuser -u comptoir -- {COMPTOIR} --config /run/shop.toml "$@"; }}
shop catalogue import /run/shop.csv >/dev/null
(while true; do
  out=$(shop sales simulate --count 1 --json) && echo "SOLD $(echo $out | tr -d '\\n')" > /dev/ttyS0
done) >/dev/null 2>&1 &
"""
SOLD = re.compile(r"SOLD (\{.*?\})")
BAD_LINE = "hub = 12"
DATA_LABEL = "comptoir-data"
UNMOUNTED = "DATA-PARTITION-NOT-MOUNTED"  # image/rootfs/usr/local/sbin/comptoir-data-partition
# What that step says on the console just after making the file system, and after the copy.
CUT_AFTER = ("/dev/vda3: ext4 comptoir-data made", "copied /var/lib/comptoir onto /dev/vda3")


@dataclass
class Report:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    failed: bool = False
    title: str = "image-smoke"

    def add(self, what: str, value: str, ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("ok" if ok else "FAILED")
        self.failed |= ok is False
        self.rows.append((what, value, verdict))
        print(f"  {what}: {value} {verdict}", flush=True)

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{self.title}")
        print(f"{'step':<{width}}  {'result':<40} verdict")
        for what, value, verdict in self.rows:
            print(f"{what:<{width}}  {value:<40} {verdict}")


def card(password: str, extra: str = "") -> str:
    return (
        "# written by make image-smoke, as an installer would\n"
        f"device_id = {DEVICE}\n"
        "shop_name = Ferme de la fumée\n"
        f"mqtt_url = mqtt://{BROKER_IP}:1883\n"
        f"mqtt_password = {password}\n"
        f"marketplace_url = http://{MARKET_IP}:8080\n"
        f"hub_id = {seed.HUB_ID}\n"
        f"shipping_method_ids = {seed.LOCKER_METHOD_ID}\n"
        f"marketplace_api_key = {seed.DEMO_KEY}\n"
        f"{extra}"
    )


@dataclass
class Admin:
    """The co-op's remote admin: this machine's MQTT view of the box, and `comptoir fleet`."""

    broker: Mosquitto
    watcher: Watcher
    admin_file: Path
    status: dict[str, Any] = field(default_factory=dict)
    telemetry: dict[str, Any] = field(default_factory=dict)
    sale_events: dict[str, int] = field(default_factory=dict)  # event id -> receipt
    deliveries: int = 0

    def listen(self) -> None:
        """Take in what arrived: the box's status and telemetry, and every sale event."""
        for topic, payload, _retained in self.watcher.drain():
            if not isinstance(payload, dict):
                continue
            if topic.endswith(f"{DEVICE}/status"):
                self.status = payload
            elif topic.endswith(f"{DEVICE}/tele/state"):
                self.telemetry = payload
            elif topic.endswith(f"{DEVICE}/event/sale"):
                self.deliveries += 1
                self.sale_events[payload["event_id"]] = payload["data"]["receipt"]
        self.watcher.seen.clear()

    def wait(self, what: str, condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.listen()
            if condition():
                return True
            time.sleep(0.5)
        print(f"  (gave up waiting for {what} after {timeout_s:.0f} s)", flush=True)
        return False

    def online_after(self, session: int, timeout_s: float = STEP_TIMEOUT_S) -> bool:
        return self.wait(
            f"online, session > {session}",
            lambda: (
                self.status.get("state") == "online" and self.status.get("session", 0) > session
            ),
            timeout_s,
        )

    def command(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self.watcher.command(DEVICE, name, args)
        except AssertionError as exc:
            return {"ok": False, "error": str(exc)[:200]}

    def listed(self) -> bool:
        done = self.fleet("list", "--json")
        boxes = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else []
        return any(b["device"] == DEVICE and b.get("state") == "online" for b in boxes)

    def fleet(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`comptoir fleet ARGS` as the admin, on this machine's broker."""
        return subprocess.run(
            [sys.executable, "-m", "appliance", "fleet", *args],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=REPO,
            env={
                **os.environ,
                "COMPTOIR_FLEET_URL": self.broker.url,
                "COMPTOIR_FLEET_USERNAME": "comptoir-admin",
                "COMPTOIR_FLEET_PASSWORD_FILE": str(self.admin_file),
            },
        )


class Clock:
    """Seconds since power on, each step noted once when its condition first holds."""

    def __init__(self, box: Box) -> None:
        self.box = box
        self.seen: dict[str, float] = {}

    def note(self, step: str, condition: Callable[[], bool]) -> None:
        if step not in self.seen and condition():
            self.seen[step] = time.monotonic() - self.box.booted_at
            print(f"  {self.seen[step]:6.1f} s  {step}", flush=True)


def floor(image: testimage.TestImage, work: Path) -> float:
    """The same VM to multi-user.target with the Comptoir units masked."""
    masked = " ".join(f"systemd.mask={unit}.service" for unit in COMPTOIR_UNITS)
    with Box(image, work / "floor") as box:
        box.boot(append=masked)
        while box.shell("systemctl is-active multi-user.target")[1].strip() != "active":
            time.sleep(0.5)
        seconds = time.monotonic() - box.booted_at
        box.shutdown()
    return seconds


AdminT = TypeVar("AdminT", bound=Admin)


@dataclass
class Fleet(Generic[AdminT]):
    """What a box of either image run reaches once booted: its fleet's broker (with the box's and
    an admin's identities) and the fake marketplace, through these forwards."""

    admin: AdminT
    box_password: str
    forwards: list[Forward]


@contextmanager
def fleet_and_market(
    work: Path, client_id: str, admin_class: type[AdminT]
) -> Iterator[Fleet[AdminT]]:
    """The fleet broker and the marketplace on 127.0.0.1 for one run, stopped at its end."""
    box_identity = new_identity(DEVICE)
    admin_identity = new_identity("comptoir-admin", admin=True)
    admin_file = work / "admin.mqtt-password"
    write_password_file(admin_file, admin_identity)
    broker = Mosquitto(work / "broker", identities=(box_identity, admin_identity), persistent=True)
    broker.start()
    try:
        with serve(seed.demo()) as market_url:
            forwards = [
                Forward(BROKER_IP, 1883, broker.port),
                Forward(MARKET_IP, 8080, int(market_url.rsplit(":", 1)[1])),
            ]
            watcher = Watcher(broker, admin_identity, client_id=client_id).ready()
            try:
                yield Fleet(
                    admin_class(broker, watcher, admin_file), box_identity.password, forwards
                )
            finally:
                watcher.close()
    finally:
        broker.stop()


def main(argv: list[str]) -> int:
    """`--first-boot`: the floor and the first boot only (its times and checks, ~5 minutes),
    to try a change to the boot before the whole run; `--then=STEP`: the first boot and one of
    LATER_STEPS."""
    first_only = "--first-boot" in argv
    then = next((a.removeprefix("--then=") for a in argv if a.startswith("--then=")), None)
    if then is not None and then not in LATER_STEPS:
        print(f"--then: one of {', '.join(LATER_STEPS)}, not {then!r}", file=sys.stderr)
        return 2
    require_tools()
    # A stop (Ctrl-C, a timeout's SIGTERM) still kills the VM and the broker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report()
    image = testimage.build()
    with tempfile.TemporaryDirectory(prefix="comptoir-smoke-") as tmp:
        work = Path(tmp)
        with fleet_and_market(work, "smoke-admin", Admin) as fleet:
            fleet.admin.watcher.publish(
                f"comptoir/v1/{DEVICE}/config/desired",
                {"version": 1, "settings": {"mqtt.telemetry_period_s": TELEMETRY_PERIOD_S}},
                retain=True,
            )
            steps = [] if first_only else [then] if then else list(LATER_STEPS)
            scenario(image, work, fleet.admin, fleet.forwards, fleet.box_password, report, steps)
    report.print()
    return 1 if report.failed else 0


def scenario(
    image: testimage.TestImage,
    work: Path,
    fleet: Admin,
    forwards: list[Forward],
    password: str,
    report: Report,
    steps: list[str],
) -> None:
    bare = floor(image, work)
    print(f"bare boot to multi-user.target after {bare:.1f} s", flush=True)
    with Box(image, work / "box", forwards=list(forwards)) as box:
        box.write_card(card(password))
        first_boot(box, fleet, bare, report)
        for step in steps:
            LATER_STEPS[step](box, fleet, password, report)


def first_boot(box: Box, fleet: Admin, bare: float, report: Report) -> None:
    clock = Clock(box)
    box.boot()
    report.add("accelerator", box.accelerator.upper())
    steps = {
        "comptoir-provision done": lambda: (
            box.shell("systemctl is-active comptoir-provision")[1].strip() in ("active", "failed")
        ),
        "agent online on the broker": lambda: fleet.status.get("state") == "online",
        "box in fleet list": fleet.listed,
        "first catalogue sync done": lambda: fleet.telemetry.get("sync", {}).get("state") == "ok",
        "kiosk up, heartbeat fresh": lambda: (
            fleet.telemetry.get("processes", {}).get("kiosk", {}).get("state") == "alive"
        ),
    }
    last_list = 0.0
    while len(clock.seen) < len(steps) and time.monotonic() - box.booted_at < STEP_TIMEOUT_S:
        fleet.listen()
        for step, condition in steps.items():
            if step == "box in fleet list":
                if time.monotonic() - last_list < 2:
                    continue
                last_list = time.monotonic()
            clock.note(step, condition)
        time.sleep(0.5)
    for step in steps:
        seen = clock.seen.get(step)
        report.add(step, f"{seen:.1f} s" if seen is not None else "never", seen is not None)
    report.add("bare boot to multi-user.target (floor)", f"{bare:.1f} s")
    listed = clock.seen.get("box in fleet list")
    if listed is not None:
        print(f"box {DEVICE} in fleet list after {listed:.1f} s", flush=True)
        ratio = listed / bare
        report.add(
            f"fleet list / floor (goal <= {GOAL_RATIO})", f"{ratio:.2f}", ratio <= GOAL_RATIO
        )
        report.add(
            f"fleet list under {GOAL_S:.0f} s",
            f"{listed:.1f} s on {box.accelerator.upper()}",
            listed <= GOAL_S if box.accelerator == "kvm" else None,
        )
    answer = fleet.command("ping")
    report.add("ping command answers over MQTT", str(answer.get("ok")), bool(answer.get("ok")))
    telemetry = fleet.telemetry
    report.add("telemetry arrives", "yes" if telemetry else "no", bool(telemetry))
    # No NTP server is reachable from the VM: a warning, the box stays online.
    clock_state = telemetry.get("clock", "missing")
    warned = any("clock" in w for w in telemetry.get("warnings", []))
    report.add(
        "unsynced clock: online, with a warning",
        f"{clock_state}, {fleet.status.get('state')}",
        clock_state == "unsynced" and warned and fleet.status.get("state") == "online",
    )
    status = fleet.command("status").get("result", {})
    files = status.get("etc_files", [])
    private = bool(files) and all((f["mode"], f["owner"]) == ("600", "comptoir") for f in files)
    names = ",".join(f["name"] for f in files)
    report.add("status: /etc/comptoir all 600 comptoir", names or "no answer", private)
    journal = status.get("journal", {})
    report.add(
        "status: journal verify", f"{journal.get('entries')} entries", bool(journal.get("ok"))
    )
    data_partition(box, report)
    where_the_time_went(box)


def where_the_time_went(box: Box) -> None:
    """The guest's own view of the first boot, printed for the boot ratio's analysis."""
    units = ("comptoir-data-partition.service", "var-lib-comptoir.mount", "network-online.target",
             *(f"{unit}.service" for unit in COMPTOIR_UNITS))  # fmt: skip
    for name in units:
        started = box.guest_seconds(name, "InactiveExitTimestampMonotonic")
        active = box.guest_seconds(name)
        print(f"  guest: {name:<32} started {started:6.1f} s, active {active:6.1f} s", flush=True)
    for command in (
        "systemd-analyze critical-chain --no-pager comptoir-agent.service",
        "systemd-analyze blame --no-pager | head -15",
    ):
        print(f"  guest$ {command}\n{box.shell(command)[1]}", flush=True)


def data_partition(box: Box, report: Report) -> str:
    """The card came without a data partition: the first boot made it and mounted it."""
    _, mounted = box.shell("findmnt -n -o SOURCE,LABEL,SIZE,OPTIONS /var/lib/comptoir")
    fields = mounted.split()
    options = fields[3].split(",") if len(fields) == 4 else []
    took = box.guest_seconds("comptoir-data-partition") - box.guest_seconds(
        "comptoir-data-partition", "InactiveExitTimestampMonotonic"
    )
    _, fstab = box.shell("findmnt --fstab -n -o OPTIONS /var/lib/comptoir")
    ok = (
        fields[1:2] == ["comptoir-data"]
        and all(o in options for o in DATA_OPTIONS)
        and "commit=5" in fstab.split(",")
    )
    report.add(
        "first boot made the data partition, mounted",
        f"{' '.join(fields[:3])} in {took:.1f} s" if ok else (mounted or "not mounted"),
        ok,
    )
    _, root = box.shell("findmnt -n -o SIZE /")
    report.add("root grown to its fixed size", root.strip())
    return box.shell("sfdisk --dump /dev/vda")[1]


def second_boot(box: Box, fleet: Admin, password: str, report: Report) -> None:
    """Switched off and on with the same card: nothing provisioned or partitioned again."""
    _, before = box.shell("stat -c %Y /etc/comptoir/comptoir.toml")
    _, table = box.shell("sfdisk --dump /dev/vda")
    box.shutdown()
    after = box.read_card()
    gone = password not in after and seed.DEMO_KEY not in after
    report.add("secrets gone from the FAT (mtools)", str(gone), gone)
    session = fleet.status.get("session", 0)
    box.boot()
    online = fleet.online_after(session)
    _, said = box.shell("journalctl -b -u comptoir-provision -o cat --no-pager | grep 'nothing'")
    _, now = box.shell("stat -c %Y /etc/comptoir/comptoir.toml")
    unchanged = "nothing to do" in said and now == before
    report.add(
        "second boot, same card: not provisioned again",
        "nothing to do, toml untouched" if unchanged else (said or "?")[-40:],
        unchanged and online,
    )
    _, ran = box.shell("systemctl show -p ConditionResult --value comptoir-data-partition")
    _, label = box.shell("findmnt -n -o LABEL /var/lib/comptoir")
    same = ran.strip() == "no" and box.shell("sfdisk --dump /dev/vda")[1] == table
    report.add(
        "second boot: data partition not made again",
        f"skipped, table unchanged, {label.strip() or 'not'} mounted" if same else "ran again",
        same and label.strip() == "comptoir-data",
    )


def hung_agent(box: Box, fleet: Admin, report: Report) -> None:
    """The agent's main loop stops (SIGSTOP): systemd's watchdog kills and restarts it."""
    _, pid = box.shell("systemctl show -p MainPID --value comptoir-agent")
    _, restarts = box.shell("systemctl show -p NRestarts --value comptoir-agent")
    session = fleet.status.get("session", 0)
    started = time.monotonic()
    box.shell(f"kill -STOP {pid.strip()}")
    back = fleet.online_after(session, timeout_s=240)
    seconds = time.monotonic() - started
    _, said = box.shell(
        "journalctl -b -u comptoir-agent -o cat --no-pager | grep -i watchdog | tail -1"
    )
    _, now = box.shell("systemctl show -p NRestarts --value comptoir-agent")
    restarted = back and "watchdog" in said.lower() and int(now or 0) > int(restarts or 0)
    report.add(
        "hung agent restarted by the watchdog", f"online again after {seconds:.0f} s", restarted
    )


def power_cut(box: Box, fleet: Admin, moment: str, report: Report) -> None:
    """SIGKILL QEMU while the shop sells; after the next boot nothing paid is lost or doubled."""
    shop_sells(box)
    frozen = fleet.broker.process if "unreachable" in moment else None
    if frozen:
        frozen.send_signal(signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 240
        while len(_sold(box)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(0.5 if "0.5 s" in moment else 2.0)
        acked = _sold(box)
        session = fleet.status.get("session", 0)
        box.power_cut()
    finally:
        if frozen:
            frozen.send_signal(signal.SIGCONT)
    box.boot()
    online = fleet.online_after(session)
    delivered = fleet.wait(
        "the outbox delivered", lambda: _status(fleet).get("outbox", {}).get("pending") == 0, 180
    )
    status = _status(fleet)
    sales = status.get("sales", {})
    fleet.listen()
    receipts_at_admin = set(fleet.sale_events.values())
    intact = (
        online
        and delivered
        and status.get("journal", {}).get("ok") is True
        and sales.get("approved_without_sale") == 0
        and sales.get("sales") == sales.get("last_receipt") == sales.get("sale_events")
        and set(acked) <= receipts_at_admin
        and len(fleet.sale_events) == sales.get("sales")
    )
    report.add(
        f"power cut {moment}",
        f"{len(acked)} acked, {sales.get('sales')} sales, {len(fleet.sale_events)} at admin, "
        f"journal {status.get('journal', {}).get('entries')}",
        intact,
    )


def shop_sells(box: Box) -> None:
    """The simulated shop (SHOP) selling in the background until the next boot."""
    script = base64.b64encode(SHOP.encode()).decode()
    box.shell(f"echo {script} | base64 -d > /run/shop.sh && bash /run/shop.sh")


def power_cuts(box: Box, fleet: Admin, password: str, report: Report) -> None:
    for moment in ("2 s into a sale", "with the broker unreachable", "0.5 s into a sale"):
        power_cut(box, fleet, moment, report)


def data_missing(box: Box, fleet: Admin, password: str, report: Report) -> None:
    """A later boot where the data partition does not mount (its label gone, as after damage):
    no Comptoir unit starts on the root beneath it; mounted again, the box has all its sales."""
    shop_sells(box)
    deadline = time.monotonic() + 240
    while len(_sold(box)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    box.shell("pkill -f /run/shop.sh; while pgrep -f 'sales simulate'; do sleep 0.5; done")
    before = _status(fleet).get("sales", {}).get("sales")
    _, device = box.shell("findmnt -n -o SOURCE /var/lib/comptoir")
    box.shell(f"e2label {device.strip()} comptoir-lost")
    box.shutdown()
    box.boot()
    # The mount waits for its device (90 s) before it fails; the units are ordered after it.
    _, state = box.shell("systemctl is-system-running --wait", timeout_s=300)
    asserted = {}
    for unit in COMPTOIR_UNITS:
        asserted[unit] = box.shell(f"systemctl show -p AssertResult --value {unit}")[1].strip()
    _, beneath = box.shell("ls -A /var/lib/comptoir")
    refused = all(result == "no" for result in asserted.values()) and beneath.split() == [UNMOUNTED]
    report.add(
        "data partition not mounted: no unit starts",
        f"{state.strip()}, root's data dir: {beneath.strip() or 'empty'}"
        if refused
        else ", ".join(f"{unit} assert {result or '?'}" for unit, result in asserted.items()),
        refused,
    )
    box.shell(f"e2label {device.strip()} {DATA_LABEL}")
    session = fleet.status.get("session", 0)
    box.shutdown()
    box.boot()
    online = fleet.online_after(session)
    after = _status(fleet).get("sales", {}).get("sales")
    report.add(
        "mounted again: back online with every sale",
        f"{after} sales, {before} before",
        online and bool(before) and after == before,
    )


def first_boot_cuts(box: Box, fleet: Admin, password: str, report: Report) -> None:
    """Fresh cards losing power at their first boot as the data partition is made: just after
    its file system, and just after the old data's copy. The next boot finishes the step."""
    box.shutdown()
    fleet.wait("the box offline", lambda: fleet.status.get("state") == "offline", 60)
    for number, said in enumerate(CUT_AFTER):
        with Box(box.image, box.workdir.parent / f"cut-{number}", list(box.forwards)) as fresh:
            fresh.write_card(card(password))
            fresh.boot(until=f"comptoir-data-partition: {said}")
            fresh.power_cut()
            fresh.boot()
            online = fleet.online_after(0)
            _, label = fresh.shell("findmnt -n -o LABEL /var/lib/comptoir")
            _, step = fresh.shell("journalctl -b -u comptoir-data-partition -o cat --no-pager")
            journal = _status(fleet).get("journal", {})
            whole = online and label.strip() == DATA_LABEL and "done:" in step and journal.get("ok")
            report.add(
                f"power cut at the first boot after '{said}'",
                f"resumed, {label.strip() or 'nothing'} mounted, "
                f"{'online' if online else 'offline'}, journal {journal.get('ok')}",
                bool(whole),
            )
            fresh.shutdown()
            fleet.wait("the box offline", lambda: fleet.status.get("state") == "offline", 60)


def _sold(box: Box) -> list[int]:
    """Receipts the shop acknowledged on the serial console (since this boot)."""
    text = box.console.read_text(errors="replace")
    return [r for m in SOLD.finditer(text) for r in json.loads(m[1]).get("receipts", [])]


def _status(fleet: Admin) -> dict[str, Any]:
    return fleet.command("status").get("result", {})


def bad_card(box: Box, fleet: Admin, password: str, report: Report) -> None:
    """The installer adds a wrong line: the box stays up on its settings and names the line."""
    box.shutdown()
    text = box.read_card() + f"{BAD_LINE}\n"
    line = text.count("\n")
    box.write_card(text)
    session = fleet.status.get("session", 0)
    box.boot()
    named = f"line {line}: unknown key 'hub'"
    up = fleet.wait(
        "the alert naming the line",
        lambda: (
            fleet.status.get("session", 0) > session
            and any(named in reason for reason in fleet.status.get("reasons", []))
        ),
        STEP_TIMEOUT_S,
    )
    _, journal = box.shell("journalctl -b -u comptoir-provision -o cat --no-pager")
    report.add("bad card line: named over MQTT", named if up else "not heard", up)
    report.add("bad card line: named in journalctl", str(named in journal), named in journal)
    box.shutdown()


LATER_STEPS: dict[str, Callable[[Box, Admin, str, Report], None]] = {
    "second-boot": second_boot,
    "hung-agent": lambda box, fleet, _password, report: hung_agent(box, fleet, report),
    "power-cuts": power_cuts,
    "data-missing": data_missing,
    "bad-card": bad_card,
    "first-boot-cuts": first_boot_cuts,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
