"""`comptoir scale read|simulate|detect`: an installer's tools to wire and check a scale."""

from __future__ import annotations

import argparse
import re
from functools import partial
from typing import cast

import serial.tools.list_ports

from appliance import config
from appliance.commands._common import add_json_flag, print_json, serve_simulator
from appliance.core.money import format_euros
from appliance.core.weighing import (
    Reading,
    ReadingStatus,
    ScaleSpec,
    WeighingGate,
    format_weight,
)
from appliance.devices.scales.base import Article, Scale
from appliance.devices.scales.factory import (
    PROTOCOLS,
    driver_class,
    open_driver,
    simulator_class,
)
from appliance.devices.scales.serial_port import PORT_ERRORS, open_port
from appliance.devices.scales.simulator.base import Fault, Pan, PtyServer
from appliance.errors import ComptoirError, UsageError

CAPACITY_G = 15000
MIN_INTERVALS = 20
PROBE_TIMEOUT_S = 0.3
PROTOCOL_CHOICES = "{" + ",".join(PROTOCOLS) + "}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("scale", help="read, simulate or detect a scale on a serial port")
    actions = parser.add_subparsers(dest="scale_command", required=True, metavar="ACTION")

    read = actions.add_parser("read", help="print the first reading the scale gives")
    _add_protocol(read)
    read.add_argument("--port", required=True, help="device path or pyserial URL (socket://...)")
    read.add_argument("--baud", type=int, default=0, help="line speed (default: the protocol's)")
    read.add_argument("--unit-price-cents", type=int, metavar="N", help="unit price per kg")
    read.add_argument(
        "--timeout", type=float, default=2.0, metavar="S", help="seconds to wait for an answer"
    )
    read.add_argument("--interval-g", type=int, default=2, metavar="G", help="scale interval e")
    read.add_argument(
        "--polynomial",
        default="",
        metavar="HEX",
        help="Dialog 06 checksum polynomial, 4 hex digits (the simulator's is 8005)",
    )
    add_json_flag(read)
    read.set_defaults(func=run_read)

    simulate = actions.add_parser("simulate", help="serve a simulated scale on a pseudo-terminal")
    _add_protocol(simulate)
    simulate.add_argument("--interval-g", type=int, default=2, metavar="G")
    simulate.add_argument("--capacity-g", type=int, default=CAPACITY_G, metavar="G")
    simulate.set_defaults(func=run_simulate)

    detect = actions.add_parser("detect", help="find which scale answers on which serial port")
    detect.add_argument(
        "--port", action="append", default=[], help="also try this port (repeatable)"
    )
    add_json_flag(detect)
    detect.set_defaults(func=run_detect)


def _add_protocol(parser: argparse.ArgumentParser) -> None:
    # Checked in `run`, not by argparse, so a wrong name is one line like every other error.
    parser.add_argument("--protocol", required=True, metavar=PROTOCOL_CHOICES)


# -- read ---------------------------------------------------------------------------------------


