"""The outcome of a card payment, as the sale and the screens understand it.

A financial request is never retried blindly. When nobody can know whether the customer was
charged (socket closed after the request, AF 07, an answer that does not echo the request), the
outcome is UNKNOWN and a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PaymentOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"  # maybe charged: stop, tell the customer not to pay again, alert staff
    ERROR = "error"  # certainly not charged: nothing was sent, or the terminal refused to start


@dataclass(frozen=True)
class PaymentResult:
    outcome: PaymentOutcome
    amount_cents: int
    result_code: str = ""  # the terminal's own result (Caisse-AP AE)
    reason_code: str = ""  # the terminal's own reason (Caisse-AP AF)
    authorisation: str = ""  # authorisation number (AC), kept as the payment reference
    card_application: str = ""  # CC: which card scheme / contact or contactless
    masked_pan: str = ""  # AA, already masked by the terminal; never a full card number
    message: str = ""  # for logs and installers, in plain words
