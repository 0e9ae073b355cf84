"""Product pictures on the kiosk: thumbnails made once and kept offline, a pictogram otherwise,
and names that wrap at words before they are cut."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from appliance.core.catalogue import Product, SoldBy
from appliance.kiosk import pictures
from appliance.kiosk.pictures import Pictures, pictogram_kind
from appliance.kiosk.view import cut_at_word, fit_name


def _png(colour: str, size: tuple[int, int] = (1200, 900)) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, colour).save(data, format="PNG")
    return data.getvalue()


def _product(photo: str = "", category: str = "Fruits", sku: str = "POMMES") -> Product:
    return Product(sku, "Pommes Gala", SoldBy.WEIGHT, 349, 550, category=category, photo=photo)


class _Images(BaseHTTPRequestHandler):
    served: ClassVar[dict[str, bytes]] = {}
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        body = self.served.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def market() -> Iterator[tuple[str, type[_Images], ThreadingHTTPServer]]:
    handler = type("Images", (_Images,), {"served": {}, "asked": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler, server
    server.shutdown()
    server.server_close()


def test_a_marketplace_image_is_downloaded_once_and_shows_offline(tmp_path, market):
    base, images, server = market
    images.served["/img/pommes.png"] = _png("red")
    cache = Pictures(tmp_path / "pictures", tmp_path / "photos")
    url = f"{base}/img/pommes.png"
    (first,) = cache.dress([_product(url)])
    thumb = Path(first.photo)
    with Image.open(thumb) as image:
        assert max(image.size) == pictures.THUMB_PX
        assert image.getpixel((5, 5))[0] > 200  # the red picture, not a pictogram
    server.shutdown()  # the marketplace out of reach; a new kiosk start reads the cache
    (again,) = Pictures(tmp_path / "pictures", tmp_path / "photos").dress([_product(url)])
    assert again.photo == first.photo
    assert images.asked == ["/img/pommes.png"]


def test_a_catalogue_photo_file_becomes_a_thumbnail_and_a_new_file_a_new_one(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "miel.png").write_bytes(_png("yellow"))
    cache = Pictures(tmp_path / "pictures", photos)
    (first,) = cache.dress([_product("miel.png")])
    (second,) = cache.dress([_product("miel.png")])
    assert first.photo == second.photo
    (photos / "miel.png").write_bytes(_png("blue", (800, 800)))
    (changed,) = cache.dress([_product("miel.png")])
    assert changed.photo != first.photo


def test_no_picture_or_a_broken_one_shows_the_category_pictogram(tmp_path, market):
    base, _images, _server = market
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"not an image")
    cache = Pictures(tmp_path / "pictures", tmp_path / "photos")
    dressed = cache.dress(
        [
            _product("", "Légumes", "A"),
            _product("broken.jpg", "Fromages", "B"),
            _product("missing.jpg", "Boissons", "C"),
            _product(f"{base}/gone.png", "", "D"),
        ]
    )
    names = [Path(p.photo).name for p in dressed]
    assert names == [
        "pictogram-vegetable.png",
        "pictogram-cheese.png",
        "pictogram-drink.png",
        "pictogram-basket.png",
    ]
    assert all(Path(p.photo).is_file() for p in dressed)
    assert pictogram_kind("Crèmerie") == "cheese"
    assert pictogram_kind("Fruits et légumes") == "fruit"


def test_the_cache_stays_under_its_cap_keeping_what_is_shown(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in range(4):
        Image.effect_noise((600, 600), 80 + n).convert("RGB").save(photos / f"p{n}.png")
    cache = Pictures(tmp_path / "pictures", photos, cap_bytes=1)
    for n in range(3):
        cache.dress([_product(f"p{n}.png", sku=f"P{n}")])
    (shown,) = cache.dress([_product("p3.png", sku="P3")])
    assert sorted((tmp_path / "pictures").glob("*.jpg")) == [Path(shown.photo)]


def _width(text: str, size: float) -> float:
    return len(text) * size * 0.5  # a monospaced stand-in for the screen's font


def test_a_long_name_wraps_at_words_and_shrinks_before_it_is_cut():
    sizes = (20.0, 16.0, 12.0)
    assert fit_name("Pommes Gala", 200, _width, sizes).text == "Pommes Gala"
    # 14 characters a line at 20, 17 at 16: three lines at 20, so two at 16
    wrapped = fit_name("Courge butternut du jardin", 140, _width, sizes)
    assert (wrapped.text, wrapped.font_size) == ("Courge butternut\ndu jardin", 16.0)
    cut = fit_name("Terrine de campagne au poivre vert du Périgord", 100, _width, sizes)
    assert cut.font_size == 12.0 and cut.text.endswith("…")
    assert cut.text.count("\n") == 1
    kept = cut.text.replace("\n", " ").removesuffix("…").split()
    assert (
        kept == ["Terrine", "de", "campagne", "au", "poivre", "vert", "du", "Périgord"][: len(kept)]
    )


def test_a_single_word_longer_than_the_tile_is_cut_inside_with_an_ellipsis():
    cut = fit_name("Anticonstitutionnellement", 60, _width, (12.0,))
    assert cut.text.endswith("…") and _width(cut.text, 12.0) <= 60


def test_a_title_too_long_for_its_bar_ends_at_a_word_with_an_ellipsis():
    """Kivy's own shortening kept the last word: "Retirer...commande" in the larger text."""

    def fits(text: str) -> bool:
        return _width(text, 20.0) <= 120  # 12 characters

    assert cut_at_word("Retirer une commande", fits) == "Retirer une…"
    assert cut_at_word("Retirer", fits) == "Retirer"
    assert cut_at_word("Anticonstitutionnellement", fits) == "Anticonstit…"
