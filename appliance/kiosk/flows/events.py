"""What goes into the kiosk's flows (events) and what comes out (intentions).

Events carry no clock: the flow is handed `now` (monotonic seconds) with each one, so tests step
time by hand. Intentions are requests to the hardware layer; the flow never waits for them, it
hears back through another event (a payment answered, a label printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.payment import PaymentOutcome
from appliance.core.weighing import Reading, Weighing


class PaperState(StrEnum):
    OK = "ok"
    NEAR_END = "paper_near_end"
    OUT = "paper_out"
    OFFLINE = "offline"


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touched:
    """A button on the current screen was pressed; `action` names it (see `Action`)."""

    action: str
    argument: str = ""


@dataclass(frozen=True)
class ReadingArrived:
    reading: Reading


@dataclass(frozen=True)
class PrinterChanged:
    paper: PaperState


@dataclass(frozen=True)
class TerminalChanged:
    available: bool


@dataclass(frozen=True)
class PaymentAnswered:
    """The payment runner's verdict; on approval the sale is already recorded."""

    outcome: PaymentOutcome
    amount_cents: int
    receipt_number: str = ""
    message: str = ""
    receipt_url: str = ""  # the QR code's link to the receipt; empty without a base URL


@dataclass(frozen=True)
class CatalogueLoaded:
    products: tuple[Product, ...]


@dataclass(frozen=True)
class TimerFired:
    """The UI's periodic tick; idle and stability deadlines are checked against `now`."""


Event = (
    Touched
    | ReadingArrived
    | PrinterChanged
    | TerminalChanged
    | PaymentAnswered
    | CatalogueLoaded
    | TimerFired
)


# -- intentions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasketLine:
    """One line as the customer chose it: a weighing, or a number of pieces."""

    product: Product
    quantity: int
    price_cents: int
    weighing: Weighing | None = None


@dataclass(frozen=True)
class RecordWeighing:
    """Journal an accepted weighing (every one, labelled or not: metrology §5.2 rule 13)."""

    line: BasketLine


@dataclass(frozen=True)
class PrintLabel:
    line: BasketLine


@dataclass(frozen=True)
class SetArticle:
    """Tell a price-computing scale the unit price before the customer weighs."""

    product: Product


@dataclass(frozen=True)
class Charge:
    """Record the attempt (write-ahead) and ask the terminal for `amount_cents`."""

    amount_cents: int
    lines: tuple[BasketLine, ...]


@dataclass(frozen=True)
class PrintReceipt:
    receipt_number: str


Intention = RecordWeighing | PrintLabel | SetArticle | Charge | PrintReceipt
