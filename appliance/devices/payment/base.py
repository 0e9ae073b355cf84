"""What a card terminal is, whatever protocol it speaks.

A financial request is never retried blindly: `pay` sends once and reports what the terminal
said. When nobody can know whether the customer was charged (socket closed after the request,
AF 07, an answer that does not echo the request), the outcome is UNKNOWN and a person decides.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from appliance.core.payment import PaymentOutcome, PaymentResult

__all__ = ["PaymentOutcome", "PaymentResult", "Terminal"]


class Terminal(ABC):
    """A card terminal; one request in flight at a time."""

    @abstractmethod
    def pay(self, amount_cents: int, reference: str) -> PaymentResult:
        """Charge `amount_cents` (EUR) once; `reference` is the write-ahead attempt id."""

    def available(self) -> bool:
        """Whether the terminal can be reached now (a non-financial check, if any)."""
        return True
