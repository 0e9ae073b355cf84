"""A customer's "Besoin d'aide ?" by e-mail to the producer, when `[kiosk] help_email` is set.

The alert itself is the store's (web admin, MQTT); this mail only reaches someone who is not
looking at either. It says where the customer was and how to call them back: nothing personal.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from appliance import config
from appliance.notify.pickup_email import send


def help_message(cfg: config.Config, what: str) -> EmailMessage:
    device = cfg.device
    sender = cfg.smtp.sender or f"{device.id}@localhost"
    message = EmailMessage()
    message["Subject"] = f"Besoin d'aide à la borne {device.name} / A customer needs help"
    message["From"] = sender
    message["To"] = cfg.kiosk.help_email
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(
        f"Un client demande de l'aide à la borne {device.name} ({device.id}).\n"
        f"A customer asks for help at the kiosk {device.name} ({device.id}).\n\n"
        f"{what}\n"
    )
    return message


def send_help_request(cfg: config.Config, what: str) -> None:
    """Raises `NotifySendError` naming the server when the mail could not be handed over."""
    send(cfg.smtp, help_message(cfg, what))
