"""The one install step, the two images that run it and the units they install: fast checks of
the scripts and files (`make image-smoke` boots the real thing)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from appliance.provisioning import KNOWN_KEYS, read_card
from tests.found import found
from tests.image import security, testimage

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image"
PROCESSES = ("kiosk", "agent", "web")


class _CaseSensitive(configparser.ConfigParser):
    """systemd keys are case-sensitive; configparser lowercases them by default."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def unit(name: str) -> configparser.ConfigParser:
    parser = _CaseSensitive(strict=False, interpolation=None)
    parser.read(REPO / "systemd" / name, encoding="utf-8")
    return parser


def test_the_example_card_names_every_key_and_filled_in_it_is_a_valid_box() -> None:
    example = (IMAGE / "comptoir.txt.example").read_text(encoding="utf-8")
    commented = re.findall(r"^# (\w+) = ", example, flags=re.MULTILINE)
    assert sorted(commented) == sorted(KNOWN_KEYS)
    assert read_card(example.replace("# device_id", "device_id").encode()).device_id


def test_every_image_script_is_valid_bash_strict_and_executable() -> None:
    scripts = sorted(IMAGE.rglob("*.sh"))
    assert {p.name for p in scripts} >= {"build.sh", "bundle.sh", "install.sh", "01-run.sh"}
    for script in scripts:
        checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script}: {checked.stderr}"
        assert "set -euo pipefail" in script.read_text()
        assert os.access(script, os.X_OK), f"{script.name} must be executable"


def test_both_images_run_the_one_install_step() -> None:
    stage = (IMAGE / "stage-comptoir" / "00-comptoir" / "01-run.sh").read_text()
    assert "image/install.sh --target pi" in stage
    builder = (REPO / "tests" / "image" / "testimage.py").read_text()
    assert "/tmp/comptoir-bundle/image/install.sh --target test" in builder
    # Nothing else installs packages, users or units into either image.
    assert not list((IMAGE / "stage-comptoir").rglob("*-packages*"))
    assert "systemctl enable" not in stage and "useradd" not in stage


def test_the_test_image_initramfs_is_told_the_root_is_ext4_before_the_kernel_comes(
    tmp_path: Path,
) -> None:
    """Without it the initramfs has no fsck and a power-cut root is mounted unchecked."""
    builder = (REPO / "tests" / "image" / "testimage.py").read_text()
    # The essential hook runs before the --include packages, the kernel's initramfs among them.
    assert 'f"--essential-hook={INITRAMFS_FSCK}"' in builder
    subprocess.run(["sh", "-c", testimage.INITRAMFS_FSCK, "exec", str(tmp_path)], check=True)
    conf = tmp_path / "etc" / "initramfs-tools" / "conf.d" / "comptoir-root-fsck"
    told = subprocess.run(
        ["sh", "-c", '. "$1" && echo "$FSTYPE"', "sh", str(conf)], capture_output=True, text=True
    )
    assert told.stdout.strip() == "ext4"
    assert '"mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL' in builder
    assert "LABEL={ROOT_LABEL} / ext4 " in builder


def test_the_install_step_puts_the_first_release_where_updates_expect_it() -> None:
    script = (IMAGE / "install.sh").read_text()
    assert "venv=$home/releases/$release/venv" in script and "home=/opt/comptoir" in script
    assert re.search(r'ln -sfn "releases/\$release" "\$home/current.new"', script)
    assert "--require-hashes" in script and "image/constraints.txt" in script
    enabled = found(re.search(r"^systemctl enable (.+(?:\n\t.+)*)$", script, flags=re.MULTILINE))
    # Every unit that says where it belongs; comptoir-update is started on demand only.
    units = {
        p.name
        for p in (REPO / "systemd").glob("comptoir-*.service")
        if "[Install]" in p.read_text()
    }
    assert units <= set(enabled.group(1).replace("\\\n", " ").split())


