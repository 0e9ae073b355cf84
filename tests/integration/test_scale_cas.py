"""The real CAS ECR driver against the simulated scale, over a real pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

from appliance.core.weighing import ReadingStatus
from appliance.devices.scales.cas import CasScale
from appliance.devices.scales.serial_port import open_port
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.devices.scales.simulator.cas import CasSimulator
from appliance.errors import ScaleUnavailable
from tests.integration.scale_pieces import PiecewisePtyServer


@pytest.fixture
def pan() -> Pan:
    return Pan(load_g=1234)


@pytest.fixture
def simulator(pan: Pan) -> CasSimulator:
    return CasSimulator(pan, interval_g=2, capacity_g=15000)


@pytest.fixture
def line(simulator: CasSimulator) -> Iterator[serial.Serial]:
    with PtyServer(simulator, baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "8N1", 1.0)
        yield port
        port.close()


@pytest.fixture
def scale(line: serial.Serial) -> CasScale:
    return CasScale(line, interval_g=2)


def test_stable_load_gives_its_weight_in_grams(scale):
    reading = scale.read()
    assert (reading.status, reading.weight_g, reading.price_cents) == (
        ReadingStatus.STABLE,
        1234,
        None,
    )


def test_empty_pan_reads_zero(scale, pan):
    pan.load_g = 0
    assert (scale.read().status, scale.read().weight_g) == (ReadingStatus.STABLE, 0)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"motion": True}, ReadingStatus.MOTION),
        ({"under_zero": True}, ReadingStatus.UNDER_ZERO),
        ({"load_g": -40}, ReadingStatus.UNDER_ZERO),
        ({"overload": True}, ReadingStatus.OVERLOAD),
        ({"load_g": 15002}, ReadingStatus.OVERLOAD),
    ],
)
def test_scale_states_become_readings_without_weight(scale, pan, change, status):
    for name, value in change.items():
        setattr(pan, name, value)
    reading = scale.read()
    assert (reading.status, reading.weight_g) == (status, None)


def test_busy_scale_is_asked_again_after_nak(scale, simulator):
    simulator.busy_enquiries = 2
    assert scale.read().weight_g == 1234
    assert simulator.busy_enquiries == 0


def test_scale_that_keeps_answering_nak_gives_an_error_not_a_weight(scale, simulator):
    simulator.busy_enquiries = 100
    reading = scale.read()
    assert (reading.status, reading.weight_g) == (ReadingStatus.ERROR, None)
    assert "NAK" in reading.detail


def test_enq_recognises_a_cas_scale(line):
    assert CasScale.probe(line)


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.SILENCE, ReadingStatus.TIMEOUT),
        (Fault.GARBAGE, ReadingStatus.ERROR),
        (Fault.PARTIAL, ReadingStatus.TIMEOUT),
        (Fault.BAD_CHECKSUM, ReadingStatus.ERROR),
    ],
)
def test_line_fault_never_yields_the_previous_weight(scale, pan, fault, status):
    assert scale.read().weight_g == 1234
    pan.fault = fault
    reading = scale.read()
    assert (reading.status, reading.weight_g) == (status, None)
    pan.fault = Fault.NONE
    assert scale.read().weight_g == 1234


def test_bad_bcc_names_the_check_that_failed(scale, pan):
    pan.fault = Fault.BAD_CHECKSUM
    assert "BCC mismatch" in scale.read().detail


class _GarbledFrames(CasSimulator):
    """Acknowledges properly but sends printable noise in place of each weight frame."""

    def weight_frame(self) -> bytes:
        return bytes(0x41 + i for i in range(15))


def test_garbage_in_place_of_the_weight_frame_is_an_error(pan):
    with PtyServer(_GarbledFrames(pan), baud=9600, pace=False) as server:
        port = open_port(server.path, 9600, "8N1", 1.0)
        reading = CasScale(port, interval_g=2).read()
        port.close()
    assert (reading.status, reading.weight_g) == (ReadingStatus.ERROR, None)


def test_frames_split_across_reads_are_reassembled(pan):
    with PiecewisePtyServer(CasSimulator(pan), piece=2) as server:
        port = open_port(server.path, 9600, "8N1", 1.0)
        scale = CasScale(port, interval_g=2)
        for load in (1234, 500, 14998):
            pan.load_g = load
            assert scale.read().weight_g == load
        port.close()


def test_cas_scale_has_no_zero_or_tare_command(scale):
    with pytest.raises(NotImplementedError):
        scale.zero()
    with pytest.raises(NotImplementedError):
        scale.tare()


def test_port_that_vanishes_mid_use_raises_scale_unavailable_naming_it(pan):
    server = PtyServer(CasSimulator(pan), baud=9600, pace=False).start()
    port = open_port(server.path, 9600, "8N1", 1.0)
    scale = CasScale(port, interval_g=2)
    assert scale.read().weight_g == 1234
    server.stop()
    with pytest.raises(ScaleUnavailable, match=server.path):
        scale.read()
    port.close()
