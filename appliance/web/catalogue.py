"""The catalogue: every product with its price, and a form to change a price or take a product
off sale. Each change is journalled (`price_change`, with who made it) in the same transaction.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext

from appliance.core.catalogue import Product
from appliance.core.catalogue_csv import hundredths
from appliance.store import catalogue, journal
from appliance.store.db import transaction
from appliance.web.auth import actor, record_action
from appliance.web.context import db, euros

log = logging.getLogger(__name__)

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


def price_from_text(text: str) -> int | None:
    """'4,50', '4.5', '4' or '4,50 €' -> cents (450, 450, 400, 450); None when it is not a
    price. Decimal text to integer cents, no float on the way."""
    return hundredths(text.strip().removesuffix("€").strip())


@bp.route("/")
def show() -> str:
    return render_template("catalogue.html", products=catalogue.list_products(db()))


@bp.route("/<id:product_id>", methods=["GET", "POST"])
def edit(product_id: int) -> Any:
    product = catalogue.get(db(), product_id)
    if product is None:
        abort(404)
    if request.method == "GET":
        return _page(product, typed_price(product.unit_price_cents))
    price_text = request.form.get("price", "")
    cents = price_from_text(price_text)
    if cents is None:
        return _page(
            product,
            price_text,
            gettext(
                "%(text)s is not a price: type euros with at most 2 decimals, such as 4,50.",
                text=price_text.strip()[:20] or gettext("An empty price"),
            ),
        )
    active = request.form.get("active") == "on"
    if cents == 0 and active:
        return _page(
            product,
            price_text,
            gettext("A product on sale cannot be free: type its price, or untick On sale."),
        )
    changed = _change(product_id, cents, active, actor())
    if changed is None:
        flash(gettext("%(product)s: nothing changed.", product=product.name))
    else:
        log.info("price change of %s by %s", product.sku, actor())
        record_action("price_change", sku=product.sku)
        flash(_saved(changed))
    return redirect(url_for("catalogue.show"))


def _change(product_id: int, cents: int, active: bool, by: str) -> Product | None:
    """Save the new price and state with its journal entry; None when nothing changed."""
    store = db()
    with transaction(store):
        before = catalogue.get(store, product_id)
        assert before is not None
        if before.unit_price_cents == cents and before.active == active:
            return None
        after = catalogue.save(
            store, dataclasses.replace(before, unit_price_cents=cents, active=active)
        )
        journal.append(
            store,
            "price_change",
            {
                "sku": before.sku,
                "sold_by": before.sold_by.value,
                "old_unit_price_cents": before.unit_price_cents,
                "unit_price_cents": cents,
                "old_active": before.active,
                "active": active,
                "by": by,
            },
        )
    return after


def typed_price(cents: int) -> str:
    """The price as typed in the form: '4,50' in French, '4.50' in English."""
    return str(format_decimal(Decimal(cents).scaleb(-2), format="0.00"))


def _saved(product: Product) -> str:
    price = euros(product.unit_price_cents)
    if product.by_weight and product.active:
        return gettext("%(product)s: %(price)s per kg, on sale.", product=product.name, price=price)
    if product.by_weight:
        return gettext(
            "%(product)s: %(price)s per kg, off sale.", product=product.name, price=price
        )
    if product.active:
        return gettext(
            "%(product)s: %(price)s per piece, on sale.", product=product.name, price=price
        )
    return gettext("%(product)s: %(price)s per piece, off sale.", product=product.name, price=price)


def _page(product: Product, price_text: str, error: str = "") -> tuple[str, int]:
    page = render_template("product.html", product=product, price_text=price_text, error=error)
    return page, 400 if error else 200
