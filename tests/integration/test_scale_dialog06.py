"""The real Dialog 06 driver against the simulated retail scale, over a real pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

from appliance.config import Scale as ScaleSettings
from appliance.core.weighing import ReadingStatus, ScaleSpec, WeighingGate
from appliance.devices.scales.base import Article
from appliance.devices.scales.cas import CasScale
from appliance.devices.scales.dialog06 import Dialog06Scale
from appliance.devices.scales.serial_port import open_port
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.devices.scales.simulator.cas import CasSimulator
from appliance.devices.scales.simulator.dialog06 import Dialog06Simulator
from appliance.errors import ScaleUnavailable
from tests.integration.scale_pieces import PiecewisePtyServer

APPLES = Article(299, text="Pommes Gala")


@pytest.fixture
def pan() -> Pan:
    return Pan(load_g=1234)


@pytest.fixture
def simulator(pan: Pan) -> Dialog06Simulator:
    return Dialog06Simulator(pan, interval_g=2, capacity_g=15000, polynomial="8005", seed=6)


@pytest.fixture
def line(simulator: Dialog06Simulator) -> Iterator[serial.Serial]:
    with PtyServer(simulator, baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "7O1", 1.0)
        yield port
        port.close()


@pytest.fixture
def scale(line: serial.Serial) -> Dialog06Scale:
    scale = Dialog06Scale(line, interval_g=2, polynomial="8005")
    scale.set_article(APPLES)
    return scale


def test_stable_load_gives_the_scales_weight_unit_price_and_price(scale, simulator):
    reading = scale.read()
    assert reading.status is ReadingStatus.STABLE
    assert (reading.weight_g, reading.unit_price_cents, reading.price_cents) == (1234, 299, 369)
    assert simulator.text == "Pommes Gala  "


def test_price_is_rounded_half_up_by_the_scale_and_accepted_unchanged(scale, pan):
    pan.load_g = 1500  # 1.5 kg x 2.99 = 4.485 -> 4.49
    gate = WeighingGate(ScaleSpec(interval_g=2, capacity_g=15000, min_load_g=40))
    weighing = gate.accept(scale.read(), unit_price_cents=1)
    assert (weighing.price_cents, weighing.unit_price_cents, weighing.scale_computed) == (
        449,
        299,
        True,
    )


def test_preset_tare_is_held_by_the_scale_and_the_reading_is_net(scale, pan):
    scale.set_article(Article(299, tare_g=150, text="Pommes Gala"))
    reading = scale.read()
    assert (reading.weight_g, reading.tare_g, reading.net, reading.price_cents) == (
        1084,
        150,
        True,
        324,
    )


def test_same_item_is_not_weighed_twice_until_the_load_changes_or_returns_to_zero(scale, pan):
    assert scale.read().status is ReadingStatus.STABLE
    assert scale.read().status is ReadingStatus.UNCHANGED
    pan.load_g = 0
    assert scale.read().status is ReadingStatus.BELOW_MIN
    pan.load_g = 1234
    assert scale.read().weight_g == 1234
    pan.load_g = 2000
    assert scale.read().weight_g == 2000


def test_weight_in_motion_is_never_priced_and_the_scale_is_asked_again(scale, pan, simulator):
    pan.motion = True
    reading = scale.read()
    assert (reading.status, reading.weight_g, reading.price_cents) == (
        ReadingStatus.MOTION,
        None,
        None,
    )
    pan.motion = False
    assert scale.read().weight_g == 1234


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"under_zero": True}, ReadingStatus.UNDER_ZERO),
        ({"overload": True}, ReadingStatus.OVERLOAD),
        ({"load_g": 15100}, ReadingStatus.OVERLOAD),
        ({"load_g": 30}, ReadingStatus.BELOW_MIN),
        ({"load_g": -20}, ReadingStatus.UNDER_ZERO),
    ],
)
def test_scale_states_become_readings_without_weight(scale, pan, change, status):
    for name, value in change.items():
        setattr(pan, name, value)
    reading = scale.read()
    assert (reading.status, reading.weight_g, reading.price_cents) == (status, None, None)


@pytest.mark.parametrize(
    ("code", "status", "meaning"),
    [
        ("01", ReadingStatus.ERROR, "general error"),
        ("02", ReadingStatus.ERROR, "parity error or buffer overflow"),
        ("10", ReadingStatus.ERROR, "invalid record number"),
        ("11", ReadingStatus.ERROR, "invalid unit price"),
        ("12", ReadingStatus.ERROR, "invalid tare"),
        ("13", ReadingStatus.ERROR, "invalid text"),
        ("20", ReadingStatus.MOTION, "scale still in motion"),
        ("21", ReadingStatus.UNCHANGED, "no motion since the last weighing"),
        ("22", ReadingStatus.MOTION, "measurement not yet finished"),
        ("30", ReadingStatus.BELOW_MIN, "weight below the minimum"),
        ("31", ReadingStatus.UNDER_ZERO, "weight below zero"),
        ("32", ReadingStatus.OVERLOAD, "scale overloaded"),
    ],
)
def test_every_error_code_reaches_the_kiosk_through_nak_and_record_09(
    scale, simulator, pan, code, status, meaning
):
    simulator.next_error = code
    reading = scale.read()
    assert (reading.status, reading.weight_g) == (status, None)
    assert f"code {code}: {meaning}" in reading.detail
    assert scale.read().weight_g == 1234  # the next weighing works again


def test_status_request_recognises_a_dialog06_scale(line):
    assert Dialog06Scale.probe(line)


def test_status_request_gets_no_answer_from_a_cas_scale_and_enq_none_from_dialog06(simulator):
    with PtyServer(CasSimulator(Pan()), baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "8N1", 0.3)
        try:
            assert not Dialog06Scale.probe(port)
            assert CasScale.probe(port)
        finally:
            port.close()
    with PtyServer(simulator, baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "7O1", 0.3)
        try:
            assert not CasScale.probe(port)  # a lone ENQ is not a Dialog 06 request
        finally:
            port.close()


# --- the checksum handshake ---------------------------------------------------------------


def test_scale_challenges_the_checksums_at_power_on_and_the_right_polynomial_passes(
    scale, simulator
):
    assert scale.read().status is ReadingStatus.STABLE
    assert (simulator.challenges, simulator.challenges_passed) == (1, 1)


def test_every_nth_weighing_is_challenged_again_with_a_new_random_number(pan):
    simulator = Dialog06Simulator(pan, polynomial="A001", challenge_every=1, seed=42)
    with PtyServer(simulator, baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "7O1", 1.0)
        scale = Dialog06Scale(port, interval_g=2, polynomial="A001")
        for load in range(1000, 1400, 20):
            pan.load_g = load
            assert scale.read().weight_g == load
        port.close()
    assert simulator.challenges == simulator.challenges_passed == 20


def test_wrong_polynomial_gets_readings_refused_with_a_clear_reason(line, simulator):
    scale = Dialog06Scale(line, interval_g=2, polynomial="1021")
    for _ in range(2):
        reading = scale.read()
        assert (reading.status, reading.weight_g) == (ReadingStatus.ERROR, None)
        assert "refused the software checksums" in reading.detail
        assert "dialog06_polynomial" in reading.detail
    assert simulator.challenges_passed == 0


def test_missing_polynomial_is_named_when_the_scale_asks_for_checksums(line):
    reading = Dialog06Scale(line, interval_g=2).read()
    assert reading.status is ReadingStatus.ERROR
    assert "dialog06_polynomial is empty" in reading.detail


def test_polynomial_comes_from_the_scale_settings(line):
    settings = ScaleSettings(protocol="dialog06", interval_g=2, dialog06_polynomial="8005")
    assert Dialog06Scale.from_settings(line, settings).read().weight_g == 1234


# --- line faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "statuses"),
    [
        (Fault.SILENCE, {ReadingStatus.TIMEOUT}),
        (Fault.GARBAGE, {ReadingStatus.ERROR}),
        (Fault.PARTIAL, {ReadingStatus.TIMEOUT}),
        (Fault.BAD_CHECKSUM, {ReadingStatus.ERROR}),
    ],
)
def test_line_fault_never_yields_the_previous_weight(scale, pan, fault, statuses):
    assert scale.read().weight_g == 1234
    pan.load_g, pan.fault = 2000, fault  # the scale would send a new record 02
    reading = scale.read()
    assert reading.status in statuses
    assert (reading.weight_g, reading.price_cents) == (None, None)
    pan.fault, pan.load_g = Fault.NONE, 2500
    assert scale.read().weight_g == 2500


def test_frames_split_across_reads_are_reassembled(pan):
    simulator = Dialog06Simulator(pan, polynomial="8005", challenge_every=2)
    with PiecewisePtyServer(simulator, piece=3) as server:
        port = open_port(server.path, 9600, "7O1", 1.0)
        scale = Dialog06Scale(port, interval_g=2, polynomial="8005")
        scale.set_article(APPLES)
        for load in (1234, 1500, 1750):
            pan.load_g = load
            assert scale.read().weight_g == load
        port.close()
    assert simulator.challenges_passed == 2


def test_port_that_vanishes_mid_use_raises_scale_unavailable_naming_it(simulator):
    server = PtyServer(simulator, baud=9600, pace=False).start()
    port = open_port(server.path, 9600, "7O1", 1.0)
    scale = Dialog06Scale(port, interval_g=2, polynomial="8005")
    assert scale.read().weight_g == 1234
    server.stop()
    with pytest.raises(ScaleUnavailable, match=server.path):
        scale.read()
    port.close()
