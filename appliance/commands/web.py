"""`comptoir web`: serve the LAN admin; `comptoir web passwd USER` and `comptoir web users`."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import ssl
import sys
import threading
from types import FrameType

from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.config import split_host_port
from appliance.errors import UsageError
from appliance.store import technical_events, web_users
from appliance.store.db import open_database
from appliance.store.web_users import Role
from appliance.systemd_notify import Notifier, ServingWatch

log = logging.getLogger(__name__)


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
    from appliance import memory
    from appliance.certificate import ensure_certificate
    from appliance.web import create_app, serve

    memory.keep_small()
    config = load_config(args)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)  # a clean stop, recorded as such
    app = create_app(config, config.database_path)
    store = open_database(config.database_path)
    technical_events.process_started(store, config, "web")
    if not web_users.list_users(store):
        print(
            "comptoir: no web admin user yet: create one with "
            "`comptoir web passwd NAME --role installer`",
            file=sys.stderr,
        )
    certificate = ensure_certificate(config.device.data_dir, config.device.id, config.device.name)
    listening = serve.start(app, certificate, config.web.listen, config.web.http_listen)
    https_url = url_of(config.web.listen, listening.https_port, "https")
    said = f"web admin listening on {https_url} (certificate {certificate.fingerprint})"
    if listening.http_port is not None:
        said += f"; {url_of(config.web.http_listen, listening.http_port, 'http')} redirects there"
    print(f"comptoir: {said}", file=sys.stderr, flush=True)
    log.info("%s", said)
    notifier = Notifier()
    trust_own = ssl.create_default_context(cafile=str(certificate.cert_file))
    trust_own.check_hostname = False  # asked on 127.0.0.1, whatever name the LAN uses
    watch = ServingWatch(self_check_url(https_url), notifier, context=trust_own)
    notifier.ready(f"listening on {https_url}")
    watch.start()
    try:
        while all(thread.is_alive() for thread in listening.threads) and not stopping.wait(1):
            pass
    finally:
        watch.stop()
        listening.stop()
        technical_events.process_stopped(store, "web")
        store.close()
    return 0


def url_of(listen: str, port: int, scheme: str) -> str:
    """`scheme://host:port/` of a listen address (the real port when 0 was asked)."""
    host, _ = split_host_port(listen) or ("127.0.0.1", port)
    return f"{scheme}://{host}:{port}/"


def self_check_url(url: str) -> str:
    """The login page through the server's own socket: an any-address listen is asked on the
    loopback."""
    for any_address in ("0.0.0.0", "[::]", "::"):
        url = url.replace(f"//{any_address}:", "//127.0.0.1:")
    return url + "login"


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
