"""A real SMTP server (aiosmtpd) on a free port: every e-mail the box sends lands in an Inbox."""

from __future__ import annotations

import email
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from tests.agent_support import free_port


class Inbox:
    """The messages the server received, parsed, in the order they came."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"")
        with self.lock:
            self.messages.append(message)
        return "250 OK"


@contextmanager
def mail_server(
    inbox: Inbox | None = None, authenticator: Callable[..., Any] | None = None
) -> Iterator[tuple[Inbox, int]]:
    """The inbox (a new one unless given) and the port of a server listening on 127.0.0.1
    until the block ends; `authenticator` (aiosmtpd's) makes it ask for a login, without TLS."""
    inbox, port = inbox or Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def text_of(message: Message) -> str:
    """The message's plain-text part ("" when it has none)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return payload(part).decode("utf-8", "replace")
    return ""


def payload(part: Message) -> bytes:
    """A part's content, its transfer encoding undone."""
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes), part
    return data
