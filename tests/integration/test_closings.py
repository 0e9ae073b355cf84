"""Closings (Z) over signed tickets: sums, running totals, catch-up, the agent at night."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.agent.fiscal_jobs import FiscalJobs
from appliance.config import Config, Device, Shop
from appliance.core.catalogue import Product, SoldBy
from appliance.core.closing import Period
from appliance.core.fiscal import RecordType
from appliance.core.sale import Basket, CardPayment, Sale, SaleLine
from appliance.errors import ComptoirError
from appliance.store import closings, fiscal, technical_events, tickets
from appliance.store.closings import ClosingSettings
from appliance.store.db import open_database, transaction
from tests.found import found

PARIS = ZoneInfo("Europe/Paris")
SETTINGS = ClosingSettings("box-1", PARIS, 1)
REPO = Path(__file__).resolve().parents[2]
LATER = datetime(2030, 1, 1, tzinfo=UTC)
TOMATOES = Product("tomates", "Tomates", SoldBy.WEIGHT, 450, 550)
WINE = Product("vin", "Vin", SoldBy.PIECE, 850, 2000)


def sell(db: sqlite3.Connection, when: datetime, grams: int = 1000, bottles: int = 1) -> None:
    lines = [SaleLine.weighed(TOMATOES, grams)]
    if bottles:
        lines.append(SaleLine.pieces(WINE, bottles))
    sale = Sale(
        0,
        "box-1",
        "t",
        "a",
        when.astimezone(UTC).isoformat(),
        Basket(tuple(lines)),
        CardPayment("123456", "00B"),
        training=tickets.in_training(db),
    )
    with transaction(db):
        tickets.record_sale_ticket(db, sale, 0)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def test_a_day_closing_holds_its_tickets_per_vat_rate_and_payment(db: sqlite3.Connection) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 10), 1000, 1)  # 450 at 5.5 %, 850 at 20 %
    sell(db, at(day, 18), 2000, 0)  # 900 at 5.5 %
    (closing,) = closings.close(db, SETTINGS, Period.DAY, day, by="test", now=LATER)
    figures = closings.as_document(closing)
    assert figures["tickets"] == 2 and figures["total_cents"] == 2200
    assert figures["by_vat"] == [
        {"rate_bp": 550, "total_cents": 1350, "vat_cents": 70},
        {"rate_bp": 2000, "total_cents": 850, "vat_cents": 142},
    ]
    assert figures["total_excl_vat_cents"] == 2200 - 70 - 142
    assert figures["by_payment"] == [{"method": "card", "total_cents": 2200}]
    assert figures["start"] == "2026-10-05T00:00:00+02:00"
    assert figures["end"] == "2026-10-06T00:00:00+02:00"
    assert (figures["first_ticket"], figures["last_ticket"]) == (1, 2)


def test_a_ticket_after_midnight_belongs_to_the_next_day(db: sqlite3.Connection) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 23) + timedelta(minutes=59))
    sell(db, at(day + timedelta(days=1), 0) + timedelta(minutes=1))
    first, second = closings.close(
        db, SETTINGS, Period.DAY, day + timedelta(days=1), by="t", now=LATER
    )
    assert (first.data["tickets"], second.data["tickets"]) == (1, 1)


def test_a_period_is_closed_once(db: sqlite3.Connection) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 10))
    closings.close(db, SETTINGS, Period.DAY, day, by="t", now=LATER)
    assert closings.close(db, SETTINGS, Period.DAY, day, by="t", now=LATER) == []
    assert fiscal.count(db, RecordType.CLOSING) == 1


def test_a_closing_refuses_to_chain_to_a_ticket_removed_behind_its_back(
    db: sqlite3.Connection, data_dir: Path
) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 10))
    closings.close(db, SETTINGS, Period.DAY, day, by="t", now=LATER)
    raw = sqlite3.connect(data_dir / "comptoir.db")
    raw.execute("DROP TRIGGER fiscal_records_no_delete")
    raw.execute("DELETE FROM fiscal_records WHERE type = 'ticket' AND number = 1")
    raw.commit()
    raw.close()
    # The next day sold nothing: its closing chains to ticket 1, which is gone.
    with pytest.raises(ComptoirError, match=r"ticket 1 is missing.*fiscal verify"):
        closings.close(db, SETTINGS, Period.DAY, day + timedelta(days=1), by="t", now=LATER)
    assert fiscal.count(db, RecordType.CLOSING) == 1


def test_a_day_not_over_cannot_be_closed(db: sqlite3.Connection) -> None:
    sell(db, datetime.now(UTC))
    with pytest.raises(ComptoirError, match="not over yet"):
        closings.close(db, SETTINGS, Period.DAY, datetime.now(PARIS).date(), by="t")


def test_training_tickets_never_reach_the_fiscal_totals(db: sqlite3.Connection) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 10))
    technical_events.sync_mode(db, "training", by="test")
    sell(db, at(day, 11))
    technical_events.sync_mode(db, "live", by="test")
    (closing,) = closings.close(db, SETTINGS, Period.DAY, day, by="t", now=LATER)
    assert closing.data["tickets"] == 1
    assert fiscal.count(db, RecordType.TRAINING) == 1
    # shown beside the figures, in none of them
    assert (closing.data["training_tickets"], closing.data["training_total_cents"]) == (1, 1300)
    assert closing.data["total_cents"] == 1300
    (change, back) = technical_events.events(db, technical_events.EventKind.MODE_CHANGE)
    assert (change.details["new"], back.details["new"]) == ("training", "live")


def test_a_refund_is_a_negative_ticket_naming_the_original(db: sqlite3.Connection) -> None:
    day = date(2026, 10, 5)
    sell(db, at(day, 10), 1000, 2)
    refund = tickets.record_refund(db, 1, [2], reason="bouteille cassée", by="marie")
    assert refund.number == 2 and refund.data["total_cents"] == -1700
    assert refund.data["refund_of"] == {
        "number": 1,
        "lines": [2],
        "reason": "bouteille cassée",
        "by": "marie",
    }
    with pytest.raises(ComptoirError, match="refunded already"):
        tickets.record_refund(db, 1, [2], reason="again", by="marie")
    original = found(fiscal.get(db, RecordType.TICKET, 1))
    assert original.data["total_cents"] == 450 + 1700  # never edited


def test_a_missed_day_is_closed_at_the_next_start_for_its_own_period(
    tmp_path: Path,
) -> None:
    """The box was off from the 5th to the 8th: the agent's first round closes each day."""
    data = tmp_path / "data"
    config = Config(device=Device(id="box-1", data_dir=data), shop=Shop(closing_hour=1))
    db = open_database(config.database_path)
    for offset in range(3):
        sell(db, at(date(2026, 10, 4) + timedelta(days=offset), 12))
    wall = at(date(2026, 10, 9), 2).timestamp()
    jobs = FiscalJobs(config, wall=lambda: wall, monotonic=lambda: 1000.0)
    jobs.tick()
    days = [c.data["label"] for c in closings.closings(db, Period.DAY)]
    assert days == [f"2026-10-0{d}" for d in range(4, 9)]
    assert [c.data["tickets"] for c in closings.closings(db, Period.DAY)] == [1, 1, 1, 0, 0]
    db.close()


