"""The product catalogue: what the shop sells, at what price, by weight or by the piece."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from appliance import clock
from appliance.core.catalogue import Product, SoldBy
from appliance.core.catalogue_csv import CatalogueFile
from appliance.store.db import transaction

_FIELDS = [f.name for f in dataclasses.fields(Product)]
_COLUMNS = ", ".join(_FIELDS)


def save(db: sqlite3.Connection, product: Product) -> Product:
    """Insert or update a product by its `sku`; returns it with its id. Call in a transaction."""
    row = {f: getattr(product, f) for f in _FIELDS if f != "id"}
    row["sold_by"] = product.sold_by.value
    row["active"] = int(product.active)
    row["updated_at"] = clock.now_iso()
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "sku")
    db.execute(
        f"INSERT INTO products ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
        f"ON CONFLICT (sku) DO UPDATE SET {updates}",
        list(row.values()),
    )
    saved = get(db, product.sku)
    assert saved is not None
    return saved


def save_file(db: sqlite3.Connection, parsed: CatalogueFile) -> int:
    """Save a checked catalogue file, all or nothing; returns how many products were updated.

    A column the file left out keeps each existing product's value (a price-only file does not
    wipe the stock counts).
    """
    current = {p.sku: p for p in list_products(db)}
    with transaction(db):
        for product in parsed.products:
            save(db, parsed.update(current.get(product.sku), product))
    return sum(1 for p in parsed.products if p.sku in current)


def get(db: sqlite3.Connection, key: str | int) -> Product | None:
    """A product by sku, or by numeric id when no sku matches (a sku may be all digits)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM products WHERE sku = ?", (str(key),)).fetchone()
    if row is None and str(key).isdigit():
        row = db.execute(f"SELECT {_COLUMNS} FROM products WHERE id = ?", (int(key),)).fetchone()
    return _product(row) if row else None


def list_products(db: sqlite3.Connection, *, active_only: bool = False) -> list[Product]:
    sql = f"SELECT {_COLUMNS} FROM products"
    if active_only:
        sql += " WHERE active = 1"
    return [_product(row) for row in db.execute(sql + " ORDER BY category, name, id")]


def _product(row: tuple[Any, ...]) -> Product:
    values = dict(zip(_FIELDS, row, strict=True))
    values["sold_by"] = SoldBy(values["sold_by"])
    values["active"] = bool(values["active"])
    return Product(**values)
