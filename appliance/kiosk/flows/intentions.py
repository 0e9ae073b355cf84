"""What the kiosk's flows ask for, as one typed vocabulary of intentions.

A flow never waits for an intention: `kiosk.effects` carries each out in a thread of its own and
the answer comes back as an event (`flows.events`). Three groups, by who carries them out: a
device alone (`DeviceIntention`), the till (`Charge`: write-ahead attempt, terminal, sale), and
the shop's records (`ShopIntention`: the store, the printer's journal, the marketplace, mail).
Codes, PINs and tokens pass through them, never shown in a repr or a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.core.catalogue import Product
from appliance.kiosk.flows.values import BasketLine, Problem

# -- a device alone -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetArticle:
    """Tell a price-computing scale the unit price before the customer weighs."""

    product: Product


@dataclass(frozen=True)
class OpenDoor:
    """Release the lock of `compartment`; answered by DoorOpened, DoorNotOpened or LockFailed."""

    compartment: int
    reason: str


@dataclass(frozen=True)
class Say:
    """Speak a prompt (the accessibility mode): what the screen says, in the customer's
    language."""

    text: str
    language: str


DeviceIntention = SetArticle | OpenDoor | Say

# -- the till -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """Record the attempt (write-ahead), ask the terminal for `amount_cents`, record the sale of
    `lines`; answered by PaymentAnswered."""

    amount_cents: int
    lines: tuple[BasketLine, ...]


# -- the shop's records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadCatalogue:
    """Read the active products; answered by CatalogueLoaded."""


@dataclass(frozen=True)
class RecordWeighing:
    """Journal a weighing the customer accepted (before its label, if any)."""

    line: BasketLine


@dataclass(frozen=True)
class AskForHelp:
    """A customer touched "Need help?": alert the producer with what they were doing."""

    doing: str  # the screen (or locker step), e.g. "weigh" or "pickup/door_open"
    product: str = ""  # the product chosen, if any
    lines: int = 0
    total_cents: int = 0
    language: str = "fr"


@dataclass(frozen=True)
class RecordAbandoned:
    """The customer left (cancel, or idle) with these lines unpaid: a technical event."""

    lines: tuple[BasketLine, ...]
    why: str  # "cancelled" or "idle"


@dataclass(frozen=True)
class PrintLabel:
    """Print the line's price label and journal it with its ticket number."""

    line: BasketLine


@dataclass(frozen=True)
class PrintReceipt:
    receipt_number: str


@dataclass(frozen=True)
class CheckCode:
    """Check a typed pickup code or a scanned token; answered by CodeChecked."""

    text: str = field(repr=False)


@dataclass(frozen=True)
class RereadOrder:
    """Ask the marketplace for the order again; answered by OrderReread (state None offline)."""

    order_number: str


@dataclass(frozen=True)
class RecordPickup:
    """The door closed on an emptied compartment: the order is collected."""

    order_number: str
    compartment: int
    code_id: int | None


@dataclass(frozen=True)
class ReportProblem:
    """Raise an alarm for staff (an alert and an outbox `locker_alarm`)."""

    problem: Problem
    compartment: int | None
    order_number: str | None = None


@dataclass(frozen=True)
class IdentifyProducer:
    """Check a PIN or a badge; answered by ProducerIdentified."""

    text: str = field(repr=False)
    badge: bool = False


@dataclass(frozen=True)
class LoadWall:
    """Read the waiting orders and the busy compartments; answered by WallLoaded."""


@dataclass(frozen=True)
class RecordDeposit:
    """The producer closed the door on an order; answered by DepositRecorded (with its code)."""

    order_number: str
    compartment: int
    producer: str


@dataclass(frozen=True)
class SendCode:
    """E-mail the pickup code and its QR image with the compartment number; answered by
    CodeSent."""

    order_number: str
    compartment: int
    code: str = field(repr=False)
    token: str = field(repr=False)


@dataclass(frozen=True)
class RecordWalkinFill:
    compartment: int
    name: str
    price_cents: int
    producer: str


@dataclass(frozen=True)
class LoadShelf:
    """Read the walk-in compartments holding produce; answered by ShelfLoaded."""


@dataclass(frozen=True)
class RecordWalkinSold:
    """The door closed after the paid produce was taken: the compartment is free again."""

    compartment: int
    reference: str


@dataclass(frozen=True)
class FlagRefund:
    """Paid but the door stayed shut: an alert so staff refund the customer."""

    amount_cents: int
    reference: str
    compartment: int


ShopIntention = (
    LoadCatalogue
    | RecordWeighing
    | AskForHelp
    | RecordAbandoned
    | PrintLabel
    | PrintReceipt
    | CheckCode
    | RereadOrder
    | RecordPickup
    | ReportProblem
    | IdentifyProducer
    | LoadWall
    | RecordDeposit
    | SendCode
    | RecordWalkinFill
    | LoadShelf
    | RecordWalkinSold
    | FlagRefund
)

Intention = DeviceIntention | Charge | ShopIntention
