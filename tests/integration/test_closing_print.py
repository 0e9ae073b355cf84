"""The Z printed on the kiosk's roll at the shop's request: from the web admin's closings page to
the device command queue, the kiosk's real printer driver and the simulated printer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from appliance import config as config_module
from appliance.core.closing import Period
from appliance.store import closings, device_commands, web_users
from appliance.store.device_commands import CommandName
from appliance.store.technical_events import EventKind, events
from appliance.store.web_users import Role
from appliance.web import create_app
from tests.found import found
from tests.integration.test_closings import SETTINGS, at, sell
from tests.integration.test_kiosk_hardware_test import kiosk, run, w1  # noqa: F401 (fixtures)
from tests.integration.test_web_admin import PASSWORD, csrf, log_in

DAY = date(2026, 10, 5)


def close_a_day(db: sqlite3.Connection) -> None:
    sell(db, at(DAY, 10), 1000, 1)
    closings.close(db, SETTINGS, Period.DAY, DAY, by="agent", now=datetime(2030, 1, 1, tzinfo=UTC))


def test_the_closings_page_asks_the_kiosk_to_print_a_z(config_file: Path, db) -> None:
    close_a_day(db)
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    settings = config_module.load(config_file)
    with create_app(settings, settings.database_path).test_client() as client:
        log_in(client, "paul")
        token = csrf(client, "/closings/")
        assert client.post("/closings/1/print", data={"csrf_token": token}).status_code == 302
        assert client.post("/closings/9/print", data={"csrf_token": token}).status_code == 404
    (queued,) = device_commands.recent(db)
    assert (queued.name, queued.args, queued.requested_by) == (
        CommandName.PRINT_CLOSING,
        {"closing": 1},
        "web:paul",
    )


def test_the_kiosk_prints_the_z_with_its_signature(kiosk, db, tmp_path: Path) -> None:  # noqa: F811
    shop, executor, _ = kiosk
    done = run(db, executor, CommandName.PRINT_CLOSING)
    assert done.state == "failed" and "no closing yet" in found(done.result)["error"]
    close_a_day(db)
    done = run(db, executor, CommandName.PRINT_CLOSING, closing=1)
    assert done.state == "done", done.result
    assert found(done.result)["closing"] == 1
    signature = closings.closings(db)[0].signature
    assert shop.printer.wait_for(lambda raw: signature[:32].encode() in raw)
    assert (tmp_path / "labels" / "closing-000001.png").is_file()
    assert not events(db, EventKind.PRINTER_ERROR)
