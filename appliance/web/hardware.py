"""The installer's hardware test: each device tried once from a phone, each step showing what
happened (scale, label printer, every door, a small card payment, every thermometer).

Like every hardware request of the admin it goes through the device command queue: the kiosk,
owner of the hardware, runs the step and records the result, which this page shows. The page
reloads itself every two seconds while a step waits for the kiosk (no JavaScript).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.said import Said
from appliance.store import device_commands
from appliance.store.device_commands import (
    TEST_PAYMENT_CENTS,
    TEST_PAYMENT_MOST_CENTS,
    CommandName,
    DeviceCommand,
)
from appliance.store.web_users import Role
from appliance.web import words
from appliance.web.auth import actor, record_action, requires
from appliance.web.catalogue import price_from_text
from appliance.web.context import db, euros, settings

log = logging.getLogger(__name__)

bp = Blueprint("hardware", __name__, url_prefix="/hardware")
bp.before_request(requires(Role.INSTALLER))

#: The steps of the page, in the order an installer walks through them.
STEPS = (
    CommandName.READ_SCALE,
    CommandName.SCALE_ZERO,
    CommandName.PRINT_TEST_LABEL,
    CommandName.OPEN_DOOR,
    CommandName.TEST_PAYMENT,
    CommandName.READ_THERMOMETERS,
)


@dataclass(frozen=True)
class Step:
    """The latest try of one step: its command, and what happened in the reader's words."""

    command: DeviceCommand
    said: list[str]

    @property
    def waiting(self) -> bool:
        return not self.command.finished


@bp.route("/")
def show() -> tuple[str, int]:
    return _page()


@bp.route("/", methods=["POST"])
def queue() -> Any:
    name = CommandName.parse(request.form.get("name", ""))
    args: dict[str, Any] = {}
    if name is CommandName.OPEN_DOOR:
        compartment = request.form.get("compartment", "")
        if not compartment.isdigit() or int(compartment) not in _doors():
            return _page(
                gettext("Compartment %(number)s is unknown here.", number=compartment[:10])
            )
        args = {"compartment": int(compartment)}
    elif name is CommandName.TEST_PAYMENT:
        text = request.form.get("amount", "").strip()
        cents = price_from_text(text) if text else TEST_PAYMENT_CENTS
        if cents is None or not 1 <= cents <= TEST_PAYMENT_MOST_CENTS:
            return _page(
                gettext(
                    "%(text)s is not an amount for a test payment: type 0,01 to %(most)s.",
                    text=text[:20],
                    most=euros(TEST_PAYMENT_MOST_CENTS),
                )
            )
        args = {"amount_cents": cents}
    elif name not in STEPS:
        return _page(gettext("Unknown command %(name)s.", name=request.form.get("name", "")[:40]))
    assert name is not None
    reason = gettext("hardware test by %(user)s", user=actor())  # the asker's language
    device_commands.queue(db(), name, args, requested_by=actor(), reason=reason)
    record_action("command_queued", command=name, reason=reason, **args)
    log.info("hardware test %s queued by %s", name, actor())
    flash(gettext("Sent to the kiosk: the result shows below within seconds."))
    return redirect(url_for("hardware.show"))


def _doors() -> list[int]:
    return sorted(c.number for c in settings().lockers.compartments)


def latest(commands: list[DeviceCommand]) -> dict[str, Step]:
    """The latest try of each step (each door its own), newest commands first in `commands`."""
    found: dict[str, Step] = {}
    for command in commands:
        key = command.name
        if command.name == CommandName.OPEN_DOOR:
            key = f"{command.name}-{command.args.get('compartment')}"
        if command.name in STEPS and key not in found:
            found[key] = Step(command, said(command))
    return found


def said(command: DeviceCommand) -> list[str]:
    """What happened, one line per fact, in the reader's language; the kiosk's own words for
    a failure (they name the device and what to check)."""
    result = command.result or {}
    if command.state == "queued":
        return [gettext("Waiting for the kiosk...")]
    if command.state == "running":
        return [gettext("The kiosk is on it...")]
    if command.state != "done":
        return [f"{words.command_state(command.state)}: {words.said_in(result)}"]
    match command.name:
        case CommandName.READ_SCALE:
            line = gettext(
                "%(weight)s, %(status)s",
                weight=words.grams(result.get("weight_g") or 0),
                status=words.reading_status(str(result.get("status"))),
            )
            if result.get("tare_g"):
                line += " " + gettext("(tare %(tare)s)", tare=words.grams(result["tare_g"]))
            return [line]
        case CommandName.SCALE_ZERO:
            return [gettext("The scale is at zero.")]
        case CommandName.PRINT_TEST_LABEL:
            return [gettext("Label printed: check it came out whole and readable.")]
        case CommandName.OPEN_DOOR:
            return [gettext("Door %(number)s opened.", number=result.get("compartment"))]
        case CommandName.TEST_PAYMENT:
            return [
                gettext(
                    "%(amount)s approved and recorded: receipt no. %(receipt)s, signed ticket "
                    "%(ticket)s.",
                    amount=euros(result.get("amount_cents")),
                    receipt=result.get("receipt"),
                    ticket=result.get("ticket"),
                )
            ]
        case CommandName.READ_THERMOMETERS:
            return [
                f"{s['zone']} · {s['sensor']}: "
                + (
                    words.celsius(s["temp_mc"])
                    if "temp_mc" in s
                    else words.say(Said.from_json(s.get("problem_said")), str(s.get("problem")))
                )
                for s in result.get("sensors", [])
            ]
    return [gettext("ok")]


def _page(error: str = "") -> tuple[str, int]:
    steps = latest(device_commands.recent(db(), limit=200))
    cfg = settings()
    page = render_template(
        "hardware.html",
        error=error,
        steps=steps,
        waiting=any(step.waiting for step in steps.values()),
        doors=_doors(),
        has_scale=cfg.scale.protocol != "none",
        has_terminal=cfg.payment.terminal != "none",
        zones=cfg.haccp.zones,
        default_amount=euros(TEST_PAYMENT_CENTS),
    )
    return page, 400 if error else 200
