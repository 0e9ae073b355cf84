"""What the box's records are called on the Pastèque server: its register, taxes, payment modes,
currency, cashier, categories and products, read once at start and kept for the tickets.

Comptoir's VAT rates (basis points) meet Pastèque's taxes by rate; the card, online and refund
payment modes by the references in `[pasteque]`; categories by reference or label (a category
Pastèque does not have keeps Comptoir's name in the Z); products by reference = sku. A tax or
payment mode that cannot be found is a `MappingError` that names it and says what to create.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from appliance.config import Config
from appliance.pasteque import euros
from appliance.pasteque.client import PastequeError

API_LEVEL = 8
#: Payment mode types that need a customer on the ticket (1 account, 3 debt, 5 prepaid).
NEEDS_CUSTOMER = (1, 3, 5)


class MappingError(PastequeError):
    """The server lacks something the box must name on its tickets; the message says what."""


class Paid(StrEnum):
    """How the money of a ticket came: the three payment modes the box uses."""

    CARD = "card"
    ONLINE = "online"
    REFUND = "refund"


@dataclass(frozen=True)
class Category:
    reference: str
    label: str


@dataclass(frozen=True)
class Mapping:
    """The server's ids for everything a ticket or a session names."""

    register_id: int
    register_reference: str
    register_label: str
    next_ticket_id: int
    cashier_id: int
    currency_id: int
    server_version: str
    taxes: dict[int, int] = field(default_factory=dict)  # VAT basis points -> tax id
    modes: dict[str, int] = field(default_factory=dict)  # Paid value -> payment mode id
    mode_references: dict[int, str] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)  # folded name -> category
    products: dict[str, int] = field(default_factory=dict)  # reference (sku) -> product id

    def tax_for(self, rate_bp: int, what: str = "") -> int:
        found = self.taxes.get(rate_bp)
        if found is None:
            needed = f" (needed by {what})" if what else ""
            raise MappingError(
                f"Pastèque has no tax at {_percent(rate_bp)}{needed}: add it in Pastèque's "
                "admin (Taxes), then the box sends what waits"
            )
        return found

    def mode_for(self, paid: Paid) -> int:
        return self.modes[paid.value]

    def category_for(self, name: str) -> Category:
        """Pastèque's category of that name, or one named as Comptoir names it."""
        if not name.strip():
            return Category("comptoir", "Comptoir")
        return self.categories.get(_fold(name)) or Category(_slug(name), name.strip())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Mapping:
        raw = json.loads(text)
        raw["taxes"] = {int(k): v for k, v in raw["taxes"].items()}
        raw["mode_references"] = {int(k): v for k, v in raw["mode_references"].items()}
        raw["categories"] = {k: Category(**v) for k, v in raw["categories"].items()}
        return cls(**raw)


def register_reference(config: Config) -> str:
    return config.pasteque.cash_register or f"comptoir-{config.device.id}"


def check_version(version: dict[str, Any], url: str) -> str:
    """The server's version text; an API level other than 8 stops the gateway."""
    level = version.get("level")
    if level != API_LEVEL:
        raise MappingError(
            f"Pastèque at {url} speaks API level {level!r} (version {version.get('version')!r}); "
            f"Comptoir speaks level {API_LEVEL} (Pastèque 8.x): update the server"
        )
    return str(version.get("version") or "")


def build(
    config: Config, register: dict[str, Any], synced: dict[str, Any], version: str
) -> Mapping:
    """The mapping from `GET /api/sync/{label}`; a missing payment mode, currency or cashier is
    a MappingError. Taxes are checked when a rate is needed (`Mapping.tax_for`)."""
    p = config.pasteque
    taxes: dict[int, int] = {}
    for tax in sorted(_list(synced, "taxes"), key=lambda t: t.get("id") or 0):
        try:
            taxes.setdefault(euros.basis_points(tax["rate"]), int(tax["id"]))
        except (KeyError, TypeError, ValueError):
            continue
    modes_by_reference = {str(m.get("reference")): m for m in _list(synced, "paymentmodes")}
    modes: dict[str, int] = {}
    wanted = (
        (Paid.CARD, p.card_payment_mode, "card sales", "card_payment_mode"),
        (Paid.ONLINE, p.online_payment_mode, "orders paid online", "online_payment_mode"),
        (Paid.REFUND, p.refund_payment_mode, "refunds", "refund_payment_mode"),
    )
    for paid, reference, what, key in wanted:
        mode = modes_by_reference.get(reference)
        if mode is None:
            known = ", ".join(sorted(modes_by_reference)) or "none"
            raise MappingError(
                f"Pastèque has no payment mode with reference {reference!r} (for {what}; it has "
                f"{known}): create it in Pastèque's admin (Modes de paiement), or set "
                f"[pasteque] {key}"
            )
        if mode.get("type") in NEEDS_CUSTOMER:
            raise MappingError(
                f"Pastèque's payment mode {reference!r} (for {what}) needs a customer account "
                f"(type {mode.get('type')}); the box names no customer: choose a mode of type 0 "
                f"in [pasteque] {key}"
            )
        modes[paid.value] = int(mode["id"])
    currency = next((c for c in _list(synced, "currencies") if c.get("main")), None)
    if currency is None:
        raise MappingError("Pastèque has no main currency: set one (Devises) in its admin")
    cashier = next((u for u in _list(synced, "users") if u.get("name") == p.cashier), None)
    if cashier is None:
        raise MappingError(
            f"Pastèque has no user named {p.cashier!r} to record on the box's tickets: create "
            "it in Pastèque's admin (Utilisateurs), or set [pasteque] cashier"
        )
    categories: dict[str, Category] = {}
    for c in _list(synced, "categories"):
        category = Category(str(c.get("reference") or ""), str(c.get("label") or ""))
        for name in (category.label, category.reference):
            if name:
                categories.setdefault(_fold(name), category)
    products = {
        str(pr["reference"]): int(pr["id"])
        for pr in _list(synced, "products")
        if pr.get("reference") and pr.get("id") is not None
    }
    return Mapping(
        register_id=int(register["id"]),
        register_reference=str(register.get("reference") or ""),
        register_label=str(register.get("label") or ""),
        next_ticket_id=int(register.get("nextTicketId") or 1),
        cashier_id=int(cashier["id"]),
        currency_id=int(currency["id"]),
        server_version=version,
        taxes=taxes,
        modes=modes,
        mode_references={int(m["id"]): reference for reference, m in modes_by_reference.items()},
        categories=categories,
        products=products,
    )


def _list(synced: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = synced.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _fold(text: str) -> str:
    """Case and accents do not matter when matching names: "Légumes" is "legumes"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in _fold(text)).split()) or "comptoir"


def _percent(rate_bp: int) -> str:
    whole, rest = divmod(rate_bp, 100)
    return f"{whole},{rest:02d}".rstrip("0").rstrip(",") + " %"
