"""Everything that happens to the kiosk, as one typed vocabulary of events.

Four kinds: what a person did on the screen (`PersonEvent`: it also tells the idle rule somebody
is there), what a device said (`DeviceEvent`), what the shop's records answered (`ShopAnswer`:
the store, the marketplace, the mail server), and the UI's tick. Events carry no clock: each flow
is handed `now` (monotonic seconds) with them, so tests step time by hand. The flows answer with
intentions (`flows.intentions`), which the kiosk's effects carry out in their own threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.locker import Compartment, Size
from appliance.core.order import OrderState
from appliance.core.payment import PaymentOutcome
from appliance.core.pickup_code import Verdict
from appliance.core.weighing import Reading
from appliance.kiosk.flows.values import ForSale, MenuChoice, OrderToDeposit, PaperState


class Action(StrEnum):
    """What a touch on a shop screen asks for; `Touched.argument` carries the sku, index, text
    or language."""

    START = "start"
    ABOUT = "about"
    BACK = "back"
    LANGUAGE = "language"
    ACCESSIBLE = "accessible"  # the accessibility mode on or off
    CATEGORY = "category"
    SEARCH = "search"
    PRODUCT = "product"
    TARE = "tare"
    CLEAR_TARE = "clear_tare"
    MORE = "more"
    LESS = "less"
    ADD = "add"
    PRINT_LABEL = "print_label"
    BASKET = "basket"
    REMOVE = "remove"
    PAY = "pay"
    CANCEL = "cancel"  # the basket abandoned: home for the next customer
    CONTINUE_WITHOUT = "continue_without"
    RETRY = "retry"
    DONE = "done"
    STILL_HERE = "still_here"
    WAKE = "wake"  # a touch on the attract screen: home
    HELP = "help"  # "Need help?", on every screen
    CLOSE_HELP = "close_help"
    PICKUP = "pickup"  # from home: collect an order at the lockers
    REFILL = "refill"  # from home: the producers' entry
    WALKIN = "walkin"  # from home: buy from a walk-in compartment


# -- what a person did ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Touched:
    """A button of a shop screen was pressed."""

    action: Action
    argument: str = ""


@dataclass(frozen=True)
class DigitPressed:
    digit: str


@dataclass(frozen=True)
class Erase:
    """The keypad's erase key: remove the last digit."""


@dataclass(frozen=True)
class PinEntered:
    """The producer pressed OK on the PIN keypad."""


@dataclass(frozen=True)
class Scanned:
    """A keyboard-wedge scanner typed this (a QR token or a badge) followed by Enter."""

    text: str = field(repr=False)


@dataclass(frozen=True)
class Back:
    """Back, cancel, or OK on a locker message."""


@dataclass(frozen=True)
class MenuChosen:
    choice: MenuChoice


@dataclass(frozen=True)
class OrderChosen:
    number: str


@dataclass(frozen=True)
class SizeChosen:
    size: Size
    chilled: bool


@dataclass(frozen=True)
class CompartmentChosen:
    """The producer chose where to deposit or fill."""

    number: int


@dataclass(frozen=True)
class WalkinDetails:
    """The product a producer puts in a walk-in compartment, at its price."""

    name: str
    price_cents: int


@dataclass(frozen=True)
class CompartmentPicked:
    """A customer chose a walk-in compartment to buy from."""

    compartment: int


@dataclass(frozen=True)
class Confirmed:
    """The customer accepted the walk-in price: pay now."""


PersonEvent = (
    Touched
    | DigitPressed
    | Erase
    | PinEntered
    | Scanned
    | Back
    | MenuChosen
    | OrderChosen
    | SizeChosen
    | CompartmentChosen
    | WalkinDetails
    | CompartmentPicked
    | Confirmed
)

# -- what a device said ---------------------------------------------------------------------------


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
class DoorOpened:
    compartment: int


@dataclass(frozen=True)
class DoorNotOpened:
    """The lock was released but the door never showed open (jammed, or held shut)."""

    compartment: int


@dataclass(frozen=True)
class LockFailed:
    """The controller did not answer (board silent, bad checksum, port gone)."""

    compartment: int
    message: str


@dataclass(frozen=True)
class DoorClosed:
    compartment: int
    item_present: bool | None = None  # None without an item sensor


@dataclass(frozen=True)
class DoorWarning:
    """The door has been open longer than `[lockers] door_open_alarm_s`."""

    compartment: int


DeviceEvent = (
    ReadingArrived
    | PrinterChanged
    | TerminalChanged
    | DoorOpened
    | DoorNotOpened
    | LockFailed
    | DoorClosed
    | DoorWarning
)

# -- what the shop's records answered -------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueLoaded:
    products: tuple[Product, ...]


@dataclass(frozen=True)
class PaymentAnswered:
    """The till's verdict on a `Charge`; on approval the sale is already recorded."""

    outcome: PaymentOutcome
    amount_cents: int
    receipt_number: str = ""
    message: str = ""
    receipt_url: str = ""  # the QR code's link to the receipt; empty without a base URL
    cannot_record: bool = False  # nothing charged: the box cannot record a sale (disk full)


@dataclass(frozen=True)
class CodeChecked:
    """The store's verdict on a pickup code; `locked_for_s` when the keypad is now locked."""

    verdict: Verdict
    order_number: str | None = None
    compartment: int | None = None
    code_id: int | None = None
    locked_for_s: float = 0.0


@dataclass(frozen=True)
class OrderReread:
    order_number: str
    state: OrderState | None  # None: marketplace absent or unreachable, use the local copy


@dataclass(frozen=True)
class ProducerIdentified:
    verdict: Verdict
    producer: str | None = None
    locked_for_s: float = 0.0


@dataclass(frozen=True)
class WallLoaded:
    """The waiting orders and the compartments, read when the producer's menu opens."""

    orders: tuple[OrderToDeposit, ...]
    compartments: tuple[Compartment, ...]
    busy: frozenset[int]


@dataclass(frozen=True)
class DepositRecorded:
    """The store's answer to `RecordDeposit`; `code` and `token` only to send them."""

    order_number: str
    ok: bool
    message: str = ""
    code: str = field(default="", repr=False)
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class CodeSent:
    order_number: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class ShelfLoaded:
    """The walk-in compartments holding produce, read when a walk-in purchase starts."""

    items: tuple[ForSale, ...]


@dataclass(frozen=True)
class StoreDamaged:
    """The tables the database check found damaged (empty again once repaired and resolved):
    while any is, the kiosk records nothing and so sells nothing."""

    tables: frozenset[str]


ShopAnswer = (
    CatalogueLoaded
    | StoreDamaged
    | PaymentAnswered
    | CodeChecked
    | OrderReread
    | ProducerIdentified
    | WallLoaded
    | DepositRecorded
    | CodeSent
    | ShelfLoaded
)

# -- time -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerFired:
    """The UI's periodic tick; idle and other deadlines are checked against `now`."""


Event = PersonEvent | DeviceEvent | ShopAnswer | TimerFired
