"""The technical events journal wired to what happens: a printer out of paper, a terminal that
cannot be reached, an unknown payment and its resolution, the kiosk's and the web admin's start
and stop. Real parts: the simulated shop, the Caisse-AP simulator on TCP, `comptoir web`."""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
from pathlib import Path

from appliance import config as config_module
from appliance.core.catalogue import Product, SoldBy
from appliance.core.sale import Basket, SaleLine
from appliance.devices.payment.caisse_ap import CaisseApTerminal
from appliance.devices.payment.factory import open_terminal
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.devices.printers.simulator import Paper
from appliance.kiosk.effects import Effects
from appliance.kiosk.flows.events import Event
from appliance.kiosk.simulated import SimulatedShop
from appliance.store import payments, sales, technical_events
from appliance.store.technical_events import EventKind
from tests.agent_support import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
EGGS = Product("oeufs-6", "6 œufs", SoldBy.PIECE, 320, 550)


def kinds(db: sqlite3.Connection, kind: EventKind) -> list[technical_events.TechnicalEvent]:
    return technical_events.events(db, kind)


def test_a_printer_out_of_paper_and_the_kiosks_start_and_stop_are_events(
    config_file: Path, db: sqlite3.Connection, tmp_path: Path
) -> None:
    with SimulatedShop() as shop:
        site = shop.site(config_module.load(config_file))
        posted: queue.Queue[Event] = queue.Queue()
        effects = Effects(
            site,
            shop.label_printer(site, tmp_path / "labels"),
            open_terminal(site.payment),
            posted.put,
        ).start()
        try:
            wait_until(lambda: kinds(db, EventKind.START), 30, "the kiosk's start")
            shop.paper(Paper.OUT)
            (error,) = wait_until(lambda: kinds(db, EventKind.PRINTER_ERROR), 60, "an event")
        finally:
            effects.stop()
    assert error.details["problem"] == "paper_out" and error.by == "kiosk"
    assert [e.details["process"] for e in kinds(db, EventKind.STOP)] == ["kiosk"]


def test_an_unreachable_terminal_and_an_unknown_payment_and_its_resolution_are_events(
    db: sqlite3.Connection,
) -> None:
    basket = Basket((SaleLine.pieces(EGGS, 2),))
    with TerminalSimulator() as sim:
        card = CaisseApTerminal(sim.host, sim.port, timeout_s=30)
        for scenario in (Scenario.REFUSED, Scenario.CLOSED_AFTER_APPROVAL):
            sim.scenario = scenario
            attempt = payments.begin_attempt(db, basket.total_cents, basket)
            assert sales.complete_sale(db, attempt, card.pay(640, attempt), "box-1") is None
    (error,) = kinds(db, EventKind.TERMINAL_ERROR)
    assert error.details["problem"]
    (unknown,) = kinds(db, EventKind.PAYMENT_UNKNOWN)
    assert (unknown.details["attempt"], unknown.details["amount_cents"]) == (attempt, 640)
    assert kinds(db, EventKind.PAYMENT_RESOLVED) == []

    sales.resolve_unknown(db, attempt, True, "web:marie", device_id="box-1")
    (resolved,) = kinds(db, EventKind.PAYMENT_RESOLVED)
    assert resolved.details == {"attempt": attempt, "amount_cents": 640, "charged": True}
    assert resolved.by == "web:marie"


def test_the_web_admins_start_and_stop_are_events(
    config_file: Path, db: sqlite3.Connection
) -> None:
    config_file.write_text(
        config_file.read_text() + f'[web]\nlisten = "127.0.0.1:{free_port()}"\nhttp_listen = ""\n'
    )
    web = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config_file), "web"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        wait_until(lambda: kinds(db, EventKind.START), 60, "the web admin's start")
    finally:
        web.terminate()
        web.wait(30)
    assert web.returncode == 0
    assert [e.details["process"] for e in kinds(db, EventKind.START)] == ["web"]
    assert [e.details["process"] for e in kinds(db, EventKind.STOP)] == ["web"]


def test_an_inspector_reads_the_events_journal_from_the_command_line(
    config_file: Path, db: sqlite3.Connection, capsys
) -> None:
    import json

    from appliance import cli

    for user in ("marie", "paul"):
        technical_events.record(db, EventKind.LOGIN, {"user": user}, by=f"web:{user}")
    assert cli.main(["--config", str(config_file), "fiscal", "show", "event", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["data"]["details"]["user"]) for r in shown] == [
        (1, "marie"),
        (2, "paul"),
    ]
    assert all(len(r["signature"]) == 128 for r in shown)
    assert cli.main(["--config", str(config_file), "fiscal", "show", "event", "--number", "2"]) == 0
    assert "paul" in capsys.readouterr().out
    assert cli.main(["--config", str(config_file), "fiscal", "show", "event", "--number", "9"]) == 2
    assert "no event record 9" in capsys.readouterr().err
