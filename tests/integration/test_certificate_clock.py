"""Found by the soak: the web admin's certificate, made while the box's clock was ahead, was
"not yet valid" once the clock was right again (its own HTTPS self-check failed)."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta

import time_machine

from appliance.certificate import ensure_certificate


def test_a_certificate_made_with_the_clock_months_ahead_is_trusted_once_it_is_right(tmp_path):
    with time_machine.travel(datetime.now(UTC) + timedelta(days=120), tick=True):
        made = ensure_certificate(tmp_path, "box-1", "Ferme")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(made.cert_file, made.key_file)
    client_context = ssl.create_default_context(cafile=str(made.cert_file))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.recv(2) == b"ok"  # the real clock's OpenSSL accepted the certificate
        thread.join(10)
