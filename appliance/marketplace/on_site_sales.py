"""Up: units of marketplace variants sold on site, reported as absolute stock writes (§6).

The kiosk's `sale` events name lines by sku and leave `variant_id` null (the kiosk knows
products, not variants), so the sku `ofn-<variant id>` of marketplace products says which
variant; a product of the shop only is not the marketplace's business. Online pre-orders never
come here: checkout took their stock. Each variant is written as `fresh - sold here`, read
right before the write; an online checkout between the two is the documented window.
`shop_sales_order.py` is the race-free alternative.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from appliance import clock
from appliance.config import Config
from appliance.marketplace import mapping
from appliance.marketplace.client import Client
from appliance.marketplace.mapping import WeighedProduce
from appliance.store import outbox
from appliance.store.db import transaction
from appliance.store.sync_state import directions, on_site_sales, variants

SKU_PREFIX = "ofn-"


def take(db: sqlite3.Connection, event: outbox.Event) -> None:
    """Queue the marketplace lines of one `sale` event. Call in a transaction."""
    for line_no, line in enumerate(event.payload.get("lines") or [], start=1):
        variant_id = line.get("variant_id")
        sku = str(line.get("sku") or "")
        if variant_id is None and sku.startswith(SKU_PREFIX) and sku[len(SKU_PREFIX) :].isdigit():
            variant_id = int(sku[len(SKU_PREFIX) :])
        if variant_id is None:
            continue
        on_site_sales.add_line(
            db,
            event.event_id,
            line_no,
            int(variant_id),
            int(line.get("quantity") or 0),
            line.get("weight_g"),
        )


@dataclass(frozen=True)
class Batch:
    """The unreported sales of one variant, in whole variant units."""

    sales: on_site_sales.UnreportedSales
    variant: variants.MappedVariant
    units: int
    remainder_g: int  # grams sold by weight that do not make a whole unit yet

    @property
    def to_send(self) -> bool:
        """False for on-demand variants and sales below one unit: nothing to take online."""
        return self.units > 0 and not self.variant.on_demand


def batches(config: Config, db: sqlite3.Connection) -> tuple[list[Batch], int]:
    """(one batch per variant with unreported sales, lines of variants not in the catalogue)."""
    default = WeighedProduce(config.marketplace.weighed_produce)
    found, unknown = [], 0
    for sales in on_site_sales.unreported(db):
        variant = variants.get(db, sales.variant_id)
        if variant is None:
            unknown += 1  # not in the catalogue yet: kept until it is
            continue
        mode = WeighedProduce(variant.weighed) if variant.weighed else default
        units, remainder = mapping.units_to_report(
            mode, variant.unit_grams, sales.pieces, sales.grams, variant.remainder_g
        )
        found.append(Batch(sales, variant, units, remainder))
    return found, unknown


def settle(db: sqlite3.Connection, batch: Batch, now: str) -> None:
    """The batch's sales are accounted for. Call in the transaction that records where."""
    variants.set_remainder(db, batch.variant.variant_id, batch.remainder_g)
    on_site_sales.mark_reported(db, batch.sales, now)


def write_stock(
    config: Config, db: sqlite3.Connection, client: Client, now: datetime
) -> tuple[int, int]:
    """Fresh stock minus the units sold here, variant by variant; (written, skipped)."""
    todo, skipped = batches(config, db)
    written = 0
    for batch in todo:
        target = None
        if batch.to_send:
            variant = batch.variant
            fresh = client.variant(variant.product_id, variant.variant_id)
            if not fresh.get("on_demand"):
                target = max(0, int(fresh.get("on_hand") or 0) - batch.units)
                client.set_stock(variant.product_id, variant.variant_id, target)
        with transaction(db):
            if target is None:
                skipped += 1
            else:
                variants.record_stock_written(db, batch.variant.variant_id, target, clock.iso(now))
                written += 1
            settle(db, batch, clock.iso(now))
    with transaction(db):
        directions.record_success(db, "stock", clock.iso(now))
    return written, skipped
