"""The Toledo 8217 driver against its simulator over a real pseudo-terminal, paced at 9600 baud."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance import config
from appliance.core.weighing import ReadingStatus, ScaleSpec, WeighingGate
from appliance.devices.scales.factory import open_scale
from appliance.devices.scales.serial_port import open_port
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.devices.scales.simulator.toledo8217 import Toledo8217Simulator
from appliance.devices.scales.toledo8217 import Toledo8217Scale
from appliance.errors import ConfigError, ScaleUnavailable


@pytest.fixture
def pan() -> Pan:
    return Pan()


@pytest.fixture
def server(pan: Pan) -> Iterator[PtyServer]:
    with PtyServer(Toledo8217Simulator(pan, interval_g=2, capacity_g=15000)) as running:
        yield running


@pytest.fixture
def scale(server: PtyServer) -> Iterator[Toledo8217Scale]:
    settings = config.Scale(protocol="toledo8217", port=server.path, interval_g=2, timeout_ms=300)
    opened = open_scale(settings)
    assert isinstance(opened, Toledo8217Scale)
    yield opened
    opened.close()


def test_stable_load_reads_its_weight_in_grams(pan, scale):
    pan.load_g = 1234
    reading = scale.read()
    assert (reading.status, reading.weight_g, reading.net) == (ReadingStatus.STABLE, 1234, False)


def test_load_is_shown_at_the_scale_interval(pan, scale):
    pan.load_g = 1233  # between two intervals of 2 g
    assert scale.read().weight_g == 1234


def test_empty_pan_reads_zero(pan, scale):
    assert scale.read().weight_g == 0


def test_small_load_is_read_and_judged_below_minimum(pan, scale):
    pan.load_g = 10
    reading = scale.read()
    assert (reading.status, reading.weight_g) == (ReadingStatus.STABLE, 10)
    gate = WeighingGate(ScaleSpec(interval_g=2, capacity_g=15000, min_load_g=40))
    assert gate.observe(reading).status is ReadingStatus.BELOW_MIN


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"motion": True}, ReadingStatus.MOTION),
        ({"overload": True}, ReadingStatus.OVERLOAD),
        ({"load_g": 16000}, ReadingStatus.OVERLOAD),
        ({"under_zero": True}, ReadingStatus.UNDER_ZERO),
        ({"load_g": -100}, ReadingStatus.UNDER_ZERO),
        ({"load_g": -1000}, ReadingStatus.ERROR),  # beyond the zero range: zero error
    ],
)
def test_unfit_states_come_without_the_previous_weight(pan, scale, change, status):
    pan.load_g = 1234
    assert scale.read().weight_g == 1234
    for name, value in change.items():
        setattr(pan, name, value)
    reading = scale.read()
    assert reading.status is status
    assert reading.weight_g is None


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.SILENCE, ReadingStatus.TIMEOUT),
        (Fault.GARBAGE, ReadingStatus.ERROR),
        (Fault.PARTIAL, ReadingStatus.ERROR),
        (Fault.BAD_CHECKSUM, ReadingStatus.ERROR),  # a character with a wrong parity bit
    ],
)
def test_line_fault_never_yields_the_previous_weight(pan, scale, fault, status):
    pan.load_g = 1234
    assert scale.read().weight_g == 1234
    pan.fault = fault
    reading = scale.read()
    assert reading.status is status
    assert reading.weight_g is None
    assert reading.detail


def test_scale_recovers_after_a_fault_without_reading_a_stale_answer(pan, scale):
    pan.load_g = 1234
    pan.fault = Fault.PARTIAL
    assert scale.read().status is ReadingStatus.ERROR
    pan.fault = Fault.NONE
    pan.load_g = 2000
    assert scale.read().weight_g == 2000


def test_zero_takes_a_small_load_off_the_display(pan, scale):
    pan.load_g = 10
    scale.zero()
    assert scale.read().weight_g == 0


def test_zero_is_refused_for_a_load_outside_the_zero_range(pan, scale):
    pan.load_g = 1234
    scale.zero()
    assert scale.read().weight_g == 1234


def test_tare_of_a_container_gives_net_weights_with_that_tare(pan, scale):
    pan.load_g = 300
    scale.tare()
    first = scale.read()
    assert (first.weight_g, first.net, first.tare_g) == (0, True, 300)
    pan.load_g = 1300
    reading = scale.read()
    assert (reading.weight_g, reading.net, reading.tare_g, reading.gross_g) == (
        1000,
        True,
        300,
        1300,
    )


def test_preset_tare_and_clear_tare(pan, scale):
    pan.load_g = 1250
    scale.tare(250)
    assert (scale.read().weight_g, scale.read().tare_g) == (1000, 250)
    scale.clear_tare()
    reading = scale.read()
    assert (reading.weight_g, reading.net, reading.tare_g) == (1250, False, 0)


def test_tare_is_not_taken_in_motion(pan, scale):
    pan.load_g = 300
    pan.motion = True
    scale.tare()
    pan.motion = False
    assert scale.read().net is False


def test_command_without_acknowledgement_is_reported(pan, scale):
    pan.fault = Fault.SILENCE
    with pytest.raises(ScaleUnavailable, match="did not acknowledge"):
        scale.zero()


def test_echo_probe_recognises_the_scale(server):
    port = open_port(server.path, 9600, "7E1", 0.3)
    try:
        assert Toledo8217Scale.probe(port)
        # Echo mode is over: the scale answers commands again.
        port.write(b"W")
        assert port.read_until(b"\r") == b"\x0200.000\r"
    finally:
        port.close()


def test_echo_probe_finds_nothing_on_a_silent_line(pan, server):
    pan.fault = Fault.SILENCE
    port = open_port(server.path, 9600, "7E1", 0.3)
    try:
        assert not Toledo8217Scale.probe(port)
    finally:
        port.close()


def test_port_that_vanishes_mid_read_is_reported_not_read(pan, server, scale):
    pan.load_g = 1234
    assert scale.read().weight_g == 1234
    server.stop()
    with pytest.raises(ScaleUnavailable, match="lost the scale port"):
        scale.read()


def test_the_same_pty_opens_again_after_the_driver_closed_it(pan, server):
    # Linux refuses 7E1 on a pty already set up by the first opening (EINVAL): not an error.
    settings = config.Scale(protocol="toledo8217", port=server.path, timeout_ms=300)
    pan.load_g = 800
    for _ in range(3):
        scale = open_scale(settings)
        try:
            assert scale.read().weight_g == 800
        finally:
            scale.close()


def test_unknown_protocol_in_config_is_a_clear_error():
    settings = config.Scale(protocol="bizerba", port="/dev/null")
    with pytest.raises(ConfigError, match=r"scale.protocol = 'bizerba' is wrong.*toledo8217"):
        open_scale(settings)
