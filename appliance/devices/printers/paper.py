"""What labels and receipts are laid out on, from the printer's python-escpos capability profile.

A profile that knows its model (`TM-T20II`, `TM-T88V`, ...) knows its paper width and how many
characters a line its font A prints, so `[printer] label_width_mm` is needed only for label stock
narrower than the printer's paper, or with a profile that does not say (`default`: a 58 mm roll).
Cutting and barcodes need nothing here: python-escpos asks the same profile whether the printer
cuts and whether it draws barcodes itself, and renders them as an image when it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from escpos.capabilities import get_profile

from appliance.config import Printer
from appliance.errors import ConfigError

#: The roll when neither the config nor the profile says: the common 58 mm label printer.
DEFAULT_WIDTH_MM = 58
#: Receipt characters a line by roll when the profile does not say (docs/payment.md).
NARROW_COLUMNS, WIDE_COLUMNS, WIDE_FROM_MM = 32, 48, 80


@dataclass(frozen=True)
class Paper:
    width_mm: int
    receipt_columns: int


def paper_of(settings: Printer) -> Paper:
    """The paper of `[printer]`: its label width, else the profile's, else 58 mm; the receipt's
    characters a line from the profile's font A when the roll is the printer's own width."""
    media_mm, columns = _profile_paper(settings.profile)
    width_mm = settings.label_width_mm or media_mm or DEFAULT_WIDTH_MM
    if media_mm and columns and width_mm >= media_mm:
        return Paper(width_mm, columns)
    return Paper(width_mm, WIDE_COLUMNS if width_mm >= WIDE_FROM_MM else NARROW_COLUMNS)


@cache
def _profile_paper(name: str) -> tuple[int | None, int | None]:
    """(paper width in mm, font A characters a line) as the profile says, None where it does not."""
    try:
        data: dict[str, Any] = get_profile(name).profile_data
    except KeyError:
        raise ConfigError(
            f"printer.profile = {name!r} is wrong: expected a python-escpos printer profile, "
            f"such as default, TM-T88V or TM-T20II"
        ) from None
    width = data.get("media", {}).get("width", {}).get("mm")
    columns = data.get("fonts", {}).get("0", {}).get("columns")
    if not isinstance(width, int | float):
        return None, None
    return round(width), columns if isinstance(columns, int) else None
