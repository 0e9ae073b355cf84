"""The kiosk's heartbeat reaches the agent's table, and the catalogue watch hears a price edited
by another process (its own connection, like the web admin's)."""

from __future__ import annotations

import dataclasses
import queue
import time

from appliance.config import Haccp, HaccpZone
from appliance.core.catalogue import Product, SoldBy
from appliance.core.weighing import ReadingStatus
from appliance.kiosk.health import CatalogueWatch, Heartbeat, scale_word, sensors_word
from appliance.store import agent_state, catalogue
from appliance.store.db import transaction

EGGS = Product("OEUFS", "Œufs x6", SoldBy.PIECE, 320, 550)


def test_the_heartbeat_says_how_each_device_is(db, data_dir):
    words = {"scale": "ok", "printer": "paper_out", "terminal": "ok", "locks": "board_down"}
    beat = Heartbeat(data_dir / "comptoir.db", lambda: words, interval_s=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while "kiosk" not in agent_state.heartbeats(db):
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.02)
    finally:
        beat.stop()
    kiosk = agent_state.heartbeats(db)["kiosk"]
    assert kiosk.detail == words and kiosk.stale_after_s == 15


def test_a_price_edited_elsewhere_reaches_the_kiosk(db, data_dir):
    with transaction(db):
        catalogue.save(db, EGGS)
    heard: queue.Queue = queue.Queue()
    watch = CatalogueWatch(data_dir / "comptoir.db", heard.put, interval_s=0.05).start()
    try:
        watch._stop.wait(0.3)  # its first look is the baseline, not a change
        assert heard.empty()
        with transaction(db):
            catalogue.save(db, dataclasses.replace(EGGS, unit_price_cents=350))
        products = heard.get(timeout=10)
    finally:
        watch.stop()
    assert [(p.sku, p.unit_price_cents) for p in products] == [("OEUFS", 350)]


def test_device_words_for_the_scale_and_the_sensors(tmp_path):
    assert scale_word(ReadingStatus.TIMEOUT) == "missing"
    assert scale_word(ReadingStatus.MOTION) == "ok"
    assert scale_word(None) == "starting"
    assert sensors_word(Haccp()) == "not_configured"
    zones = (HaccpZone("frigo-1", sensors=("28-000a",)),)
    assert sensors_word(Haccp(w1_root=tmp_path, zones=zones)) == "missing"
    folder = tmp_path / "sys/bus/w1/devices/28-000a"
    folder.mkdir(parents=True)
    (folder / "w1_slave").write_text("")
    assert sensors_word(Haccp(w1_root=tmp_path, zones=zones)) == "ok"
