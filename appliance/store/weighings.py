"""Accepted weighings and printed labels in the journal (metrology reference §5.2 rule 13).

Each entry holds everything needed to reconstruct the weighing or the label: weight, tare, unit
price, price, scale interval, time, kiosk and the label's ticket number. Labels are numbered by
the labels already in the journal, so the kiosk and `comptoir label print` share one sequence.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC

from appliance import clock
from appliance.core.catalogue import Product
from appliance.core.journal import JournalEntry
from appliance.core.label import LabelContent
from appliance.core.weighing import Weighing
from appliance.store import journal
from appliance.store.db import transaction

WEIGHING = "weighing"
LABEL = "label"


def next_label_ticket(db: sqlite3.Connection) -> int:
    (count,) = db.execute("SELECT count(*) FROM journal WHERE kind = ?", (LABEL,)).fetchone()
    return int(count) + 1


def record_weighing(
    db: sqlite3.Connection,
    weighing: Weighing,
    product: Product,
    *,
    device_id: str,
    interval_g: int,
) -> JournalEntry:
    """Journal one accepted weighing, in its own transaction."""
    data = {
        "sku": product.sku,
        "name": product.name,
        "weight_g": weighing.weight_g,
        "tare_g": weighing.tare_g,
        "net": weighing.net,
        "interval_g": interval_g,
        "unit_price_cents": weighing.unit_price_cents,
        "price_cents": weighing.price_cents,
        "scale_computed": weighing.scale_computed,
        "device_id": device_id,
    }
    with transaction(db):
        return journal.append(db, WEIGHING, data)


def record_label(
    db: sqlite3.Connection,
    content: LabelContent,
    *,
    device_id: str,
    interval_g: int,
    printer: str,
) -> JournalEntry:
    """Journal a label the printer accepted, in its own transaction, at its packing time."""
    packed_at = clock.iso(content.packed_at.astimezone(UTC))
    data = {
        "ticket": content.ticket,
        "sku": content.sku,
        "name": content.product_name,
        "weight_g": content.weight_g,
        "tare_g": content.tare_g,
        "net": content.net,
        "quantity": content.quantity,
        "interval_g": interval_g,
        "unit_price_cents": content.unit_price_cents,
        "price_cents": content.price_cents,
        "barcode": content.barcode,
        "lot": content.lot,
        "packed_at": packed_at,
        "device_id": device_id,
        "printer": printer,
    }
    with transaction(db):
        return journal.append(db, LABEL, data, ts=packed_at)
