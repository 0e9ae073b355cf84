"""Orders paid online and handed out here, from the marketplace or an imported file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OrderState(StrEnum):
    WAITING = "waiting"  # paid online, not yet brought by the producer
    IN_LOCKER = "in_locker"  # deposited in a compartment, pickup code sent
    COLLECTED = "collected"  # the customer took it
    CANCELLED = "cancelled"  # cancelled on the marketplace: never hand it out


@dataclass(frozen=True)
class OrderLine:
    name: str
    quantity: int
    unit: str = ""
    price_cents: int = 0
    producer: str = ""
    variant_id: int | None = None


@dataclass(frozen=True)
class Order:
    """An order to hand out. `number` is the marketplace's order number (R123456789)."""

    number: str
    state: OrderState
    customer_name: str
    customer_email: str = ""
    customer_phone: str = ""
    total_cents: int = 0
    paid: bool = True
    lines: tuple[OrderLine, ...] = field(default_factory=tuple)
    compartment: int | None = None
    source: str = "import"
    remote_id: int | None = None
    remote_updated_at: str = ""
