"""What tests, the demo and installers need around the fake: a box's config pointing at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.config import Config, from_dict
from appliance.pasteque.fake import seed


def demo_site(
    url: str,
    password_file: Path,
    data_dir: Path,
    base: dict[str, Any] | None = None,
    **pasteque: Any,
) -> Config:
    """The config of the demo box as one register of the fake; `pasteque` overrides settings,
    `base` holds the rest of the config. Writes the demo password into `password_file` (mode
    600), as an installer would."""
    password_file.write_text(seed.DEMO_PASSWORD + "\n")
    password_file.chmod(0o600)
    values = {
        "enabled": True,
        "url": url,
        "user": seed.DEMO_USER,
        "password_file": str(password_file),
        "cash_register": seed.DEMO_REGISTER,
        "timeout_s": 5,
        **pasteque,
    }
    raw = dict(base or {})
    raw["device"] = {**raw.get("device", {}), "data_dir": str(data_dir)}
    raw["pasteque"] = values
    return from_dict(raw)
