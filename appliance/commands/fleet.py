"""`comptoir fleet ...`: the admin's console for the fleet (list, watch, send, config, credentials).

The admin is not a box: the broker settings come from options or the environment
(COMPTOIR_FLEET_URL, _USERNAME, _PASSWORD_FILE, _CA_FILE, _CERT_FILE, _KEY_FILE), never from a
box's comptoir.toml.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from appliance import clock
from appliance.agent import topics
from appliance.agent.console import FleetConsole, Message
from appliance.agent.identity import new_identity, write_password_file
from appliance.agent.link import LinkSettings
from appliance.commands._common import add_json_flag, print_json
from appliance.errors import UsageError

ENV = "COMPTOIR_FLEET_"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fleet", help="watch and command the fleet over MQTT (admin side)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="every box with its state and last seen time")
    _broker_options(listing)
    add_json_flag(listing)
    listing.set_defaults(func=run_list)

    watch = actions.add_parser("watch", help="live events, telemetry, status and results")
    watch.add_argument("device", nargs="?", default="", metavar="ID", help="one box (default all)")
    watch.add_argument("--count", type=int, default=0, help="stop after N messages")
    watch.add_argument(
        "--share",
        metavar="GROUP",
        default="",
        help="join shared subscription GROUP: consumers of one group split the messages",
    )
    _broker_options(watch)
    watch.set_defaults(func=run_watch)

    send = actions.add_parser("send", help="send a command and wait for its result")
    send.add_argument("device", metavar="ID")
    send.add_argument("command", metavar="CMD", help="ping, open_door, restart, get_logs, ...")
    send.add_argument("args", nargs="*", metavar="KEY=VALUE", help="arguments (JSON values)")
    send.add_argument("--timeout", type=float, default=30, metavar="S")
    _broker_options(send)
    send.set_defaults(func=run_send)

    config = actions.add_parser("config", help="change a box's settings (config/desired)")
    config.add_argument("device", metavar="ID")
    config.add_argument(
        "settings", nargs="+", metavar="KEY=VALUE", help="e.g. mqtt.telemetry_period_s=30"
    )
    config.add_argument("--timeout", type=float, default=30, metavar="S")
    _broker_options(config)
    config.set_defaults(func=run_config)

    update = actions.add_parser(
        "update", help="roll a signed bundle out: canaries first, stop after K failures"
    )
    update.add_argument(
        "--bundle",
        required=True,
        metavar="URL",
        help="https:// address of comptoir-<version>.bundle on the file server",
    )
    update.add_argument(
        "--boxes",
        nargs="+",
        required=True,
        metavar="ID",
        help="`all` (every box that announced itself) or device ids",
    )
    update.add_argument(
        "--canary", type=int, default=1, metavar="N", help="boxes updated first, alone (default 1)"
    )
    update.add_argument(
        "--max-failures",
        type=int,
        default=1,
        metavar="K",
        help="stop sending after K failed or rolled-back boxes (default 1)",
    )
    update.add_argument(
        "--parallel",
        type=int,
        default=10,
        metavar="P",
        help="boxes updating at once after the canaries (default 10)",
    )
    update.add_argument("--sha256", help="the bundle's SHA-256 (default: fetch it and compute)")
    update.add_argument("--version", help="the bundle's version (default: read from it)")
    update.add_argument(
        "--files-ca",
        type=Path,
        metavar="FILE",
        help="CA of the file server, to fetch the bundle here",
    )
    update.add_argument("--health-s", type=int, help="health gate on the boxes (default theirs)")
    update.add_argument(
        "--window",
        metavar="HH:MM-HH:MM",
        help="switch only in this local time window, e.g. 21:00-07:00, instead of each box's "
        "[updates] window (00:00-00:00: any time)",
    )
    update.add_argument(
        "--timeout",
        type=float,
        default=3600,
        metavar="S",
        help="give up on a box silent this long after the command",
    )
    _broker_options(update)
    update.set_defaults(func=run_update)

    releases = actions.add_parser("releases", help="which box runs which version, last update")
    _broker_options(releases)
    add_json_flag(releases)
    releases.set_defaults(func=run_releases)

    credentials = actions.add_parser(
        "credentials", help="create a box's broker identity (password file + mosquitto line)"
    )
    credentials.add_argument("device", metavar="DEVICE_ID")
    credentials.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="password file (default DEVICE_ID.mqtt-password)",
    )
    credentials.add_argument("--admin", action="store_true", help="an admin identity, not a box")
    credentials.add_argument("--force", action="store_true", help="replace an existing file")
    credentials.set_defaults(func=run_credentials)


def _broker_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("broker (or environment COMPTOIR_FLEET_*)")
    group.add_argument("--url", help="mqtts://broker:8883 (COMPTOIR_FLEET_URL)")
    group.add_argument("--username", help="admin username (COMPTOIR_FLEET_USERNAME)")
    group.add_argument("--password-file", type=Path, help="(COMPTOIR_FLEET_PASSWORD_FILE)")
    group.add_argument("--ca-file", type=Path, help="broker's CA (COMPTOIR_FLEET_CA_FILE)")
    group.add_argument(
        "--cert-file", type=Path, help="admin's client certificate (COMPTOIR_FLEET_CERT_FILE)"
    )
    group.add_argument("--key-file", type=Path, help="its private key (COMPTOIR_FLEET_KEY_FILE)")


def console(args: argparse.Namespace) -> FleetConsole:
    def pick(name: str) -> Any:
        value = getattr(args, name)
        return value if value is not None else os.environ.get(ENV + name.upper()) or None

    url = pick("url")
    if not url:
        raise UsageError("no broker: pass --url mqtts://broker:8883 or set COMPTOIR_FLEET_URL")
    files = {
        name: Path(value) if (value := pick(name)) else None
        for name in ("password_file", "ca_file", "cert_file", "key_file")
    }
    return FleetConsole(LinkSettings(url=url, username=pick("username") or "", **files))


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE with VALUE read as JSON when it is JSON (30, true, "x"), else as text."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{pair!r} is not KEY=VALUE, for example compartment=12")
        try:
            found[key] = json.loads(raw)
        except json.JSONDecodeError:
            found[key] = raw
    return found


def run_list(args: argparse.Namespace) -> int:
    boxes = console(args).list_boxes()
    if args.json:
        print_json(boxes)
        return 0
    for box in boxes:
        print(
            f"{box['device']:<30} {box.get('state', '?'):<8} session {box.get('session', '?'):<5} "
            f"last seen {clock.console_time(box['ts']) if box.get('ts') else '?'}"
        )
    if not boxes:
        print("no box has announced itself on this broker")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    seen = 0

    def show(message: Message) -> bool:
        nonlocal seen
        device, kind, rest = topics.split(message.topic)
        print(
            f"{device} {kind}{'/' + rest if rest else ''} "
            f"{json.dumps(message.payload, ensure_ascii=False)}",
            flush=True,
        )
        seen += 1
        return not args.count or seen < args.count

    def ready(subscriptions: list[str]) -> None:
        print(f"# watching {' '.join(subscriptions)}", file=sys.stderr, flush=True)

    console(args).watch(args.device, show, share=args.share, ready=ready)
    return 0


def run_send(args: argparse.Namespace) -> int:
    answer = console(args).send(args.device, args.command, parse_pairs(args.args), args.timeout)
    print_json(answer)
    return 0 if answer.get("ok") else 1


def run_config(args: argparse.Namespace) -> int:
    outcome = console(args).configure(args.device, parse_pairs(args.settings), args.timeout)
    print_json(outcome)
    return 1 if outcome["reported"].get("refused") else 0


def run_credentials(args: argparse.Namespace) -> int:
    identity = new_identity(args.device, admin=args.admin)
    output = args.output or Path(f"{args.device}.mqtt-password")
    write_password_file(output, identity, overwrite=args.force)
    print(f"# password for {identity.username} written to {output} (mode 600)", file=sys.stderr)
    print("# add this line to the broker's password_file, then reload mosquitto:", file=sys.stderr)
    print(identity.password_line())
    return 0


def run_update(args: argparse.Namespace) -> int:
    from appliance.release.rollout import Rollout

    fleet = console(args)
    sha256, version = args.sha256, args.version
    if not (sha256 and version):
        sha256, version = _bundle_identity(args.bundle, args.files_ca)
    known = {box["device"]: box for box in fleet.list_boxes()}
    devices = sorted(args.boxes)
    if devices == ["all"]:
        devices = sorted(known)
        if not devices:
            raise UsageError("no box has announced itself on this broker: nothing to update")
    offline = frozenset(d for d in devices if known.get(d, {}).get("state") == "offline")
    if args.canary < 0 or args.max_failures < 0 or args.parallel < 1:
        raise UsageError("--canary and --max-failures are 0 or more, --parallel 1 or more")
    command: dict[str, Any] = {"url": args.bundle, "sha256": sha256, "version": version}
    if args.health_s:
        command["health_s"] = args.health_s
    if args.window:
        command["window"] = args.window
    plan = Rollout(devices, args.canary, args.max_failures, args.parallel, offline)
    table = ProgressTable(sys.stdout)
    print(f"# comptoir {version} to {len(devices)} box(es), {args.canary} canary", flush=True)
    fleet.roll_out(plan, command, timeout_s=args.timeout, show=table.show)
    print(plan.summary(), flush=True)
    return 0 if all(b.state == "succeeded" for b in plan.boxes.values()) else 1


def _bundle_identity(url: str, files_ca: Path | None) -> tuple[str, str]:
    """(SHA-256, version) of the bundle at `url`, fetched once here."""
    import tempfile

    from appliance.release import bundle
    from appliance.release.download import fetch

    with tempfile.TemporaryDirectory() as folder:
        path = fetch(url, Path(folder) / "b.bundle", None, ca_file=files_ca, tries=2)
        with bundle.opened(path) as tar:
            member = tar.extractfile(bundle.MANIFEST)
            if member is None:
                raise UsageError(f"{url} is not a Comptoir bundle (no manifest.json)")
            manifest = bundle.Manifest.from_bytes(member.read())
        return bundle.sha256_of(path), manifest.version


class ProgressTable:
    """Every box's state, redrawn in place on a terminal; one line per change otherwise."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.live = out.isatty()
        self._drawn = 0
        self._last: dict[str, tuple[Any, ...]] = {}

    def show(self, plan: Any) -> None:
        rows = {b.device: (b.state, b.percent, b.reason) for b in plan.boxes.values()}
        if rows == self._last:
            return
        if self.live:
            if self._drawn:
                self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            lines = [f"{'box':<30} {'state':<14} {'%':>4}  reason"]
            lines += [self._line(d, *row) for d, row in rows.items()]
            lines.append(f"-- {plan.summary()}")
            self.out.write("\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            for device, row in rows.items():
                if self._last.get(device) != row and row[0] != "not_sent":
                    self.out.write(self._line(device, *row) + "\n")
        self.out.flush()
        self._last = rows

    @staticmethod
    def _line(device: str, state: str, percent: int | None, reason: str) -> str:
        shown = "" if percent is None else str(percent)
        return f"{device:<30} {state:<14} {shown:>4}  {reason}".rstrip()


def run_releases(args: argparse.Namespace) -> int:
    boxes = console(args).releases()
    if args.json:
        print_json(boxes)
        return 0
    print(f"{'box':<30} {'version':<12} {'state':<8} last update")
    for box in boxes:
        update = box.get("update") or {}
        last = ""
        if update:
            last = f"{update.get('version')} {update.get('state')} {update.get('ts', '')}"
            if update.get("reason"):
                last += f" ({update['reason']})"
        print(
            f"{box['device']:<30} {box.get('version') or '?':<12} "
            f"{box.get('state') or '?':<8} {last}".rstrip()
        )
    if not boxes:
        print("no box has announced itself on this broker")
    return 0
