"""`comptoir web`: serve the LAN admin; `comptoir web passwd USER` and `comptoir web users`."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.config import split_host_port
from appliance.errors import ComptoirError, UsageError
from appliance.store import web_users
from appliance.store.db import open_database
from appliance.store.web_users import Role
from appliance.systemd_notify import Notifier, ServingWatch

log = logging.getLogger(__name__)

THREADS = 4


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("web", help="serve the LAN web admin for producers and installers")
    parser.set_defaults(func=run_serve)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    passwd = actions.add_parser(
        "passwd", help="set a web admin user's password, creating the user if new"
    )
    passwd.add_argument("user", help="user name: lower-case letters, digits, '.', '_', '-'")
    passwd.add_argument(
        "--role",
        choices=[r.value for r in Role],
        help="producer or installer (default: keep the user's role; producer for a new user)",
    )
    passwd.add_argument(
        "--stdin", action="store_true", help="read the password from the first line of stdin"
    )
    passwd.set_defaults(func=run_passwd)
    users = actions.add_parser("users", help="list the web admin users and their roles")
    add_json_flag(users)
    users.set_defaults(func=run_users)


def run_serve(args: argparse.Namespace) -> int:
    import waitress

    from appliance.web import create_app

    config = load_config(args)
    app = create_app(config, config.database_path)
    if not web_users.list_users(open_database(config.database_path)):
        print(
            "comptoir: no web admin user yet: create one with "
            "`comptoir web passwd NAME --role installer`",
            file=sys.stderr,
        )
    try:
        server = waitress.create_server(
            app, listen=config.web.listen, threads=THREADS, ident="comptoir"
        )
    except OSError as exc:
        raise ComptoirError(
            f"cannot listen on {config.web.listen}: {exc.strerror or exc}; change [web] listen "
            f"or stop what uses that port"
        ) from None
    log.info("web admin listening on %s", config.web.listen)
    notifier = Notifier()
    watch = ServingWatch(self_check_url(config.web.listen, server), notifier)
    notifier.ready(f"listening on {config.web.listen}")
    watch.start()
    try:
        server.run()
    finally:
        watch.stop()
    return 0


def self_check_url(listen: str, server: object) -> str:
    """The login page through the server's own socket (an any-address listen is asked on the
    loopback; port 0 is the port the server got)."""
    host, port = split_host_port(listen) or ("127.0.0.1", 0)
    port = getattr(server, "effective_port", None) or port
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/login"


def run_passwd(args: argparse.Namespace) -> int:
    web_users.check_username(args.user)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {args.user}: ")
        if getpass.getpass("Same password again: ") != password:
            raise UsageError("the two passwords differ: nothing changed, try again")
    role = Role(args.role) if args.role else None
    user = web_users.set_password(open_store(args), args.user, password, role)
    print(f"password set for {user.username} ({user.role})")
    return 0


def run_users(args: argparse.Namespace) -> int:
    users = web_users.list_users(open_store(args))
    if args.json:
        print_json(
            [
                {
                    "username": u.username,
                    "role": u.role.value,
                    "password_set_at": u.password_changed_at,
                }
                for u in users
            ]
        )
        return 0
    if not users:
        print("no web admin user yet: comptoir web passwd NAME --role installer")
    for u in users:
        print(f"{u.username:<20} {u.role:<10} password set {u.password_changed_at}")
    return 0
