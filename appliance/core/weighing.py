"""The legal rules of a self-service weighing (metrology reference §5.2), as pure code.

A scale driver translates bytes into a `Reading`; the `WeighingGate` judges readings (minimum load,
capacity, one weighing per item, tare) and turns an acceptable one into a `Weighing`. Nothing here
reads a clock or a port, so every rule is stepped through by tests.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from appliance.core.money import price_cents

#: A new weighing needs the pan back at zero or the load changed by at least this many intervals
#: (Dibal: "20 steps or back to zero"; Dialog 06 error 21).
CHANGE_INTERVALS = 20


class ReadingStatus(StrEnum):
    STABLE = "stable"
    MOTION = "motion"
    UNDER_ZERO = "under_zero"
    OVERLOAD = "overload"
    BELOW_MIN = "below_min"
    UNCHANGED = "unchanged"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Reading:
    """What the scale said, translated but not yet judged.

    `weight_g` is the weight the scale displays (net when `net`), present only when the scale gave
    one. A price-computing scale (Dialog 06) also sends `unit_price_cents` and `price_cents`, which
    are then taken unchanged.
    """

    status: ReadingStatus
    weight_g: int | None = None
    tare_g: int = 0
    net: bool = False
    unit_price_cents: int | None = None
    price_cents: int | None = None
    detail: str = ""

    @property
    def gross_g(self) -> int | None:
        return None if self.weight_g is None else self.weight_g + self.tare_g


@dataclass(frozen=True)
class ScaleSpec:
    """The metrological characteristics of the scale in use."""

    interval_g: int
    capacity_g: int
    min_load_g: int


@dataclass(frozen=True)
class Weighing:
    """An accepted weighing: the three values a customer sees, in exact agreement."""

    weight_g: int
    tare_g: int
    net: bool
    unit_price_cents: int
    price_cents: int
    scale_computed: bool


class NotAcceptable(Exception):
    """A weighing or a tare the rules refuse; the message says why, for the screen and logs."""

    def __init__(self, status: ReadingStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class WeighingGate:
    """Judges readings under the rules and remembers the last accepted weighing."""

    def __init__(self, spec: ScaleSpec) -> None:
        self.spec = spec
        self.tare_g = 0
        self._last_accepted_g: int | None = None

    def observe(self, reading: Reading) -> Reading:
        """The reading with its final status; the kiosk shows and prices only STABLE ones."""
        reading = self._apply_tare(reading)
        if reading.status is not ReadingStatus.STABLE:
            return _without_weight(reading)
        weight = reading.weight_g
        assert weight is not None
        if weight % self.spec.interval_g:
            return _without_weight(
                reading,
                ReadingStatus.ERROR,
                f"weight {weight} g is not a multiple of the scale interval "
                f"{self.spec.interval_g} g: check [scale] interval_g",
            )
        if weight < 0:
            return _without_weight(reading, ReadingStatus.UNDER_ZERO)
        if (reading.gross_g or 0) > self.spec.capacity_g:
            return _without_weight(reading, ReadingStatus.OVERLOAD)
        if weight == 0:
            self._last_accepted_g = None  # back at zero: the next item may be weighed
        last = self._last_accepted_g
        if last is not None and abs(weight - last) >= CHANGE_INTERVALS * self.spec.interval_g:
            self._last_accepted_g = last = None
        if weight < self.spec.min_load_g:
            return dataclasses.replace(reading, status=ReadingStatus.BELOW_MIN)
        if last is not None:
            return dataclasses.replace(reading, status=ReadingStatus.UNCHANGED)
        return reading

    def accept(self, reading: Reading, unit_price_cents: int) -> Weighing:
        """Accept one weighing of one item, or raise NotAcceptable saying why."""
        judged = self.observe(reading)
        if judged.status is not ReadingStatus.STABLE:
            raise NotAcceptable(judged.status, _REFUSALS[judged.status])
        assert judged.weight_g is not None
        if judged.price_cents is not None:
            # A price-computing scale: the three values are taken exactly as the scale sent them.
            scale_unit_price = judged.unit_price_cents
            weighing = Weighing(
                judged.weight_g,
                judged.tare_g,
                judged.net,
                unit_price_cents if scale_unit_price is None else scale_unit_price,
                judged.price_cents,
                scale_computed=True,
            )
        else:
            weighing = Weighing(
                judged.weight_g,
                judged.tare_g,
                judged.net,
                unit_price_cents,
                price_cents(judged.weight_g, unit_price_cents),
                scale_computed=False,
            )
        self._last_accepted_g = judged.weight_g
        return weighing

    def take_tare(self, reading: Reading) -> int:
        """Tare the load on the pan (the customer's container); returns the new tare in grams.

        Takes the raw driver reading, like `observe`.
        """
        gross = reading.gross_g
        if reading.status is not ReadingStatus.STABLE or gross is None:
            raise NotAcceptable(ReadingStatus.MOTION, "a tare is taken only on a stable load")
        if gross <= 0:
            raise NotAcceptable(ReadingStatus.UNDER_ZERO, "put the container on the scale first")
        if gross > self.spec.capacity_g:
            raise NotAcceptable(ReadingStatus.OVERLOAD, "the load is over the scale's capacity")
        if gross < self.tare_g:
            raise NotAcceptable(
                ReadingStatus.UNDER_ZERO, "a tare cannot be reduced: empty the scale first"
            )
        self.tare_g = gross
        return gross

    def clear_tare(self, reading: Reading) -> None:
        """Drop the tare; allowed only with the pan empty (a tare is never reduced under load)."""
        gross = reading.gross_g
        if reading.status is not ReadingStatus.STABLE or gross is None or gross > 0:
            raise NotAcceptable(ReadingStatus.UNCHANGED, "empty the scale to clear the tare")
        self.tare_g = 0
        self._last_accepted_g = None

    def _apply_tare(self, reading: Reading) -> Reading:
        if reading.net or not self.tare_g:
            return reading
        if reading.weight_g is None:
            return dataclasses.replace(reading, tare_g=self.tare_g, net=True)
        return dataclasses.replace(
            reading, weight_g=reading.weight_g - self.tare_g, tare_g=self.tare_g, net=True
        )


_REFUSALS = {
    ReadingStatus.MOTION: "the scale is still moving: wait until it is stable",
    ReadingStatus.UNDER_ZERO: "the scale is under zero: empty it and let it return to zero",
    ReadingStatus.OVERLOAD: "the load is over the scale's capacity",
    ReadingStatus.BELOW_MIN: "the load is below the scale's minimum",
    ReadingStatus.UNCHANGED: "this item was already weighed: take it off or change the load",
    ReadingStatus.ERROR: "the scale reports an error",
    ReadingStatus.TIMEOUT: "the scale does not answer",
}


def _without_weight(
    reading: Reading, status: ReadingStatus | None = None, detail: str | None = None
) -> Reading:
    """A reading that must not be priced carries no weight, so none can leak onto a label."""
    return dataclasses.replace(
        reading,
        status=status or reading.status,
        weight_g=None,
        price_cents=None,
        detail=reading.detail if detail is None else detail,
    )


def format_weight(weight_g: int, interval_g: int, *, decimal: str = ",") -> str:
    """Weight in kg with exactly the scale's resolution: 1234 g, e=2 g -> '1,234 kg'."""
    if weight_g % interval_g:
        raise ValueError(f"{weight_g} g is not a multiple of the interval {interval_g} g")
    decimals = 3 if interval_g < 10 else 2 if interval_g < 100 else 1
    sign = "-" if weight_g < 0 else ""
    kg, grams = divmod(abs(weight_g), 1000)
    fraction = f"{grams:03d}"[:decimals]
    return f"{sign}{kg}{decimal}{fraction} kg"
