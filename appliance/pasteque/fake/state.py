"""The fake Pastèque's world: reference data, registers, sessions, tickets, and the faults tests
script. Kept in memory behind one lock (the server is threaded).

Sessions and tickets are kept as the server's structs (`toStruct()`: associations as integer
ids, money as floats rounded as the model setters round them), since that is what its routes
answer and what idempotent resubmission compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from appliance.fake_server import Scripted
from appliance.pasteque.fake.fiscal import FiscalLog

Struct = dict[str, Any]

VERSION = "8.9"
LEVEL = 8
JWT_TIMEOUT_S = 600


class Fault(StrEnum):
    """An answer the next matching request gets instead of (or after) the real one."""

    SERVER_ERROR = "server_error"  # Slim's HTML error page, HTTP 500
    MAINTENANCE = "maintenance"  # the web server's HTML maintenance page, HTTP 503
    TOKEN_EXPIRED = "token_expired"  # 403 Not logged, as once the JWT is past its timeout
    SLOW = "slow"  # the real answer, after `slow_s`
    LOST_REPLY = "lost_reply"  # the request is done, then a proxy answers 502: reply lost
    TICKET_ERROR = "ticket_error"  # POST /api/ticket: every ticket of the batch in `errors`


@dataclass(frozen=True)
class Tax:
    id: int
    label: str
    rate: float

    def to_struct(self) -> Struct:
        return {"id": self.id, "label": self.label, "rate": self.rate}


@dataclass(frozen=True)
class PaymentMode:
    id: int
    reference: str
    label: str
    type: int = 0  # 0 default; 1 needs a customer; 3 customer debt; 5 customer prepaid
    visible: bool = True
    disp_order: int = 0

    def to_struct(self) -> Struct:
        return {
            "id": self.id,
            "reference": self.reference,
            "label": self.label,
            "backLabel": self.label,
            "type": self.type,
            "visible": self.visible,
            "dispOrder": self.disp_order,
            "hasImage": False,
            "values": [],
            "returns": [],
        }


@dataclass(frozen=True)
class Currency:
    id: int
    reference: str
    label: str
    symbol: str
    main: bool = True

    def to_struct(self) -> Struct:
        return {
            "id": self.id,
            "reference": self.reference,
            "label": self.label,
            "symbol": self.symbol,
            "decimalSeparator": ",",
            "thousandsSeparator": " ",
            "format": "#,##0.00¤",
            "rate": 1.0,
            "main": self.main,
            "visible": True,
        }


@dataclass(frozen=True)
class Category:
    id: int
    reference: str
    label: str
    parent: int | None = None

    def to_struct(self) -> Struct:
        return {
            "id": self.id,
            "reference": self.reference,
            "label": self.label,
            "parent": self.parent,
            "hasImage": False,
            "dispOrder": 0,
        }


@dataclass(frozen=True)
class Product:
    id: int
    reference: str
    label: str
    category: int
    tax: int
    price_sell: float  # excluding tax
    scaled: bool = False
    visible: bool = True

    def to_struct(self, taxes: dict[int, Tax]) -> Struct:
        rate = taxes[self.tax].rate
        return {
            "id": self.id,
            "reference": self.reference,
            "label": self.label,
            "barcode": "",
            "priceBuy": None,
            "priceSell": self.price_sell,
            "visible": self.visible,
            "scaled": self.scaled,
            "scaleType": 1 if self.scaled else 0,
            "scaleValue": 1.0,
            "dispOrder": 0,
            "discountEnabled": False,
            "discountRate": 0.0,
            "prepay": False,
            "composition": False,
            "hasImage": False,
            "category": self.category,
            "tax": self.tax,
            "taxedPrice": php_round(self.price_sell * (1 + rate), 2),
            "taxValue": php_round(self.price_sell * rate, 2),
        }


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: int = 1
    active: bool = True

    def to_struct(self) -> Struct:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "hasImage": False,
            "card": None,
        }


@dataclass
class CashRegister:
    id: int
    reference: str
    label: str
    next_ticket_id: int = 1
    next_session_id: int = 1

    def to_struct(self) -> Struct:
        return {
            "id": self.id,
            "reference": self.reference,
            "label": self.label,
            "nextTicketId": self.next_ticket_id,
            "nextSessionId": self.next_session_id,
        }


@dataclass
class Account:
    """An instance account of the ident module (`core_ident = single`)."""

    user: str
    password: str


class FakeState(Scripted[Fault]):
    """Everything the fake knows, plus the scripting hooks (see `Fault`, `Scripted`)."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        jwt_secret: str = "fake-pasteque-jwt-secret",
        jwt_timeout_s: int = JWT_TIMEOUT_S,
    ) -> None:
        super().__init__(Fault.MAINTENANCE)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.jwt_secret = jwt_secret
        self.jwt_timeout_s = jwt_timeout_s
        self.version = VERSION
        self.level = LEVEL
        self.accounts: list[Account] = []
        self.taxes: dict[int, Tax] = {}
        self.payment_modes: dict[int, PaymentMode] = {}
        self.currencies: dict[int, Currency] = {}
        self.categories: dict[int, Category] = {}
        self.products: dict[int, Product] = {}
        self.users: dict[int, User] = {}
        self.registers: dict[int, CashRegister] = {}
        self.sessions: dict[tuple[int, int], Struct] = {}  # (register id, sequence)
        self.tickets: dict[tuple[int, int], Struct] = {}  # (register id, number)
        self.fiscal = FiscalLog()
        self.token_generation = 0  # tokens of an earlier generation are refused
        self._ids = 0
        self.logins = 0

    # -- building the world -----------------------------------------------------------------------

    def next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def add_register(self, reference: str, label: str = "") -> CashRegister:
        with self.lock:
            register = CashRegister(self.next_id(), reference, label or reference)
            self.registers[register.id] = register
            return register

    def register_by(self, *, reference: str = "", label: str = "") -> CashRegister | None:
        for register in self.registers.values():
            if (reference and register.reference == reference) or (
                label and register.label == label
            ):
                return register
        return None

    def now_s(self) -> int:
        return int(self.clock().timestamp())

    # -- scripting --------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on, as after `jwt_timeout` idle."""
        with self.lock:
            self.token_generation += 1

    # -- reading ----------------------------------------------------------------------------------

    def session_tickets(self, register_id: int, sequence: int) -> list[Struct]:
        with self.lock:
            return sorted(
                (
                    t
                    for (r, _), t in self.tickets.items()
                    if r == register_id and t["sequence"] == sequence
                ),
                key=lambda t: t["number"],
            )

    def closed_sessions(self, register_id: int) -> list[Struct]:
        with self.lock:
            return [
                s
                for (r, _), s in sorted(self.sessions.items())
                if r == register_id and s["closeDate"] is not None
            ]


def php_round(value: float, places: int) -> float:
    """PHP's round(): half away from zero on the number as printed (its "pre-rounding")."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
