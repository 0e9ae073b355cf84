"""The QEMU test image: Debian of the Pi image's release with image/install.sh run inside, on a
raw disk assembled without loop devices or mounts, cached by the hash of its inputs.

    python -m tests.image.testimage      build (or find in the cache) and print the paths

Steps: `image/bundle.sh` (the working tree's tracked files, via `git stash create`), mmdebstrap
of Debian with the kernel and `install.sh --target test` run in its chroot, then the disk: an MBR
(sfdisk on a file), a FAT boot partition made with mtools (the Pi's /boot/firmware, with
comptoir.txt.example), an ext4 root made with `mkfs.ext4 -d`, each written into the disk file at
its offset with dd, and free space after them: like a freshly flashed Pi card, the first boot
grows the root and makes the data partition (comptoir-data-partition).
Needs root (mmdebstrap's chroot), network to the Debian archive and PyPI, ~4 minutes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The Pi image is Trixie (docs/image.md); the test image follows it.
DEBIAN = os.environ.get("COMPTOIR_TEST_DEBIAN", "trixie")
MIRROR = "http://deb.debian.org/debian"
PYTHON_VERSION = {"trixie": "3.13", "bookworm": "3.11"}
CACHE = Path(os.environ.get("COMPTOIR_IMAGE_CACHE", "/var/tmp/comptoir-test-image"))
BASE_PACKAGES = "systemd-sysv,udev,dbus,iproute2,kmod,e2fsprogs,initramfs-tools,linux-image-amd64"
# initramfs-tools' fsck hook probes the device behind the root's fstab line, which a chroot does
# not have, and leaves fsck out ("fsck not present" at boot): told the type before the kernel's
# package makes the initramfs, it puts fsck.ext4 in, so the root is checked after a power cut.
INITRAMFS_FSCK = (
    'mkdir -p "$1/etc/initramfs-tools/conf.d" && '
    'echo FSTYPE=ext4 > "$1/etc/initramfs-tools/conf.d/comptoir-root-fsck"'
)
BUNDLE_PATHS = ("appliance", "pyproject.toml", "README.md", "image", "systemd", "provisioning")
MiB = 1024 * 1024
BOOT_MIB = 64
# A sparse file the size of a small SD card (an "8 GB" card holds about 7.4 GiB): room for the
# root's fixed 6 GiB and a data partition of more than the 1 GiB minimum.
CARD_MIB = 7600
BOOT_LABEL, ROOT_LABEL, DATA_LABEL = "BOOTFS", "rootfs", "comptoir-data"


@dataclass(frozen=True)
class TestImage:
    disk: Path
    kernel: Path
    initrd: Path
    key: str
    boot_offset: int  # bytes from the start of the disk to the FAT partition

    def mtools_image(self, disk: Path | None = None) -> str:
        """mtools' name for the FAT partition inside a disk file (`-i disk@@offset`)."""
        return f"{disk or self.disk}@@{self.boot_offset}"


def run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], check=True, text=True, **kwargs)  # type: ignore[call-overload]


def source_commit() -> str:
    """A commit of the working tree's tracked files (what a developer is trying), else HEAD."""
    stash = run("git", "-C", REPO, "stash", "create", capture_output=True).stdout.strip()
    return stash or "HEAD"


