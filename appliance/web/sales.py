"""Sales: a period's totals per day and per product (charts, and the accountant's CSV), and one
day's receipts (the shop's local days)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, Response, render_template, request
from flask_babel import format_date, gettext

from appliance import clock
from appliance.core.sale import Sale
from appliance.store import sales, sales_report
from appliance.web import charts, sales_export
from appliance.web.context import BadDay, day_asked, db, euros, local_zone, settings, today
from appliance.web.pages import Pages, page_asked

bp = Blueprint("sales", __name__, url_prefix="/sales")


#: The longest period a chart or an export covers (a year and a day).
LONGEST_DAYS = 366
#: Receipts listed per page of a day: a phone shows them without a long scroll.
RECEIPTS_PER_PAGE = 20


@bp.route("/")
def show() -> tuple[str, int]:
    try:
        day = day_asked()
        first, last = period_asked()
    except BadDay as bad:
        return _page(today(), str(bad))
    return _page(day, period=(first, last))


@bp.route("/sales.csv")
def download() -> Response | tuple[str, int]:
    """Every ticket line of the period, for the accountant (docs/admin.md)."""
    try:
        first, last = period_asked()
    except BadDay as bad:
        return _page(today(), str(bad))
    start, end = _span(first, last)
    cfg = settings()
    lines = sales_report.ticket_lines(db(), cfg.device.id, start, end)
    name = f"ventes-{cfg.device.id}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        sales_export.csv_text(lines, local_zone()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def period_asked() -> tuple[date, date]:
    """`from` and `to` of the query string: the 7 days to today by default."""
    last = day_asked("to")
    first = day_asked("from") if request.args.get("from") else last - timedelta(days=6)
    if first > last:
        raise BadDay(gettext("The period must start before it ends: swap the two days."))
    if (last - first).days >= LONGEST_DAYS:
        raise BadDay(gettext("Pick a period of at most %(days)d days.", days=LONGEST_DAYS))
    return first, last


def _span(first: date, last: date) -> tuple[str, str]:
    zone = local_zone()
    return clock.iso(clock.day_span(first, zone)[0]), clock.iso(clock.day_span(last, zone)[1])


def _period(first: date, last: date) -> dict[str, object]:
    """The period's totals and its two charts."""
    start, end = _span(first, last)
    device_id = settings().device.id
    zone = local_zone()
    per_day = {first + timedelta(days=n): 0 for n in range((last - first).days + 1)}
    count = 0
    for created_at, total in sales_report.sale_times(db(), device_id, start, end):
        per_day[datetime.fromisoformat(created_at).astimezone(zone).date()] += total
        count += 1
    products = sales_report.product_totals(db(), device_id, start, end)
    return {
        "first": first,
        "last": last,
        "count": count,
        "total_cents": sum(per_day.values()),
        "by_day": charts.bar_chart(
            gettext("Sales per day"),
            [(str(format_date(d, "EEE d MMM")), cents) for d, cents in per_day.items()],
            euros,
        ),
        "by_product": charts.bar_chart(
            gettext("Sales per product"),
            [(p.name, p.total_cents) for p in products[:TOP_PRODUCTS]],
            euros,
        ),
        "products": len(products),
    }


TOP_PRODUCTS = 12


def _receipts(day: date, pages: Pages) -> list[Sale]:
    """One page of the receipts of `day` (local midnight to the next), oldest first."""
    return sales.sales_between(
        db(), settings().device.id, *_span(day, day), limit=pages.size, offset=pages.offset
    )


def _page(day: date, error: str = "", period: tuple[date, date] | None = None) -> tuple[str, int]:
    device_id = settings().device.id
    day_totals = [] if error else sales_report.sale_times(db(), device_id, *_span(day, day))
    training = (
        [] if error else sales_report.sale_times(db(), device_id, *_span(day, day), training=True)
    )
    pages = Pages(page_asked(), RECEIPTS_PER_PAGE, len(day_totals))
    page = render_template(
        "sales.html",
        day=day,
        period=_period(*period) if period else None,
        count=len(day_totals),
        sales=_receipts(day, pages) if day_totals else [],
        pages=pages,
        totals=sorted(
            sales_report.product_totals(db(), device_id, *_span(day, day)),
            key=lambda t: t.name,
        ),
        total_cents=sum(total for _, total in day_totals),
        training_count=len(training),
        training_cents=sum(total for _, total in training),
        error=error,
    )
    return page, 400 if error else 200
