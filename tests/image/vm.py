"""A booted test image: QEMU with user networking that reaches only what the test forwards.

Reusable by any scenario (`make image-smoke`, an update and a rollback):

    image = testimage.build()
    with Box(image, workdir, forwards=[Forward("10.0.2.100", 1883, broker_port)]) as box:
        box.write_card("device_id = ...\\n")      # mtools, before boot, like an installer
        box.boot()                               # KVM if it answers, else TCG (box.accelerator)
        box.shell("systemctl is-active comptoir-agent")
        box.power_cut()                          # SIGKILL, nothing flushed
        box.boot()
        box.read_card()                          # mtools on the FAT partition, VM stopped

Network: `-netdev user,restrict=on` (the guest reaches nothing outside) with one `guestfwd` per
Forward, each connection relayed by socat to 127.0.0.1:host_port. `Box.forwards` is a list: add
one before `boot()` for another service. A root shell on the guest's virtio console (test image
only, comptoir-test-shell.service) reads times and injects faults.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.image.testimage import TestImage

# A working KVM guest writes its first console lines within a second or two; a nested KVM that
# cannot run the guest says "KVM internal error" on QEMU's stderr (seen here: an emulation
# failure in the kernel's decompressor) and hangs, so both are watched.
KVM_PROBE_S = 20.0
KVM_FAILED = "KVM internal error"
BOOT_TIMEOUT_S = 300.0
APPEND = "root=LABEL=rootfs ro console=ttyS0 loglevel=4 systemd.show_status=0 net.ifnames=0"
_accelerator_that_works: str | None = None  # probed once per run


@dataclass(frozen=True)
class Forward:
    """Guest address:port -> 127.0.0.1:host_port on this machine."""

    guest_ip: str
    guest_port: int
    host_port: int

    def option(self) -> str:
        relay = f"socat STDIO TCP:127.0.0.1:{self.host_port}"
        return f"guestfwd=tcp:{self.guest_ip}:{self.guest_port}-cmd:{relay}"


@dataclass
class Box:
    image: TestImage
    workdir: Path
    forwards: list[Forward] = field(default_factory=list)
    memory_mib: int = 1536
    process: subprocess.Popen[bytes] | None = None
    accelerator: str = ""
    booted_at: float = 0.0  # time.monotonic() when QEMU was started
    _shell: socket.socket | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.disk = self.workdir / "disk.img"
        subprocess.run(["cp", "--sparse=always", self.image.disk, self.disk], check=True)
        self.console = self.workdir / "console.log"
        self.stderr = self.workdir / "qemu.stderr"
        self.shell_path = self.workdir / "shell.sock"

    def __enter__(self) -> Box:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.kill()

    # -- the card, read and written with mtools while the VM is off ---------------------------

    def write_card(self, text: str, name: str = "comptoir.txt") -> None:
        source = self.workdir / name
        source.write_text(text, encoding="utf-8")
        self._mtools("mcopy", "-o", str(source), f"::/{name}")

    def read_card(self, name: str = "comptoir.txt") -> str:
        return self._mtools("mtype", f"::/{name}")

    def _mtools(self, *argv: str) -> str:
        assert self.process is None or self.process.poll() is not None, "stop the VM first"
        done = subprocess.run(
            [argv[0], "-i", self.image.mtools_image(self.disk), *argv[1:]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
        )
        return done.stdout

    # -- power ----------------------------------------------------------------------------------

    def boot(
        self, *, append: str = "", timeout_s: float = BOOT_TIMEOUT_S, until: str = ""
    ) -> float:
        """Power on and wait for the harness shell; the seconds it took. KVM is probed with a
        short timeout the first time, then TCG is used if KVM did not answer. With `until`,
        only until the console shows that text (a moment to cut the power at)."""
        global _accelerator_that_works
        choices = [_accelerator_that_works] if _accelerator_that_works else ["kvm", "tcg"]
        if not os.access("/dev/kvm", os.R_OK | os.W_OK) and "kvm" in choices:
            choices = ["tcg"]
        for accelerator in choices:
            self._start(accelerator, append)
            probing = accelerator == "kvm" and len(choices) > 1
            if probing and not self._kvm_runs():
                why = self.stderr.read_text(errors="replace").strip().splitlines()[:1]
                print(f"vm: KVM did not run the guest ({why[0] if why else 'no console output'}"
                      f" within {KVM_PROBE_S:.0f} s): TCG instead", flush=True)  # fmt: skip
                self.kill()
                continue
            if (
                self._connect_shell(timeout_s)
                if not until
                else self._console_shows(until, timeout_s)
            ):
                _accelerator_that_works = self.accelerator = accelerator
                print(f"vm: booted with {accelerator.upper()}", flush=True)
                return time.monotonic() - self.booted_at
            print(f"vm: no answer with {accelerator.upper()} within {timeout_s:.0f} s", flush=True)
            self.kill()
        raise AssertionError(f"the VM did not boot; console: {self.console_tail()}")

    def _start(self, accelerator: str, append: str) -> None:
        self.shell_path.unlink(missing_ok=True)
        netdev = ",".join(["user", "id=net0", "restrict=on"] + [f.option() for f in self.forwards])
        cpu = ["-cpu", "host"] if accelerator == "kvm" else ["-cpu", "max"]
        argv = [
            "qemu-system-x86_64",
            *("-machine", "q35", "-accel", accelerator, *cpu, "-smp", "1"),
            *("-m", str(self.memory_mib), "-display", "none", "-no-reboot"),
            *("-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd)),
            *("-append", f"{APPEND} {append}".strip()),
            *("-drive", f"file={self.disk},format=raw,if=virtio,cache=writeback"),
            *("-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"),
            *("-serial", f"file:{self.console}"),
            *("-chardev", f"socket,id=shell,path={self.shell_path},server=on,wait=off"),
            *("-device", "virtio-serial-pci", "-device", "virtconsole,chardev=shell"),
            *("-monitor", "none"),
        ]
        self.booted_at = time.monotonic()
        with self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)

    def _console_shows(self, text: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process and self.process.poll() is None:
            if self.console.exists() and text in self.console.read_text(errors="replace"):
                return True
            time.sleep(0.05)
        return False

    def _kvm_runs(self) -> bool:
        """True once the guest kernel writes to the console, False on KVM's error or silence."""
        deadline = time.monotonic() + KVM_PROBE_S
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if KVM_FAILED in self.stderr.read_text(errors="replace"):
                return False
            if self.console.exists() and self.console.stat().st_size > 0:
                return True
            time.sleep(0.2)
        return False

    def power_cut(self) -> None:
        """SIGKILL QEMU: the guest gets no shutdown, its page cache is lost."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
        self._close_shell()
        self.process = None

    def shutdown(self, timeout_s: float = 120) -> None:
        """A clean power-off from inside (the page cache reaches the disk)."""
        if self.process is None or self.process.poll() is not None:
            return
        self._send("systemctl poweroff\n")
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.power_cut()
        self._close_shell()
        self.process = None

    def kill(self) -> None:
        self.power_cut()

    def console_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no console output)"

    # -- the harness shell ------------------------------------------------------------------------

    def shell(self, command: str, timeout_s: float = 60) -> tuple[int, str]:
        """Run a command as root in the guest; (exit status, output)."""
        assert self._shell is not None, "boot() first"
        marker = f"__END{time.monotonic_ns()}__"
        self._send(f"{command}; echo {marker}$?{marker}\n")
        pattern = re.compile(rf"{marker}(\d+){marker}")
        buffer = b""
        deadline = time.monotonic() + timeout_s
        while not (found := pattern.search(buffer.decode(errors="replace"))):
            if time.monotonic() > deadline:
                raise AssertionError(f"guest command {command!r} did not finish: {buffer[-500:]!r}")
            self._shell.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self._shell.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError("the guest shell went away")
            buffer += chunk
        text = buffer.decode(errors="replace")[: found.start()].replace("\r", "")
        return int(found[1]), text.strip("\n")

    def guest_seconds(self, unit: str, prop: str = "ActiveEnterTimestampMonotonic") -> float:
        """When `unit` reached a state, in seconds since the guest kernel started (0: never)."""
        _, out = self.shell(f"systemctl show -p {prop} --value {unit}")
        return int(out.strip().splitlines()[-1] or 0) / 1e6

    def _connect_shell(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(self.shell_path))
            except OSError:
                time.sleep(0.5)
                continue
            self._shell = sock
            # Until the guest's shell is up, what is sent may be lost: ask again and again.
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    self.shell("stty -echo", timeout_s=3)
                    return True
                except AssertionError:
                    continue
            self._close_shell()
            return False
        return False

    def _send(self, text: str) -> None:
        assert self._shell is not None
        self._shell.sendall(text.encode())

    def _close_shell(self) -> None:
        if self._shell is not None:
            self._shell.close()
            self._shell = None


# What the build and the boot need on this machine, by command -> Debian package.
HOST_TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "mmdebstrap": "mmdebstrap",
    "mcopy": "mtools",
    "mkfs.fat": "dosfstools",
    "mkfs.ext4": "e2fsprogs",
    "sfdisk": "fdisk",
    "socat": "socat",
    "mosquitto": "mosquitto",
}


def require_tools() -> None:
    """Install the missing host tools with apt (root), else say which are missing."""
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"image-smoke needs {', '.join(missing)}: run `make image-smoke` as root")
    print(f"image-smoke: installing {' '.join(missing)} (apt)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
