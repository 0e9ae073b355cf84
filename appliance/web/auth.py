"""Logging in and out, and the guards every request passes: a session, a role, a CSRF token.

Every page requires login unless listed in `OPEN_ENDPOINTS`, so a new page is protected without
anyone remembering to. The signed cookie carries only a session token and the CSRF token; the
session itself is a row of `store.web_sessions`, so logging out, a password change or "log out
everywhere" ends it at once, even for a copy of the cookie saved before.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from appliance import clock
from appliance.store import technical_events, web_sessions, web_users
from appliance.store.technical_events import EventKind
from appliance.store.web_users import LoginRefused, Role, WebUser
from appliance.web.context import db

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

OPEN_ENDPOINTS = {"auth.login", "static"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    """The session's token, put in every POST form (templates call it)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def current_user() -> WebUser | None:
    return g.get("user")


def actor() -> str:
    """Who is acting, as recorded in journals, alerts and the command queue: `web:<user>`."""
    user = current_user()
    if user is None:
        raise RuntimeError("actor() needs a logged-in user")
    return f"web:{user.username}"


@bp.before_app_request
def guard() -> Any:
    if request.method in UNSAFE_METHODS:
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            return render_template(
                "message.html",
                title=gettext("Form expired"),
                message=gettext(
                    "This form has expired or did not come from this admin: reload the page "
                    "and try again."
                ),
            ), 400
    g.user = _session_user()
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def requires(role: Role) -> Callable[[], Any]:
    """A blueprint's `before_request` that turns away users without `role`."""

    def check() -> Any:
        user = current_user()
        if user is not None and role is Role.INSTALLER and not user.is_installer:
            abort(403)
        return None

    return check


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        csrf_token()
        return render_template("login.html", username="")
    username = request.form.get("username", "").strip().lower()
    try:
        user = web_users.log_in(db(), username, request.form.get("password", ""), clock.now())
    except LoginRefused as refused:
        log.warning("web login refused for %r from %s", username[:64], request.remote_addr)
        if refused.wait_s and not refused.locked:  # this failure started a wait: say it once
            record(
                EventKind.LOGIN_REFUSED,
                username[:64],
                remote_addr=request.remote_addr or "",
                wait_s=refused.wait_s,
            )
        return render_template("login.html", error=_refusal(refused), username=username), 401
    token = web_sessions.open_session(
        db(),
        user.username,
        clock.now(),
        remote_addr=request.remote_addr or "",
        user_agent=request.user_agent.string,
    )
    session.clear()
    session.update(sid=token, csrf=secrets.token_urlsafe(32))
    record(EventKind.LOGIN, user.username, remote_addr=request.remote_addr or "")
    log.info("web login: %s (%s) from %s", user.username, user.role, request.remote_addr)
    return redirect(_safe_next(request.args.get("next", "")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    user = current_user()
    web_sessions.close_session(db(), session.get("sid", ""))
    session.clear()
    if user:
        record(EventKind.LOGOUT, user.username)
        log.info("web logout: %s", user.username)
    return redirect(url_for("auth.login"))


def _refusal(refused: LoginRefused) -> str:
    if refused.locked:
        return gettext(
            "too many wrong passwords: wait %(seconds)d s before trying again",
            seconds=refused.wait_s,
        )
    if not refused.wait_s:
        return gettext("wrong user name or password")
    return gettext(
        "wrong user name or password, or too many in a row: wait %(seconds)d s before trying again",
        seconds=refused.wait_s,
    )


def record(kind: EventKind, by: str, **details: int | str) -> None:
    """A login or an admin action in the technical events journal, with who did it."""
    technical_events.record(db(), kind, details, by=f"web:{by}")


def record_action(action: str, **details: int | str) -> None:
    """An admin action of the logged-in user (a door opened, an alert resolved...)."""
    user = current_user()
    assert user is not None
    record(EventKind.ADMIN_ACTION, user.username, action=action, **details)


def _session_user() -> WebUser | None:
    name = web_sessions.session_user(db(), session.get("sid", ""), clock.now())
    user = web_users.get_user(db(), name) if name else None
    if user is None and "sid" in session:
        session.clear()
    return user


def _safe_next(target: str) -> str:
    """Only a path of this site: a login link must not send anyone elsewhere. Browsers drop
    tabs and newlines from URLs (slash, tab, slash reads as `//`, another site), so any control
    character, space or backslash makes the target unsafe."""
    unsafe = any(ord(c) < 0x21 or c in "\\\x7f" for c in target)
    if target.startswith("/") and not target.startswith("//") and not unsafe:
        return target
    return url_for("dashboard.show")
