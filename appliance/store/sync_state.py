"""What the marketplace sync remembers between runs (migrations 0004 and 0007).

Per direction (catalogue and orders down, pickups and stock up): the cursor, the last success
and the last error. Per variant: the local product it maps to, how it is sold if weighed, its
last known and last reported stock. The pickups and on-site sales still to report, copied
from the outbox so that one stuck report never holds back the others. And, in the shop-sales
order mode, the units sent into that order whose outcome is not known yet.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

DIRECTIONS = ("catalogue", "orders", "pickups", "stock")


@dataclass(frozen=True)
class DirectionState:
    direction: str
    cursor: str = ""
    full_sweep_at: str = ""
    last_attempt_at: str = ""
    last_success_at: str = ""
    last_error: str = ""
    last_error_at: str = ""


@dataclass(frozen=True)
class MappedVariant:
    variant_id: int
    product_id: int
    sku: str
    producer_id: int | None
    unit_grams: int | None
    on_demand: bool
    on_hand: int
    weighed: str | None
    remainder_g: int
    reported_on_hand: int | None
    reported_at: str | None


@dataclass(frozen=True)
class Pickup:
    number: str
    event_id: str
    collected_at: str
    compartment: int | None
    state: str
    attempts: int
    last_error: str
    reported_at: str | None


# -- directions -----------------------------------------------------------------------------------


def direction(db: sqlite3.Connection, name: str) -> DirectionState:
    row = db.execute(
        "SELECT direction, cursor, full_sweep_at, last_attempt_at, last_success_at, last_error, "
        "last_error_at FROM marketplace_sync WHERE direction = ?",
        (name,),
    ).fetchone()
    return DirectionState(*row) if row else DirectionState(name)


def directions(db: sqlite3.Connection) -> list[DirectionState]:
    return [direction(db, name) for name in DIRECTIONS]


def record_success(
    db: sqlite3.Connection,
    name: str,
    now: str,
    *,
    cursor: str | None = None,
    full_sweep: bool = False,
) -> None:
    """A direction finished; move its cursor when one is given. Call in a transaction."""
    _ensure(db, name)
    db.execute(
        "UPDATE marketplace_sync SET last_attempt_at = ?, last_success_at = ?, last_error = '', "
        "cursor = coalesce(?, cursor), full_sweep_at = CASE WHEN ? THEN ? ELSE full_sweep_at END "
        "WHERE direction = ?",
        (now, now, cursor, int(full_sweep), now, name),
    )


def record_error(db: sqlite3.Connection, name: str, now: str, error: str) -> None:
    _ensure(db, name)
    db.execute(
        "UPDATE marketplace_sync SET last_attempt_at = ?, last_error = ?, last_error_at = ? "
        "WHERE direction = ?",
        (now, error, now, name),
    )


def _ensure(db: sqlite3.Connection, name: str) -> None:
    db.execute("INSERT OR IGNORE INTO marketplace_sync (direction) VALUES (?)", (name,))


# -- variants -------------------------------------------------------------------------------------

_VARIANT_COLUMNS = (
    "variant_id, product_id, sku, producer_id, unit_grams, on_demand, on_hand, weighed, "
    "remainder_g, reported_on_hand, reported_at"
)


def remember_variant(
    db: sqlite3.Connection,
    *,
    variant_id: int,
    product_id: int,
    sku: str,
    producer_id: int | None,
    unit_grams: int | None,
    on_demand: bool,
    on_hand: int,
    seen_at: str,
) -> None:
    """Record what the marketplace said of a variant; local settings (weighed mode) stay."""
    db.execute(
        "INSERT INTO marketplace_variants (variant_id, product_id, sku, producer_id, unit_grams, "
        "on_demand, on_hand, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (variant_id) DO UPDATE SET product_id = excluded.product_id, "
        "sku = excluded.sku, producer_id = excluded.producer_id, "
        "unit_grams = excluded.unit_grams, on_demand = excluded.on_demand, "
        "on_hand = excluded.on_hand, seen_at = excluded.seen_at",
        (variant_id, product_id, sku, producer_id, unit_grams, int(on_demand), on_hand, seen_at),
    )


def variant(db: sqlite3.Connection, variant_id: int) -> MappedVariant | None:
    row = db.execute(
        f"SELECT {_VARIANT_COLUMNS} FROM marketplace_variants WHERE variant_id = ?", (variant_id,)
    ).fetchone()
    return _variant(row) if row else None


def variants(db: sqlite3.Connection) -> list[MappedVariant]:
    rows = db.execute(f"SELECT {_VARIANT_COLUMNS} FROM marketplace_variants ORDER BY variant_id")
    return [_variant(row) for row in rows]


def variants_not_seen_since(db: sqlite3.Connection, seen_at: str) -> list[str]:
    """Local skus of variants a full read of the catalogue no longer returned."""
    rows = db.execute("SELECT sku FROM marketplace_variants WHERE seen_at < ?", (seen_at,))
    return [row[0] for row in rows]


def set_weighed(db: sqlite3.Connection, variant_id: int, mode: str | None) -> bool:
    """Choose how one weight variant is sold here (None: the config default).

    The next catalogue read is a full one, so that the product changes even if the variant
    itself did not.
    """
    cursor = db.execute(
        "UPDATE marketplace_variants SET weighed = ? WHERE variant_id = ?", (mode, variant_id)
    )
    db.execute("UPDATE marketplace_sync SET full_sweep_at = '' WHERE direction = 'catalogue'")
    return cursor.rowcount > 0


def record_stock_written(db: sqlite3.Connection, variant_id: int, on_hand: int, now: str) -> None:
    db.execute(
        "UPDATE marketplace_variants SET on_hand = ?, reported_on_hand = ?, reported_at = ? "
        "WHERE variant_id = ?",
        (on_hand, on_hand, now, variant_id),
    )


def set_remainder(db: sqlite3.Connection, variant_id: int, remainder_g: int) -> None:
    """Grams sold by weight here that do not yet make a whole variant unit."""
    db.execute(
        "UPDATE marketplace_variants SET remainder_g = ? WHERE variant_id = ?",
        (remainder_g, variant_id),
    )


def producer_names(db: sqlite3.Connection) -> dict[int, str]:
    """Variant id -> producer name, from the local catalogue (order details show no names)."""
    rows = db.execute(
        "SELECT v.variant_id, p.producer FROM marketplace_variants v "
        "JOIN products p ON p.sku = v.sku"
    )
    return dict(rows.fetchall())


def _variant(row: tuple[Any, ...]) -> MappedVariant:
    values = list(row)
    values[5] = bool(values[5])
    return MappedVariant(*values)


# -- orders ---------------------------------------------------------------------------------------


def order_fingerprint(db: sqlite3.Connection, number: str) -> str | None:
    row = db.execute(
        "SELECT fingerprint FROM marketplace_orders WHERE number = ?", (number,)
    ).fetchone()
    return row[0] if row else None


def remember_order(
    db: sqlite3.Connection,
    number: str,
    fingerprint: str,
    order_cycle_id: int | None,
    shipping_method_id: int | None,
    read_at: str,
) -> None:
    db.execute(
        "INSERT INTO marketplace_orders (number, fingerprint, order_cycle_id, shipping_method_id, "
        "read_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, order_cycle_id = excluded.order_cycle_id, "
        "shipping_method_id = coalesce(excluded.shipping_method_id, shipping_method_id), "
        "read_at = excluded.read_at",
        (number, fingerprint, order_cycle_id, shipping_method_id, read_at),
    )


def order_cycles_seen(db: sqlite3.Connection) -> list[int]:
    rows = db.execute(
        "SELECT DISTINCT order_cycle_id FROM marketplace_orders "
        "WHERE order_cycle_id IS NOT NULL ORDER BY order_cycle_id"
    )
    return [row[0] for row in rows]


# -- pickups --------------------------------------------------------------------------------------

_PICKUP_COLUMNS = (
    "number, event_id, collected_at, compartment, state, attempts, last_error, reported_at"
)


def add_pickup(
    db: sqlite3.Connection,
    number: str,
    event_id: str,
    collected_at: str,
    compartment: int | None,
) -> bool:
    """Queue a pickup report; a second event for the same order is ignored."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO marketplace_pickups (number, event_id, collected_at, compartment) "
        "VALUES (?, ?, ?, ?)",
        (number, event_id, collected_at, compartment),
    )
    return cursor.rowcount > 0