def test_the_install_step_refuses_to_guess_its_target() -> None:
    done = subprocess.run(
        ["bash", str(IMAGE / "install.sh")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "--target pi or --target test" in done.stderr


def test_the_first_release_is_named_by_its_version_so_updates_can_compare_it() -> None:
    """A build name (0.1.0-1a2b3c4d, as the images once had) made every update fail: the box
    could not tell a downgrade from its running release's name."""
    done = subprocess.run(
        ["bash", str(IMAGE / "install.sh"), "--target", "test", "--release", "0.1.0-1a2b3c4d"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "is not a release version" in done.stderr
    assert "release_name=$package_version\n" in (IMAGE / "build.sh").read_text()


def test_the_lock_pins_every_package_with_hashes_and_kivy_2_3_1_or_newer() -> None:
    lock = (IMAGE / "constraints.txt").read_text()
    assert "make lock" in lock.splitlines()[1]
    pins = re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", lock, flags=re.MULTILINE)
    names = {name for name, _ in pins}
    assert {"flask", "paho-mqtt", "kivy", "pyserial", "gpiozero", "waitress"} <= names
    kivy = tuple(int(part) for part in dict(pins)["kivy"].split(".")[:3])
    assert kivy >= (2, 3, 1)
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2].strip())
    assert all("--hash=sha256:" in block for block in blocks)


def test_the_pi_gen_config_builds_the_comptoir_stage_in_french() -> None:
    assigned = subprocess.run(
        [
            "bash",
            "-c",
            f"set -eu; source {shlex.quote(str(IMAGE / 'config'))}; "
            'echo "$IMG_NAME|$STAGE_LIST|$LOCALE_DEFAULT"',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    name, stages, locale = assigned.split("|")
    assert name == "comptoir" and locale == "fr_FR.UTF-8"
    assert stages.split()[-1] == "stage-comptoir"
    assert (IMAGE / "stage-comptoir" / "EXPORT_IMAGE").exists()


def test_pi_gen_is_pinned_by_tag_and_commit_for_trixie_and_bookworm() -> None:
    build = (IMAGE / "build.sh").read_text()
    pins = dict(re.findall(r'^PI_GEN_(\w+)="(\S+ [0-9a-f]{40})"$', build, flags=re.MULTILINE))
    assert set(pins) == {"TRIXIE", "BOOKWORM"}
    assert pins["TRIXIE"].startswith("2026-06-18-raspios-trixie-arm64 ca8aeed")
    assert pins["BOOKWORM"].startswith("2026-06-18-raspios-bookworm-arm64 d7a31c6")
    assert "release=trixie" in build  # the current Raspberry Pi OS is the default


def test_the_provision_unit_runs_once_before_the_others_when_a_card_is_there() -> None:
    provision_unit = unit("comptoir-provision.service")
    assert provision_unit["Service"]["Type"] == "oneshot"
    assert provision_unit["Service"]["ExecStart"] == (
        "/opt/comptoir/current/venv/bin/comptoir provision --boot /boot/firmware"
    )
    assert provision_unit["Unit"]["ConditionPathExists"] == "/boot/firmware/comptoir.txt"
    # It writes the config, takes the secrets off the card, and makes the box's keys once in
    # the data directory: under ProtectSystem=strict each must be listed, or the first boot fails.
    writable = set(provision_unit["Service"]["ReadWritePaths"].split())
    assert writable == {"/etc/comptoir", "/boot/firmware", "/var/lib/comptoir"}
    before = set(provision_unit["Unit"]["Before"].split())
    assert before == {f"comptoir-{name}.service" for name in PROCESSES}
    # Before= without Requires=: a bad card fails this unit only, the box stays up.
    for name in PROCESSES:
        assert "comptoir-provision" not in unit(f"comptoir-{name}.service")["Unit"].get(
            "Requires", ""
        )


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_unit_runs_the_current_release_watched_and_restarted(process: str) -> None:
    service = unit(f"comptoir-{process}.service")
    assert service["Service"]["ExecStart"] == (
        f"/opt/comptoir/current/venv/bin/comptoir --log-level INFO {process}"
    )
    assert service["Service"]["Type"] == "notify"
    assert int(service["Service"]["WatchdogSec"]) > 0
    assert service["Service"]["Restart"] == "always"
    assert int(service["Unit"]["StartLimitBurst"]) > 0
    assert service["Service"]["User"] == "comptoir"
    assert service["Service"]["UMask"] == "0077"
    # The agent installs the releases of an update beside the running one (docs/updates.md).
    writable = "/var/lib/comptoir /opt/comptoir" if process == "agent" else "/var/lib/comptoir"
    assert service["Service"]["ReadWritePaths"] == writable
    assert service["Install"]["WantedBy"] == "multi-user.target"


def test_the_kiosk_reaches_only_its_own_devices() -> None:
    service = unit("comptoir-kiosk.service")
    allowed = re.findall(
        r"^DeviceAllow=(\S+)",
        (REPO / "systemd" / "comptoir-kiosk.service").read_text(),
        flags=re.MULTILINE,
    )
    assert service["Service"]["DevicePolicy"] == "closed"
    assert set(allowed) == {
        "char-ttyUSB", "char-ttyACM", "char-ttyAMA", "/dev/tty1", "char-usb",
        "char-usb_device", "char-gpiochip", "char-drm", "char-input", "char-alsa",
    }  # fmt: skip


def test_every_unit_meets_its_hardening_goal() -> None:
    scores = security.scores()
    assert {s.unit for s in scores} == {p.name for p in (REPO / "systemd").glob("*.service")}
    above = [f"{s.unit} {s.exposure} > {s.goal}" for s in scores if not s.ok]
    assert not above, above
