"""The card terminal this box is configured with, or None where nobody pays here."""

from __future__ import annotations

from appliance.config import Payment
from appliance.devices.payment.base import Terminal
from appliance.devices.payment.caisse_ap import CaisseApTerminal, split_address


def open_terminal(settings: Payment) -> Terminal | None:
    """`[payment] terminal = "none"` is a site that only hands out orders paid online."""
    if settings.terminal == "none":
        return None
    host, port = split_address(settings.address)
    return CaisseApTerminal(
        host,
        port,
        register_number=settings.register_number,
        timeout_s=settings.timeout_s,
    )
