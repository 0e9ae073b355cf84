"""Names of the shop's things in the reader's language: roles, alert kinds, states, amounts.

The stored values stay English codes (`payment_unknown`, `in_locker`); only what a page shows
is translated, here, so a template never spells out a code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import format_currency, format_decimal, gettext, lazy_gettext, ngettext

from appliance.core import haccp
from appliance.said import Said
from appliance.said import of as said_of
from appliance.store.alerts import Alarm

_ROLES = {"producer": lazy_gettext("producer"), "installer": lazy_gettext("installer")}

_ALERTS: dict[str, Any] = {
    Alarm.PAYMENT_UNKNOWN: lazy_gettext("Card payment, outcome unknown"),
    Alarm.DOOR_LEFT_OPEN: lazy_gettext("Door left open"),
    Alarm.DOOR_FORCED: lazy_gettext("Door opened without a command"),
    Alarm.DOOR_SWITCH_FLAPPING: lazy_gettext("Door switch chattering"),
    Alarm.LOCK_BOARD_DOWN: lazy_gettext("Lock board not answering"),
    Alarm.DOOR_FAILED: lazy_gettext("Door stayed shut"),
    Alarm.LOCK_FAULT: lazy_gettext("Lock did not answer"),
    Alarm.ITEM_LEFT: lazy_gettext("Item left in a compartment"),
    Alarm.CANCELLED: lazy_gettext("Cancelled order asked for at the locker"),
    Alarm.CANCELLED_IN_LOCKER: lazy_gettext("Cancelled order to take back from a locker"),
    Alarm.WALKIN_REFUND_NEEDED: lazy_gettext("Walk-in purchase to refund"),
    Alarm.PICKUP_CODE_NOT_SENT: lazy_gettext("Pickup code not sent"),
    Alarm.TEMPERATURE_EXCURSION: lazy_gettext("Temperature excursion"),
    Alarm.TEMPERATURE_SENSOR_FAULT: lazy_gettext("Sensor fault"),
    Alarm.DATABASE_DAMAGED: lazy_gettext("Database damaged"),
    Alarm.PASTEQUE_UNREACHABLE: lazy_gettext("Till (Pastèque) not answering"),
    Alarm.PASTEQUE_TICKET_REFUSED: lazy_gettext("Ticket refused by the till (Pastèque)"),
    Alarm.PASTEQUE_STOPPED: lazy_gettext("Till (Pastèque) link stopped: a setting is missing"),
    Alarm.PASTEQUE_MISMATCH: lazy_gettext("Till (Pastèque) totals differ from the box's"),
    Alarm.HELP_REQUESTED: lazy_gettext("A customer asks for help at the kiosk"),
}

#: What to do, in the reader's language: the alert's own message (its detail) is written in
#: English by the part of the box that raised it.
_ADVICE: dict[str, Any] = {
    Alarm.PAYMENT_UNKNOWN: lazy_gettext(
        "The customer may have been charged: check the terminal's journal or the bank "
        "remittance, then say which below."
    ),
    Alarm.DOOR_LEFT_OPEN: lazy_gettext("Close the door, check what is inside, then say so here."),
    Alarm.DOOR_FORCED: lazy_gettext(
        "The door opened without a command: check the compartment and its lock."
    ),
    Alarm.DOOR_SWITCH_FLAPPING: lazy_gettext(
        "The door switch keeps changing: check its wiring and its magnet."
    ),
    Alarm.LOCK_BOARD_DOWN: lazy_gettext(
        "The kiosk cannot reach the lock board: check its power supply and its cable."
    ),
    Alarm.DOOR_FAILED: lazy_gettext(
        "The door stayed shut after a second try: check the lock, then open it from the "
        "Lockers page."
    ),
    Alarm.LOCK_FAULT: lazy_gettext(
        "The lock board did not answer the unlock: check its power supply and its cable."
    ),
    Alarm.ITEM_LEFT: lazy_gettext(
        "Something is still in the compartment after a pickup: go and look."
    ),
    Alarm.CANCELLED: lazy_gettext(
        "This order was cancelled online but asked for at the locker: take it out and contact "
        "the customer."
    ),
    Alarm.CANCELLED_IN_LOCKER: lazy_gettext(
        'Open the compartment from the Lockers page, take the bag back and tick "Taken '
        'back": the compartment is freed and this alert settled.'
    ),
    Alarm.WALKIN_REFUND_NEEDED: lazy_gettext(
        "A customer paid but the door stayed shut: refund them (amount and reference in the "
        "detail)."
    ),
    Alarm.PICKUP_CODE_NOT_SENT: lazy_gettext(
        "The customer did not get their pickup code: send it again or call them."
    ),
    Alarm.TEMPERATURE_EXCURSION: lazy_gettext(
        "A zone stayed above its limit too long: check the food and the fridge, and say what "
        "you did (it goes to the HACCP record)."
    ),
    Alarm.TEMPERATURE_SENSOR_FAULT: lazy_gettext(
        "A thermometer does not answer: check its cable; its zone is not watched meanwhile."
    ),
    Alarm.DATABASE_DAMAGED: lazy_gettext(
        "Part of the box's database is damaged: call your installer, who restores it from a backup."
    ),
    Alarm.PASTEQUE_UNREACHABLE: lazy_gettext(
        "The till has not answered for a while: sales wait on the box and go when it is back; "
        "check the network."
    ),
    Alarm.PASTEQUE_TICKET_REFUSED: lazy_gettext(
        "The till refused a ticket for good: read the detail and check the till's settings."
    ),
    Alarm.PASTEQUE_STOPPED: lazy_gettext(
        "The link to the till stopped: a tax, payment mode or cashier is missing in its settings."
    ),
    Alarm.PASTEQUE_MISMATCH: lazy_gettext(
        "The till's totals differ from the box's closing: compare them before closing the "
        "till's session."
    ),
    Alarm.HELP_REQUESTED: lazy_gettext(
        "A customer asked for help at the kiosk: go and see them, or call them back."
    ),
}

_COMMAND_STATES = {
    "queued": lazy_gettext("queued"),
    "running": lazy_gettext("running"),
    "done": lazy_gettext("done"),
    "failed": lazy_gettext("failed"),
    "refused": lazy_gettext("refused"),
    "expired": lazy_gettext("expired"),
}

_COMMANDS = {
    "open_door": lazy_gettext("open door"),
    "print_test_label": lazy_gettext("print a test label"),
    "scale_zero": lazy_gettext("zero the scale"),
    "restart_ui": lazy_gettext("restart the kiosk screen"),
    "pause_for_update": lazy_gettext("pause for an update"),
    "reprint_receipt": lazy_gettext("reprint a receipt"),
    "print_closing": lazy_gettext("print a closing (Z)"),
    "read_scale": lazy_gettext("read the scale"),
    "read_thermometers": lazy_gettext("read the thermometers"),
    "test_payment": lazy_gettext("test payment"),
}

_READING_STATES = {
    "stable": lazy_gettext("stable"),
    "motion": lazy_gettext("moving"),
    "under_zero": lazy_gettext("under zero"),
    "overload": lazy_gettext("overload"),
    "below_min": lazy_gettext("below the minimum weight"),
    "unchanged": lazy_gettext("unchanged"),
}

_SYNC_DIRECTIONS = {
    "catalogue": lazy_gettext("catalogue"),
    "orders": lazy_gettext("orders"),
    "pickups": lazy_gettext("pickups"),
    "stock": lazy_gettext("stock"),
}

ORDER_STATES = {
    "waiting": lazy_gettext("waiting"),
    "in_locker": lazy_gettext("in the locker"),
    "collected": lazy_gettext("collected"),
    "cancelled": lazy_gettext("cancelled"),
}


def role_name(role: str) -> str:
    return str(_ROLES.get(role, role))


def alert_name(kind: str) -> str:
    """A known alert kind by its name; another one as its code, spaces for underscores."""
    return str(_ALERTS.get(kind, kind.replace("_", " ")))


def sync_direction(direction: str) -> str:
    """What a marketplace sync direction carries: 'commandes', 'retraits'..."""
    return str(_SYNC_DIRECTIONS.get(direction, direction))


def command_name(name: str) -> str:
    """What a device command asks the kiosk, in words ('ouvrir la porte')."""
    return str(_COMMANDS.get(name, name.replace("_", " ")))


def alert_advice(kind: str) -> str:
    """What to do about an alert of this kind; '' for a kind written by a newer release."""
    return str(_ADVICE.get(kind, ""))


def command_state(state: str) -> str:
    return str(_COMMAND_STATES.get(state, state))


def reading_status(status: str) -> str:
    """What the scale said of its weight ('stable', 'moving'...)."""
    return str(_READING_STATES.get(status, status.replace("_", " ")))


def grams(amount: int) -> str:
    return gettext("%(grams)s g", grams=format_decimal(amount))


def pieces(amount: int) -> str:
    return ngettext("%(num)d piece", "%(num)d pieces", amount)


def celsius(temp_mc: int | None) -> str:
    """Millidegrees to one decimal, the language's way: '4,1 °C'; '-' for nothing logged."""
    text = haccp.format_mc(temp_mc)
    if temp_mc is None:
        return text
    return gettext("%(temp)s °C", temp=format_decimal(Decimal(text), format="0.0"))


