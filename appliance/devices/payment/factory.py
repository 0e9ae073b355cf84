"""The card terminal this box is configured with, or None where nobody pays here."""

from __future__ import annotations

import logging

from appliance.config import Payment
from appliance.devices import registry
from appliance.devices.payment.base import Terminal
from appliance.devices.payment.training import TrainingTerminal

log = logging.getLogger(__name__)

#: `[payment] terminal` -> what opens it from the [payment] section.
TERMINALS = {
    "caisse-ap": "appliance.devices.payment.caisse_ap:CaisseApTerminal.from_settings",
}


def open_terminal(settings: Payment, *, training: bool = False) -> Terminal | None:
    """`[payment] terminal = "none"` is a site that only hands out orders paid online; a box
    in training mode (`[shop] mode = "training"`) never charges a card, whatever is plugged in."""
    if settings.terminal == "none":
        return None
    if training:
        log.warning("training mode: the card terminal is not used, no card is charged")
        return TrainingTerminal()
    terminal: Terminal = registry.load("payment.terminal", settings.terminal, TERMINALS)(settings)
    return terminal
