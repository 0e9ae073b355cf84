"""The terminal of a box in training mode: staff practise the whole sale and no card is charged.

A training sale is kept out of every real figure (docs/fiscal.md), so money taken for one would
be money with no fiscal record: in training the real terminal is never asked to pay."""

from __future__ import annotations

from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.devices.payment.base import Terminal

TRAINING = "FORMATION"


class TrainingTerminal(Terminal):
    """Approves every amount at once, charging nothing; its reference says FORMATION."""

    def __init__(self) -> None:
        self.payments = 0

    def pay(self, amount_cents: int, reference: str) -> PaymentResult:
        self.payments += 1
        return PaymentResult(
            PaymentOutcome.APPROVED,
            amount_cents,
            authorisation=f"{TRAINING}-{self.payments}",
            message="training mode: no card was charged",
        )
