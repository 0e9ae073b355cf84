"""The first-boot data partition's plan (image/rootfs/usr/local/sbin/comptoir-data-partition),
on card images in plain files: laid out by sfdisk like a flashed card, planned from
`sfdisk --json`, and the plan written back by sfdisk, as the box does on its card. The steps on
real devices (partx, resize2fs, mkfs, mount) run in `make image-smoke`'s booted VM."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "image" / "rootfs" / "usr" / "local" / "sbin" / "comptoir-data-partition"
MiB = 1024 * 1024
GiB = 1024 * MiB


def load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("comptoir_data_partition", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


dp = load()


def card(tmp_path: Path, size: int, layout: str) -> Path:
    """A sparse file of `size` bytes with an MBR written by sfdisk, like a flashed card."""
    disk = tmp_path / "card.img"
    with disk.open("wb") as stream:
        stream.truncate(size)
    subprocess.run(["sfdisk", "--quiet", str(disk)], input=layout, text=True, check=True)
    return disk


def dump(disk: Path) -> dict[str, object]:
    done = subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True, text=True)
    return json.loads(done.stdout)


def partitions(disk: Path) -> list[dict[str, object]]:
    return dump(disk)["partitiontable"]["partitions"]  # type: ignore[index]


FLASHED = (
    "label: dos\nlabel-id: 0x5e3da0c1\n"
    "start=8192, size=512MiB, type=c, bootable\nsize=2GiB, type=83\n"
)


def test_a_fresh_card_gets_a_6_gib_root_and_the_rest_as_data_keeping_its_disk_id(
    tmp_path: Path,
) -> None:
    disk = card(tmp_path, 16 * GiB, FLASHED)
    boot_before = partitions(disk)[0]
    layout = dp.plan(dump(disk), f"{disk}2", 16 * GiB // 512)
    assert layout.write_table and layout.data_number == 3

    subprocess.run(
        ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(disk)],
        input=layout.sfdisk_script(dump(disk)["partitiontable"]),
        text=True,
        check=True,
    )
    table = dump(disk)["partitiontable"]
    boot, root, data = table["partitions"]  # type: ignore[index]
    assert table["id"] == "0x5e3da0c1"  # type: ignore[index]  # the Pi's PARTUUID=5e3da0c1-02
    assert boot == boot_before and boot["bootable"] is True
    assert root["start"] == 8192 + 512 * 2048 and root["size"] * 512 == 6 * GiB
    assert data["start"] == root["start"] + root["size"] and data["start"] % 2048 == 0
    assert data["type"] == "83"
    assert (data["start"] + data["size"]) * 512 == 16 * GiB  # the whole rest of the card


def test_after_a_power_cut_past_the_table_the_next_boot_resumes_without_writing_it(
    tmp_path: Path,
) -> None:
    disk = card(tmp_path, 16 * GiB, FLASHED)
    first = dp.plan(dump(disk), f"{disk}2", 16 * GiB // 512)
    subprocess.run(
        ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(disk)],
        input=first.sfdisk_script(dump(disk)["partitiontable"]),
        text=True,
        check=True,
    )
    again = dp.plan(dump(disk), f"{disk}2", 16 * GiB // 512)
    assert not again.write_table
    assert (again.root_size, again.data_start, again.data_size) == (
        first.root_size, first.data_start, first.data_size,
    )  # fmt: skip


def test_a_small_card_keeps_the_data_minimum_by_growing_the_root_less(tmp_path: Path) -> None:
    disk = card(tmp_path, 6 * GiB, FLASHED)
    layout = dp.plan(dump(disk), f"{disk}2", 6 * GiB // 512)
    assert layout.data_size * 512 == 1 * GiB
    assert layout.data_start + layout.data_size == 6 * GiB // 512
    assert 2 * GiB < layout.root_size * 512 < 6 * GiB


def test_a_card_too_small_for_a_data_partition_is_refused_saying_how_much_is_free(
    tmp_path: Path,
) -> None:
    disk = card(tmp_path, 3 * GiB, FLASHED)
    with pytest.raises(dp.Refused, match=r"\d+ MiB free after the root, 1024 MiB needed"):
        dp.plan(dump(disk), f"{disk}2", 3 * GiB // 512)


def test_partitions_after_the_root_that_it_did_not_make_are_left_alone(tmp_path: Path) -> None:
    disk = card(tmp_path, 16 * GiB, FLASHED + "size=1GiB, type=82\n")  # someone's swap
    with pytest.raises(dp.Refused, match="did not make"):
        dp.plan(dump(disk), f"{disk}2", 16 * GiB // 512)


def test_a_gpt_disk_is_refused_the_pi_card_is_mbr(tmp_path: Path) -> None:
    disk = card(tmp_path, 16 * GiB, "label: gpt\nsize=512MiB\nsize=2GiB\n")
    with pytest.raises(dp.Refused, match="gpt partition table"):
        dp.plan(dump(disk), f"{disk}2", 16 * GiB // 512)


def test_the_data_partition_is_named_as_the_kernel_names_it() -> None:
    assert dp._node("/dev/mmcblk0", 3) == "/dev/mmcblk0p3"
    assert dp._node("/dev/vda", 3) == "/dev/vda3"
    assert dp._node("/dev/nvme0n1", 3) == "/dev/nvme0n1p3"


def test_no_unit_writes_the_data_on_the_root_beneath_a_partition_that_did_not_mount() -> None:
    """The first boot leaves a marker in the root's /var/lib/comptoir before mounting the
    partition over it; each Comptoir unit waits for the mount and refuses to start while the
    marker shows, so a later boot without the partition never starts a second fiscal chain."""
    marker = f"{dp.DATA_DIR}/{dp.UNMOUNTED}"
    units = sorted((REPO / "systemd").glob("comptoir-*.service"))
    unguarded = []
    for unit in units:
        if unit.name == "comptoir-data-partition.service":
            continue
        lines = unit.read_text().splitlines()
        after = " ".join(line.removeprefix("After=") for line in lines if line.startswith("After="))
        if f"AssertPathExists=!{marker}" not in lines or "var-lib-comptoir.mount" not in after:
            unguarded.append(unit.name)
    assert len(units) >= 7 and unguarded == []


def test_the_marker_beneath_the_mount_tells_who_finds_it_what_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dp, "DATA_DIR", tmp_path)
    dp.mark_beneath()
    marker = tmp_path / dp.UNMOUNTED
    assert marker.stat().st_mode & 0o777 == 0o644
    assert "comptoir-data partition is not mounted" in marker.read_text()
