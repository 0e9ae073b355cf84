"""What tests and the benchmark need around the fake: simulated time, and a site's config.

The sync sleeps between retries; handing it `SimClock.sleep` moves time on instead of waiting,
so an hour offline takes milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.config import Config, from_dict
from appliance.marketplace.fake import seed


class SimClock:
    """Simulated time: calling it says the time, sleeping moves it forward at once."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)


def demo_site(url: str, key_file: Path, data_dir: Path, **marketplace: Any) -> Config:
    """The config of a box at the demo hub's locker; `marketplace` overrides its settings.

    Writes the demo key into `key_file`, as an installer would.
    """
    key_file.write_text(seed.DEMO_KEY + "\n")
    values = {
        "url": url,
        "api_key_file": str(key_file),
        "hub_id": seed.HUB_ID,
        "shipping_method_ids": [seed.LOCKER_METHOD_ID],
        "timeout_s": 5,
        **marketplace,
    }
    return from_dict({"device": {"data_dir": str(data_dir)}, "marketplace": values})
