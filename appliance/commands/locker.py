"""`comptoir locker status|open|test|simulate|resend|producer`: the locker wall from the shell.

`open` never drives a lock itself: it queues an audited `open_door` command for the kiosk, owner
of the hardware, and waits for its answer. `test` is for installers with the kiosk stopped: it
unlocks one lock of a CU16 bus, or one relay on GPIO pins, through the real driver and says what
the board or the door switch answered. `simulate` serves a CU16 bus on a pseudo-terminal, or a
GPIO bank on a local socket (pigpio's protocol), so that test can be tried without hardware.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from appliance import config as config_module
from appliance.commands._common import add_json_flag, load_config, print_json, serve_simulator
from appliance.config import Lockers
from appliance.core.locker import compartments_from
from appliance.devices.locks.base import Door, LockUnavailable
from appliance.devices.locks.gpio import GpioLocks, GpioWiring, pin_factory
from appliance.devices.locks.gpio_simulator import GpioBank, PigpioServer, SimDoor
from appliance.devices.locks.kerong import KerongLocks, Wiring, open_bus
from appliance.devices.locks.simulator import Cu16Bus, Cu16PtyServer, SimBoard
from appliance.errors import ComptoirError, UsageError
from appliance.notify.pickup_email import PickupNotice, send_pickup_code
from appliance.store import device_commands, lockers, orders, pickup_codes, producers
from appliance.store.db import open_database
from appliance.store.device_commands import CommandName


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("locker", help="locker compartments: status, open, test, codes")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="what each compartment holds")
    add_json_flag(status)
    status.set_defaults(func=run_status)

    opening = actions.add_parser("open", help="ask the kiosk to open a door (queued, audited)")
    opening.add_argument("number", type=int, metavar="N", help="door number as painted")
    opening.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    opening.add_argument("--by", default=f"cli:{getpass.getuser()}", help="who asks")
    opening.add_argument("--wait", type=float, default=15.0, metavar="S", help="seconds to wait")
    add_json_flag(opening)
    opening.set_defaults(func=run_open)

    test = actions.add_parser(
        "test", help="installers, kiosk stopped: unlock one CU16 lock or one GPIO relay"
    )
    test.add_argument("--port", help="RS485 adapter, such as /dev/ttyUSB1")
    test.add_argument("--board", type=int, help="board address 0-15")
    test.add_argument("--lock", type=int, help="lock index 0-15 on that board")
    test.add_argument("--relay-pin", help="GPIO: the lock relay's pin, such as GPIO17")
    test.add_argument("--door-pin", help="GPIO: the door switch's pin, such as GPIO27")
    test.add_argument(
        "--pin-factory",
        choices=("lgpio", "native", "pigpio"),
        help="GPIO pin library (default: [lockers] pin_factory; pigpio with --pigpio)",
    )
    test.add_argument(
        "--pigpio", metavar="HOST:PORT", help="GPIO bank of `locker simulate --gpio` or pigpiod"
    )
    add_json_flag(test)
    test.set_defaults(func=run_test)

    simulate = actions.add_parser(
        "simulate",
        help="serve a simulated CU16 bus on a pseudo-terminal (or, with --gpio, a GPIO bank on"
        " a local socket); control it from stdin",
    )
    simulate.add_argument(
        "--boards", default="0", metavar="A,B", help="board addresses on the bus (0-15)"
    )
    simulate.add_argument(
        "--lock-bit-open",
        action="store_true",
        help="boards report 1 for an open lock (lock_bit_closed = false)",
    )
    simulate.add_argument(
        "--gpio",
        metavar="R:D[:I],...",
        help="serve a GPIO bank instead: each lock relay pin wired to its door switch pin (and"
        " item sensor pin), such as 17:27:22,5:6",
    )
    simulate.add_argument(
        "--gpio-port", type=int, default=8888, metavar="N", help="its port on 127.0.0.1 (0: any)"
    )
    simulate.set_defaults(func=run_simulate)

    resend = actions.add_parser("resend", help="send a new pickup code for an order in a locker")
    resend.add_argument("number", metavar="ORDER")
    resend.set_defaults(func=run_resend)

    producer = actions.add_parser("producer", help="add a producer who may refill")
    producer.add_argument("name")
    producer.add_argument("--badge", default="", help="badge text as the scanner types it")
    producer.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    producer.set_defaults(func=run_producer)


def run_status(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    db = open_database(cfg.database_path)
    wall = compartments_from(cfg.lockers.compartments)
    lockers.sync_compartments(db, wall)
    states = lockers.states(db)
    rows: list[dict[str, Any]] = []
    for c in wall:
        s = states[c.number]
        rows.append(
            {
                "number": c.number,
                "size": c.size.value,
                "chilled": c.chilled,
                "zone": c.zone,
                "use": s.use.value,
                "order": s.order_number,
                "walkin": {"name": s.walkin_name, "price_cents": s.walkin_price_cents}
                if s.walkin_name
                else None,
                "note": s.note,
                "updated_at": s.updated_at,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        what = r["order"] or (r["walkin"] or {}).get("name") or ""
        kind = f"{r['size']}{' chilled' if r['chilled'] else ''}"
        print(f"{r['number']:>4}  {kind:<10} {r['use']:<13} {what} {r['note']}".rstrip())
    return 0


def run_open(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if args.number not in {c.number for c in cfg.lockers.compartments}:
        raise UsageError(f"there is no compartment {args.number} in [[lockers.compartments]]")
    if not args.reason.strip():
        raise UsageError("--reason must say why the door is opened (kept in the audit trail)")
    db = open_database(cfg.database_path)
    command = device_commands.queue(
        db,
        CommandName.OPEN_DOOR,
        {"compartment": args.number},
        requested_by=args.by,
        reason=args.reason.strip(),
        ttl_s=max(int(args.wait), 5),
    )
    done = device_commands.wait(db, command.id, args.wait)
    state = done.state if done else "queued"
    result = done.result if done else None
    if args.json:
        print_json({"command": command.id, "state": state, "result": result})
    elif state == "done":
        print(f"door {args.number} opened ({command.id})")
    elif state in ("queued", "running"):
        print(f"door {args.number}: queued as {command.id}, the kiosk has not answered yet")
    else:
        print(f"door {args.number} NOT opened: {(result or {}).get('error', state)}")
    return 0 if state == "done" else 1


def run_test(args: argparse.Namespace) -> int:
    cu16 = (args.port, args.board, args.lock)
    gpio = (args.relay_pin, args.door_pin)
    if gpio != (None, None):
        if cu16 != (None, None, None):
            raise UsageError(
                "give --port/--board/--lock (a CU16 lock) or --relay-pin/--door-pin (GPIO),"
                " not both"
            )
        if None in gpio:
            raise UsageError("--relay-pin and --door-pin go together (the lock and its door)")
        return _test_gpio(args)
    if None in cu16:
        raise UsageError(
            "give --port, --board and --lock (a CU16 lock), or --relay-pin and --door-pin (GPIO)"
        )
    return _test_cu16(args)


def _test_cu16(args: argparse.Namespace) -> int:
    if not (0 <= args.board <= 15 and 0 <= args.lock <= 15):
        raise UsageError("--board and --lock are 0 to 15 (the lock index, not the door number)")
    settings = _lock_settings(args)
    bus = open_bus(args.port)
    locks = KerongLocks(
        bus,
        {1: Wiring(args.board, args.lock)},
        lock_bit_closed=settings.lock_bit_closed,
        confirm_s=settings.unlock_confirm_ms / 1000,
        poll_s=settings.status_poll_ms / 1000,
    )
    report: dict[str, Any] = {"port": args.port, "board": args.board, "lock": args.lock}
    try:
        before = bus.status(args.board)
        report["before"] = {
            "lock_bits": f"{before.lock_bits:016b}",
            "item_bits": f"{before.item_bits:016b}",
        }
        opened = locks.unlock(1)
        after = bus.status(args.board)
        report["after"] = {
            "lock_bits": f"{after.lock_bits:016b}",
            "item_bits": f"{after.item_bits:016b}",
        }
        report["confirmed"] = opened
    except LockUnavailable as exc:
        report["confirmed"] = False
        report["error"] = str(exc)
    finally:
        locks.close()
    if args.json:
        print_json(report)
    elif "error" in report:
        print(f"board {args.board} lock {args.lock}: {report['error']}")
    else:
        verdict = (
            "opened (confirmed by the board)"
            if report["confirmed"]
            else (
                "NOT confirmed: the lock bit did not change (jammed lock, or try lock_bit_closed = "
                f"{str(not settings.lock_bit_closed).lower()})"
            )
        )
        print(f"board {args.board} lock {args.lock}: {verdict}")
        before, after = report["before"]["lock_bits"], report["after"]["lock_bits"]
        print(f"  lock bits before {before}  after {after}")
    return 0 if report["confirmed"] else 1


def _test_gpio(args: argparse.Namespace) -> int:
    """Energise one relay and watch its door switch, through the real GPIO driver."""
    settings = _lock_settings(args)
    factory_name = args.pin_factory or ("pigpio" if args.pigpio else settings.pin_factory)
    if factory_name == "mock":
        raise UsageError(
            "mock pins live inside one process: give --pigpio HOST:PORT (the GPIO bank of"
            " `comptoir locker simulate --gpio`) or --pin-factory lgpio on the Pi"
        )
    address = args.pigpio or settings.pigpio_address
    if config_module.split_host_port(address) is None:
        raise UsageError(f"--pigpio {address!r}: host:port, such as 127.0.0.1:8888")
    report: dict[str, Any] = {"relay_pin": args.relay_pin, "door_pin": args.door_pin}
    reopen = partial(pin_factory, factory_name, address)
    try:
        locks = GpioLocks(
            {1: GpioWiring(args.relay_pin, args.door_pin)},
            reopen(),
            pulse_s=settings.unlock_pulse_ms / 1000,
            confirm_s=settings.unlock_confirm_ms / 1000,
            reopen=reopen,
        )
    except LockUnavailable as exc:
        report.update(confirmed=False, error=str(exc))
    else:
        try:
            report["before"] = locks.status()[1].door.value
            if report["before"] == Door.OPEN.value:
                report.update(
                    confirmed=False,
                    error=f"the door switch reads open: shut the door (is the switch on"
                    f" {args.door_pin}?) and test again",
                )
            else:
                report["confirmed"] = locks.unlock(1)
                report["after"] = locks.status()[1].door.value
        except LockUnavailable as exc:
            report.update(confirmed=False, error=str(exc))
        finally:
            locks.close()
    name = f"relay {args.relay_pin} door {args.door_pin}"
    if args.json:
        print_json(report)
    elif "error" in report:
        print(f"{name}: {report['error']}")
    elif report["confirmed"]:
        print(f"{name}: opened (seen open by the door switch)")
    else:
        print(
            f"{name}: NOT confirmed: the door switch stayed shut (jammed lock, relay without"
            " power, or a switch on another pin)"
        )
    return 0 if report["confirmed"] else 1


#: stdin word -> what it does to one lock of a simulated board (`B L` follow it).
_LOCK_CHANGES: dict[str, Callable[[SimBoard, int], None]] = {
    "open": lambda board, lock: board.open_doors.add(lock),
    "close": lambda board, lock: board.open_doors.discard(lock),
    "jam": lambda board, lock: board.jammed.add(lock),
    "free": lambda board, lock: board.jammed.discard(lock),
    "item": lambda board, lock: board.items.add(lock),
    "empty": lambda board, lock: board.items.discard(lock),
}
#: stdin word -> what it does to a whole simulated board (`B` follows it).
_BOARD_CHANGES: dict[str, dict[str, bool]] = {
    "silent": {"silent": True},
    "badchecksum": {"bad_checksum": True},
    "ok": {"silent": False, "bad_checksum": False},
}
_SIMULATOR_HELP = (
    "commands: close B L, open B L, jam B L, free B L, item B L, empty B L,"
    " silent B, badchecksum B, ok B, status"
)


def run_simulate(args: argparse.Namespace) -> int:
    if args.gpio:
        return _simulate_gpio(args)
    try:
        addresses = sorted({int(a) for a in args.boards.split(",")})
    except ValueError:
        raise UsageError(f"--boards {args.boards!r}: give addresses such as 0 or 0,1") from None
    if not all(0 <= a <= 15 for a in addresses):
        raise UsageError("--boards: a CU16 board address is 0 to 15 (its DIP switches)")
    bus = Cu16Bus(addresses, lock_bit_closed=not args.lock_bit_open)
    server = Cu16PtyServer(bus).start()
    return serve_simulator(server, partial(_change_bus, bus), _SIMULATOR_HELP)


def _change_bus(bus: Cu16Bus, words: list[str]) -> str:
    """Apply one stdin command to the simulated boards; the acknowledgement or the problem."""
    if words == ["status"]:
        return "; ".join(_board_state(board) for board in bus.boards.values())
    numbers = [int(w) for w in words[1:] if w.isdigit()]
    board = bus.boards.get(numbers[0]) if numbers and len(numbers) == len(words) - 1 else None
    if words[0] in _LOCK_CHANGES and len(numbers) == 2 and board and 0 <= numbers[1] <= 15:
        _LOCK_CHANGES[words[0]](board, numbers[1])
    elif words[0] in _BOARD_CHANGES and len(numbers) == 1 and board:
        for name, value in _BOARD_CHANGES[words[0]].items():
            setattr(board, name, value)
    else:
        boards = ",".join(map(str, bus.boards))
        return (
            f"unknown command {' '.join(words)!r} (boards {boards}; locks 0-15); {_SIMULATOR_HELP}"
        )
    return "ok " + " ".join(words)


def _board_state(board: SimBoard) -> str:
    def listed(locks: set[int]) -> str:
        return ",".join(map(str, sorted(locks))) or "-"

    faults = [name for name in ("silent", "bad_checksum") if getattr(board, name)]
    return (
        f"board {board.address}: open {listed(board.open_doors)} items {listed(board.items)}"
        f" jammed {listed(board.jammed)}" + (f" {' '.join(faults)}" if faults else "")
    )


#: stdin word -> what it does to one door of the simulated GPIO bank (its switch pin follows).
_DOOR_CHANGES: dict[str, dict[str, bool]] = {
    "open": {"open": True},
    "close": {"open": False},
    "jam": {"jammed": True},
    "free": {"jammed": False},
    "item": {"holding": True},
    "empty": {"holding": False},
}
_GPIO_HELP = (
    "commands: close P, open P, jam P, free P, item P, empty P, status"
    " (P: a door switch pin, such as 27)"
)


def _simulate_gpio(args: argparse.Namespace) -> int:
    doors = _parse_gpio_doors(args.gpio)
    if not 0 <= args.gpio_port < 65536:
        raise UsageError("--gpio-port: 0 to 65535 (0 picks a free port)")
    try:
        server = PigpioServer(GpioBank(doors), args.gpio_port).start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{args.gpio_port} ({exc.strerror}): is pigpiod or another"
            " simulator there? Try --gpio-port 0"
        ) from None
    first = doors[0]
    hint = (
        f"try: comptoir locker test --relay-pin GPIO{first.relay} --door-pin GPIO{first.door}"
        f" --pigpio {server.path}"
    )
    return serve_simulator(server, partial(_change_bank, server.bank), f"{_GPIO_HELP}\n{hint}")


def _parse_gpio_doors(text: str) -> list[SimDoor]:
    """`17:27:22,5:6` as doors: relay, door switch and optional item sensor pins (BCM numbers)."""
    doors: list[SimDoor] = []
    for item in text.split(","):
        parts = item.split(":")
        pins = [n for n in map(_pin_number, parts) if n is not None]
        if len(parts) not in (2, 3) or len(pins) != len(parts):
            raise UsageError(
                f"--gpio {item!r}: give RELAY:DOOR or RELAY:DOOR:ITEM pin numbers 0-27,"
                " such as 17:27:22"
            )
        doors.append(SimDoor(pins[0], pins[1], pins[2] if len(pins) == 3 else None))
    used = [p for d in doors for p in (d.relay, d.door, d.item) if p is not None]
    twice = sorted({p for p in used if used.count(p) > 1})
    if twice:
        raise UsageError(f"--gpio: pin {', '.join(map(str, twice))} is wired twice")
    return doors


def _pin_number(text: str) -> int | None:
    """A header GPIO number given as 27 or GPIO27; None when it is not one."""
    digits = text.upper().removeprefix("GPIO")
    return int(digits) if digits.isdigit() and int(digits) <= 27 else None


def _change_bank(bank: GpioBank, words: list[str]) -> str:
    """Apply one stdin command to the simulated doors; the acknowledgement or the problem."""
    if words == ["status"]:
        return "; ".join(_door_state(door) for door in bank.doors.values())
    pin = _pin_number(words[1]) if len(words) == 2 else None
    door = bank.doors.get(pin) if pin is not None else None
    pins = ",".join(map(str, bank.doors))
    if words[0] not in _DOOR_CHANGES or door is None:
        return f"unknown command {' '.join(words)!r} (door switch pins {pins}); {_GPIO_HELP}"
    if words[0] in ("item", "empty") and door.item is None:
        return f"door {door.door} has no item sensor (wire one with --gpio R:D:I)"
    bank.change(door.door, **_DOOR_CHANGES[words[0]])
    return "ok " + " ".join(words)


def _door_state(door: SimDoor) -> str:
    state = ["open" if door.open else "closed"]
    if door.item is not None:
        state.append("item" if door.holding else "empty")
    if door.jammed:
        state.append("jammed")
    return f"door {door.door} (relay {door.relay}): {' '.join(state)}"


def _lock_settings(args: argparse.Namespace) -> Lockers:
    """The [lockers] timings of the config file, or the defaults when the installer has none
    yet (no --config, no $COMPTOIR_CONFIG, nothing at the default path): --port, --board and
    --lock say all the test needs."""
    path = config_module.config_path(args.config)
    if path == config_module.DEFAULT_PATH and not path.exists():
        return Lockers()
    return load_config(args).lockers


def run_resend(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    db = open_database(cfg.database_path)
    order = orders.get(db, args.number)
    if order is None:
        raise UsageError(f"there is no order {args.number}: see `comptoir orders list`")
    key = pickup_codes.device_key_for(cfg.lockers.device_key_file, cfg.device.data_dir)
    # The old code keeps working until the new one has been sent: a failed e-mail must not
    # leave the customer with no code at all.
    issued = pickup_codes.reissue_code(
        db,
        args.number,
        key=key,
        validity_days=cfg.lockers.code_validity_days,
        digits=cfg.lockers.code_digits,
        revoke_old=False,
    )
    assert order.compartment is not None
    try:
        send_pickup_code(
            cfg,
            PickupNotice(
                order.customer_email,
                order.customer_name,
                order.number,
                order.compartment,
                issued.code,
                issued.token,
                issued.expires_at,
            ),
        )
    except ComptoirError:
        pickup_codes.revoke(db, issued.code_id)
        raise
    pickup_codes.keep_only(db, args.number, issued.code_id)
    print(f"new pickup code sent to the customer of {args.number} (the old one no longer works)")
    return 0


def run_producer(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    pin = ""
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    elif os.isatty(0) and not args.badge:
        pin = getpass.getpass("PIN (4 to 8 digits): ")
    db = open_database(cfg.database_path)
    key = pickup_codes.device_key_for(cfg.lockers.device_key_file, cfg.device.data_dir)
    try:
        producers.add_producer(db, args.name, key=key, pin=pin, badge=args.badge)
    except lockers.LockerError as exc:
        raise UsageError(str(exc)) from None
    print(f"producer {args.name} added")
    return 0