def say(said: Said | None, english: str = "") -> str:
    """What a part of the box said (appliance/said.py), in the reader's language through the
    catalogue; `english`, the stored text, when it was not kept as said (an older row)."""
    if said is None:
        return english
    values = {name: _value(name, value) for name, value in said.values.items()}
    return gettext(said.template, **values)


def said_in(result: dict[str, Any] | None) -> str:
    """A device command's error in the reader's language (`device_commands.failure`)."""
    result = result or {}
    return say(Said.from_json(result.get("error_said")), str(result.get("error", "")))


def error(exc: BaseException) -> str:
    """An error's message in the reader's language when it was said (`ComptoirError(said(...))`)."""
    message = said_of(exc)
    return say(message) if isinstance(message, Said) else message


def _value(name: str, value: Any) -> Any:
    if isinstance(value, Said):
        return say(value)
    if name.endswith("_cents") and isinstance(value, int):
        return format_currency(value / 100, "EUR")
    if name.endswith("_mc") and isinstance(value, int):
        return celsius(value)
    return "" if value is None else value


GLOBALS = {
    "say": say,
    "said_in": said_in,
    "role_name": role_name,
    "alert_name": alert_name,
    "alert_advice": alert_advice,
    "command_name": command_name,
    "command_state": command_state,
    "sync_direction": sync_direction,
    "grams": grams,
    "pieces": pieces,
    "celsius": celsius,
}
