"""The sales of one day (the shop's local day): each receipt, and what sold per product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template

from appliance import clock
from appliance.core.catalogue import SoldBy
from appliance.core.sale import Sale
from appliance.store import sales
from appliance.web.context import BadDay, day_asked, db, local_zone, settings, today

bp = Blueprint("sales", __name__, url_prefix="/sales")


@dataclass(frozen=True)
class ProductTotal:
    """What sold of one product in the day: grams for weighed products, else pieces."""

    sku: str
    name: str
    sold_by: SoldBy
    amount: int
    total_cents: int


@bp.route("/")
def show() -> tuple[str, int]:
    try:
        day = day_asked()
    except BadDay as bad:
        return _page(today(), [], str(bad))
    return _page(day, _sales_of(day))


def _sales_of(day: date) -> list[Sale]:
    """Sales recorded by this box between local midnight and the next, oldest first."""
    start, end = clock.day_span(day, local_zone())
    device_id = settings().device.id
    store = db()
    rows = store.execute(
        "SELECT receipt_number FROM sales WHERE device_id = ? AND created_at >= ? "
        "AND created_at < ? ORDER BY receipt_number",
        (
            device_id,
            clock.iso(start),
            clock.iso(end),
        ),
    ).fetchall()
    found = (sales.sale_by_receipt(store, device_id, receipt) for (receipt,) in rows)
    return [sale for sale in found if sale is not None]


def product_totals(day_sales: list[Sale]) -> list[ProductTotal]:
    totals: dict[str, ProductTotal] = {}
    for sale in day_sales:
        for line in sale.basket.lines:
            seen = totals.get(line.sku)
            amount = line.stock_change + (seen.amount if seen else 0)
            cents = line.price_cents + (seen.total_cents if seen else 0)
            totals[line.sku] = ProductTotal(line.sku, line.name, line.sold_by, amount, cents)
    return sorted(totals.values(), key=lambda t: t.name)


def _page(day: date, day_sales: list[Sale], error: str = "") -> tuple[str, int]:
    page = render_template(
        "sales.html",
        day=day,
        sales=day_sales,
        totals=product_totals(day_sales),
        total_cents=sum(sale.total_cents for sale in day_sales),
        error=error,
    )
    return page, 400 if error else 200