def test_the_agent_closes_yesterday_on_a_box_with_no_broker(tmp_path: Path) -> None:
    """A shop with no fleet ([mqtt] url unset): `comptoir agent` still runs and closes."""
    from tests.agent_support import wait_until

    config = tmp_path / "c.toml"
    config.write_text(
        f'[device]\nid = "box-1"\ndata_dir = "{tmp_path / "d"}"\n[shop]\nclosing_hour = 0\n'
    )
    db = open_database(tmp_path / "d" / "comptoir.db")
    sell(db, at(datetime.now(PARIS).date() - timedelta(days=1), 12))
    with (tmp_path / "agent.log").open("w") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(config), "agent"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            (day, *_) = wait_until(lambda: closings.closings(db, Period.DAY), 60, "a closing")
        finally:
            agent.terminate()
            agent.wait(60)
    assert agent.returncode == 0, (tmp_path / "agent.log").read_text()
    assert (day.data["tickets"], day.data["made_by"]) == (1, "agent")
    stops = technical_events.events(db, technical_events.EventKind.STOP)
    assert [e.details["process"] for e in stops] == ["agent"]
    db.close()


def test_the_demo_closes_its_days_beside_the_kiosk(tmp_path: Path) -> None:
    import dataclasses

    from appliance.commands.demo import closings_at_night
    from appliance.config import load
    from tests.agent_support import wait_until

    demo = load(REPO / "config" / "demo.toml")
    demo = dataclasses.replace(
        demo,
        device=dataclasses.replace(demo.device, data_dir=tmp_path / "demo"),
        shop=dataclasses.replace(demo.shop, closing_hour=0),
    )
    db = open_database(demo.database_path)
    sell(db, at(datetime.now(PARIS).date() - timedelta(days=2), 12))
    with closings_at_night(demo):
        wait_until(lambda: len(closings.closings(db, Period.DAY)) >= 2, 60, "two closings")
    days = closings.closings(db, Period.DAY)
    assert [d.data["tickets"] for d in days[:2]] == [1, 0]
    assert days[0].data["mode"] == "demo"
    db.close()


