"""What other parts of the box said, read in French on the admin: real alerts (a payment, a
thermometer, a door, the database) and real commands run by the kiosk's handlers."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path

from appliance import config as config_module
from appliance.agent import cold_chain, db_check
from appliance.devices.locks.base import Door, DoorStatus
from appliance.devices.locks.door_watch import DoorWatch
from appliance.devices.payment.simulator import Scenario
from appliance.devices.sensors.simulator import W1Folder
from appliance.store import alerts, lockers
from appliance.store.alerts import Alarm
from appliance.store.device_commands import CommandName
from appliance.web import create_app
from tests.integration.test_kiosk_hardware_test import kiosk, run, w1  # noqa: F401
from tests.integration.test_web_admin import (  # noqa: F401
    log_in,
    settings,
    shop,
    text,
    unknown_payment,
)

#: Words of an English sentence that French never writes.
ENGLISH = re.compile(r"\b(the|is|was|for|door|stayed|customer|payment|answer|unknown)\b", re.I)


def test_alerts_and_command_results_read_in_french(
    kiosk,  # noqa: F811
    shop: sqlite3.Connection,  # noqa: F811
    w1: W1Folder,  # noqa: F811
    config_file: Path,
) -> None:
    db = shop
    simulated, executor, _ = kiosk
    unknown_payment(db)
    w1.set("28-aaaa", 3000)  # 28-bbbb unplugged
    cfg = config_module.load(config_file)
    cold_chain.log_once(cfg, db, datetime.now().astimezone())
    watch = DoorWatch(debounce_s=0)
    for at in (0.0, 1.0, 2.0):
        for notice in watch.observe({3: DoorStatus(3, Door.OPEN if at else Door.CLOSED)}, at):
            if notice.notice.is_alarm:  # as the kiosk's record_notice does
                lockers.raise_alarm(db, Alarm(notice.notice.value), 3, notice.message)
    simulated.next_payment(Scenario.DECLINED)
    declined = run(db, executor, CommandName.TEST_PAYMENT)
    too_much = run(db, executor, CommandName.TEST_PAYMENT, amount_cents=5000)
    unknown = run(db, executor, CommandName.OPEN_DOOR, compartment=99)
    assert run(db, executor, CommandName.READ_THERMOMETERS).state == "done"
    assert {declined.state, too_much.state, unknown.state} <= {"failed", "refused"}
    kinds = {a.kind for a in alerts.open_alerts(db)}
    assert {Alarm.PAYMENT_UNKNOWN, Alarm.TEMPERATURE_SENSOR_FAULT, Alarm.DOOR_FORCED} <= kinds

    client = create_app(cfg, cfg.database_path).test_client()
    log_in(client, "ines")
    pages = {path: text(client.get(path)) for path in ("/alerts/", "/commands/", "/hardware/")}
    alert_page, commands_page, hardware_page = pages.values()
    assert "tentative" in alert_page and "Le client a peut-être été débité" in alert_page
    assert "sonde 28-bbbb (frigo) : sonde introuvable sur le bus" in alert_page
    assert "frigo · 28-bbbb: sonde introuvable sur le bus" in hardware_page
    assert "porte 3 ouverte sans commande" in alert_page
    assert "le terminal a refusé le paiement" in commands_page  # the latest try is the next
    assert "un paiement d&#39;essai va de 0,01 à 5,00\xa0€" in commands_page
    assert "pas de casiers ici" in commands_page  # no lock board in this shop
    for path, page in pages.items():
        details = re.findall(r'<p class="message"><small>(.*?)</small>|<td>([^<]*)</td>', page)
        details += re.findall(r'<div class="try[^>]*>.*?</div>', page, re.S)
        english = [d for d in map(str, details) if ENGLISH.search(d)]
        assert english == [], path


def test_an_alert_raised_by_an_older_release_shows_its_english_message(
    shop: sqlite3.Connection,  # noqa: F811
    settings: config_module.Config,  # noqa: F811
) -> None:
    shop.execute(
        "INSERT INTO alerts (kind, subject, message, created_at) VALUES (?, ?, ?, ?)",
        ("door_forced", "compartment 7", "door 7 opened without a command", "2026-01-02T03:04:05Z"),
    )
    damaged = db_check.check(shop)  # a healthy database: nothing said
    assert damaged == {}
    client = create_app(settings, settings.database_path).test_client()
    log_in(client, "ines")
    page = text(client.get("/alerts/"))
    assert "door 7 opened without a command" in page  # as it was stored
    assert "Porte ouverte sans commande" in page  # its kind, named in French


def test_the_tills_and_the_help_alerts_read_in_french(
    shop: sqlite3.Connection,  # noqa: F811
    settings: config_module.Config,  # noqa: F811
    tmp_path: Path,
    data_dir: Path,
) -> None:
    from appliance.kiosk.shop_actions import HELP_TEMPLATES
    from appliance.pasteque.fake import Fault, seed, serve
    from appliance.pasteque.fake.scripting import demo_site
    from appliance.pasteque.gateway import Gateway
    from appliance.said import said
    from appliance.store.db import transaction

    till = seed.demo()
    with serve(till) as url:
        site = demo_site(url, tmp_path / "p.pass", data_dir, {}, alert_after=1)
        till.fail_next(Fault.MAINTENANCE, times=3)
        Gateway(site, shop).round()
    template = HELP_TEMPLATES[True, True].template
    with transaction(shop):
        alerts.raise_alarm(
            shop,
            Alarm.HELP_REQUESTED,
            said(template, doing="weigh", product="Tomates", lines=2, total_cents=1250),
        )
    client = create_app(settings, settings.database_path).test_client()
    log_in(client, "ines")
    page = text(client.get("/alerts/")).replace("&#39;", "'")
    assert "Le boîtier n'a pas pu envoyer à Pastèque (échecs d'affilée : 1" in page
    assert "un client demande de l'aide à la borne (écran weigh, produit Tomates" in page
    assert "panier de 2 ligne(s), 12,50\xa0€" in page
