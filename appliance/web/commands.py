"""Device commands for installers: queue a test label, a scale zero or a door opening.

The web process never drives hardware: it queues a command with who asked (`web:<user>`) and
why, and the kiosk runs it and records the result, which this page shows.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from appliance.store import device_commands
from appliance.store.device_commands import CommandName
from appliance.store.web_users import Role
from appliance.web.auth import actor, record_action, requires
from appliance.web.context import db, settings
from appliance.web.words import command_name

log = logging.getLogger(__name__)

bp = Blueprint("commands", __name__, url_prefix="/commands")
bp.before_request(requires(Role.INSTALLER))

MAX_REASON = 200
#: Commands queued without arguments, with the reason recorded when none is typed.
#: The reason kept with a command asked without one, in the asker's language like a typed one.
SIMPLE = {
    CommandName.PRINT_TEST_LABEL: lazy_gettext("test label from the web admin"),
    CommandName.SCALE_ZERO: lazy_gettext("scale zero from the web admin"),
}


@bp.route("/")
def show() -> tuple[str, int]:
    return _page()


@bp.route("/queue", methods=["POST"])
def queue() -> Any:
    asked = request.form.get("name", "")
    reason = request.form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        return _page(gettext("The reason is too long: at most %(max)d characters.", max=MAX_REASON))
    args: dict[str, Any] = {}
    name = CommandName.parse(asked)
    if name is CommandName.OPEN_DOOR:
        compartment = request.form.get("compartment", "").strip()
        known = _compartments()
        if not compartment.isdigit() or int(compartment) not in known:
            listed = ", ".join(map(str, known)) or gettext("none configured")
            return _page(
                gettext(
                    "Compartment %(number)s is unknown here (%(known)s).",
                    number=compartment[:10] or "?",
                    known=listed,
                )
            )
        if not reason:
            return _page(gettext("Say why the door must open: the reason is kept in the door log."))
        args = {"compartment": int(compartment)}
    elif name in SIMPLE:
        reason = reason or str(SIMPLE[name])
    else:
        return _page(gettext("Unknown command %(name)s.", name=asked[:40] or "?"))
    device_commands.queue(db(), name, args, requested_by=actor(), reason=reason)
    record_action("command_queued", command=name, reason=reason, **args)
    log.info("device command %s queued by %s", name, actor())
    if args:
        flash(
            gettext(
                "Queued: door %(number)d. The kiosk opens it within seconds; refresh to see "
                "the result.",
                number=args["compartment"],
            )
        )
    else:
        flash(
            gettext(
                "Queued: %(command)s. The kiosk runs it within seconds; refresh to see the result.",
                command=command_name(name),
            )
        )
    return redirect(url_for("commands.show"))


def _compartments() -> list[int]:
    return sorted(c.number for c in settings().lockers.compartments)


def _page(error: str = "") -> tuple[str, int]:
    """The page; with `error`, said at the top with status 400 (nothing was queued)."""
    page = render_template(
        "commands.html",
        error=error,
        commands=device_commands.recent(db()),
        compartments=_compartments(),
    )
    return page, 400 if error else 200