def inputs_key(commit: str) -> str:
    """Hash of what goes into the image: the bundle's trees, this builder, the release."""
    digest = hashlib.sha256(f"{DEBIAN} {BASE_PACKAGES}\n".encode())
    for path in BUNDLE_PATHS:
        tree = run("git", "-C", REPO, "rev-parse", f"{commit}:{path}", capture_output=True)
        digest.update(f"{path} {tree.stdout.strip()}\n".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def build(*, quiet: bool = False) -> TestImage:
    commit = source_commit()
    key = inputs_key(commit)
    out = CACHE / key
    image = TestImage(out / "disk.img", out / "vmlinuz", out / "initrd.img", key, MiB)
    if image.disk.exists():
        print(f"test image {key}: cached in {out} (inputs unchanged), build skipped")
        return image
    if os.geteuid() != 0:
        raise SystemExit("building the test image needs root (mmdebstrap's chroot): use sudo")
    started = time.monotonic()
    work = out.with_suffix(".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bundle = work / "bundle"
    run(
        REPO / "image" / "bundle.sh",
        bundle,
        commit,
        PYTHON_VERSION[DEBIAN],
        "x86_64",
        stdout=subprocess.DEVNULL if quiet else None,
    )
    rootfs = work / "rootfs"
    release = _package_version()  # a version: updates compare it (docs/updates.md)
    install = (
        f'chroot "$1" /tmp/comptoir-bundle/image/install.sh --target test --release {release} '
        f"--data-label {DATA_LABEL}"
    )
    print(f"test image {key}: mmdebstrap {DEBIAN} + image/install.sh --target test ...")
    run(
        "mmdebstrap",
        "--mode=root",
        "--variant=apt",
        f"--include={BASE_PACKAGES}",
        f"--essential-hook={INITRAMFS_FSCK}",
        f'--customize-hook=cp -a {bundle} "$1/tmp/comptoir-bundle"',
        f"--customize-hook={install}",
        '--customize-hook=rm -rf "$1/tmp/comptoir-bundle"',
        '--customize-hook=chroot "$1" systemctl enable systemd-networkd comptoir-test-shell',
        # systemd's getty generator would put a login prompt on hvc0, the harness shell's console
        '--customize-hook=chroot "$1" systemctl mask serial-getty@hvc0.service',
        '--customize-hook=echo comptoir > "$1/etc/hostname"',
        DEBIAN,
        rootfs,
        MIRROR,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    _write_fstab(rootfs)
    kernel = max((rootfs / "boot").glob("vmlinuz-*"))
    initrd = max((rootfs / "boot").glob("initrd.img-*"))
    shutil.copy(kernel, work / "vmlinuz")
    shutil.copy(initrd, work / "initrd.img")
    _assemble(rootfs, work)
    shutil.rmtree(rootfs)
    shutil.rmtree(bundle)
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    print(f"test image {key}: built in {time.monotonic() - started:.0f} s -> {out}")
    return image


def _package_version() -> str:
    for line in (REPO / "pyproject.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise RuntimeError("pyproject.toml has no version")


def _write_fstab(rootfs: Path) -> None:
    """The root and the boot partition by label; install.sh wrote the data partition's line."""
    fstab = rootfs / "etc" / "fstab"
    kept = [
        line for line in fstab.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    fstab.write_text(
        "# Comptoir test image (tests/image/testimage.py)\n"
        f"LABEL={ROOT_LABEL} / ext4 defaults,noatime,errors=remount-ro 0 1\n"
        f"LABEL={BOOT_LABEL} /boot/firmware vfat defaults,noatime,fmask=0077,dmask=0077 0 2\n"
        + "".join(line + "\n" for line in kept)
    )


def _assemble(rootfs: Path, work: Path) -> None:
    """boot (FAT, mtools) + root (ext4 -d) in a card-sized disk file, the rest left free."""
    boot_dir = rootfs / "boot" / "firmware"
    fat = work / "boot.fat"
    run("mkfs.fat", "-C", "-F", "32", "-n", BOOT_LABEL, fat, str(BOOT_MIB * 1024))
    for item in sorted(boot_dir.iterdir()):
        run("mcopy", "-s", "-i", fat, item, "::/")
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()
    used = int(run("du", "-sm", rootfs, capture_output=True).stdout.split()[0])
    root_mib = int(used * 1.3) + 256
    root = work / "root.ext4"
    run("mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-d", rootfs, root, f"{root_mib}M")
    disk = work / "disk.img"
    with disk.open("wb") as stream:
        stream.truncate(CARD_MIB * MiB)
    layout = f"label: dos\nstart=1MiB, size={BOOT_MIB}MiB, type=c\nsize={root_mib}MiB, type=83\n"
    run("sfdisk", "--quiet", disk, input=layout, stdout=subprocess.DEVNULL)
    for part, start_mib in ((fat, 1), (root, 1 + BOOT_MIB)):
        run("dd", f"if={part}", f"of={disk}", "bs=1M", f"seek={start_mib}", "conv=notrunc,sparse",
            "status=none")  # fmt: skip
        part.unlink()


if __name__ == "__main__":
    built = build()
    print(f"disk {built.disk}\nkernel {built.kernel}\ninitrd {built.initrd}")
    sys.exit(0)
