"""The card terminal this box is configured with, or None where nobody pays here."""

from __future__ import annotations

from appliance.config import Payment
from appliance.devices import registry
from appliance.devices.payment.base import Terminal

#: `[payment] terminal` -> what opens it from the [payment] section.
TERMINALS = {
    "caisse-ap": "appliance.devices.payment.caisse_ap:CaisseApTerminal.from_settings",
}


def open_terminal(settings: Payment) -> Terminal | None:
    """`[payment] terminal = "none"` is a site that only hands out orders paid online."""
    if settings.terminal == "none":
        return None
    terminal: Terminal = registry.load("payment.terminal", settings.terminal, TERMINALS)(settings)
    return terminal
