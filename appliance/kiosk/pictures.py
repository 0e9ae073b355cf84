"""Product pictures for the touchscreen: small thumbnails made once, kept on the box, offline.

A product's `photo` is a file (the catalogue CSV's `photo` column, relative to
`<data_dir>/photos`) or an image URL (the marketplace's). The first time the kiosk sees it, the
image is read (or downloaded) in a worker thread, shrunk with Pillow and stored under the SHA-256
of its bytes; an index remembers which source gave which thumbnail, so the pictures show when the
marketplace is out of reach. The cache stays under a size cap, the least recently shown pictures
leaving first. A product without a picture gets its category's pictogram, never a letter.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import urllib.request
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageDraw, UnidentifiedImageError

from appliance.config import Config
from appliance.core.catalogue import Product

log = logging.getLogger(__name__)

#: Thumbnails fit this square: a tile's picture is under 100 dp high on the kiosk's screens.
THUMB_PX = 192
#: The cache's size on disk; beyond it the least recently used thumbnails are removed.
CAP_BYTES = 40 * 1024 * 1024
#: A marketplace image that does not arrive in this long is tried again at the next catalogue.
DOWNLOAD_TIMEOUT_S = 10.0
#: A source image larger than this is refused (a mistake, not a product photo).
MAX_SOURCE_BYTES = 20 * 1024 * 1024

#: The attract screen's three steps: choose, weigh, pay by card.
HOW_IT_WORKS = ("basket", "scale", "card")

#: Pictogram kinds, by words found in a category's name (French and English).
_KINDS = (
    ("fruit", ("fruit", "pomme", "poire")),
    ("vegetable", ("légume", "legume", "vegetable", "potager")),
    ("cheese", ("fromage", "cheese", "crèmerie", "cremerie", "laitier", "dairy")),
    ("drink", ("boisson", "drink", "jus", "cidre", "vin", "bière", "biere")),
    ("bread", ("boulangerie", "pain", "bakery", "bread")),
    ("jar", ("épicerie", "epicerie", "grocery", "miel", "confiture", "conserve")),
    ("egg", ("œuf", "oeuf", "egg")),
)


def pictogram_kind(category: str) -> str:
    words = category.casefold()
    for kind, keys in _KINDS:
        if any(key in words for key in keys):
            return kind
    return "basket"


class Pictures:
    """The kiosk's picture cache in `folder`; safe to use from several worker threads."""

    def __init__(self, folder: Path, photos: Path, *, cap_bytes: int = CAP_BYTES) -> None:
        self.folder = folder
        self.photos = photos  # where the catalogue's relative photo names are
        self.cap_bytes = cap_bytes
        self._lock = threading.Lock()
        self._index_path = folder / "index.json"
        self._index: dict[str, str] | None = None

    def dress(self, products: Iterable[Product]) -> tuple[Product, ...]:
        """The products with `photo` naming a thumbnail on this box: their own, or their
        category's pictogram. Never raises for a bad picture: it is logged and left out.
        The attract screen's "how it works" pictures are made here too, off the UI thread."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o750)
            for kind in HOW_IT_WORKS:
                self._pictogram(kind)
            dressed = tuple(replace(p, photo=str(self._picture(p))) for p in products)
            self._save_index()
            self._trim({Path(p.photo) for p in dressed})
        return dressed

    # -- one product ----------------------------------------------------------------------------

    def _picture(self, product: Product) -> Path:
        thumb = self._thumbnail(product.photo.strip()) if product.photo.strip() else None
        if thumb is None:
            return self._pictogram(pictogram_kind(product.category))
        os.utime(thumb)  # recently shown: the last to leave when the cache is trimmed
        return thumb

    def _thumbnail(self, source: str) -> Path | None:
        remote = source.startswith(("http://", "https://"))
        key = source if remote else self._local_key(source)
        if key is None:
            return None
        index = self._loaded_index()
        known = index.get(key)
        if known and (self.folder / known).is_file():
            return self.folder / known
        try:
            data = _download(source) if remote else self._local(source).read_bytes()
            name = self._store(data)
        except (OSError, ValueError, UnidentifiedImageError) as exc:
            log.warning("no picture from %s: %s", source, exc)
            return None
        index[key] = name
        return self.folder / name

    def _local(self, source: str) -> Path:
        path = Path(source)
        return path if path.is_absolute() else self.photos / path

    def _local_key(self, source: str) -> str | None:
        """A local file is known by its path, size and time: re-read only when it changed."""
        try:
            info = self._local(source).stat()
        except OSError as exc:
            log.warning("no picture %s: %s", source, exc)
            return None
        return f"{self._local(source)}:{info.st_size}:{info.st_mtime_ns}"

    def _store(self, data: bytes) -> str:
        if len(data) > MAX_SOURCE_BYTES:
            raise ValueError(f"image of {len(data)} bytes, more than {MAX_SOURCE_BYTES}")
        name = hashlib.sha256(data).hexdigest() + ".jpg"
        target = self.folder / name
        if not target.is_file():
            with Image.open(io.BytesIO(data)) as image:
                image.thumbnail((THUMB_PX, THUMB_PX))
                flat = Image.new("RGB", image.size, (255, 255, 255))
                rgba = image.convert("RGBA")
                flat.paste(rgba, mask=rgba.getchannel("A"))
            partial = target.with_suffix(".part")
            flat.save(partial, format="JPEG", quality=85)
            partial.replace(target)
        return name

    def pictogram(self, kind: str) -> Path:
        """Where `kind`'s pictogram is (made by `dress`)."""
        return self.folder / f"pictogram-{kind}.png"

    def _pictogram(self, kind: str) -> Path:
        target = self.pictogram(kind)
        if not target.is_file():
            partial = target.with_suffix(".part")
            draw_pictogram(kind).save(partial, format="PNG")
            partial.replace(target)
        return target

    # -- the index and the cap ------------------------------------------------------------------

    def _loaded_index(self) -> dict[str, str]:
        if self._index is None:
            try:
                self._index = json.loads(self._index_path.read_text())
            except (OSError, ValueError):
                self._index = {}
        return self._index

    def _save_index(self) -> None:
        if self._index is None:
            return
        partial = self._index_path.with_suffix(".part")
        partial.write_text(json.dumps(self._index, indent=0, sort_keys=True))
        partial.replace(self._index_path)

    def _trim(self, shown: set[Path]) -> None:
        """Remove the least recently used thumbnails beyond the cap (never one shown now)."""
        thumbs = sorted(self.folder.glob("*.jpg"), key=lambda p: p.stat().st_mtime_ns)
        total = sum(p.stat().st_size for p in thumbs)
        for thumb in thumbs:
            if total <= self.cap_bytes:
                break
            if thumb in shown:
                continue
            total -= thumb.stat().st_size
            thumb.unlink()
            log.info("picture cache over %d bytes: removed %s", self.cap_bytes, thumb.name)
        index = self._loaded_index()
        gone = [key for key, name in index.items() if not (self.folder / name).is_file()]
        for key in gone:
            del index[key]
        if gone:
            self._save_index()


