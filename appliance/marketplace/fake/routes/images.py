"""Product pictures, served by the fake itself so that a box in a test or the demo fetches them
over 127.0.0.1 like any other answer of the hub (never from the internet)."""

from __future__ import annotations

import io
import zlib

from flask import Blueprint, Response, abort
from PIL import Image, ImageDraw

from appliance.marketplace.fake.routes import common

bp = Blueprint("images", __name__)

SIZE_PX = 240


@bp.get("/img/<int:product_id>.jpg")
def picture(product_id: int) -> Response:
    fake = common.state()
    with fake.lock:
        product = fake.products.get(product_id)
    if product is None:
        abort(404)
    return Response(_photo(product.name), content_type="image/jpeg")


def _photo(name: str) -> bytes:
    """A plain photo-like square, its colour from the name: each product looks its own."""
    hue = zlib.crc32(name.encode())
    colour = (80 + hue % 150, 80 + (hue >> 8) % 150, 60 + (hue >> 16) % 120)
    image = Image.new("RGB", (SIZE_PX, SIZE_PX), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, SIZE_PX - 40, SIZE_PX - 40), fill=tuple(min(255, c + 70) for c in colour))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
