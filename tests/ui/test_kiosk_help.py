"""'Besoin d'aide ?' on the real touchscreen under Xvfb: the alert, the e-mail, the phone."""

from __future__ import annotations

import pytest

from appliance.store import alerts, outbox
from appliance.store.alerts import Alarm
from appliance.store.db import open_database
from tests.ui.conftest import mail_server

pytestmark = pytest.mark.ui


def test_a_customer_asking_for_help_alerts_the_producer_and_sees_the_phone(
    shop_config, run_journey, data_dir
):
    text = shop_config.read_text()
    text = text.replace("[device]\n", '[device]\nphone = "04 75 00 00 00"\n', 1)
    text = text.replace("receipt_base_url", 'help_email = "lilas@ferme.test"\nreceipt_base_url', 1)
    shop_config.write_text(text)
    with mail_server(shop_config) as inbox:
        run_journey("help_asked")
    db = open_database(data_dir / "comptoir.db")
    try:
        (alert,) = alerts.open_alerts(db, Alarm.HELP_REQUESTED)
        events = outbox.pending(db, "test", types=("help_requested",))
    finally:
        db.close()
    assert "screen home" in alert.message, alert
    assert len(events) == 1 and events[0].payload["doing"] == "home"
    (mail,) = inbox.messages
    assert mail["To"] == "lilas@ferme.test"
    assert "Besoin d'aide" in mail["Subject"] and "screen home" in mail.get_payload()
