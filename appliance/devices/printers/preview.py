"""The label drawn as a PNG at the printer's resolution (8 dots/mm), for the demo and the tests.

It draws the same `LabelContent.lines()` as the ESC/POS printer and the EAN-13 bars from the
digits, so what the preview shows is what the label carries. When the text does not fit the
configured label height, everything shrinks together; a height of 0 means a continuous roll.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from appliance.config import Printer
from appliance.core.barcode import ean13_modules
from appliance.core.label import LabelContent, LineSize
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.paper import paper_of
from appliance.devices.printers.status import PrinterStatus
from appliance.errors import ConfigError, PrinterUnavailable

DOTS_PER_MM = 8
MARGIN_DOTS = 12
LINE_GAP_DOTS = 4
BAR_HEIGHT_DOTS = 64
QUIET_MODULES = 11
SIZES = {LineSize.SMALL: 15, LineSize.NORMAL: 20, LineSize.LARGE: 28}
MIN_SCALE = 0.5

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def _font(size: int, bold: bool) -> Font:
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:  # no DejaVu fonts installed: Pillow's own font has no bold
        return ImageFont.load_default(size)


def _fitting_font(text: str, size: int, bold: bool, width: int) -> Font:
    """The font at `size`, smaller if the line would not fit the label's width."""
    while True:
        font = _font(size, bold)
        if size <= 8 or font.getlength(text) <= width:
            return font
        size -= 1


def _line_height(font: Font) -> int:
    return int(font.getbbox("ÀÉgjp")[3])


Row = tuple[str, Font, int]  # text, font, top


def _laid_out(content: LabelContent, width: int, scale: float) -> tuple[list[Row], int, int]:
    """Fonts per line, the barcode module width, and the total height at `scale`."""
    inner = width - 2 * MARGIN_DOTS
    rows = []
    height = MARGIN_DOTS
    for line in content.lines():
        font = _fitting_font(line.text, max(8, round(SIZES[line.size] * scale)), line.bold, inner)
        rows.append((line.text, font, height))
        height += _line_height(font) + LINE_GAP_DOTS
    module = max(1, min(3, inner // (95 + 2 * QUIET_MODULES)))
    digits_font = _font(max(8, round(SIZES[LineSize.SMALL] * scale)), False)
    digits_height = int(digits_font.getbbox("0")[3])
    height += round(BAR_HEIGHT_DOTS * scale) + digits_height + 2 + MARGIN_DOTS
    return rows, module, height


def render(content: LabelContent, width_mm: int, height_mm: int) -> Image.Image:
    """The label as a 1-bit image of width_mm x height_mm at 8 dots/mm."""
    width = width_mm * DOTS_PER_MM
    scale = 1.0
    rows, module, needed = _laid_out(content, width, scale)
    while height_mm and needed > height_mm * DOTS_PER_MM and scale > MIN_SCALE:
        scale -= 0.05
        rows, module, needed = _laid_out(content, width, scale)
    height = height_mm * DOTS_PER_MM if height_mm else needed
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    for text, font, top in rows:
        draw.text(((width - font.getlength(text)) / 2, top), text, font=font, fill=0)
    bars_top = rows[-1][2] + _line_height(rows[-1][1]) + LINE_GAP_DOTS
    bars_height = round(BAR_HEIGHT_DOTS * scale)
    left = (width - 95 * module) // 2
    for i, bar in enumerate(ean13_modules(content.barcode)):
        if bar == "1":
            x = left + i * module
            draw.rectangle((x, bars_top, x + module - 1, bars_top + bars_height - 1), fill=0)
    digits_font = _font(max(8, round(SIZES[LineSize.SMALL] * scale)), False)
    digits_width = digits_font.getlength(content.barcode)
    draw.text(
        ((width - digits_width) / 2, bars_top + bars_height + 2),
        content.barcode,
        font=digits_font,
        fill=0,
    )
    return image


def render_receipt(lines: list[str], qr_url: str, width_mm: int) -> Image.Image:
    """A receipt as the roll would show it: monospaced lines, then the QR code of the link."""
    width = width_mm * DOTS_PER_MM
    longest = max(lines, key=len, default="")
    size = 24
    while size > 8 and _mono_font(size).getlength(longest) > width - 2 * MARGIN_DOTS:
        size -= 1
    font = _mono_font(size)
    line_height = _line_height(font) + LINE_GAP_DOTS
    qr_image = _qr(qr_url, width // 2) if qr_url else None
    qr_height = qr_image.height + MARGIN_DOTS if qr_image else 0
    height = 2 * MARGIN_DOTS + line_height * len(lines) + qr_height
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((MARGIN_DOTS, MARGIN_DOTS + n * line_height), line, font=font, fill=0)
    if qr_image:
        image.paste(
            qr_image, ((width - qr_image.width) // 2, height - MARGIN_DOTS - qr_image.height)
        )
    return image


@lru_cache(maxsize=8)
def _mono_font(size: int) -> Font:
    try:
        return ImageFont.truetype("DejaVuSansMono.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _qr(url: str, side: int) -> Image.Image:
    code = qrcode.QRCode(border=0)
    code.add_data(url)
    return code.make_image().get_image().convert("1").resize((side, side), Image.Resampling.NEAREST)


def save(content: LabelContent, path: Path, width_mm: int, height_mm: int) -> Path:
    """Write the preview PNG, creating its folder; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render(content, width_mm, height_mm).save(path, format="PNG", dpi=(203, 203))
    return path


class PreviewPrinter(LabelPrinter):
    """[printer] backend = "preview": every label becomes a PNG file in a folder."""

    @classmethod
    def from_settings(cls, settings: Printer) -> PreviewPrinter:
        """The folder `[printer] target` (config.load makes an empty one `labels/` in data_dir)."""
        if not settings.target:
            raise ConfigError("printer.target is missing: the preview backend needs a folder")
        return cls(Path(settings.target), paper_of(settings).width_mm, settings.label_height_mm)

    def __init__(self, folder: Path, width_mm: int, height_mm: int) -> None:
        self.folder = folder
        self.where = str(folder)
        self.width_mm = width_mm
        self.height_mm = height_mm

    def status(self) -> PrinterStatus:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return PrinterStatus.OFFLINE
        return PrinterStatus.ONLINE if os.access(self.folder, os.W_OK) else PrinterStatus.OFFLINE

    def print_label(self, content: LabelContent) -> str:
        path = self.folder / f"label-{content.ticket:06d}-{content.barcode}.png"
        try:
            return str(save(content, path, self.width_mm, self.height_mm))
        except OSError as exc:
            raise PrinterUnavailable(
                f"cannot write the label preview {path}: {exc.strerror}"
            ) from None

    def print_receipt(
        self, receipt_number: int, lines: list[str], qr_url: str = "", *, kind: str = "receipt"
    ) -> str:
        path = self.folder / f"{kind}-{receipt_number:06d}.png"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            render_receipt(lines, qr_url, self.width_mm).save(path, format="PNG", dpi=(203, 203))
        except OSError as exc:
            raise PrinterUnavailable(
                f"cannot write the {kind} preview {path}: {exc.strerror}"
            ) from None
        return str(path)
