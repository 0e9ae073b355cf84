"""The installer's hardware test as the kiosk runs it: queued commands against the real drivers
and the simulated shop (scale on a pty, Caisse-AP terminal on TCP, DS18B20 folder)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.core.fiscal import RecordType
from appliance.devices.payment.factory import open_terminal
from appliance.devices.payment.simulator import Scenario
from appliance.devices.sensors.simulator import W1Folder
from appliance.kiosk import remote
from appliance.kiosk.commands import CommandExecutor
from appliance.kiosk.effects import Effects
from appliance.kiosk.flows.events import Event
from appliance.kiosk.simulated import SimulatedShop
from appliance.store import device_commands, fiscal, payments, sales
from appliance.store.device_commands import CommandName, DeviceCommand
from appliance.store.payments import AttemptState
from tests.found import found

ZONES = '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nsensors = ["28-aaaa", "28-bbbb"]\n'


class IdleScreens:
    """Nobody at the kiosk: the UI thread would agree to anything."""

    def ask_restart(self) -> Future[bool]:
        done: Future[bool] = Future()
        done.set_result(True)
        return done

    def ask_pause(self, hold_s: int) -> Future[bool]:
        return self.ask_restart()


@pytest.fixture
def w1(tmp_path: Path) -> W1Folder:
    return W1Folder(tmp_path / "w1")


@pytest.fixture
def kiosk(
    config_file: Path, w1: W1Folder, db, tmp_path: Path
) -> Iterator[tuple[SimulatedShop, CommandExecutor, Effects]]:
    config_file.write_text(config_file.read_text() + f'[haccp]\nw1_root = "{w1.root}"\n' + ZONES)
    with SimulatedShop() as shop:
        site = shop.site(config_module.load(config_file))
        posted: queue.Queue[Event] = queue.Queue()
        effects = Effects(
            site,
            shop.label_printer(site, tmp_path / "labels"),
            open_terminal(site.payment, training=site.shop.mode == "training"),
            posted.put,
        ).start()
        executor = CommandExecutor(site.database_path, remote.handlers(effects, IdleScreens()))
        try:
            yield shop, executor, effects
        finally:
            effects.stop()
            if executor._db is not None:
                executor._db.close()


def run(db, executor: CommandExecutor, name: CommandName, **args: object) -> DeviceCommand:
    command = device_commands.queue(db, name, args, requested_by="web:ines", reason="essai")
    executor.check()
    done = device_commands.get(db, command.id)
    assert done is not None and done.finished
    return done


def test_an_approved_test_payment_is_charged_once_and_recorded_as_a_sale_with_its_ticket(
    kiosk, db
) -> None:
    shop, executor, _effects = kiosk
    done = run(db, executor, CommandName.TEST_PAYMENT, amount_cents=10)
    assert done.state == "done", done.result
    ticket = found(fiscal.last(db, RecordType.TICKET))
    assert done.result == {
        "approved": True,
        "amount_cents": 10,
        "receipt": 1,
        "ticket": ticket.number,
    }
    assert [(r.amount_cents, r.charged) for r in shop.terminal.ledger] == [(10, True)]
    sale = sales.sale_by_receipt(db, "test-box", 1)
    assert sale is not None and sale.total_cents == 10
    assert [(line.name, line.vat_rate_bp) for line in sale.basket.lines] == [
        ("Essai du terminal de paiement", 0)
    ]
    assert ticket.data["total_cents"] == 10  # money: in the fiscal chain


def test_a_test_payment_while_the_till_starts_up_waits_for_it_rather_than_being_refused(
    kiosk, db
) -> None:
    """The till's start (recovering a crash's pending payment, which may ask the terminal) is
    not a customer paying: a box just started once refused the installer's test payment."""
    shop, executor, effects = kiosk
    recovering = threading.Event()
    effects.till.worker.run(lambda _db: recovering.wait(10))  # a slow start-up recovery
    assert not effects.till.paying
    threading.Timer(0.5, recovering.set).start()
    done = run(db, executor, CommandName.TEST_PAYMENT, amount_cents=10)
    assert done.state == "done", done.result
    assert [(r.amount_cents, r.charged) for r in shop.terminal.ledger] == [(10, True)]


def test_a_declined_test_payment_fails_with_the_terminals_answer_and_records_no_sale(
    kiosk, db
) -> None:
    shop, executor, _effects = kiosk
    shop.next_payment(Scenario.DECLINED)
    done = run(db, executor, CommandName.TEST_PAYMENT)
    assert done.state == "failed", done.result
    assert found(done.result)["error"].startswith("the terminal declined the payment")
    assert [r.amount_cents for r in shop.terminal.ledger] == [10]  # the default amount
    assert sales.sale_by_receipt(db, "test-box", 1) is None
    assert [a.amount_cents for a in payments.attempts_in(db, AttemptState.DECLINED)] == [10]


def test_a_test_payment_of_more_than_five_euros_is_refused_before_the_terminal(kiosk, db) -> None:
    shop, executor, _effects = kiosk
    done = run(db, executor, CommandName.TEST_PAYMENT, amount_cents=5000)
    assert done.state == "failed" and "1 to 5,00 €" in found(done.result)["error"]
    assert shop.terminal.ledger == []


def test_the_scale_reads_what_is_on_the_pan(kiosk, db) -> None:
    shop, executor, _effects = kiosk
    shop.put(1234)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the pan settles: a stable 0 may still come first
        done = run(db, executor, CommandName.READ_SCALE)
        if done.result and (done.result.get("status"), done.result.get("weight_g")) == (
            "stable",
            1234,
        ):
            break
        time.sleep(0.1)
    assert done.state == "done"
    assert (found(done.result)["status"], found(done.result)["weight_g"]) == ("stable", 1234)


def test_an_unplugged_scale_is_a_failed_reading_that_says_so(kiosk, db) -> None:
    shop, executor, _effects = kiosk
    shop.unplug_scale()
    for _ in range(50):
        done = run(db, executor, CommandName.READ_SCALE)
        if done.state == "failed":
            break
    assert "the scale" in found(done.result)["error"]


def test_each_thermometer_is_read_once_with_its_temperature_or_its_problem(
    kiosk, db, w1: W1Folder
) -> None:
    _, executor, _effects = kiosk
    w1.set("28-aaaa", 3250)
    done = run(db, executor, CommandName.READ_THERMOMETERS)
    assert done.state == "done"
    assert found(done.result)["sensors"] == [
        {"zone": "frigo", "sensor": "28-aaaa", "temp_mc": 3250},
        {
            "zone": "frigo",
            "sensor": "28-bbbb",
            "problem": "sensor not found on the bus",  # and as said, for the web's French
            "problem_said": {"said": "sensor not found on the bus", "values": {}},
        },
    ]
