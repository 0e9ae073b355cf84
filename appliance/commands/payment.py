"""`comptoir payment simulate|test`: the simulated card terminal, and one real test payment.

`test` speaks to any Caisse-AP terminal (or simulator) through the real driver, so an installer
can check the link before the shop opens. It charges a real card on a real terminal: use a small
amount.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import uuid

from appliance.commands._common import add_json_flag, print_json
from appliance.devices.payment import caisse_ap
from appliance.devices.payment.base import PaymentOutcome
from appliance.devices.payment.caisse_ap import MAX_AMOUNT_CENTS, CaisseApTerminal, split_address
from appliance.devices.payment.simulator import Scenario, TerminalSimulator
from appliance.errors import UsageError

SCENARIOS = [s.value for s in Scenario]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("payment", help="simulate a card terminal or test a real one")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    simulate = actions.add_parser(
        "simulate",
        help="serve a simulated Caisse-AP terminal; type a scenario name on stdin to change it",
    )
    simulate.add_argument("--host", default="127.0.0.1", help="address to listen on")
    simulate.add_argument("--port", type=int, default=8888)
    simulate.add_argument("--outcome", choices=SCENARIOS, default=Scenario.APPROVED.value)
    simulate.add_argument(
        "--delay", type=float, default=1.0, metavar="S", help="card dialogue time in seconds"
    )
    simulate.set_defaults(func=run_simulate)

    test = actions.add_parser("test", help="run one payment through the real driver")
    test.add_argument("--terminal", required=True, metavar="HOST:PORT")
    test.add_argument("--amount-cents", type=int, required=True, metavar="N")
    test.add_argument("--register", type=int, default=1, help="register number sent (CA)")
    test.add_argument(
        "--timeout", type=int, default=180, metavar="S", help="longest wait for the answer"
    )
    add_json_flag(test)
    test.set_defaults(func=run_test)


def run_simulate(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536 or args.delay < 0:
        raise UsageError("--port must be 1-65535 and --delay must not be negative")
    simulator = TerminalSimulator(
        args.host, args.port, scenario=Scenario(args.outcome), delay_s=args.delay
    )
    try:
        simulator.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"terminal simulator on {simulator.address}, outcome {simulator.scenario}", flush=True)
    print(f"type one of: {', '.join(SCENARIOS)}; 'delay S'; 'quit'", flush=True)
    try:
        for line in sys.stdin:
            if not _control(simulator, line.split()):
                break
        else:
            # stdin closed (started in the background): keep serving until interrupted
            threading.Event().wait()
    finally:
        simulator.stop()
    return 0


def _control(simulator: TerminalSimulator, words: list[str]) -> bool:
    """Apply one control line; False to stop."""
    if not words:
        return True
    if words[0] in ("quit", "exit"):
        return False
    if words[0] == "delay" and len(words) == 2:
        try:
            simulator.delay_s = max(0.0, float(words[1]))
        except ValueError:
            print(f"not a number of seconds: {words[1]}", flush=True)
        else:
            print(f"delay {simulator.delay_s:g} s", flush=True)
        return True
    if words[0] in SCENARIOS:
        try:
            simulator.scenario = Scenario(words[0])
        except OSError as exc:
            print(f"cannot listen again on {simulator.address}: {exc.strerror}", flush=True)
        else:
            print(f"outcome {simulator.scenario}", flush=True)
        return True
    print(f"unknown command {words[0]!r}: one of {', '.join(SCENARIOS)}, delay S, quit", flush=True)
    return True


def run_test(args: argparse.Namespace) -> int:
    try:
        host, port = split_address(args.terminal)
    except ValueError as exc:
        raise UsageError(f"--terminal: {exc}") from None
    if not 0 < args.amount_cents <= MAX_AMOUNT_CENTS:
        raise UsageError("--amount-cents must be a whole number of cents above 0, such as 100")
    if not 1 <= args.register <= 99 or args.timeout < 1:
        raise UsageError("--register must be 1-99 and --timeout at least 1 second")
    driver_log = logging.getLogger(caisse_ap.__name__)
    if not driver_log.isEnabledFor(logging.INFO):
        # this command reports every outcome itself: the driver's warning would say it twice
        driver_log.setLevel(logging.ERROR)
    terminal = CaisseApTerminal(host, port, register_number=args.register, timeout_s=args.timeout)
    result = terminal.pay(args.amount_cents, reference=f"test-{uuid.uuid4().hex}")
    if args.json:
        print_json(
            {
                "outcome": result.outcome.value,
                "amount_cents": result.amount_cents,
                "result_code": result.result_code,
                "reason_code": result.reason_code,
                "authorisation": result.authorisation,
                "card_application": result.card_application,
                "message": result.message,
            }
        )
    elif result.outcome is PaymentOutcome.ERROR and not result.result_code:  # never reached it
        print(
            f"comptoir: no payment made on {terminal.address}: {result.message}. Check that the"
            " terminal is on and on the shop network, and that its Caisse-AP link is enabled"
            f" on port {port}; then run this test again.",
            file=sys.stderr,
        )
    else:
        codes = " ".join(
            f"{name}={code}"
            for name, code in (("AE", result.result_code), ("AF", result.reason_code))
            if code
        )
        print(f"{result.outcome.value}: {result.message}" + (f" [{codes}]" if codes else ""))
        if result.authorisation:
            print(f"authorisation {result.authorisation}")
    return 0 if result.outcome is PaymentOutcome.APPROVED else 1
