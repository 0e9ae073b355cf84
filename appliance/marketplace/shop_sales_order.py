"""Up, race-free: on-site sales added to a completed order of the hub (§6, option 4).

`POST /api/v0/orders/{number}/shipments {variant_id, quantity}` makes OFN take the units from
stock with a relative, row-locked move: an online checkout at the same moment loses nothing,
and the sales show in the hub's reports. The hub's admin creates that order once ("Vente sur
place - casier") and puts its number in `[marketplace] shop_sales_order`.

The call is not idempotent. The units are written down, with the order's quantity of that
variant read just before, and only then sent; when an answer is lost, the next round reads the
order and sends again only if the quantity did not grow. So no one but this box may edit
that order.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from datetime import datetime

from appliance import clock
from appliance.config import Config
from appliance.marketplace import on_site_sales
from appliance.marketplace.client import Client, MarketplaceError, MarketplaceRefused
from appliance.store.db import transaction
from appliance.store.sync_state import directions, shop_sales_order, variants

log = logging.getLogger(__name__)


def report(
    config: Config, db: sqlite3.Connection, client: Client, now: datetime
) -> tuple[int, int]:
    """Add the units sold here to the order, variant by variant; (sent, skipped)."""
    number = config.marketplace.shop_sales_order
    todo, skipped = on_site_sales.batches(config, db)
    unsent = shop_sales_order.to_send(db)
    if todo or unsent:
        numbers = sorted({number} | {s.order_number for s in unsent})
        in_order = {n: quantities(config, client, n) for n in numbers}
        with transaction(db):
            for sale in unsent:
                if in_order[sale.order_number].get(sale.variant_id, 0) >= sale.base + sale.units:
                    shop_sales_order.sent(db, sale)  # its answer was lost, the units landed
            for batch in todo:
                variant_id = batch.variant.variant_id
                if batch.to_send:
                    base = in_order[number].get(variant_id, 0)
                    shop_sales_order.add(db, number, variant_id, batch.units, base)
                else:
                    skipped += 1
                on_site_sales.settle(db, batch, clock.iso(now))
    sent = sum(_send(client, db, sale) for sale in shop_sales_order.to_send(db))
    with transaction(db):
        directions.record_success(db, "stock", clock.iso(now))
    return sent, skipped


def quantities(config: Config, client: Client, number: str) -> dict[int, int]:
    """Units of each variant in the shop-sales order; raises when it cannot take sales."""
    hub = config.marketplace.hub_id
    setting = f"order {number} ([marketplace] shop_sales_order)"
    try:
        detail = client.order(number)
    except MarketplaceRefused as exc:
        raise MarketplaceError(
            f"{setting} cannot be read (HTTP {exc.status}): create a completed order of hub "
            f"{hub} for on-site sales in the hub's admin and put its number there"
        ) from None
    if (detail.get("distributor") or {}).get("id") != hub:
        raise MarketplaceError(f"{setting} is not an order of hub {hub}: fix the number")
    if detail.get("state") != "complete":
        raise MarketplaceError(
            f"{setting} is {detail.get('state')!r}: only a complete order takes stock; "
            "create a new one for on-site sales and put its number there"
        )
    found: dict[int, int] = {}
    for item in detail.get("line_items") or []:
        variant_id = int((item.get("variant") or {})["id"])
        found[variant_id] = found.get(variant_id, 0) + int(item.get("quantity") or 0)
    return found


def _send(client: Client, db: sqlite3.Connection, sale: shop_sales_order.ShopSale) -> int:
    """1 once the units are in the order, else 0 (kept for the next round, or none left)."""
    try:
        client.add_to_order(sale.order_number, sale.variant_id, sale.units)
    except MarketplaceRefused as exc:
        if exc.status != 422:
            raise
        left = _left_online(client, db, sale)
        if left >= sale.units:
            raise MarketplaceError(
                f"the marketplace refused to add variant {sale.variant_id} to order "
                f"{sale.order_number} although it has the stock: check in the hub's admin that "
                "the order is complete and that its shipping method still exists"
            ) from None
        log.warning(
            "variant %s: %d sold here but %d left online; reporting %d",
            sale.variant_id,
            sale.units,
            left,
            left,
        )
        with transaction(db):
            shop_sales_order.set_units(db, sale, left)
        if left == 0:
            return 0
        sale = dataclasses.replace(sale, units=left)
        try:
            client.add_to_order(sale.order_number, sale.variant_id, sale.units)
        except MarketplaceRefused as again:
            if again.status != 422:
                raise
            return 0  # a checkout took them meanwhile: the next round reads again
    with transaction(db):
        shop_sales_order.sent(db, sale)
    return 1


def _left_online(client: Client, db: sqlite3.Connection, sale: shop_sales_order.ShopSale) -> int:
    variant = variants.get(db, sale.variant_id)
    if variant is None:  # cannot happen: sends are only made for variants of the catalogue
        return 0
    fresh = client.variant(variant.product_id, variant.variant_id)
    if fresh.get("on_demand"):
        return sale.units
    return max(0, int(fresh.get("on_hand") or 0))
