"""Erasing customers' contact details once an order no longer needs them (docs/privacy.md).

Marketplace orders bring a name, an e-mail and a phone number so that the customer gets a
pickup code and the producer knows whose bag it is. Once the order was collected or cancelled
`[privacy] keep_contact_days` ago, those three are erased; the order's number, lines and states
stay (the sale they record is the marketplace's). Fiscal records never held them, so they stay
whole and verifiable; the purge itself is a technical event (how many orders, never whose).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from appliance import clock
from appliance.store import technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind

ERASED = ""


def purge_contacts(db: sqlite3.Connection, keep_days: int, now: datetime, *, by: str) -> int:
    """Erase the contact details of orders finished more than `keep_days` ago; how many."""
    cutoff = clock.iso(now - timedelta(days=keep_days))
    with transaction(db):
        purged = db.execute(
            "UPDATE orders SET customer_name = ?, customer_email = ?, customer_phone = ? "
            "WHERE state IN ('collected', 'cancelled') AND updated_at < ? "
            "AND (customer_name != '' OR customer_email != '' OR customer_phone != '')",
            (ERASED, ERASED, ERASED, cutoff),
        ).rowcount
        if purged:
            technical_events.record(
                db,
                EventKind.PURGE,
                {"orders": purged, "kept_days": keep_days, "finished_before": cutoff},
                by=by,
            )
    return purged
