"""The values the kiosk's events and intentions carry: a basket line, the paper, a locker's
produce, what went wrong. Frozen dataclasses and enums, no behaviour worth a module of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.weighing import ScaleSpec, Weighing


class PaperState(StrEnum):
    OK = "ok"
    NEAR_END = "paper_near_end"
    OUT = "paper_out"
    OFFLINE = "offline"


@dataclass(frozen=True)
class BasketLine:
    """One line as the customer chose it: a weighing, or a number of pieces."""

    product: Product
    quantity: int
    price_cents: int
    weighing: Weighing | None = None
    labelled: bool = False  # its price label was printed


class VisitKind(StrEnum):
    """The three ways a person uses the locker wall."""

    PICKUP = "pickup"  # a customer collects an order paid online
    REFILL = "refill"  # a producer deposits orders or fills a compartment with produce
    WALKIN = "walkin"  # a customer buys the produce of a walk-in compartment


class Problem(StrEnum):
    """What went wrong at the lockers, for the screen's message and the alarm's kind."""

    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    ALREADY_COLLECTED = "already_collected"
    CANCELLED = "cancelled"
    LOCKED = "locked"
    DOOR_FAILED = "door_failed"  # the door stayed shut after one retry: call the site
    LOCK_FAULT = "lock_fault"  # the lock board does not answer: call the site
    ITEM_LEFT = "item_left"  # the item sensor still sees something after the door closed
    DOOR_OPEN_TOO_LONG = "door_open_too_long"


@dataclass(frozen=True)
class ForSale:
    """Produce in a walk-in compartment, as the product the sale will record."""

    compartment: int
    product: Product

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def price_cents(self) -> int:
        return self.product.unit_price_cents


@dataclass(frozen=True)
class OrderToDeposit:
    number: str
    customer_name: str
    lines: int


class MenuChoice(StrEnum):
    """The producer's menu."""

    DEPOSIT = "deposit"
    WALKIN = "walkin"
    DONE = "done"


@dataclass(frozen=True)
class Settings:
    """What the kiosk's flows need from config."""

    spec: ScaleSpec
    idle_timeout_s: float
    language: str = "fr"
    payment_enabled: bool = True
    lockers: bool = False  # the home screen offers the locker visits
    phone: str = ""  # shown when a door or the lock board fails
    code_digits: int = 6