def test_the_agent_closes_the_month_and_the_year_at_night(tmp_path: Path) -> None:
    config = Config(device=Device(id="box-1", data_dir=tmp_path / "d"), shop=Shop(closing_hour=1))
    db = open_database(config.database_path)
    sell(db, at(date(2026, 12, 31), 12))
    early = at(date(2027, 1, 1), 0).timestamp()
    FiscalJobs(config, wall=lambda: early, monotonic=lambda: 0.0).tick()
    assert closings.closings(db) == []  # before the closing hour
    late = at(date(2027, 1, 1), 1).timestamp() + 60
    FiscalJobs(config, wall=lambda: late, monotonic=lambda: 0.0).tick()
    periods = [(c.data["period"], c.data["label"]) for c in closings.closings(db)]
    assert ("day", "2026-12-31") in periods
    assert ("month", "2026-12") in periods and ("year", "2026") in periods
    (year,) = closings.closings(db, Period.YEAR)
    assert year.data["total_cents"] == 450 + 850
    db.close()


def test_a_clock_jump_is_a_technical_event(tmp_path: Path) -> None:
    config = Config(device=Device(id="box-1", data_dir=tmp_path / "d"))
    wall = [1_800_000_000.0]
    jobs = FiscalJobs(config, wall=lambda: wall[0], monotonic=lambda: 50.0)
    wall[0] += 3600
    jobs.tick()
    db = open_database(config.database_path)
    (jump,) = technical_events.events(db, technical_events.EventKind.CLOCK_JUMP)
    assert jump.details["seconds"] == 3600
    db.close()


