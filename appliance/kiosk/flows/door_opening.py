"""Opening one door with one retry, as the pickup, refill and walk-in flows all do."""

from __future__ import annotations

from appliance.kiosk.flows.intentions import Intention, OpenDoor


class DoorOpening:
    """The first try, then one more when the door stayed shut; after that, call the site."""

    def __init__(self, compartment: int, reason: str) -> None:
        self.compartment = compartment
        self.reason = reason
        self.tries = 1

    def start(self) -> list[Intention]:
        return [OpenDoor(self.compartment, self.reason)]

    def retry(self) -> list[Intention] | None:
        """Another try if one is left, else None (the screen shows the phone number)."""
        if self.tries >= 2:
            return None
        self.tries += 1
        return [OpenDoor(self.compartment, self.reason + " (retry)")]