def for_site(site: Config) -> Pictures:
    data_dir = site.device.data_dir
    return Pictures(data_dir / "pictures", data_dir / "photos")


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as answer:
        data = answer.read(MAX_SOURCE_BYTES + 1)
    return data


# -- the pictograms -------------------------------------------------------------------------------

_GREEN = (42, 115, 69)
_LEAF = (86, 160, 72)
_BACKGROUND = {
    "fruit": (253, 228, 222),
    "vegetable": (255, 236, 214),
    "cheese": (255, 246, 214),
    "drink": (226, 238, 250),
    "bread": (246, 234, 218),
    "jar": (250, 238, 205),
    "egg": (240, 238, 232),
    "basket": (228, 240, 228),
    "scale": (232, 236, 240),
    "card": (226, 238, 250),
}


def draw_pictogram(kind: str, size: int = THUMB_PX) -> Image.Image:
    """A flat drawing of the category on a soft disc: recognisable at a glance, no text."""
    scale = 4  # drawn large, then shrunk: smooth edges without an anti-aliasing library
    s = size * scale
    image = Image.new("RGBA", (s, s), (255, 255, 255, 0))
    d = ImageDraw.Draw(image)
    d.ellipse((s * 0.06, s * 0.06, s * 0.94, s * 0.94), fill=_BACKGROUND[kind])

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (s * x0, s * y0, s * x1, s * y1)

    def points(*xy: float) -> list[tuple[float, float]]:
        return [(s * xy[i], s * xy[i + 1]) for i in range(0, len(xy), 2)]

    if kind == "fruit":
        d.ellipse(box(0.27, 0.33, 0.73, 0.78), fill=(206, 52, 46))
        d.line(points(0.5, 0.36, 0.53, 0.22), fill=(110, 70, 40), width=s // 40)
        d.ellipse(box(0.54, 0.2, 0.7, 0.3), fill=_LEAF)
    elif kind == "vegetable":
        d.polygon(points(0.36, 0.36, 0.64, 0.36, 0.5, 0.84), fill=(236, 124, 32))
        for x in (0.4, 0.5, 0.6):
            d.polygon(points(x - 0.04, 0.37, x + 0.04, 0.37, x, 0.16), fill=_LEAF)
    elif kind == "cheese":
        d.polygon(points(0.2, 0.66, 0.8, 0.66, 0.8, 0.44, 0.3, 0.34), fill=(244, 196, 60))
        for x, y, r in ((0.42, 0.55, 0.04), (0.62, 0.5, 0.05), (0.7, 0.6, 0.03)):
            d.ellipse(box(x - r, y - r, x + r, y + r), fill=(222, 166, 40))
    elif kind == "drink":
        d.rounded_rectangle(box(0.38, 0.38, 0.62, 0.82), radius=s * 0.05, fill=_GREEN)
        d.rectangle(box(0.45, 0.18, 0.55, 0.4), fill=_GREEN)
        d.rectangle(box(0.4, 0.52, 0.6, 0.66), fill=(245, 240, 225))
    elif kind == "bread":
        d.rounded_rectangle(box(0.2, 0.4, 0.8, 0.68), radius=s * 0.13, fill=(200, 140, 70))
        for x in (0.36, 0.5, 0.64):
            d.line(points(x - 0.04, 0.46, x + 0.04, 0.6), fill=(240, 200, 140), width=s // 45)
    elif kind == "jar":
        d.rounded_rectangle(box(0.32, 0.36, 0.68, 0.8), radius=s * 0.06, fill=(226, 160, 40))
        d.rectangle(box(0.3, 0.26, 0.7, 0.36), fill=(170, 60, 50))
        d.rectangle(box(0.38, 0.5, 0.62, 0.64), fill=(250, 244, 228))
    elif kind == "scale":
        d.rounded_rectangle(box(0.22, 0.56, 0.78, 0.8), radius=s * 0.04, fill=(90, 96, 104))
        d.rectangle(box(0.34, 0.62, 0.66, 0.72), fill=(170, 230, 180))
        d.rectangle(box(0.47, 0.46, 0.53, 0.56), fill=(90, 96, 104))
        d.chord(box(0.18, 0.22, 0.82, 0.5), 0, 180, fill=(160, 166, 174))
        d.ellipse(box(0.36, 0.2, 0.52, 0.36), fill=(206, 52, 46))
        d.ellipse(box(0.5, 0.22, 0.64, 0.36), fill=(236, 124, 32))
    elif kind == "card":
        d.rounded_rectangle(box(0.18, 0.3, 0.82, 0.7), radius=s * 0.05, fill=(40, 90, 160))
        d.rectangle(box(0.18, 0.38, 0.82, 0.46), fill=(20, 40, 80))
        d.rounded_rectangle(box(0.26, 0.52, 0.38, 0.62), radius=s * 0.015, fill=(230, 190, 80))
        for x in (0.56, 0.64, 0.72):
            d.arc(box(x - 0.05, 0.5, x + 0.05, 0.64), 300, 60, fill=(255, 255, 255), width=s // 80)
    elif kind == "egg":
        for x0 in (0.22, 0.5):
            d.ellipse(box(x0, 0.3, x0 + 0.28, 0.72), fill=(236, 200, 160))
    else:
        d.arc(box(0.32, 0.2, 0.68, 0.6), 180, 360, fill=(150, 100, 50), width=s // 30)
        d.polygon(points(0.2, 0.44, 0.8, 0.44, 0.7, 0.78, 0.3, 0.78), fill=(180, 120, 60))
        d.ellipse(box(0.36, 0.3, 0.52, 0.46), fill=(206, 52, 46))
        d.ellipse(box(0.5, 0.32, 0.64, 0.46), fill=_LEAF)
    return image.resize((size, size), Image.Resampling.LANCZOS)
