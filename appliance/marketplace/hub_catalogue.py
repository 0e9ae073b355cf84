"""Down: what the hub sells becomes the local catalogue (`sku` = `ofn-<variant id>`).

Products changed since the last read, and a full read every hour: a stock move may leave a
product's `updated_at` alone, and only a full read shows which variants are gone.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime, timedelta

from appliance import clock
from appliance.config import Config
from appliance.marketplace import mapping, moments
from appliance.marketplace.client import Answer, Client
from appliance.marketplace.mapping import WeighedProduce
from appliance.store import catalogue
from appliance.store.db import transaction
from appliance.store.sync_state import directions, variants

FULL_READ_EVERY = timedelta(hours=1)


def download(
    config: Config, db: sqlite3.Connection, client: Client, now: datetime
) -> tuple[int, int]:
    """Variants the hub's manager may edit become local products; (saved, deactivated)."""
    m = config.marketplace
    state = directions.state(db, "catalogue")
    full = not state.cursor or moments.older_than(state.full_sweep_at, now, FULL_READ_EVERY)
    first: list[Answer] = []
    listing = client.bulk_products(updated_after="" if full else state.cursor, first_page=first)
    seen_at = clock.iso(now)
    saved = gone = 0
    with transaction(db):
        for listed in listing:
            for variant in mapping.variants_of(listed):
                mapped = variants.get(db, variant.id)
                mode = WeighedProduce((mapped and mapped.weighed) or m.weighed_produce)
                existing = catalogue.get(db, variant.sku)
                catalogue.save(db, mapping.product_for(variant, mode, existing, m.vat_rate_bp))
                variants.remember(
                    db,
                    variant_id=variant.id,
                    product_id=variant.product_id,
                    sku=variant.sku,
                    producer_id=variant.producer_id,
                    unit_grams=variant.unit_grams,
                    on_demand=variant.on_demand,
                    on_hand=variant.on_hand,
                    seen_at=seen_at,
                )
                saved += 1
        if full:
            for sku in variants.not_seen_since(db, seen_at):
                product = catalogue.get(db, sku)
                if product and product.active:
                    catalogue.save(db, dataclasses.replace(product, active=False))
                    gone += 1
        directions.record_success(
            db, "catalogue", seen_at, cursor=moments.next_cursor(first, now), full_sweep=full
        )
    return saved, gone
