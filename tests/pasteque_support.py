"""A shop that sells, for the Pastèque gateway's tests: a catalogue with several VAT rates and
categories, sales recorded through the store's own payment path (at a chosen time when a test
needs a day of sales), random baskets, and the box's own daily closing."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.closing import Period
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket, Sale, SaleLine
from appliance.store import catalogue, closings, payments, sales
from appliance.store.db import transaction

PRODUCTS = (
    Product("TOM-COEUR", "Tomate cœur de bœuf", SoldBy.WEIGHT, 590, 550, category="Légumes"),
    Product("CAROTTE", "Carotte des sables", SoldBy.WEIGHT, 190, 550, category="Légumes"),
    Product("POMME", "Pomme Reinette", SoldBy.WEIGHT, 320, 550, category="Fruits"),
    Product("OEUFS-6", "Œufs plein air x6", SoldBy.PIECE, 240, 550, category="Crèmerie"),
    Product("PLAT", "Plat du jour", SoldBy.PIECE, 950, 1000, category="Traiteur"),
    Product("CIDRE-BRUT", "Cidre brut 75 cl", SoldBy.PIECE, 450, 2000, category="Boissons"),
    Product("SAC-JUTE", "Sac cabas en jute", SoldBy.PIECE, 250, 2000, category=""),
)


def stock_shop(db: sqlite3.Connection) -> None:
    with transaction(db):
        for product in PRODUCTS:
            catalogue.save(db, product)


def basket(rng: random.Random, products: tuple[Product, ...] = PRODUCTS) -> Basket:
    chosen = rng.sample(products, rng.randint(1, len(products)))
    return Basket(
        tuple(
            SaleLine.weighed(p, rng.randint(20, 4000))
            if p.by_weight
            else SaleLine.pieces(p, rng.randint(1, 5))
            for p in chosen
        )
    )


@contextmanager
def recorded_at(moment: datetime) -> Iterator[None]:
    """Sales recorded inside the block carry `moment` as their time (a day's sales in a test),
    as `comptoir sales simulate --date` records them."""
    with clock.simulated(lambda: moment):
        yield


def sell(db: sqlite3.Connection, device_id: str, paid: Basket) -> Sale:
    """A card sale through the kiosk's own path: write-ahead attempt, approved result, sale."""
    attempt = payments.begin_attempt(db, paid.total_cents, paid)
    result = PaymentResult(PaymentOutcome.APPROVED, paid.total_cents, authorisation="A1")
    sale = sales.complete_sale(db, attempt, result, device_id)
    assert sale is not None
    return sale


def close_day(db: sqlite3.Connection, config: Config, day: date, now: datetime) -> list[Any]:
    """The box's daily closing of `day` (and any day before it not closed yet), as the agent
    makes it at night."""
    return closings.close(
        db, closings.ClosingSettings.of(config), Period.DAY, day, by="test", now=now
    )
