"""The fake marketplace's world: enterprises, variants, orders, and the hooks tests script.

Kept in memory behind one lock (the server is threaded). Online checkouts take stock, cancels
give it back, `ship` never touches it, as in OFN (§2 of the reference).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from appliance import clock
from appliance.fake_server import Scripted


class Fault(StrEnum):
    """An answer the next matching request gets instead of the real one."""

    MAINTENANCE = "maintenance"  # nginx's HTML 503 page during a deploy
    GATEWAY_TIMEOUT = "gateway_timeout"  # rack-timeout: 504, empty body
    SERVER_ERROR = "server_error"  # nginx's HTML /500.html
    TRUNCATED = "truncated"  # 200 whose JSON is cut off half-way
    UNAUTHORIZED = "unauthorized"  # 401 as for a revoked key
    SLOW = "slow"  # the real answer, after `slow_s`
    # 429 with `Retry-After: <retry_after>`: OFN has no rate limiter, a proxy in front may
    RATE_LIMITED = "rate_limited"


class Oversold(Exception):
    """A stock move below zero on a variant that is not on demand (OFN answers 422)."""


@dataclass
class Enterprise:
    id: int
    name: str
    is_hub: bool = False
    managers: set[str] = field(default_factory=set)  # API keys of the users managing it
    grants_to: set[int] = field(default_factory=set)  # hubs that may edit its products


@dataclass
class Variant:
    id: int
    product_id: int
    producer_id: int
    display_name: str
    price_cents: int
    on_hand: int
    on_demand: bool = False
    variant_unit: str = "items"  # weight | volume | items
    unit_value: float = 1  # grams, litres or a count
    unit_description: str = ""
    variant_unit_name: str = ""
    overrides: int = 0
    sku: str = ""


@dataclass
class Product:
    id: int
    name: str
    image_url: str = ""
    updated_at: datetime = field(default_factory=clock.now)


@dataclass
class LineItem:
    id: int
    variant_id: int
    quantity: int
    price_cents: int


@dataclass
class Payment:
    method: str  # "Carte bancaire" (paid online) or "Chèque / espèces au retrait" (Check)
    amount_cents: int
    state: str  # completed | pending | ...
    updated_at: datetime


@dataclass
class Order:
    id: int
    number: str
    distributor_id: int
    order_cycle_id: int
    shipping_method_id: int
    full_name: str
    email: str
    phone: str
    line_items: list[LineItem]
    payments: list[Payment]
    state: str = "complete"
    payment_state: str = "paid"
    shipment_state: str = "ready"
    completed_at: datetime | None = None
    created_at: datetime = field(default_factory=clock.now)
    updated_at: datetime = field(default_factory=clock.now)

    @property
    def total_cents(self) -> int:
        return sum(li.quantity * li.price_cents for li in self.line_items)


@dataclass
class ShippingMethod:
    id: int
    name: str
    distributor_id: int
    description: str = ""


@dataclass
class OrderCycle:
    id: int
    name: str
    open: bool
    distributors: set[int]
    variant_ids: set[int]
    fees_cents: int = 0


class FakeState(Scripted[Fault]):
    """Everything the fake knows, plus the scripting hooks.

    `release` decides the ransack name of the producer filter: "5.7.7" knows
    `variants_enterprise_id_eq`, anything before 5.7.2 only `variants_supplier_id_eq`.
    """

    def __init__(self, now: Callable[[], datetime] | None = None, release: str = "5.7.7") -> None:
        super().__init__(Fault.MAINTENANCE)
        self.clock = now or clock.now
        self.release = release
        self.enterprises: dict[int, Enterprise] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.orders: dict[str, Order] = {}
        self.shipping_methods: dict[int, ShippingMethod] = {}
        self.order_cycles: dict[int, OrderCycle] = {}
        self.inventory_feature = False  # legacy variant overrides in use
        # scripting
        self.latency_s = 0.0
        self.retry_after = "5"  # a RATE_LIMITED answer's Retry-After: seconds or an HTTP date
        self.ignored_filters: set[str] = set()  # order filters this "release" does not know
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests served at the same time
        self.emails: list[tuple[str, str]] = []  # (order number, subject)
        self._ids = 1000

    # -- building the world -----------------------------------------------------------------------

    def next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def add_enterprise(self, enterprise: Enterprise) -> Enterprise:
        self.enterprises[enterprise.id] = enterprise
        return enterprise

    def add_product(self, product: Product, *variants: Variant) -> None:
        self.products[product.id] = product
        for v in variants:
            self.variants[v.id] = v

    def place_order(
        self,
        *,
        distributor_id: int,
        order_cycle_id: int,
        shipping_method_id: int,
        full_name: str,
        email: str,
        lines: list[tuple[int, int]],
        phone: str = "",
        paid: bool = True,
        number: str | None = None,
    ) -> Order:
        """An online checkout: takes stock at completion, like `Shipment#finalize!`."""
        with self.lock:
            now = self.clock()
            order_id = self.next_id()
            items = []
            for variant_id, quantity in lines:
                variant = self.variants[variant_id]
                if not variant.on_demand:
                    variant.on_hand -= quantity
                items.append(LineItem(self.next_id(), variant_id, quantity, variant.price_cents))
            total = sum(li.quantity * li.price_cents for li in items)
            payment = Payment(
                "Carte bancaire" if paid else "Chèque / espèces au retrait",
                total,
                "completed" if paid else "pending",
                now,
            )
            order = Order(
                id=order_id,
                number=number or f"R{order_id:09d}",
                distributor_id=distributor_id,
                order_cycle_id=order_cycle_id,
                shipping_method_id=shipping_method_id,
                full_name=full_name,
                email=email,
                phone=phone,
                line_items=items,
                payments=[payment],
                payment_state="paid" if paid else "balance_due",
                shipment_state="ready" if paid else "pending",
                completed_at=now,
                created_at=now,
                updated_at=now,
            )
            self.orders[order.number] = order
            return order

    def checkout(self, variant_id: int, quantity: int = 1) -> None:
        """Someone elsewhere buys online: the shared stock goes down (row-locked, relative)."""
        with self.lock:
            variant = self.variants[variant_id]
            if not variant.on_demand:
                variant.on_hand -= quantity

    def cancel(self, number: str) -> None:
        """An admin cancels: the stock comes back (`restock_items`)."""
        with self.lock:
            order = self.orders[number]
            order.state = "canceled"
            order.shipment_state = "canceled"
            order.payment_state = "void" if order.payment_state == "balance_due" else "credit_owed"
            for li in order.line_items:
                variant = self.variants[li.variant_id]
                if not variant.on_demand:
                    variant.on_hand += li.quantity
            order.updated_at = self.clock()

    def edit_quantity(self, number: str, variant_id: int, quantity: int) -> None:
        """A customer or admin changes a line after the sync."""
        with self.lock:
            order = self.orders[number]
            for li in order.line_items:
                if li.variant_id == variant_id:
                    variant = self.variants[variant_id]
                    if not variant.on_demand:
                        variant.on_hand -= quantity - li.quantity
                    li.quantity = quantity
            order.updated_at = self.clock()

    def add_to_order(self, order: Order, variant_id: int, quantity: int) -> None:
        """`POST .../shipments` on a completed order: units taken from stock, row-locked."""
        with self.lock:
            variant = self.variants[variant_id]
            if order.state == "complete" and not variant.on_demand:
                if variant.on_hand < quantity:
                    raise Oversold(
                        "La validation a échoué : Count on hand doit être supérieur ou égal à 0"
                    )
                variant.on_hand -= quantity
            line = next((li for li in order.line_items if li.variant_id == variant_id), None)
            if line is None:
                order.line_items.append(
                    LineItem(self.next_id(), variant_id, quantity, variant.price_cents)
                )
            else:
                line.quantity += quantity
            paid = sum(p.amount_cents for p in order.payments if p.state == "completed")
            order.payment_state = "paid" if paid >= order.total_cents else "balance_due"
            order.updated_at = self.clock()

    # -- permissions ------------------------------------------------------------------------------

    def is_key(self, key: str) -> bool:
        return any(key in e.managers for e in self.enterprises.values())

    def managed_by(self, key: str) -> set[int]:
        return {e.id for e in self.enterprises.values() if key in e.managers}

    def editable_producers(self, key: str) -> set[int]:
        """The key's enterprises and the producers that let one of them manage their products."""
        mine = self.managed_by(key)
        return mine | {e.id for e in self.enterprises.values() if e.grants_to & mine}

    def ago(self, **kw: float) -> datetime:
        return self.clock() - timedelta(**kw)
