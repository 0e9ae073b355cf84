"""Logging in and out, and the guards every request passes: a session, a role, a CSRF token.

Every page requires login unless listed in `OPEN_ENDPOINTS`, so a new page is protected without
anyone remembering to. A session names the user and the time its password was set: changing a
password (`comptoir web passwd`) ends every session opened with the old one.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from appliance.store import web_users
from appliance.store.web_users import LoginRefused, Role, WebUser
from appliance.web.context import db

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

OPEN_ENDPOINTS = {"auth.login", "static"}
SESSION_HOURS = 12
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
                title="Form expired",
                message="This form has expired or did not come from this admin: reload the "
                "page and try again.",
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
        user = web_users.log_in(db(), username, request.form.get("password", ""), datetime.now(UTC))
    except LoginRefused as refused:
        log.warning("web login refused for %r from %s", username[:64], request.remote_addr)
        return render_template("login.html", error=str(refused), username=username), 401
    session.clear()
    session.update(
        user=user.username,
        stamp=user.password_changed_at,
        since=datetime.now(UTC).isoformat(),
        csrf=secrets.token_urlsafe(32),
    )
    log.info("web login: %s (%s) from %s", user.username, user.role, request.remote_addr)
    return redirect(_safe_next(request.args.get("next", "")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    user = current_user()
    session.clear()
    if user:
        log.info("web logout: %s", user.username)
    return redirect(url_for("auth.login"))


def _session_user() -> WebUser | None:
    name, stamp, since = session.get("user"), session.get("stamp"), session.get("since")
    if not (name and stamp and since):
        return None
    age = datetime.now(UTC) - datetime.fromisoformat(since)
    user = web_users.get_user(db(), name)
    if user is None or user.password_changed_at != stamp or age > timedelta(hours=SESSION_HOURS):
        session.clear()
        return None
    return user


def _safe_next(target: str) -> str:
    """Only a path of this site: a login link must not send anyone elsewhere."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.show")
