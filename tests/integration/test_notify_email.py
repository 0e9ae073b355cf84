"""The pickup code e-mail through a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from PIL import Image

from appliance import config
from appliance.notify.pickup_email import NotifySendError, PickupNotice, send_pickup_code
from tests.agent_support import free_port
from tests.mail_support import Inbox, mail_server, payload

NOTICE = PickupNotice(
    to="alice@example.org",
    customer_name="Alice",
    order_number="R123456789",
    compartment=12,
    code="048213",
    token="CPT1.R123456789.7.1790000000.0123456789abcdef0123456789abcdef",
    expires_at=datetime(2026, 5, 11, 8, 0, tzinfo=UTC),
)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    def authenticate(
        server: object, session: object, envelope: object, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    with mail_server(authenticator=authenticate) as served:
        yield served


def settings(port: int, tmp_path: Path, **smtp: object) -> config.Config:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    return config.from_dict(
        {
            "device": {"name": "Ferme des Lilas", "phone": "04 75 00 00 00"},
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "starttls": False,
                "username": "kiosk",
                "password_file": str(secret),
                "sender": "casiers@ferme-lilas.fr",
                **smtp,
            },
        }
    )


def test_the_customer_gets_the_code_the_compartment_and_a_readable_qr_image(
    smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp_server
    send_pickup_code(settings(port, tmp_path), NOTICE)
    [message] = inbox.messages
    assert message["To"] == "alice@example.org"
    assert "R123456789" in message["Subject"]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = payload(text).decode()
    assert "casier n° 12" in body and "locker no. 12" in body
    assert "048213" in body and "04 75 00 00 00" in body
    assert body.index("Bonjour") < body.index("Hello")
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    png = tmp_path / "qr.png"
    png.write_bytes(payload(image))
    with Image.open(png) as qr:
        assert qr.size[0] > 100


def test_a_missing_password_file_is_named_and_nothing_is_sent(
    smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp_server
    cfg = settings(port, tmp_path)
    (tmp_path / "smtp-password").unlink()
    with pytest.raises(NotifySendError, match="password_file"):
        send_pickup_code(cfg, NOTICE)
    assert inbox.messages == []


def test_a_mail_server_that_is_down_is_named(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(NotifySendError, match=f"mail server 127.0.0.1:{port}"):
        send_pickup_code(settings(port, tmp_path), NOTICE)


def test_an_order_without_an_address_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(NotifySendError, match="no e-mail address"):
        send_pickup_code(settings(25, tmp_path), PickupNotice(**{**NOTICE.__dict__, "to": ""}))