def pickups(db: sqlite3.Connection, state: str | None = None) -> list[Pickup]:
    sql = f"SELECT {_PICKUP_COLUMNS} FROM marketplace_pickups"
    params: tuple[Any, ...] = ()
    if state:
        sql += " WHERE state = ?"
        params = (state,)
    return [Pickup(*row) for row in db.execute(sql + " ORDER BY collected_at, number", params)]


def pickup_done(db: sqlite3.Connection, number: str, state: str, now: str, error: str = "") -> None:
    """`reported` (shipped online) or `refused` (never will be: the admin must look)."""
    db.execute(
        "UPDATE marketplace_pickups SET state = ?, attempts = attempts + 1, last_error = ?, "
        "reported_at = ? WHERE number = ?",
        (state, error, now, number),
    )


def pickup_failed(db: sqlite3.Connection, number: str, error: str) -> None:
    db.execute(
        "UPDATE marketplace_pickups SET attempts = attempts + 1, last_error = ? WHERE number = ?",
        (error, number),
    )


# -- on-site sales --------------------------------------------------------------------------------


def add_sale_line(
    db: sqlite3.Connection,
    event_id: str,
    line_no: int,
    variant_id: int,
    quantity: int,
    weight_g: int | None,
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO marketplace_sales (event_id, line_no, variant_id, quantity, "
        "weight_g) VALUES (?, ?, ?, ?, ?)",
        (event_id, line_no, variant_id, quantity, weight_g),
    )


@dataclass(frozen=True)
class UnreportedSales:
    """What one variant sold here and the marketplace stock does not show yet."""

    variant_id: int
    pieces: int  # lines without a weight: their quantity
    grams: int  # lines with a weight: their grams
    last_rowid: int  # the lines counted, so that later ones are not marked by mistake


def unreported_sales(db: sqlite3.Connection) -> list[UnreportedSales]:
    rows = db.execute(
        "SELECT variant_id, sum(CASE WHEN weight_g IS NULL THEN quantity ELSE 0 END), "
        "sum(coalesce(weight_g, 0)), max(rowid) FROM marketplace_sales "
        "WHERE reported_at IS NULL GROUP BY variant_id ORDER BY variant_id"
    )
    return [UnreportedSales(*row) for row in rows]


def mark_sales_reported(db: sqlite3.Connection, sales: UnreportedSales, now: str) -> None:
    db.execute(
        "UPDATE marketplace_sales SET reported_at = ? "
        "WHERE variant_id = ? AND reported_at IS NULL AND rowid <= ?",
        (now, sales.variant_id, sales.last_rowid),
    )


# -- shop-sales order ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopSale:
    """Units of one variant on their way into a shop-sales order (see migration 0007)."""

    order_number: str
    variant_id: int
    units: int
    base: int  # the variant's quantity in the order right before sending


def shop_sales_to_send(db: sqlite3.Connection) -> list[ShopSale]:
    rows = db.execute(
        "SELECT order_number, variant_id, units, base FROM marketplace_shop_sales "
        "ORDER BY order_number, variant_id"
    )
    return [ShopSale(*row) for row in rows]


def add_shop_sale(
    db: sqlite3.Connection, order_number: str, variant_id: int, units: int, base: int
) -> None:
    """Units to send, written before sending; they join units of the variant not yet sent."""
    db.execute(
        "INSERT INTO marketplace_shop_sales (order_number, variant_id, units, base) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (order_number, variant_id) DO UPDATE SET "
        "units = units + excluded.units, base = excluded.base",
        (order_number, variant_id, units, base),
    )


def set_shop_sale_units(db: sqlite3.Connection, sale: ShopSale, units: int) -> None:
    """Fewer units to send (the marketplace has fewer left); none removes the row."""
    if units <= 0:
        shop_sale_sent(db, sale)
        return
    db.execute(
        "UPDATE marketplace_shop_sales SET units = ? WHERE order_number = ? AND variant_id = ?",
        (units, sale.order_number, sale.variant_id),
    )


def shop_sale_sent(db: sqlite3.Connection, sale: ShopSale) -> None:
    db.execute(
        "DELETE FROM marketplace_shop_sales WHERE order_number = ? AND variant_id = ?",
        (sale.order_number, sale.variant_id),
    )


def waiting(db: sqlite3.Connection) -> dict[str, int]:
    """What is still to report or to look at, for `comptoir sync status`."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "pickups_to_report": one(
            "SELECT count(*) FROM marketplace_pickups WHERE state = 'pending'"
        ),
        "pickups_refused": one("SELECT count(*) FROM marketplace_pickups WHERE state = 'refused'"),
        "sale_lines_to_report": one(
            "SELECT count(*) FROM marketplace_sales WHERE reported_at IS NULL"
        ),
        "shop_sale_units_to_send": one(
            "SELECT coalesce(sum(units), 0) FROM marketplace_shop_sales"
        ),
        "variants": one("SELECT count(*) FROM marketplace_variants"),
        "orders_read": one("SELECT count(*) FROM marketplace_orders"),
    }
