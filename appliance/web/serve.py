"""Serving the admin: HTTPS with the box's certificate, and plain HTTP that only redirects.

cheroot (CherryPy's server, pure Python) serves TLS itself, which waitress does not. The HTTP
listener answers every request with a permanent redirect to the same path over HTTPS, so an
address typed without `https://` still lands on the encrypted admin, and no page or cookie ever
crosses the shop's Wi-Fi in clear.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from appliance.certificate import Certificate
from appliance.errors import ComptoirError

THREADS = 4
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Listening:
    """The running servers and where they listen (the real ports when 0 was asked)."""

    https: wsgi.Server
    http: wsgi.Server | None
    threads: list[threading.Thread]

    @property
    def https_port(self) -> int:
        return int(self.https.bind_addr[1])

    @property
    def http_port(self) -> int | None:
        return int(self.http.bind_addr[1]) if self.http else None

    def stop(self) -> None:
        for server in (self.https, self.http):
            if server is not None:
                server.stop()
        for thread in self.threads:
            thread.join(timeout=10)


def redirect_to_https(https_port: int) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        port = "" if https_port == 443 else f":{https_port}"
        path = environ.get("PATH_INFO", "/") or "/"
        query = environ.get("QUERY_STRING", "")
        target = f"https://{host}{port}{path}" + (f"?{query}" if query else "")
        start_response("308 Permanent Redirect", [("Location", target), ("Content-Length", "0")])
        return [b""]

    return app


def start(app: WsgiApp, certificate: Certificate, listen: str, http_listen: str = "") -> Listening:
    """Bind both listeners (a clear error when a port is taken) and serve in threads."""
    https = _server(listen, app, "[web] listen")
    https.ssl_adapter = BuiltinSSLAdapter(str(certificate.cert_file), str(certificate.key_file))
    _bind(https, listen, "[web] listen")
    http = None
    if http_listen:
        http = _server(http_listen, redirect_to_https(int(https.bind_addr[1])), "[web] http_listen")
        try:
            _bind(http, http_listen, "[web] http_listen")
        except ComptoirError:
            https.stop()  # its worker threads would keep the process from ending
            raise
    threads = []
    for server in (https, http):
        if server is not None:
            thread = threading.Thread(target=server.serve, name="web-admin", daemon=True)
            thread.start()
            threads.append(thread)
    return Listening(https, http, threads)


def _server(listen: str, app: WsgiApp, key: str) -> wsgi.Server:
    host, _, port = listen.rpartition(":")  # port 0 (any free one) is for tests and benches
    if not host or not port.isdigit():
        raise ComptoirError(f"{key} = {listen!r} is not host:port")
    return wsgi.Server(
        (host.strip("[]"), int(port)), app, numthreads=THREADS, server_name="comptoir"
    )


def _bind(server: wsgi.Server, listen: str, key: str) -> None:
    try:
        server.prepare()
    except OSError as exc:
        raise ComptoirError(
            f"cannot listen on {listen}: {exc.strerror or exc}; change {key} or stop what uses "
            f"that port"
        ) from None
