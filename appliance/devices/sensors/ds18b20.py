"""DS18B20 thermometers on the 1-wire bus, read from `<root>/sys/bus/w1/devices/28-*/w1_slave`.

The kernel's w1_therm driver writes two lines: the scratchpad bytes with `crc=XX YES` (or `NO`)
and the same bytes with `t=<millidegrees>`. A read whose CRC failed, whose line is cut short, or
that shows 85 °C (the value a sensor gives right after a power glitch, before any conversion)
is reported as a bad read with its reason, never guessed from the previous one. The root is
configurable (`[haccp] w1_root`) so tests and the demo point it at a folder they write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from appliance.said import Said, said

DEVICES = Path("sys/bus/w1/devices")
FAMILY = "28-"
POWER_ON_MC = 85000

_CRC = re.compile(r"(?:[0-9a-f]{2} ){9}: crc=[0-9a-f]{2} (YES|NO)")
_TEMP = re.compile(r"(?:[0-9a-f]{2} ){9}t=(-?\d+)")


@dataclass(frozen=True)
class SensorReading:
    """One sensor read once: a temperature, or the reason there is none."""

    sensor: str
    temp_mc: int | None
    problem: str | Said = ""  # what went wrong, for a person


def parse_w1_slave(text: str) -> tuple[int | None, str | Said]:
    """(millidegrees, "") for a good read, (None, why) otherwise."""
    lines = text.strip().splitlines()
    if len(lines) != 2 or not _CRC.fullmatch(lines[0].strip()):
        return None, said("unreadable answer from the sensor")
    if not lines[0].strip().endswith("YES"):
        return None, said("CRC error on the 1-wire bus (long cable or bad contact?)")
    match = _TEMP.fullmatch(lines[1].strip())
    if not match:
        return None, said("temperature line missing")
    temp_mc = int(match[1])
    if temp_mc == POWER_ON_MC:
        return None, said("85 °C power-on value: the sensor lost power")
    return temp_mc, ""


def sensor_ids(root: Path) -> list[str]:
    folder = root / DEVICES
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(FAMILY))


def read_sensor(root: Path, sensor: str) -> SensorReading:
    path = root / DEVICES / sensor / "w1_slave"
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        why = (
            said("sensor not found on the bus") if isinstance(exc, FileNotFoundError) else str(exc)
        )
        return SensorReading(sensor, None, why)
    temp_mc, problem = parse_w1_slave(text)
    return SensorReading(sensor, temp_mc, problem)