def run_read(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError("--timeout must be a number of seconds above 0")
    if args.unit_price_cents is not None and args.unit_price_cents < 0:
        raise UsageError("--unit-price-cents must not be negative")
    if args.interval_g not in config.INTERVALS_G:
        raise UsageError(f"--interval-g must be one of {', '.join(map(str, config.INTERVALS_G))}")
    if not re.fullmatch(r"([0-9A-Fa-f]{4})?", args.polynomial):
        raise UsageError("--polynomial must be 4 hexadecimal digits, such as 8005")
    settings = config.Scale(
        protocol=_protocol(args.protocol),
        port=args.port,
        baud=args.baud,
        interval_g=args.interval_g,
        timeout_ms=round(args.timeout * 1000),
        dialog06_polynomial=args.polynomial,
    )
    scale = open_driver(settings)
    try:
        if args.unit_price_cents is not None and scale.computes_price:
            scale.set_article(Article(args.unit_price_cents))
        reading = scale.read()
    finally:
        scale.close()
    spec = ScaleSpec(args.interval_g, CAPACITY_G, MIN_INTERVALS * args.interval_g)
    result = _judge(reading, spec, args.unit_price_cents)
    if args.json:
        print_json(result)
    else:
        print(_describe(result, args.interval_g))
    return 0 if result["status"] == ReadingStatus.STABLE else 1


def _judge(reading: Reading, spec: ScaleSpec, unit_price_cents: int | None) -> dict:
    """The reading as the kiosk would judge it, with the price of an accepted one."""
    gate = WeighingGate(spec)
    judged = gate.observe(reading)
    price = None
    if judged.status is ReadingStatus.STABLE and (
        unit_price_cents is not None or judged.price_cents is not None
    ):
        price = gate.accept(reading, unit_price_cents or 0)
    stable = judged.status is ReadingStatus.STABLE
    return {
        "status": judged.status.value,
        "weight_g": judged.weight_g if stable else None,
        "tare_g": judged.tare_g,
        "net": judged.net,
        "unit_price_cents": price.unit_price_cents if price else unit_price_cents,
        "price_cents": price.price_cents if price else None,
        "detail": judged.detail or _why_refused(judged, spec),
    }


def _why_refused(reading: Reading, spec: ScaleSpec) -> str:
    if reading.status is ReadingStatus.BELOW_MIN:
        return f"{reading.weight_g} g is below the minimum load of {spec.min_load_g} g"
    return ""


def _describe(result: dict, interval_g: int) -> str:
    parts = [result["status"]]
    if result["weight_g"] is not None:
        parts.append(format_weight(result["weight_g"], interval_g))
        if result["net"]:
            parts.append(f"net (tare {format_weight(result['tare_g'], interval_g)})")
    if result["price_cents"] is not None:
        unit = format_euros(result["unit_price_cents"])
        parts.append(f"at {unit}/kg = {format_euros(result['price_cents'])}")
    if result["detail"]:
        parts.append(f"({result['detail']})")
    return " ".join(parts)


# -- simulate -----------------------------------------------------------------------------------

#: stdin line -> what it does to the pan (`weight N` is parsed apart).
_PAN_CHANGES: dict[str, dict[str, object]] = {
    "empty": dict(load_g=0, motion=False, overload=False, under_zero=False),
    "motion": dict(motion=True),
    "stable": dict(motion=False),
    "overload": dict(overload=True, under_zero=False),
    "underzero": dict(under_zero=True, overload=False),
    "silence": dict(fault=Fault.SILENCE),
    "garbage": dict(fault=Fault.GARBAGE),
    "partial": dict(fault=Fault.PARTIAL),
    "badchecksum": dict(fault=Fault.BAD_CHECKSUM),
    "ok": dict(fault=Fault.NONE),
}


def run_simulate(args: argparse.Namespace) -> int:
    protocol = _protocol(args.protocol)
    pan = Pan()
    simulator = simulator_class(protocol)(
        pan, interval_g=args.interval_g, capacity_g=args.capacity_g
    )
    server = PtyServer(simulator, baud=driver_class(protocol).default_baud).start()
    return serve_simulator(server, partial(_change_pan, pan))


def _change_pan(pan: Pan, words: list[str]) -> str:
    """Apply one stdin command to the pan; the acknowledgement or the problem, on one line."""
    if words[0] == "weight" and len(words) == 2 and words[1].lstrip("-").isdigit():
        changes: dict[str, object] = dict(
            load_g=int(words[1]), motion=False, overload=False, under_zero=False
        )
    elif len(words) == 1 and words[0] in _PAN_CHANGES:
        changes = _PAN_CHANGES[words[0]]
    else:
        known = ", ".join(["weight N", *_PAN_CHANGES])
        return f"unknown command {' '.join(words)!r}: expected one of {known}"
    for name, value in changes.items():
        setattr(pan, name, value)
    return "ok " + " ".join(words)


# -- detect -------------------------------------------------------------------------------------


def run_detect(args: argparse.Namespace) -> int:
    drivers, missing = {}, []
    for protocol in PROTOCOLS:
        try:
            drivers[protocol] = driver_class(protocol)
        except ComptoirError:
            missing.append(protocol)
    ports = [p.device for p in serial.tools.list_ports.comports()]
    ports += [p for p in args.port if p not in ports]
    found = [_detect_on(port, drivers) for port in ports]
    if args.json:
        print_json({"ports": found, "protocols_not_tried": missing})
    else:
        for entry in found:
            answer = entry["protocol"] or entry["error"] or "no scale answered"
            print(f"{entry['port']}: {answer}")
        if not found:
            print("no serial port found: check the cable and the USB adapter")
        if missing:
            print(f"not tried (not in this build): {', '.join(missing)}")
    return 0 if any(entry["protocol"] for entry in found) else 1


def _detect_on(port: str, drivers: dict[str, type[Scale]]) -> dict:
    """The first protocol whose safe probe is answered on `port`, at its own line settings."""
    error = None
    for protocol, cls in drivers.items():
        try:
            line = open_port(port, cls.default_baud, cls.default_framing, PROBE_TIMEOUT_S)
        except ComptoirError as exc:
            return {"port": port, "protocol": None, "error": str(exc)}
        try:
            if cls.probe(line):
                return {"port": port, "protocol": protocol, "error": None}
        except (ComptoirError, *PORT_ERRORS) as exc:
            error = str(exc)
        finally:
            line.close()
    return {"port": port, "protocol": None, "error": error}


def _protocol(name: str) -> config.ScaleProtocol:
    if name not in PROTOCOLS:
        raise UsageError(f"unknown --protocol {name!r}: expected one of {', '.join(PROTOCOLS)}")
    return cast(config.ScaleProtocol, name)  # PROTOCOLS names the ones with a driver
