"""The hub's product pictures reach the kiosk's tiles over HTTP from the fake hub itself: the
demo and the tests never ask the internet for a picture."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PIL import Image

from appliance.kiosk.pictures import Pictures
from appliance.marketplace import sync
from appliance.marketplace.fake import seed, serve
from appliance.marketplace.fake.scripting import SimClock, demo_site
from appliance.store import catalogue


def test_the_hubs_pictures_come_from_the_hub_and_become_thumbnails(
    tmp_path: Path, data_dir: Path, db: sqlite3.Connection
) -> None:
    fake = seed.demo()
    clock = SimClock()
    with serve(fake) as url:
        config = demo_site(url, tmp_path / "ofn.key", data_dir)
        assert sync.sync_once(config, db, clock(), sleep=clock.sleep).ok
        products = [p for p in catalogue.list_products(db) if p.photo]
        assert products and all(p.photo.startswith(f"{url}/img/") for p in products)
        pictures = Pictures(tmp_path / "pictures", tmp_path / "photos")
        dressed = pictures.dress(products[:3])
        assert fake.count("GET", products[0].photo.removeprefix(url)) == 1
    for product in dressed:
        with Image.open(product.photo) as thumbnail:  # a real picture, not a pictogram
            assert thumbnail.getpixel((0, 0)) != thumbnail.getpixel((thumbnail.width // 2,) * 2)
