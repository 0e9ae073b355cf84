"""Customers' contact details are erased after [privacy] keep_contact_days; fiscal records stay
whole and verifiable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from appliance.core.order import Order, OrderLine, OrderState
from appliance.store import fiscal, orders, privacy, technical_events
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind
from tests.found import found


def order(number: str, state: OrderState) -> Order:
    return Order(
        number,
        state,
        "Alice Martin",
        "alice@example.org",
        "0601020304",
        lines=(OrderLine("Panier", 1),),
    )


def test_contacts_of_finished_orders_are_erased_after_the_delay(db: sqlite3.Connection) -> None:
    with transaction(db):
        for number, state in (
            ("R1", OrderState.COLLECTED),
            ("R2", OrderState.CANCELLED),
            ("R3", OrderState.WAITING),
            ("R4", OrderState.IN_LOCKER),
        ):
            orders.save(db, order(number, state))
    technical_events.record(db, EventKind.ADMIN_ACTION, {"what": "before the purge"})
    now = datetime.now(UTC)
    assert privacy.purge_contacts(db, 30, now, by="agent") == 0  # finished just now: kept
    assert privacy.purge_contacts(db, 30, now + timedelta(days=31), by="agent") == 2
    for number in ("R1", "R2"):
        gone = found(orders.get(db, number))
        assert (gone.customer_name, gone.customer_email, gone.customer_phone) == ("", "", "")
        assert gone.lines  # what was ordered stays
    for number in ("R3", "R4"):
        assert found(orders.get(db, number)).customer_email == "alice@example.org"
    (purge,) = technical_events.events(db, EventKind.PURGE)
    assert purge.details["orders"] == 2 and "alice" not in str(purge.details)
    assert all(report.broken is None for report in fiscal.verify(db))
    dump = "\n".join(db.iterdump())
    assert "alice@example.org" in dump  # R3 and R4 still need theirs
    assert privacy.purge_contacts(db, 30, now + timedelta(days=31), by="agent") == 0


def test_logs_never_hold_a_customer_name_email_or_phone(
    db: sqlite3.Connection, tmp_path, data_dir, caplog
) -> None:
    """The marketplace sync brings orders with their customers, at DEBUG level, and the
    agent's purge erases them: no line of the logs names a customer."""
    import dataclasses
    import logging

    from appliance.agent.fiscal_jobs import FiscalJobs
    from appliance.marketplace import sync
    from appliance.marketplace.fake import seed, serve
    from appliance.marketplace.fake.scripting import SimClock, demo_site

    fake = seed.demo()
    caplog.set_level(logging.DEBUG)
    with serve(fake) as url:
        config = demo_site(url, tmp_path / "ofn.key", data_dir)
        clock = SimClock()
        sync.sync_once(config, db, clock(), sleep=clock.sleep)
    brought = orders.list_orders(db)
    people = {o.customer_name for o in brought} | {o.customer_email for o in brought}
    people |= {o.customer_phone for o in brought}
    people.discard("")
    assert people, "the sync brought no customer to look for"
    for order in brought:  # every order collected, then the agent's round a year later
        with transaction(db):
            orders.save(db, dataclasses.replace(order, state=OrderState.COLLECTED))
    later = (datetime.now(UTC) + timedelta(days=400)).timestamp()
    FiscalJobs(config, wall=lambda: later, monotonic=lambda: 0.0).tick()
    assert all(o.customer_email == "" for o in orders.list_orders(db))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the sync did log
    assert [p for p in people if p in logged] == []
