"""The pickup code by e-mail: French first, English second, the QR code as an image.

Sent through the SMTP server of `[smtp]` right after the deposit. The code appears only in the
message itself, never in a log line; a failure raises `NotifySendError` naming the server, so
the kiosk can raise an alert and staff can send a new code (`comptoir locker resend`).
"""

from __future__ import annotations

import io
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
from qrcode.image.pil import PilImage

from appliance import config
from appliance.errors import ComptoirError


class NotifySendError(ComptoirError):
    """The e-mail could not be handed to the SMTP server."""


@dataclass(frozen=True)
class PickupNotice:
    """What the customer needs to collect an order."""

    to: str
    customer_name: str
    order_number: str
    compartment: int
    code: str
    token: str
    expires_at: datetime


def qr_png(text: str) -> bytes:
    """A PNG of the QR code for `text` (the kiosk's scanner reads it from a phone screen)."""
    image = qrcode.make(text, box_size=8, border=2, image_factory=PilImage)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build_message(notice: PickupNotice, device: config.Device, sender: str) -> EmailMessage:
    local = notice.expires_at.astimezone(ZoneInfo(device.timezone))
    until = local.strftime("%d/%m/%Y %H:%M")
    place = f"{device.name}, {device.address}" if device.address else device.name
    phone = f"\nEn cas de problème / if anything goes wrong: {device.phone}" if device.phone else ""
    message = EmailMessage()
    message["Subject"] = f"Votre commande {notice.order_number} vous attend / Your order is ready"
    message["From"] = sender
    message["To"] = notice.to
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    text = (
        f"Bonjour {notice.customer_name},\n\n"
        f"Votre commande {notice.order_number} est dans le casier n° {notice.compartment} "
        f"({place}).\nCode de retrait : {notice.code}\n"
        f"Tapez ce code sur l'écran ou présentez le QR code joint au lecteur.\n"
        f"Valable jusqu'au {until}.\n\n"
        f"Hello {notice.customer_name},\n\n"
        f"Your order {notice.order_number} is in locker no. {notice.compartment} ({place}).\n"
        f"Pickup code: {notice.code}\n"
        f"Type this code on the screen or show the attached QR code to the reader.\n"
        f"Valid until {until}.{phone}\n"
    )
    message.set_content(text)
    message.add_attachment(
        qr_png(notice.token), maintype="image", subtype="png", filename="code-retrait.png"
    )
    return message


def send(settings: config.Smtp, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server (STARTTLS and login when configured)."""
    if not settings.host:
        raise NotifySendError("no mail server: set [smtp] host to send pickup codes")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, _password(settings.password_file))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifySendError(
            f"the mail server {settings.host}:{settings.port} refused or did not answer: {exc}; "
            f"check [smtp] host, port and login"
        ) from None


def send_pickup_code(cfg: config.Config, notice: PickupNotice) -> None:
    if not notice.to:
        raise NotifySendError(f"order {notice.order_number} has no e-mail address")
    sender = cfg.smtp.sender or f"{cfg.device.id}@localhost"
    send(cfg.smtp, build_message(notice, cfg.device, sender))


def _password(path: Path | None) -> str:
    if path is None:
        raise NotifySendError("[smtp] username is set but password_file is not")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise NotifySendError(f"cannot read [smtp] password_file {path}: {exc.strerror}") from None
