"""Whole journeys on the real touchscreen app under Xvfb, against the simulated devices."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from PIL import Image

from appliance.core.catalogue import Product, SoldBy
from appliance.store import catalogue, journal, technical_events
from appliance.store.db import open_database, transaction

pytestmark = pytest.mark.ui


def _sales(data_dir) -> list[tuple]:
    db = open_database(data_dir / "comptoir.db")
    try:
        return list(db.execute("SELECT receipt_number FROM sales ORDER BY receipt_number"))
    finally:
        db.close()


def _attempts(data_dir) -> list[str]:
    db = open_database(data_dir / "comptoir.db")
    try:
        return [row[0] for row in db.execute("SELECT state FROM payment_attempts ORDER BY rowid")]
    finally:
        db.close()


def test_a_weighed_purchase_prints_a_label_and_records_the_sale(run_journey, data_dir):
    run_journey("weighed_purchase")
    assert _sales(data_dir) == [(1,)]
    assert list((data_dir / "labels").glob("label-*.png"))
    assert list((data_dir / "labels").glob("receipt-000001.png"))
    db = open_database(data_dir / "comptoir.db")
    try:
        kinds = [entry.kind for entry in journal.entries(db)]
        weighing = next(journal.entries(db, "weighing")).data
        label = next(journal.entries(db, "label")).data
        assert journal.verify(db)[1] is None
    finally:
        db.close()
    assert kinds.index("weighing") < kinds.index("label") < kinds.index("sale")
    assert (weighing["weight_g"], weighing["price_cents"]) == (1234, 431)
    assert (label["ticket"], label["weight_g"], label["price_cents"]) == (1, 1234, 431)


def test_a_purchase_by_the_piece_in_english(run_journey, data_dir):
    run_journey("piece_purchase")
    assert _sales(data_dir) == [(1,)]


def test_a_dozen_sales_leave_the_kiosk_with_the_files_and_pictures_of_one(run_journey, data_dir):
    run_journey("many_sales")  # the soak found +63 MB a day: every receipt's QR code kept
    assert len(_sales(data_dir)) == 12


def test_a_declined_card_records_no_sale_until_paid_again(run_journey, data_dir):
    run_journey("declined_card")
    assert _attempts(data_dir) == ["declined", "approved"]
    assert _sales(data_dir) == [(1,)]


def test_an_unknown_outcome_tells_the_customer_not_to_pay_again(run_journey, data_dir):
    run_journey("unknown_outcome")
    assert _attempts(data_dir) == ["unknown"]
    assert _sales(data_dir) == []


def test_out_of_paper_is_said_and_the_customer_continues_without(run_journey, data_dir):
    run_journey("out_of_paper")
    assert _sales(data_dir) == [(1,)]


def test_the_scale_unplugged_and_plugged_back_resumes_the_weighing(run_journey):
    run_journey("scale_unplugged_and_back")


def test_device_commands_reach_the_running_kiosk(run_journey):
    run_journey("device_commands")


def test_the_tour_saves_every_screen_in_both_languages(kiosk_env, shop_config, tmp_path):
    # The tour exits 0 only when it saved every step in both languages (Kivy is not imported
    # here: it takes over the test process's logging).
    folder = tmp_path / "tour"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "--config",
            str(shop_config),
            "kiosk",
            "--tour",
            str(folder),
        ],
        env=kiosk_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shots = sorted(folder.glob("*.png"))
    french = {p.name[3:] for p in shots if p.name.startswith("fr-")}
    assert french == {p.name[3:] for p in shots if p.name.startswith("en-")}
    assert len(french) >= 30
    assert {p.name for p in shots} >= {"fr-01-home.png", "en-14-payment-unknown.png"}
    assert len({p.read_bytes() for p in shots}) == len(shots)  # every screen looks different


def test_an_update_waits_for_the_customer_then_says_back_in_a_minute(run_journey):
    run_journey("pause_for_update")


def test_every_product_shows_a_picture_and_its_whole_name(run_journey, data_dir):
    photos = data_dir / "photos"
    photos.mkdir()
    Image.new("RGB", (900, 700), "red").save(photos / "pommes.png")
    db = open_database(data_dir / "comptoir.db")
    with transaction(db):
        apples = next(p for p in catalogue.list_products(db) if p.sku == "POMMES")
        catalogue.save(db, replace(apples, photo="pommes.png"))
        catalogue.save(
            db,
            Product(
                "COURGE",
                "Courge butternut du jardin bio",
                SoldBy.PIECE,
                350,
                550,
                "",
                0,
                0,
                "",
                "Légumes",
            ),
        )
    db.close()
    run_journey("catalogue_pictures")
    assert len(list((data_dir / "pictures").glob("*.jpg"))) == 1


def test_buttons_wait_for_a_stable_weight_and_a_cancelled_basket_is_recorded(run_journey, data_dir):
    run_journey("disabled_until_ready")
    db = open_database(data_dir / "comptoir.db")
    try:
        (left,) = technical_events.events(db, technical_events.EventKind.BASKET_ABANDONED)
    finally:
        db.close()
    assert left.details == {"why": "cancelled", "lines": 1, "total_cents": 431, "labelled": 1}
    assert _sales(data_dir) == []


def test_a_basket_left_alone_goes_home_then_to_the_attract_screen(
    run_journey, shop_config, data_dir
):
    shop_config.write_text(
        shop_config.read_text().replace("[kiosk]\n", "[kiosk]\nidle_timeout_s = 10\n", 1)
    )
    run_journey("left_alone")
    db = open_database(data_dir / "comptoir.db")
    try:
        (left,) = technical_events.events(db, technical_events.EventKind.BASKET_ABANDONED)
    finally:
        db.close()
    assert left.details["why"] == "idle" and left.details["lines"] == 1


def test_the_accessibility_mode_enlarges_contrasts_and_speaks(run_journey, shop_config, data_dir):
    prompts = data_dir / "prompts"
    shop_config.write_text(
        shop_config.read_text().replace("[kiosk]\n", f'[kiosk]\nspeech_wav_dir = "{prompts}"\n', 1)
    )
    run_journey("accessible_mode")
    waves = sorted(prompts.glob("prompt-*.wav"))
    assert waves and all(w.read_bytes()[:4] == b"RIFF" and w.stat().st_size > 4000 for w in waves)
    assert len(waves) == len(list(prompts.glob("prompt-*.txt")))


def test_a_damaged_database_stops_sales_until_repaired(run_journey):
    run_journey("damaged_database")


def test_a_receipt_without_a_link_centres_its_amount(run_journey, shop_config):
    text = shop_config.read_text().replace('receipt_base_url = "https://example.org/r"\n', "")
    shop_config.write_text(text)
    run_journey("receipt_without_link")


def test_a_demo_box_says_so_once_in_the_customers_language(run_journey, shop_config):
    """It read "DÉMO · DEMO" in both languages."""
    shop_config.write_text(shop_config.read_text() + '\n[shop]\nmode = "demo"\n')
    run_journey("demo_mark")
