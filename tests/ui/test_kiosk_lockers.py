"""Visits to the locker wall on the real touchscreen app under Xvfb, against a CU16 simulator."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from appliance import config
from appliance.core.locker import compartments_from
from appliance.core.order import OrderState
from appliance.core.pickup_code import Verdict
from appliance.store import alerts, journal, lockers, orders, outbox, pickup_codes
from appliance.store.db import open_database
from tests.mail_support import Inbox
from tests.ui.conftest import mail_server

pytestmark = pytest.mark.ui


@pytest.fixture
def inbox(locker_config) -> Iterator[Inbox]:
    """A real SMTP server on a free port, and the kiosk's [smtp] pointed at it."""
    with mail_server(locker_config) as received:
        yield received


@pytest.fixture
def db(data_dir):
    database = open_database(data_dir / "comptoir.db")
    yield database
    database.close()


def test_a_good_code_opens_the_door_and_the_order_is_collected(locker_config, run_journey, db):
    run_journey("pickup_with_a_good_code")
    assert orders.get(db, "R100").state is OrderState.COLLECTED
    events = outbox.pending(db, "test", types=("order_collected",))
    assert [(e.type, e.payload["compartment"]) for e in events] == [("order_collected", 2)]
    assert [e.kind for e in journal.entries(db)] == ["deposit", "pickup"]
    kinds = [kind for _ts, n, kind, _order in lockers.door_events(db) if n == 2]
    assert kinds.index("door_opened") < kinds.index("door_closed") < kinds.index("pickup_closed")
    assert "door_forced" not in kinds


def test_five_wrong_codes_lock_the_keypad(locker_config, run_journey, db):
    run_journey("wrong_code_five_times")
    refused = outbox.pending(db, "test", types=("pickup_refused",))
    assert [e.payload["verdict"] for e in refused] == ["unknown"] * 5


def test_a_producer_deposit_e_mails_the_code_to_the_customer(
    locker_config, inbox, run_journey, db, data_dir
):
    run_journey("producer_deposit")
    order = orders.get(db, "R200")
    assert (order.state, order.compartment) == (OrderState.IN_LOCKER, 1)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "bob@example.org"
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    code = re.search(r"Code de retrait : (\d{6})", body)[1]
    assert "casier n° 1" in body
    key = pickup_codes.device_key_for(None, data_dir)
    check = pickup_codes.check_code(db, code, key=key)
    assert (check.verdict, check.order_number, check.compartment) == (Verdict.OK, "R200", 1)


def test_a_walk_in_purchase_is_paid_then_the_door_opens(locker_config, run_journey, db):
    run_journey("walkin_purchase")
    sales = db.execute("SELECT total_cents FROM sales").fetchall()
    assert sales == [(1200,)]
    assert lockers.state(db, 3).use.value == "free"
    assert alerts.open_alerts(db) == []


def test_the_window_thread_never_opens_the_database_or_a_device(locker_config, run_journey, db):
    lockers.sync_compartments(
        db, compartments_from(config.load(locker_config).lockers.compartments)
    )
    lockers.fill_walkin(db, 3, name="Panier de légumes", price_cents=1200, producer="Ferme")
    run_journey("hands_off_the_window_thread", COMPTOIR_WATCH_MAIN_THREAD="1")
    assert [row[0] for row in db.execute("SELECT total_cents FROM sales ORDER BY rowid")] == [
        431,
        1200,
    ]


def test_open_door_through_the_command_queue_is_audited(locker_config, run_journey, db):
    run_journey("open_door_command")
    rows = db.execute(
        "SELECT kind, requested_by, detail FROM door_events WHERE compartment = 1 "
        "AND kind = 'remote_open'"
    ).fetchall()
    assert rows == [("remote_open", "web:anne", "client bloqué: opened")]


def test_the_catalogue_follows_a_price_change_without_a_restart(run_journey):
    run_journey("catalogue_follows_changes")


def test_the_accessibility_mode_says_the_open_compartment_aloud(
    locker_config, run_journey, data_dir
):
    prompts = data_dir / "prompts"
    locker_config.write_text(
        locker_config.read_text().replace(
            "[kiosk]\n", f'[kiosk]\nspeech_wav_dir = "{prompts}"\n', 1
        )
    )
    run_journey("accessible_pickup")
    waves = sorted(prompts.glob("prompt-*.wav"))
    assert waves and all(w.read_bytes()[:4] == b"RIFF" for w in waves)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_the_accessibility_mode_puts_every_control_within_reach(
    locker_config, run_journey, orientation
):
    """800x480 (and 480x800): a customer's and a producer's every step, see `accessible_reach`."""
    text = locker_config.read_text()
    locker_config.write_text(
        text.replace("[kiosk]\n", f'[kiosk]\norientation = "{orientation}"\n', 1)
    )
    run_journey("accessible_reach")
