"""`make image-update-smoke`: an update and a rollback inside the booted QEMU test image.

The remote admin, over MQTT only (a real mosquitto on 127.0.0.1, reached from the VM through
guestfwd), sends the box three `update` commands, each bundle served by `comptoir release
serve`'s HTTPS server on 127.0.0.1 (guestfwd too; its certificate made here for the address the
box dials): a bundle whose manifest was changed after signing (refused, nothing on the box
touched), a good signed bundle of this checkout at a bumped version for the image's Python and
architecture (downloaded, installed beside the running release, switched, the real systemd
units restarted on it, the health gate passed, the fleet sees the version), then a signed
release whose agent exits at start (installed and switched, the gate fails, the box goes back
to the good release by itself under systemd and says why). Prints a table of every step with
its time since the command. Root, about 20 minutes under TCG, two bundles built once (cached).
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.release.bundle import MANIFEST, sha256_of
from tests.agent_support import make_tls
from tests.image import testimage
from tests.image.smoke import DEVICE, Admin, Report, card, fleet_and_market
from tests.image.vm import Box, Forward, require_tools
from tests.release_support import AGENT_EXITS, NEXT, bundle, file_server, make_keys, rewritten

FILES_IP, FILES_PORT = "10.0.2.102", 8443
BROKEN = f"{__version__}.2"
#: The glibc of each Debian release the test image can be (the box's wheel platform).
GLIBC = {"trixie": "2_41", "bookworm": "2_36"}
HEALTH_S = 30
UPDATE_TIMEOUT_S = 1500.0  # a 57 MB install of 46 wheels on one emulated core
TERMINAL = ("succeeded", "rolled_back", "failed")
ETC = "/etc/comptoir"
# What the image would carry for its fleet (the co-op's release key and its file server's CA),
# and a short health gate; written as root through the harness shell, then the agent restarted.
SETUP = f"""
set -e
install -o comptoir -g comptoir -m 600 /dev/stdin {ETC}/release.pub <<'KEY'
{{public}}
KEY
install -o comptoir -g comptoir -m 600 /dev/stdin {ETC}/files-ca.crt <<'CA'
{{ca}}
CA
grep -q '^\\[updates\\]' {ETC}/comptoir.toml || cat >> {ETC}/comptoir.toml <<'TOML'

