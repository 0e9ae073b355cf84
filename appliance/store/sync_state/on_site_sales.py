"""Lines sold here that the marketplace stock does not show yet, copied from the outbox's
`sale` events; they are counted per variant and marked once the stock is written."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class UnreportedSales:
    """What one variant sold here and the marketplace stock does not show yet."""

    variant_id: int
    pieces: int  # lines without a weight: their quantity
    grams: int  # lines with a weight: their grams
    last_rowid: int  # the lines counted, so that later ones are not marked by mistake


def add_line(
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


def unreported(db: sqlite3.Connection) -> list[UnreportedSales]:
    rows = db.execute(
        "SELECT variant_id, sum(CASE WHEN weight_g IS NULL THEN quantity ELSE 0 END), "
        "sum(coalesce(weight_g, 0)), max(rowid) FROM marketplace_sales "
        "WHERE reported_at IS NULL GROUP BY variant_id ORDER BY variant_id"
    )
    return [UnreportedSales(*row) for row in rows]


def mark_reported(db: sqlite3.Connection, sales: UnreportedSales, now: str) -> None:
    db.execute(
        "UPDATE marketplace_sales SET reported_at = ? "
        "WHERE variant_id = ? AND reported_at IS NULL AND rowid <= ?",
        (now, sales.variant_id, sales.last_rowid),
    )
