"""Each marketplace variant and the local product it maps to: what the catalogue read said of
it, how it is sold here if weighed, and its last known and last reported stock."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from appliance.store.sync_state import directions


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


_COLUMNS = (
    "variant_id, product_id, sku, producer_id, unit_grams, on_demand, on_hand, weighed, "
    "remainder_g, reported_on_hand, reported_at"
)


def remember(
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


def get(db: sqlite3.Connection, variant_id: int) -> MappedVariant | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM marketplace_variants WHERE variant_id = ?", (variant_id,)
    ).fetchone()
    return _variant(row) if row else None


def not_seen_since(db: sqlite3.Connection, seen_at: str) -> list[str]:
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
    directions.force_full_catalogue_read(db)
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
