"""The legal rules of a self-service weighing (metrology reference §5.2), checked on many inputs.

Readings come straight from a driver; the `WeighingGate` must never let a weight it cannot trust
reach a price or a label, must weigh each item once, and must never let a tare shrink under load.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from appliance.core.money import price_cents
from appliance.core.weighing import (
    CHANGE_INTERVALS,
    NotAcceptable,
    Reading,
    ReadingStatus,
    ScaleSpec,
    WeighingGate,
    format_weight,
)
from tests.found import found

rules = settings(deadline=None, max_examples=200)
INTERVALS = (1, 2, 5, 10, 20, 50)
UNTRUSTED = [s for s in ReadingStatus if s is not ReadingStatus.STABLE]
unit_prices = st.integers(min_value=1, max_value=100_000)


@st.composite
def specs(draw: st.DrawFn) -> ScaleSpec:
    """A scale as on its data plate: Min is 20 intervals, Max a multiple of the interval."""
    interval = draw(st.sampled_from(INTERVALS))
    capacity = interval * draw(st.integers(min_value=200, max_value=6000))
    return ScaleSpec(interval_g=interval, capacity_g=capacity, min_load_g=20 * interval)


def weights(spec: ScaleSpec, low: int, high: int) -> st.SearchStrategy[int]:
    """Weights in whole scale intervals from `low` to `high` grams."""
    e = spec.interval_g
    return st.integers(min_value=-(-low // e), max_value=high // e).map(lambda n: n * e)


def stable(weight_g: int, **kw: Any) -> Reading:
    return Reading(ReadingStatus.STABLE, weight_g, **kw)


def priceable(spec: ScaleSpec) -> st.SearchStrategy[int]:
    return weights(spec, spec.min_load_g, spec.capacity_g)


# -- readings that must never be priced -----------------------------------------------------------


@rules
@given(
    specs(),
    st.sampled_from(UNTRUSTED),
    st.none() | st.integers(min_value=-100_000, max_value=400_000),
    st.none() | st.integers(min_value=0, max_value=10**6),
    unit_prices,
    st.booleans(),
)
def test_untrusted_reading_is_never_priced_and_carries_no_weight(
    spec: ScaleSpec,
    status: ReadingStatus,
    weight_g: int | None,
    scale_price: int | None,
    unit_price: int,
    tared: bool,
) -> None:
    gate = WeighingGate(spec)
    if tared:
        gate.take_tare(stable(spec.min_load_g))
    reading = Reading(status, weight_g, price_cents=scale_price, unit_price_cents=unit_price)
    judged = gate.observe(reading)
    assert judged.status is status
    assert judged.weight_g is None
    assert judged.price_cents is None
    with pytest.raises(NotAcceptable) as refused:
        gate.accept(reading, unit_price)
    assert refused.value.status is status


@rules
@given(specs().flatmap(lambda s: st.tuples(st.just(s), weights(s, -s.capacity_g, -1))))
def test_stable_weight_under_zero_is_never_priced(case: tuple[ScaleSpec, int]) -> None:
    spec, weight_g = case
    judged = WeighingGate(spec).observe(stable(weight_g))
    assert judged.status is ReadingStatus.UNDER_ZERO
    assert judged.weight_g is None


@rules
@given(
    specs().flatmap(
        lambda s: st.tuples(st.just(s), weights(s, s.capacity_g + 1, 2 * s.capacity_g))
    ),
    unit_prices,
)
def test_load_over_capacity_is_never_priced(case: tuple[ScaleSpec, int], unit_price: int) -> None:
    spec, weight_g = case
    gate = WeighingGate(spec)
    assert gate.observe(stable(weight_g)).status is ReadingStatus.OVERLOAD
    assert gate.observe(stable(weight_g)).weight_g is None
    with pytest.raises(NotAcceptable):
        gate.accept(stable(weight_g), unit_price)


@rules
@given(specs().flatmap(lambda s: st.tuples(st.just(s), weights(s, 1, s.min_load_g - 1))))
def test_load_below_the_minimum_is_never_accepted(case: tuple[ScaleSpec, int]) -> None:
    spec, weight_g = case
    gate = WeighingGate(spec)
    assert gate.observe(stable(weight_g)).status is ReadingStatus.BELOW_MIN
    with pytest.raises(NotAcceptable) as refused:
        gate.accept(stable(weight_g), 590)
    assert refused.value.status is ReadingStatus.BELOW_MIN


@rules
@given(specs(), st.integers(min_value=1, max_value=10**6))
def test_weight_off_the_scale_interval_is_an_error_without_weight(
    spec: ScaleSpec, weight_g: int
) -> None:
    assume(weight_g % spec.interval_g)
    judged = WeighingGate(spec).observe(stable(weight_g))
    assert judged.status is ReadingStatus.ERROR
    assert judged.weight_g is None
    assert "interval_g" in judged.detail


# -- an accepted weighing -------------------------------------------------------------------------


@rules
@given(specs().flatmap(lambda s: st.tuples(st.just(s), priceable(s))), unit_prices)
def test_accepted_weighing_price_is_exact_weight_times_unit_price(
    case: tuple[ScaleSpec, int], unit_price: int
) -> None:
    spec, weight_g = case
    weighing = WeighingGate(spec).accept(stable(weight_g), unit_price)
    assert weighing.weight_g == weight_g
    assert weighing.unit_price_cents == unit_price
    exact = Fraction(weight_g * unit_price, 1000)
    assert weighing.price_cents == price_cents(weight_g, unit_price)
    assert weighing.price_cents - Fraction(1, 2) <= exact < weighing.price_cents + Fraction(1, 2)
    assert not weighing.scale_computed
    assert not weighing.net


@rules
@given(
    specs().flatmap(lambda s: st.tuples(st.just(s), priceable(s))),
    unit_prices,
    st.integers(min_value=0, max_value=10**6),
    unit_prices,
)
def test_price_computed_by_the_scale_is_taken_unchanged(
    case: tuple[ScaleSpec, int], scale_unit_price: int, scale_price: int, our_unit_price: int
) -> None:
    spec, weight_g = case
    reading = stable(weight_g, unit_price_cents=scale_unit_price, price_cents=scale_price)
    weighing = WeighingGate(spec).accept(reading, our_unit_price)
    assert weighing.scale_computed
    assert (weighing.weight_g, weighing.unit_price_cents, weighing.price_cents) == (
        weight_g,
        scale_unit_price,
        scale_price,
    )


# -- one weighing per item ------------------------------------------------------------------------


@st.composite
def same_load_afterwards(draw: st.DrawFn) -> tuple[ScaleSpec, int, list[Reading]]:
    """An accepted weight, then readings that never leave it by 20 intervals nor reach zero.

    Moving readings may show any weight, even zero: only a stable zero counts as emptied.
    """
    spec = draw(specs())
    first = draw(weights(spec, spec.min_load_g, spec.capacity_g))
    reach = (CHANGE_INTERVALS - 1) * spec.interval_g
    near = weights(spec, max(spec.interval_g, first - reach), min(spec.capacity_g, first + reach))
    readings = draw(
        st.lists(
            near.map(stable)
            | st.builds(Reading, st.just(ReadingStatus.MOTION), weights(spec, 0, spec.capacity_g)),
            min_size=1,
            max_size=20,
        )
    )
    return spec, first, readings


@rules
@given(same_load_afterwards())
def test_same_load_stays_unchanged_until_emptied_or_changed_by_20_intervals(
    case: tuple[ScaleSpec, int, list[Reading]],
) -> None:
    spec, first, readings = case
    gate = WeighingGate(spec)
    gate.accept(stable(first), 590)
    for reading in readings:
        judged = gate.observe(reading)
        assert judged.status is not ReadingStatus.STABLE
        weighed = reading.weight_g
        if (
            reading.status is ReadingStatus.STABLE
            and weighed is not None
            and weighed >= spec.min_load_g
        ):
            assert judged.status is ReadingStatus.UNCHANGED
            with pytest.raises(NotAcceptable) as refused:
                gate.accept(reading, 590)
            assert refused.value.status is ReadingStatus.UNCHANGED


@rules
@given(specs().flatmap(lambda s: st.tuples(st.just(s), priceable(s))))
def test_after_returning_to_zero_the_same_load_is_weighed_again(
    case: tuple[ScaleSpec, int],
) -> None:
    spec, weight_g = case
    gate = WeighingGate(spec)
    gate.accept(stable(weight_g), 590)
    gate.observe(Reading(ReadingStatus.MOTION, 0))
    assert gate.observe(stable(weight_g)).status is ReadingStatus.UNCHANGED
    assert gate.observe(stable(0)).status is not ReadingStatus.UNCHANGED
    assert gate.accept(stable(weight_g), 590).weight_g == weight_g


@rules
@given(specs().flatmap(lambda s: st.tuples(st.just(s), priceable(s))), st.booleans())
def test_a_load_changed_by_20_intervals_is_a_new_item(
    case: tuple[ScaleSpec, int], heavier: bool
) -> None:
    spec, weight_g = case
    step = CHANGE_INTERVALS * spec.interval_g
    other = weight_g + step if heavier else weight_g - step
    assume(spec.min_load_g <= other <= spec.capacity_g)
    gate = WeighingGate(spec)
    gate.accept(stable(weight_g), 590)
    assert gate.accept(stable(other), 590).weight_g == other


# -- tare -----------------------------------------------------------------------------------------


@rules
@given(
    specs().flatmap(lambda s: st.tuples(st.just(s), weights(s, s.interval_g, s.capacity_g))),
    st.sampled_from(UNTRUSTED),
)
def test_tare_is_taken_only_on_a_stable_load(
    case: tuple[ScaleSpec, int], status: ReadingStatus
) -> None:
    spec, weight_g = case
    gate = WeighingGate(spec)
    with pytest.raises(NotAcceptable):
        gate.take_tare(Reading(status, weight_g))
    assert gate.tare_g == 0
    assert gate.take_tare(stable(weight_g)) == weight_g


@st.composite
def tare_sessions(draw: st.DrawFn) -> tuple[ScaleSpec, list[tuple[str, Reading]]]:
    """Random presses of TARE and CLEAR TARE with whatever is on the pan at the time."""
    spec = draw(specs())
    gross = weights(spec, -5 * spec.interval_g, spec.capacity_g + 5 * spec.interval_g)
    reading = st.builds(
        Reading, st.sampled_from([ReadingStatus.STABLE, ReadingStatus.MOTION]), gross
    )
    steps = st.lists(st.tuples(st.sampled_from(["tare", "clear"]), reading), max_size=25)
    return spec, draw(steps)


@rules
@given(tare_sessions())
def test_tare_is_never_reduced_without_the_pan_emptied(
    session: tuple[ScaleSpec, list[tuple[str, Reading]]],
) -> None:
    spec, steps = session
    gate = WeighingGate(spec)
    for action, reading in steps:
        before = gate.tare_g
        try:
            if action == "tare":
                gate.take_tare(reading)
            else:
                gate.clear_tare(reading)
        except NotAcceptable:
            assert gate.tare_g == before
            continue
        assert reading.status is ReadingStatus.STABLE
        if gate.tare_g < before:
            assert action == "clear"
            assert found(reading.weight_g) <= 0
        assert 0 <= gate.tare_g <= spec.capacity_g


@rules
@given(
    specs().flatmap(
        lambda s: st.tuples(
            st.just(s),
            weights(s, s.interval_g, s.capacity_g // 2),
            weights(s, s.min_load_g, s.capacity_g // 2),
        )
    ),
    unit_prices,
)
def test_net_weight_is_marked_and_priced_when_a_tare_is_active(
    case: tuple[ScaleSpec, int, int], unit_price: int
) -> None:
    spec, container_g, produce_g = case
    gate = WeighingGate(spec)
    gate.take_tare(stable(container_g))
    judged = gate.observe(stable(container_g + produce_g))
    assert (judged.net, judged.tare_g, judged.weight_g) == (True, container_g, produce_g)
    moving = gate.observe(Reading(ReadingStatus.MOTION, container_g + produce_g))
    assert moving.net and moving.tare_g == container_g
    weighing = gate.accept(stable(container_g + produce_g), unit_price)
    assert (weighing.net, weighing.tare_g, weighing.weight_g) == (True, container_g, produce_g)
    assert weighing.price_cents == price_cents(produce_g, unit_price)


def test_smaller_container_cannot_replace_the_tare_under_load() -> None:
    gate = WeighingGate(ScaleSpec(interval_g=2, capacity_g=15000, min_load_g=40))
    gate.take_tare(stable(250))
    with pytest.raises(NotAcceptable, match="cannot be reduced"):
        gate.take_tare(stable(120))
    with pytest.raises(NotAcceptable, match="empty the scale"):
        gate.clear_tare(stable(120))
    assert gate.tare_g == 250
    gate.clear_tare(stable(-250, tare_g=250, net=True))  # pan emptied: gross zero
    assert gate.tare_g == 0
    assert gate.take_tare(stable(120)) == 120


# -- weight on screen and label -------------------------------------------------------------------


@rules
@given(st.sampled_from(INTERVALS), st.integers(min_value=-1000, max_value=60_000))
def test_weight_is_shown_with_exactly_the_scale_resolution(interval_g: int, steps: int) -> None:
    weight_g = steps * interval_g
    text = format_weight(weight_g, interval_g)
    number = text.removesuffix(" kg")
    assert text.endswith(" kg")
    decimals = len(number.split(",")[1])
    assert decimals == (3 if interval_g < 10 else 2)
    assert Fraction(number.replace(",", ".")) * 1000 == weight_g  # never re-rounded


@pytest.mark.parametrize(
    ("weight_g", "interval_g", "shown"),
    [
        (1234, 2, "1,234 kg"),
        (40, 2, "0,040 kg"),
        (15000, 5, "15,000 kg"),
        (1230, 10, "1,23 kg"),
        (50, 50, "0,05 kg"),
        (-4, 2, "-0,004 kg"),
    ],
)
def test_weight_examples(weight_g: int, interval_g: int, shown: str) -> None:
    assert format_weight(weight_g, interval_g) == shown


def test_weight_off_the_interval_is_never_rounded_for_display() -> None:
    with pytest.raises(ValueError):
        format_weight(1235, 2)
    with pytest.raises(ValueError):
        format_weight(1234, 10)
