"""A folder that looks like `/sys/bus/w1/devices` with DS18B20 sensors a test or demo sets.

It writes the two lines of w1_therm with the scratchpad bytes the sensor would hold (12-bit,
1/16 °C), a real Dallas CRC-8, and can fake a CRC error or a sensor that disappeared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.devices.sensors.ds18b20 import DEVICES


def crc8(data: bytes) -> int:
    """Dallas/Maxim 1-wire CRC-8 (polynomial x^8 + x^5 + x^4 + 1, reflected)."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


class W1Folder:
    """DS18B20 sensors under `root`; `set` writes a reading the driver will find."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / DEVICES).mkdir(parents=True, exist_ok=True)

    def set(self, sensor: str, temp_mc: int, *, crc_ok: bool = True) -> None:
        raw = round(temp_mc * 16 / 1000) & 0xFFFF
        pad = bytes((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10))
        crc = crc8(pad) if crc_ok else crc8(pad) ^ 0xFF
        hexes = " ".join(f"{b:02x}" for b in pad + bytes((crc,)))
        verdict = "YES" if crc_ok else "NO"
        folder = self.root / DEVICES / sensor
        folder.mkdir(exist_ok=True)
        (folder / "w1_slave").write_text(
            f"{hexes} : crc={crc:02x} {verdict}\n{hexes} t={temp_mc}\n", encoding="ascii"
        )

    def remove(self, sensor: str) -> None:
        shutil.rmtree(self.root / DEVICES / sensor, ignore_errors=True)
