"""Marketplace sync against the fake OFN answering in 50 ms: requests and wall time.

A hub with 5,000 variants (2 per product) and 2,000 locker orders still to hand out. The
minimum is what pagination allows: one request per page of 100 products or orders, plus one
detail per order to store (the order list shows no lines). Goal: within 1.2x that minimum, and
an incremental sync (1% of products and orders changed) under 2 s.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from appliance import clock
from appliance.marketplace import sync
from appliance.marketplace.fake import FakeState, seed, serve
from appliance.marketplace.fake.scripting import demo_site
from appliance.store.db import open_database
from bench._table import print_table

VARIANTS = 5000
ORDERS = 2000
LATENCY_S = 0.05
PER_PAGE = 100


def main() -> None:
    state = seed.big(FakeState(), VARIANTS, ORDERS)
    state.latency_s = LATENCY_S
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serve(state) as url:
        config = demo_site(url, Path(tmp) / "key", Path(tmp), timeout_s=20)
        db = open_database(config.database_path)
        minimum = _pages(len(state.products)) + _pages(ORDERS) + ORDERS
        rows.append(_run("first sync", config, db, minimum))

        changed_products = list(state.products.values())[::100]  # 1% of the variants' products
        for product in changed_products:
            product.updated_at = clock.now()
        edited = list(state.orders.values())[::100]  # 1% of the orders
        for order in edited:
            state.edit_quantity(order.number, order.line_items[0].variant_id, 9)
        minimum = _pages(len(changed_products)) + _pages(len(edited)) + len(edited)
        rows.append(_run("incremental, 1% changed", config, db, minimum))
    print(
        f"{VARIANTS} variants, {ORDERS} orders, {LATENCY_S * 1000:.0f} ms per request, "
        "at most 2 requests at a time"
    )
    print_table(
        ["sync", "requests", "minimum", "ratio", "goal", "wall s", "goal s"],
        rows,
    )


def _pages(items: int) -> int:
    return max(1, math.ceil(items / PER_PAGE))


def _run(name: str, config, db, minimum: int) -> list[object]:
    started = time.perf_counter()
    report = sync.sync_once(config, db, clock.now())
    wall = time.perf_counter() - started
    assert report.ok, report
    goal_s = "2.0" if name.startswith("incremental") else "-"
    return [
        name,
        report.requests,
        minimum,
        f"{report.requests / minimum:.2f}",
        "1.20",
        f"{wall:.2f}",
        goal_s,
    ]
