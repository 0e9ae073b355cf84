"""The live weighing panel: every reading judged by the core's rules, and the scale's health.

The panel keeps the three values a customer must see together (weight, unit price, price) in
exact agreement, and prices only what `WeighingGate` calls STABLE or UNCHANGED. It also notices
when the scale is gone, overloaded, or has not settled for too long, so the kiosk can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from appliance.core.catalogue import Product
from appliance.core.money import price_cents
from appliance.core.weighing import (
    NotAcceptable,
    Reading,
    ReadingStatus,
    ScaleSpec,
    Weighing,
    WeighingGate,
)

#: Motion for this long without one stable reading is a problem worth a screen.
UNSTABLE_LIMIT_S = 12.0

_PRICEABLE = (ReadingStatus.STABLE, ReadingStatus.UNCHANGED)
_GONE = (ReadingStatus.TIMEOUT, ReadingStatus.ERROR)


class ScaleProblem(StrEnum):
    NONE = "none"
    MISSING = "missing"
    UNSTABLE = "unstable"
    OVERLOAD = "overload"


@dataclass(frozen=True)
class LiveWeight:
    """What the weigh screen shows for the last reading; `price_cents` only when priceable."""

    status: ReadingStatus
    weight_g: int | None
    tare_g: int
    net: bool
    unit_price_cents: int
    price_cents: int | None


class WeighPanel:
    """Judges readings for the product being weighed; owns the tare and the one-weighing rule."""

    def __init__(self, spec: ScaleSpec) -> None:
        self.spec = spec
        self.gate = WeighingGate(spec)
        self.raw: Reading | None = None
        self.live: LiveWeight | None = None
        self.problem = ScaleProblem.MISSING
        self.notice = ""
        self._moving_since: float | None = None
        self._now = 0.0

    def observe(self, reading: Reading, product: Product | None, now: float) -> None:
        """Take a new reading from the scale; `product` prices it (None while browsing)."""
        self.raw = reading
        self._now = now
        if (
            reading.status is ReadingStatus.STABLE
            and reading.gross_g == 0
            and self.gate.tare_g
            and not reading.net
        ):
            self.gate.clear_tare(reading)  # one-shot tare: gone when the pan is cleared
        judged = self.gate.observe(reading)
        self._track_problem(judged.status, now)
        unit = product.unit_price_cents if product else 0
        if judged.unit_price_cents is not None:
            unit = judged.unit_price_cents
        price = None
        if judged.status in _PRICEABLE and judged.weight_g is not None and product:
            price = (
                judged.price_cents
                if judged.price_cents is not None
                else price_cents(judged.weight_g, unit)
            )
        self.live = LiveWeight(
            judged.status, judged.weight_g, judged.tare_g, judged.net, unit, price
        )
        if judged.status is ReadingStatus.STABLE:
            self.notice = ""

    def check_time(self, now: float) -> None:
        """Motion that lasts too long becomes the UNSTABLE problem."""
        if (
            self._moving_since is not None
            and self.problem is ScaleProblem.NONE
            and now - self._moving_since >= UNSTABLE_LIMIT_S
        ):
            self.problem = ScaleProblem.UNSTABLE

    def accept(self, product: Product) -> Weighing | None:
        """Accept the current load for `product`, or None with `notice` saying why not."""
        if self.raw is None:
            self.notice = "the scale does not answer"
            return None
        try:
            weighing = self.gate.accept(self.raw, product.unit_price_cents)
        except NotAcceptable as refusal:
            self.notice = str(refusal)
            return None
        self.notice = ""
        self.observe(self.raw, product, self._now)
        return weighing

    def tare(self) -> None:
        self._guarded(lambda raw: self.gate.take_tare(raw))

    def clear_tare(self) -> None:
        self._guarded(lambda raw: self.gate.clear_tare(raw))

    def _guarded(self, action: Callable[[Reading], object]) -> None:
        if self.raw is None:
            self.notice = "the scale does not answer"
            return
        try:
            action(self.raw)
        except NotAcceptable as refusal:
            self.notice = str(refusal)
            return
        self.notice = ""

    def _track_problem(self, status: ReadingStatus, now: float) -> None:
        if status is ReadingStatus.MOTION:
            if self._moving_since is None:
                self._moving_since = now
        else:
            self._moving_since = None
        if status in _GONE:
            self.problem = ScaleProblem.MISSING
        elif status is ReadingStatus.OVERLOAD:
            self.problem = ScaleProblem.OVERLOAD
        elif status is not ReadingStatus.MOTION or self.problem is not ScaleProblem.UNSTABLE:
            self.problem = ScaleProblem.NONE
        self.check_time(now)
