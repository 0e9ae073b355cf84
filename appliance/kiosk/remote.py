"""What other processes may ask of the kiosk's hardware: the device command handlers.

The agent and the web admin queue commands in the database; `commands.CommandExecutor` runs
these handlers in its own thread and records each result. A handler waits for the device's
worker, the shop's records or the UI thread (`Screens`) and says why when it will not or could
not.
"""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial
from typing import Protocol

from appliance import clock
from appliance.core.weighing import ReadingStatus
from appliance.errors import ComptoirError
from appliance.kiosk import hardware_test
from appliance.kiosk.commands import CommandRefused, Handler
from appliance.kiosk.effects import ANSWER_MARGIN_S, Effects
from appliance.said import of as said_of
from appliance.said import said
from appliance.store.device_commands import CommandName, DeviceCommand
from appliance.store.payments import PaymentInFlight

#: How long each command waits for its device, or for the UI thread.
PRINT_TIMEOUT_S = 30.0
ZERO_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 5.0
UI_TIMEOUT_S = 10.0
#: How long `pause_for_update` may hold the "back in a minute" screen.
HOLD_S = (10, 300, 900)  # least, default, most


class Screens(Protocol):
    """What the handlers ask of the UI thread; each future says whether it was done (False: a
    customer is shopping, paying or at the lockers)."""

    def ask_restart(self) -> Future[bool]: ...

    def ask_pause(self, hold_s: int) -> Future[bool]: ...


def handlers(effects: Effects, screens: Screens) -> dict[CommandName, Handler]:
    def print_test_label(_command: DeviceCommand) -> dict:
        content = effects.shop.documents.test_label(clock.now())
        return {"printed_to": effects.printer.print_label(content).result(PRINT_TIMEOUT_S)}

    def scale_zero(_command: DeviceCommand) -> dict:
        if effects.scale is None:
            raise ComptoirError(said("no scale is configured ([scale] protocol = none)"))
        effects.scale.zero().result(ZERO_TIMEOUT_S)
        return {"zeroed": True}

    def restart_ui(_command: DeviceCommand) -> dict:
        if effects.paying or not screens.ask_restart().result(UI_TIMEOUT_S):
            raise CommandRefused(said("a customer is paying or at the lockers: ask again later"))
        return {"restarted": True}

    def pause_for_update(command: DeviceCommand) -> dict:
        least, default, most = HOLD_S
        hold_s = min(max(int(command.args.get("hold_s", default)), least), most)
        if effects.paying or not screens.ask_pause(hold_s).result(UI_TIMEOUT_S):
            raise CommandRefused(said("a customer is at the kiosk: the update waits"))
        return {"paused_s": hold_s}

    def open_door(command: DeviceCommand) -> dict:
        locks = effects.locks
        if locks is None:
            raise CommandRefused(said('no lockers here: [lockers] controller is "none"'))
        number = command.args.get("compartment")
        if not isinstance(number, int) or number not in locks.numbers:
            known = ", ".join(map(str, locks.numbers))
            raise CommandRefused(
                said(
                    "compartment %(number)s is unknown here (known: %(known)s)",
                    number=number,
                    known=known,
                )
            )
        return effects.open_door(number, command.requested_by, command.reason or "no reason")

    def reprint_receipt(command: DeviceCommand) -> dict:
        number = command.args.get("receipt")
        if not isinstance(number, int) or number < 1:
            raise CommandRefused(said('give the receipt number to reprint: {"receipt": 12}'))
        shop = effects.shop
        printed = shop.worker.run(
            partial(shop.print_receipt, number=number, copy_by=command.requested_by)
        )
        return {"printed_to": printed.result(PRINT_TIMEOUT_S * 2)}

    def print_closing(command: DeviceCommand) -> dict:
        number = command.args.get("closing")
        if number is not None and (not isinstance(number, int) or number < 1):
            raise CommandRefused(said('give the closing number to print: {"closing": 12}, or none'))
        shop = effects.shop
        printed = shop.worker.run(partial(shop.print_closing, number=number))
        return printed.result(PRINT_TIMEOUT_S * 2)

    def read_scale(_command: DeviceCommand) -> dict:
        if effects.scale is None:
            raise CommandRefused(said("no scale is configured ([scale] protocol = none)"))
        reading = effects.next_reading(READ_TIMEOUT_S)
        if reading is None:
            raise ComptoirError(
                said("the scale gave no reading in %(seconds)d s", seconds=READ_TIMEOUT_S)
            )
        if reading.status in (ReadingStatus.ERROR, ReadingStatus.TIMEOUT):
            raise ComptoirError(
                said(
                    "the scale does not answer: %(detail)s", detail=reading.detail or reading.status
                )
            )
        return {
            "status": reading.status.value,
            "weight_g": reading.weight_g,
            "tare_g": reading.tare_g,
        }

    def read_thermometers(_command: DeviceCommand) -> dict:
        if not effects.site.haccp.zones:
            raise CommandRefused(
                said("no thermometer is configured here ([[haccp.zones]] sensors)")
            )
        return {"sensors": hardware_test.read_thermometers(effects.site.haccp)}

    def test_payment(command: DeviceCommand) -> dict:
        checkout = effects.till.checkout
        if checkout is None:
            raise CommandRefused(said("no card terminal is configured ([payment] terminal)"))
        amount = hardware_test.amount_of(command.args)
        if effects.paying:
            raise CommandRefused(said("a customer is paying: ask again in a minute"))
        charged = effects.till.pay(
            partial(hardware_test.charge_test_payment, checkout=checkout, amount_cents=amount)
        )
        try:
            done = charged.result(effects.site.payment.timeout_s + 2 * ANSWER_MARGIN_S)
        except PaymentInFlight as exc:
            raise CommandRefused(said_of(exc)) from None
        return {
            "approved": True,
            "amount_cents": done.amount_cents,
            "receipt": done.receipt_number,
            "ticket": done.ticket,
        }

    return {
        CommandName.READ_SCALE: read_scale,
        CommandName.READ_THERMOMETERS: read_thermometers,
        CommandName.TEST_PAYMENT: test_payment,
        CommandName.PRINT_TEST_LABEL: print_test_label,
        CommandName.SCALE_ZERO: scale_zero,
        CommandName.RESTART_UI: restart_ui,
        CommandName.OPEN_DOOR: open_door,
        CommandName.REPRINT_RECEIPT: reprint_receipt,
        CommandName.PRINT_CLOSING: print_closing,
        CommandName.PAUSE_FOR_UPDATE: pause_for_update,
    }