[updates]
ca_file = "{ETC}/files-ca.crt"
health_s = {HEALTH_S}
keep_free_mb = 50
TOML
systemctl restart comptoir-agent
"""


@dataclass
class UpdateAdmin(Admin):
    """The admin of smoke.py who also follows the box's `update_state` events."""

    states: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def listen(self) -> None:
        for topic, payload, _retained in list(self.watcher.drain()):
            if topic.endswith(f"{DEVICE}/event/update_state") and isinstance(payload, dict):
                self.states.append((time.monotonic(), payload["data"]))
        super().listen()

    def update(self, job: str, path: Path, version: str, url: str) -> tuple[float, dict[str, Any]]:
        """Send `update` and follow the job to its end; (the time it was sent, its answer)."""
        self.listen()
        self.states.clear()
        args = {"url": url, "sha256": sha256_of(path), "version": version, "health_s": HEALTH_S}
        sent = time.monotonic()
        answer = self._send(job, args)
        self.wait(
            f"job {job} to end",
            lambda: any(s["job"] == job and s["state"] in TERMINAL for _, s in self.states),
            UPDATE_TIMEOUT_S,
        )
        return sent, answer

    def _send(self, job: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.watcher.command(DEVICE, "update", args, id=job)
        except AssertionError as exc:
            return {"ok": False, "error": str(exc)[:200]}

    def end(self, job: str) -> dict[str, Any]:
        ends = [s for _, s in self.states if s["job"] == job and s["state"] in TERMINAL]
        return ends[-1] if ends else {}

    def releases(self) -> dict[str, Any]:
        done = self.fleet("releases", "--json")
        boxes = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else []
        return next((b for b in boxes if b.get("device") == DEVICE), {})


def main() -> int:
    require_tools()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report(title="image-update-smoke")
    image = testimage.build()
    keys = make_keys()
    platform = f"manylinux_{GLIBC[testimage.DEBIAN]}_x86_64"
    python = testimage.PYTHON_VERSION[testimage.DEBIAN]
    started = time.monotonic()
    good = bundle(keys, NEXT, platform=platform, python=python)
    broken = bundle(keys, BROKEN, AGENT_EXITS, platform=platform, python=python)
    report.add("bundles (built or cached)", f"{time.monotonic() - started:.0f} s")
    with tempfile.TemporaryDirectory(prefix="comptoir-update-smoke-") as tmp:
        work = Path(tmp)
        files = work / "files"
        files.mkdir()
        for path in (good, broken):
            shutil.copy(path, files / path.name)
        forged = rewritten(good, files / f"forged-{good.name}", _forge)
        tls = make_tls(work / "tls", f"IP:{FILES_IP}")
        with (
            fleet_and_market(work, "update-smoke-admin", UpdateAdmin) as fleet,
            file_server(files, tls) as server,
        ):
            forwards = [*fleet.forwards, Forward(FILES_IP, FILES_PORT, server.server_address[1])]
            admin = fleet.admin
            with Box(image, work / "box", forwards=forwards) as box:
                box.write_card(card(fleet.box_password))
                prepare(box, admin, keys.public, tls["ca"], report)
                url = f"https://{FILES_IP}:{FILES_PORT}/"
                refused(box, admin, forged, url + forged.name, report)
                updated(box, admin, good, url + good.name, report)
                rolled_back(box, admin, broken, url + broken.name, report)
    report.print()
    return 1 if report.failed else 0


def _forge(name: str, data: bytes) -> bytes:
    """The manifest changed after it was signed (its notes): the signature no longer holds."""
    if name != MANIFEST:
        return data
    manifest = json.loads(data)
    manifest["notes"] = "changed on the way"
    return json.dumps(manifest, sort_keys=True).encode()


def prepare(box: Box, fleet: UpdateAdmin, public: Path, ca: Path, report: Report) -> None:
    box.boot()
    report.add("accelerator", box.accelerator.upper())
    online = fleet.online_after(0)
    report.add(
        "box online on the broker", f"after {time.monotonic() - box.booted_at:.0f} s", online
    )
    session = fleet.status.get("session", 0)
    script = SETUP.format(public=public.read_text().strip(), ca=ca.read_text().strip())
    encoded = base64.b64encode(script.encode()).decode()
    code, out = box.shell(f"echo {encoded} | base64 -d > /run/setup.sh && bash /run/setup.sh", 120)
    back = code == 0 and fleet.online_after(session)
    report.add(
        "release key and files CA in /etc/comptoir", "agent restarted" if back else out, back
    )


def box_state(box: Box) -> dict[str, str]:
    """What an update changes on the box, read as root from inside."""
    _, current = box.shell("readlink /opt/comptoir/current")
    _, releases = box.shell("ls /opt/comptoir/releases | tr '\\n' ' '")
    _, downloads = box.shell("ls /opt/comptoir/downloads 2>/dev/null | tr '\\n' ' '")
    _, agent = box.shell("systemctl show -p MainPID --value comptoir-agent")
    return {
        "current": current.strip(),
        "releases": releases.strip(),
        "downloads": downloads.strip(),
        "agent": agent.strip(),
    }


def free_mb(box: Box) -> str:
    _, out = box.shell("df -m --output=avail /opt/comptoir | tail -1")
    return f"{out.strip()} MB"


def steps(fleet: UpdateAdmin, job: str, sent: float, report: Report, label: str) -> None:
    """One row per state the fleet saw for the job, with its time since the command."""
    seen: dict[str, tuple[float, dict[str, Any]]] = {}
    for at, state in fleet.states:
        if state["job"] == job:
            key = state["state"] + (f" {state['percent']}%" if state.get("percent") else "")
            seen.setdefault(key, (at, state))
    for key, (at, state) in seen.items():
        if key.startswith("downloading") and key not in ("downloading", "downloading 100%"):
            continue
        reason = f" ({state['reason'][:90]})" if state.get("reason") else ""
        report.add(f"{label}: {key}", f"{at - sent:6.1f} s{reason}")


def refused(box: Box, fleet: UpdateAdmin, forged: Path, url: str, report: Report) -> None:
    before = box_state(box)
    sent, answer = fleet.update("upd-forged", forged, NEXT, url)
    steps(fleet, "upd-forged", sent, report, "forged")
    end = fleet.end("upd-forged")
    after = box_state(box)
    report.add(
        "forged bundle refused: bad signature",
        end.get("reason", "")[:60] or str(answer)[:60],
        end.get("state") == "failed" and "signature" in end.get("reason", ""),
    )
    untouched = after == {**before, "downloads": ""} and before["downloads"] == ""
    report.add("forged: releases, current, agent untouched", after["current"], untouched)


def updated(box: Box, fleet: UpdateAdmin, good: Path, url: str, report: Report) -> None:
    report.add("good: free under /opt/comptoir before", free_mb(box))
    sent, _answer = fleet.update("upd-good", good, NEXT, url)
    steps(fleet, "upd-good", sent, report, "good")
    end = fleet.end("upd-good")
    report.add(
        "good bundle: succeeded", end.get("state", "no end"), end.get("state") == "succeeded"
    )
    state = box_state(box)
    report.add(
        "good: current -> the new release", state["current"], state["current"].endswith(NEXT)
    )
    _, execs = box.shell(
        "for u in kiosk agent web; do readlink -f /proc/$(systemctl show -p MainPID --value "
        "comptoir-$u)/exe >/dev/null; systemctl show -p ActiveState --value comptoir-$u; done "
        "| tr '\\n' ' '"
    )
    report.add("good: units active under systemd", execs, execs.split() == ["active"] * 3)
    fleet.wait("the new version announced", lambda: fleet.status.get("version") == NEXT, 120)
    listed = fleet.releases()
    report.add(
        "good: fleet releases shows the version",
        str(listed.get("version")),
        listed.get("version") == NEXT,
    )


def rolled_back(box: Box, fleet: UpdateAdmin, broken: Path, url: str, report: Report) -> None:
    report.add("broken: free under /opt/comptoir before", free_mb(box))
    sent, _answer = fleet.update("upd-broken", broken, BROKEN, url)
    steps(fleet, "upd-broken", sent, report, "broken")
    end = fleet.end("upd-broken")
    report.add(
        "broken release: rolled_back by itself",
        end.get("reason", end.get("state", "no end"))[:60],
        end.get("state") == "rolled_back",
    )
    state = box_state(box)
    report.add(
        "broken: current -> the good release again",
        state["current"],
        state["current"].endswith(NEXT),
    )
    back = fleet.wait(
        "the agent back as the good version",
        lambda: fleet.status.get("state") == "online" and fleet.status.get("version") == NEXT,
        180,
    )
    report.add(
        "broken: agent online again as the good version", str(fleet.status.get("version")), back
    )
    _, journal = box.shell(
        "journalctl -u comptoir-update -o cat --no-pager | grep -ci 'roll' || true"
    )
    report.add("broken: the updater's rollback in the journal", f"{journal.strip()} lines")


if __name__ == "__main__":
    sys.exit(main())
