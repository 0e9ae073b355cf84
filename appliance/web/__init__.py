"""The LAN web admin: a small Flask app that producers and installers reach with a browser.

It reads the shared database and writes only through the store's functions; hardware requests
go into the device command queue for the kiosk. Secure by default: every page needs a login,
the session cookie is HttpOnly and SameSite=Strict, every form carries a CSRF token, and the
pages forbid framing, foreign scripts and caching. The signing key lives in a file of the data
directory readable by the service user only, never in the database.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import gettext
from werkzeug.routing import IntegerConverter

from appliance import __version__
from appliance.config import Config
from appliance.store.db import damaged_tables, disk_full, open_database
from appliance.web import (
    account,
    alerts,
    auth,
    catalogue,
    closings,
    commands,
    dashboard,
    hardware,
    i18n,
    lockers,
    orders,
    pages,
    sales,
    temperatures,
    words,
)
from appliance.web.context import close_db, db, euros, local_hour, local_time, long_day, number

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "web_secret_key"

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RowId(IntegerConverter):
    """`<id:...>`: a row number SQLite can hold (1 to 2**63 - 1); a bigger one is a 404, not an
    OverflowError in the query."""

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=2**63 - 1)


def create_app(config: Config, db_path: Path) -> Flask:
    """The admin app for this box; the database is migrated once here."""
    open_database(db_path).close()
    app = Flask(__name__)
    app.url_map.converters["id"] = RowId
    app.config.update(
        COMPTOIR=config,
        COMPTOIR_DB=db_path,
        SECRET_KEY=secret_key(config.device.data_dir),
        SESSION_COOKIE_NAME="comptoir_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=True,  # the admin is served over HTTPS only (web/serve.py)
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    for module in (
        auth,
        account,
        dashboard,
        alerts,
        catalogue,
        sales,
        closings,
        orders,
        temperatures,
        lockers,
        commands,
        hardware,
    ):
        app.register_blueprint(module.bp)
    app.teardown_appcontext(close_db)
    app.add_template_filter(euros)
    app.add_template_filter(local_time)
    app.add_template_filter(local_hour)
    app.add_template_filter(long_day)
    app.add_template_filter(number)
    i18n.init(app)
    app.jinja_env.globals.update(words.GLOBALS)
    app.jinja_env.globals.update(
        csrf_token=auth.csrf_token,
        current_user=auth.current_user,
        page_url=pages.page_url,
        device=config.device,
        device_has_lockers=bool(config.lockers.compartments),
        shop_mode=config.shop.mode,
        version=__version__,
    )

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(403)
    def forbidden(_error: Exception) -> tuple[str, int]:
        return render_template(
            "message.html",
            title=gettext("For installers"),
            message=gettext("This page is for installers. Ask your installer if you need it."),
        ), 403

    @app.errorhandler(sqlite3.DatabaseError)
    def damaged(error: sqlite3.DatabaseError) -> tuple[str, int]:
        """A damaged page of the database: say which table, instead of a bare 500."""
        if type(error) is not sqlite3.DatabaseError:  # locked, constraint...: not damage
            raise error
        log.error("database error on %s: %s", request.path, error)
        tables = ", ".join(damaged_tables(db())) or "?"
        return render_template(
            "message.html",
            title=gettext("Database damaged"),
            message=gettext(
                "This page reads a damaged part of the box's database (table %(tables)s): "
                "the other pages still work. Call your installer, who restores it from a "
                "backup.",
                tables=tables,
            ),
        ), 503

    @app.errorhandler(sqlite3.OperationalError)
    @app.errorhandler(OSError)
    def full(error: Exception) -> tuple[str, int]:
        """A write the full disk refused: nothing was recorded, say so and what to do; the
        pages that only read still work."""
        if not disk_full(error):
            raise error
        log.error("disk full: %s %s not recorded", request.method, request.path)
        return render_template(
            "message.html",
            title=gettext("Disk full"),
            message=gettext(
                "The box's disk is full: nothing was recorded. The pages that only show "
                "figures still work. Call your installer to free space on the box, then do it "
                "again."
            ),
        ), 507

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template(
            "message.html",
            title=gettext("Not found"),
            message=gettext("There is no such page here."),
        ), 404

    return app


def secret_key(data_dir: Path) -> bytes:
    """The key that signs session cookies, created (mode 0600) in the data directory."""
    path = data_dir / SECRET_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    return path.read_bytes().strip()
