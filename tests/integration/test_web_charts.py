"""Sales as pictures (per day, per product) and the accountant's export, on a real database."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import timedelta

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from appliance.config import Config
from appliance.core.catalogue import SoldBy
from appliance.core.money import vat_included_cents
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.store import payments, sales
from appliance.store.sales_report import TicketLine
from appliance.web.context import today
from appliance.web.sales_export import line_vat
from tests.found import found
from tests.integration.test_web_admin import app_client, basket, log_in, settings, shop, text  # noqa: F401

SVG = re.compile(r"<svg class=\"chart\".*?</svg>", re.S)


def section(page: str, ident: str) -> str:
    return found(
        re.search(rf'<section class="card[^"]*" id="{ident}">(.*?)</section>', page, re.S)
    )[1]


def test_a_weeks_sales_show_per_day_and_per_product_and_download_for_the_accountant(
    app_client: FlaskClient,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
    settings: Config,  # noqa: F811
) -> None:
    for _ in range(3):
        items = basket(shop)
        attempt = payments.begin_attempt(shop, items.total_cents, items)
        result = PaymentResult(PaymentOutcome.APPROVED, items.total_cents, result_code="10")
        sales.complete_sale(shop, attempt, result, settings.device.id)
    log_in(app_client, "paul")
    page = text(app_client.get("/sales/"))
    assert "<strong>3</strong> sales, <strong>€36.09</strong> in all" in page
    by_day = section(page, "chart-days")
    assert by_day.count('class="bar"') == 7 and "€36.09" in by_day
    by_product = section(page, "chart-products")
    assert "Tomates coeur de…" in by_product and "€16.89" in by_product
    link = found(re.search(r'id="download-sales-csv" href="([^"]+)"', page))[1].replace(
        "&amp;", "&"
    )
    response = app_client.get(link)
    first = today() - timedelta(days=6)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ventes-test-box-{first}-{today()}.csv"'
    )
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffreceipt;date;time;line;sku;product;weight_g;quantity;")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 6
    tomatoes = rows[0]
    assert (tomatoes["sku"], tomatoes["weight_g"], tomatoes["unit_price"]) == (
        "TOM",
        "1250",
        "4,50",
    )
    # 5,63 € at 5.5 %: 0,29 € of VAT, 5,34 € without
    assert (tomatoes["vat_rate"], tomatoes["total_incl_vat"], tomatoes["vat"]) == (
        "5,5",
        "5,63",
        "0,29",
    )
    assert tomatoes["total_excl_vat"] == "5,34"


def test_a_period_backwards_or_too_long_is_refused_with_what_to_do(
    app_client: FlaskClient,  # noqa: F811
) -> None:
    log_in(app_client, "paul")
    backwards = app_client.get("/sales/?from=2026-07-10&to=2026-07-01")
    assert backwards.status_code == 400 and "swap the two days" in text(backwards)
    long = app_client.get("/sales/sales.csv?from=2024-01-01&to=2025-06-01")
    assert long.status_code == 400 and "at most 366 days" in text(long)


def _line(n: int, cents: int, rate: int) -> TicketLine:
    return TicketLine(
        1, "2026-07-01T08:00:00+00:00", n, "X", "x", SoldBy.PIECE, None, 1, cents, cents, rate
    )


@given(
    st.lists(
        st.tuples(st.integers(1, 100_000), st.sampled_from([0, 550, 1000, 2000])),
        min_size=1,
        max_size=12,
    )
)
def test_the_lines_vat_adds_up_to_the_receipts_vat_at_each_rate(
    lines: list[tuple[int, int]],
) -> None:
    ticket = [_line(n, cents, rate) for n, (cents, rate) in enumerate(lines)]
    shares = line_vat(ticket)
    for rate in {rate for _, rate in lines}:
        at_rate = [i for i, (_, r) in enumerate(lines) if r == rate]
        total = sum(lines[i][0] for i in at_rate)
        assert sum(shares[i] for i in at_rate) == vat_included_cents(total, rate)
    assert all(
        abs(s - vat_included_cents(c, r)) <= len(lines)
        for s, (c, r) in zip(shares, lines, strict=True)
    )