days_of_sales = st.lists(
    st.tuples(
        st.integers(0, 45),  # day offset from 2026-12-10
        st.integers(0, 23),  # hour
        st.integers(2, 5000),  # grams of tomatoes
        st.integers(0, 3),  # bottles
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sales=days_of_sales, refunds=st.integers(0, 3))
def test_closings_add_up_and_perpetual_totals_never_shrink(
    tmp_path_factory: pytest.TempPathFactory, sales: list, refunds: int
) -> None:
    """A day equals its tickets; a month the sum of its days; a year the sum of its months;
    the perpetual totals never decrease in absolute value, refunds included."""
    db = open_database(tmp_path_factory.mktemp("z") / "comptoir.db")
    start = date(2026, 12, 10)
    for offset, hour, grams, bottles in sorted(sales):
        sell(db, at(start + timedelta(days=offset), hour), grams, bottles)
    for number in range(1, min(refunds, len(sales)) + 1):
        tickets.record_refund(db, number, [1], reason="test", by="t")
    last_day = start + timedelta(days=45)
    closings.close(db, SETTINGS, Period.YEAR, date(2027, 6, 1), by="t", now=LATER)
    closings.close(db, SETTINGS, Period.DAY, last_day, by="t", now=LATER)
    days = closings.closings(db, Period.DAY)
    months = closings.closings(db, Period.MONTH)
    years = closings.closings(db, Period.YEAR)
    all_tickets = [r.data for r in fiscal.records(db, RecordType.TICKET)]
    for closing in days + months + years:
        covered = all_tickets[closing.data["first_ticket"] - 1 : closing.data["last_ticket"]]
        assert closing.data["total_cents"] == sum(t["total_cents"] for t in covered)
        assert closing.data["tickets"] == len(covered)
    for month in months:
        inside = [d for d in days if d.data["month"] == month.data["label"]]
        for key in ("tickets", "total_cents", "total_excl_vat_cents"):
            assert month.data[key] == sum(d.data[key] for d in inside)
    for year in years:
        inside = [m for m in months if m.data["fiscal_year"] == year.data["label"]]
        assert year.data["total_cents"] == sum(m.data["total_cents"] for m in inside)
    for chain in (days, months, years):
        absolutes = [c.data["perpetual_abs_total_cents"] for c in chain]
        assert absolutes == sorted(absolutes)
    assert days[-1].data["perpetual_total_cents"] == sum(t["total_cents"] for t in all_tickets)
    db.close()


def comptoir(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_simulated_sales_of_past_days_close_and_verify(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[device]\nid = "box-1"\ndata_dir = "{tmp_path / "d"}"\n[shop]\nmode = "demo"\n'
    )
    assert comptoir(config, "catalogue", "import", "config/demo-catalogue.csv").returncode == 0
    today = datetime.now(PARIS).date()
    two_ago, one_ago = today - timedelta(days=2), today - timedelta(days=1)
    first = comptoir(
        config,
        "sales",
        "simulate",
        "--count",
        "12",
        "--date",
        str(two_ago),
        "--seed",
        "7",
        "--card-outcomes",
        "approved,approved,declined",
        "--json",
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["sales"] == 8
    assert (
        comptoir(config, "sales", "simulate", "--count", "3", "--date", str(one_ago)).returncode
        == 0
    )
    closed = comptoir(config, "closing", "run", "--period", "day", "--json")
    assert closed.returncode == 0, closed.stderr
    (z1, z2) = json.loads(closed.stdout)
    assert (z1["tickets"], z2["tickets"]) == (8, 3)
    assert z2["perpetual_total_cents"] == z1["total_cents"] + z2["total_cents"]
    assert z1["mode"] == "demo"
    shown = json.loads(comptoir(config, "closing", "show", str(z2["number"]), "--json").stdout)
    for key in (
        "number",
        "period",
        "start",
        "end",
        "tickets",
        "total_cents",
        "total_excl_vat_cents",
        "by_vat",
        "by_payment",
        "period_total_cents",
        "year_total_cents",
        "perpetual_total_cents",
        "perpetual_abs_total_cents",
        "signature",
    ):
        assert key in shown
    again = comptoir(config, "sales", "simulate", "--count", "1", "--date", str(two_ago))
    assert again.returncode == 2 and "closed already" in again.stderr
    verified = comptoir(config, "fiscal", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True


def test_simulate_refuses_a_live_box(config_file: Path) -> None:
    result = comptoir(config_file, "sales", "simulate", "--count", "1")
    assert result.returncode == 2 and "refuses to run in live mode" in result.stderr


def test_the_agent_archives_each_finished_month_and_sends_it_until_acknowledged(
    tmp_path: Path,
) -> None:
    from appliance.store import archives

    config = Config(device=Device(id="box-1", data_dir=tmp_path / "d"), shop=Shop(closing_hour=1))
    db = open_database(config.database_path)
    sell(db, at(date(2026, 9, 20), 12))
    sell(db, at(date(2026, 10, 3), 12))
    sent: list[int] = []
    broker_up = [False]

    def publish(number: int, payload: bytes) -> bool:
        if broker_up[0]:
            sent.append(number)
        return broker_up[0]

    wall = at(date(2026, 11, 1), 3).timestamp()
    FiscalJobs(config, wall=lambda: wall, monotonic=lambda: 0.0, publish=publish).tick()
    made = sorted((config.device.data_dir / "archives").iterdir())
    assert [p.name for p in made] == [
        "comptoir-box-1-20260901-20260930.zip",
        "comptoir-box-1-20261001-20261031.zip",
    ]
    assert sent == []  # the broker was away: nothing counted as sent
    broker_up[0] = True
    FiscalJobs(config, wall=lambda: wall, monotonic=lambda: 0.0, publish=publish).tick()
    FiscalJobs(config, wall=lambda: wall, monotonic=lambda: 0.0, publish=publish).tick()
    assert sent == [1, 2]
    checked = archives.check_sequence(made)
    assert [c.problem for c in checked] == [None, None]
    db.close()
