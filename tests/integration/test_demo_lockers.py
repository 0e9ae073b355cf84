"""`make demo`'s lockers: the demo producer, a deposited order and walk-in produce, seeded into
whatever compartments the config has."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from appliance import config as config_module
from appliance.commands.demo import DEPOSITED_IN, WALKIN_IN, seed_lockers
from appliance.config import Config
from appliance.core.locker import Use
from appliance.core.order import OrderState
from appliance.store import lockers, orders
from appliance.store.db import open_database

REPO = Path(__file__).resolve().parents[2]


def demo_config(data_dir: Path, keep: set[int] | None = None) -> Config:
    demo = config_module.load(REPO / "config" / "demo.toml")
    compartments = tuple(c for c in demo.lockers.compartments if keep is None or c.number in keep)
    return dataclasses.replace(
        demo,
        device=dataclasses.replace(demo.device, data_dir=data_dir),
        lockers=dataclasses.replace(demo.lockers, compartments=compartments),
    )


def test_the_demo_deposits_an_order_and_tells_its_code(data_dir: Path) -> None:
    told = seed_lockers(demo_config(data_dir))
    assert any(f"compartment {DEPOSITED_IN}: pickup code" in line for line in told), told
    db = open_database(data_dir / "comptoir.db")
    try:
        assert orders.list_orders(db, OrderState.IN_LOCKER)
        assert lockers.states(db)[WALKIN_IN].use is Use.WALKIN
    finally:
        db.close()


def test_compartments_the_config_lacks_are_left_out_not_a_crash(data_dir: Path) -> None:
    """A box whose first compartment is not number 1 still gets its demo producer."""
    told = seed_lockers(demo_config(data_dir, keep={2, 3}))
    assert told == [told[0]] and "PIN" in told[0]  # no deposit, no walk-in: no such doors
    db = open_database(data_dir / "comptoir.db")
    try:
        assert {n: s.use for n, s in lockers.states(db).items()} == {2: Use.FREE, 3: Use.FREE}
    finally:
        db.close()
