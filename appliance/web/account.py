"""The user's own page: their open sessions, "log out everywhere", and the admin's language.

Installers also see every user here and can end another user's sessions (a lost phone, a
producer who left), which is journalled like every admin action.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import ngettext

from appliance import clock
from appliance.store import web_sessions, web_users
from appliance.web.auth import current_user, record_action
from appliance.web.context import db
from appliance.web.i18n import LANGUAGES

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/")
def show() -> str:
    user = current_user()
    assert user is not None
    now = clock.now()
    store = db()
    return render_template(
        "account.html",
        sessions=web_sessions.sessions_of(store, user.username, now),
        users=web_users.list_users(store) if user.is_installer else [],
        languages=LANGUAGES,
    )


@bp.route("/logout-everywhere", methods=["POST"])
def logout_everywhere() -> Any:
    """End every session of a user: one's own, or (installers) anyone's."""
    user = current_user()
    assert user is not None
    target = request.form.get("username", user.username)
    if target != user.username and not user.is_installer:
        abort(403)
    if web_users.get_user(db(), target) is None:
        abort(404)
    ended = web_sessions.close_all(db(), target)
    record_action("sessions_ended", user=target, sessions=ended)
    if target == user.username:
        session.clear()
        return redirect(url_for("auth.login"))
    flash(
        ngettext(
            "%(user)s: %(num)d session ended.",
            "%(user)s: %(num)d sessions ended.",
            ended,
            user=target,
        )
    )
    return redirect(url_for("account.show"))


@bp.route("/language", methods=["POST"])
def language() -> Any:
    user = current_user()
    assert user is not None
    chosen = request.form.get("language", "")
    if chosen not in ("", *LANGUAGES):
        abort(400)
    web_users.set_language(db(), user.username, chosen)
    return redirect(url_for("account.show"))
