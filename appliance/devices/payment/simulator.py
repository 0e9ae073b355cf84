"""A Caisse-AP card terminal on a TCP socket, with scripted outcomes (payments-fiscal.md §1.7).

It behaves like the akretion terminal simulator (a request missing a required field gets AE 01
AF 09 at once, BA=1 gets an immediate AE 11, an approval echoes the request and adds the card
fields) and adds what a kiosk must survive: answers in pieces on a socket left open, garbage,
wrong echoes, AF 07, a closed port, and an approval lost in transit. It imports only the tag
constants of `tlv`: it reads and writes its own bytes, so a misreading of the protocol cannot
hide in code shared with the driver. `ledger` records what the terminal really did, the way an
acquirer's remittance would tell a shopkeeper.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
import socket
import threading
from dataclasses import dataclass
from enum import StrEnum

from appliance.devices.payment.tlv import (
    ACTION,
    AMOUNT,
    ANSWER_MODE,
    APPLICATION,
    AUTHORISATION,
    CARD_AID,
    CONTRACT,
    CURRENCY,
    EXPIRY,
    MASKED_PAN,
    PROTOCOL_ID,
    READ_MODE,
    REASON,
    REGISTER,
    REQUIRED_IN_REQUEST,
    RESULT,
    VERSION,
)

log = logging.getLogger(__name__)

REQUEST_READ_TIMEOUT_S = 10.0


class Scenario(StrEnum):
    """What the simulated terminal does with the next payments."""

    APPROVED = "approved"
    DECLINED = "declined"  # AF 04
    ABANDONED = "abandoned"  # AF 06, the customer pressed cancel
    TIMEOUT = "timeout"  # AF 08, no card presented
    NOT_COMPLETED = "not_completed"  # AF 07, the terminal itself does not know
    MALFORMED = "malformed"  # garbage instead of an answer (after charging the card)
    WRONG_ECHO = "wrong_echo"  # an approval for another amount
    REFUSED = "refused"  # the port is closed: connection refused
    CLOSED_AFTER_APPROVAL = "closed_after_approval"  # charged, then half an answer and close
    CHUNKED = "chunked"  # an approval in three pieces split mid-field, socket left open


#: AF sent for each scripted failure.
_REASONS = {
    Scenario.DECLINED: "04",
    Scenario.ABANDONED: "06",
    Scenario.TIMEOUT: "08",
    Scenario.NOT_COMPLETED: "07",
}
_CHARGED = {
    Scenario.APPROVED,
    Scenario.MALFORMED,
    Scenario.WRONG_ECHO,
    Scenario.CLOSED_AFTER_APPROVAL,
    Scenario.CHUNKED,
}


@dataclass(frozen=True)
class TerminalRecord:
    """One request the terminal handled, and whether it took the customer's money."""

    request_id: str  # CJ
    amount_cents: int
    scenario: Scenario
    charged: bool
    authorisation: str


class TerminalSimulator:
    """Serves Caisse-AP on `host:port` (port 0: a free one) until `stop()`; one payment at a
    time, like a real terminal. Change `scenario` and `delay_s` while it runs."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        scenario: Scenario = Scenario.APPROVED,
        delay_s: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.delay_s = delay_s
        self.ledger: list[TerminalRecord] = []
        #: The request id (CJ) being charged right now, between its request and its answer.
        self.charging: str | None = None
        self._scenario = scenario
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._listening = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._serve, name="terminal-simulator", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        """Takes effect for the next payment; REFUSED closes the port at once."""
        with self._lock:
            self._scenario = scenario
            if scenario is Scenario.REFUSED:
                self._close_listener()
            elif self._listener is None and not self._stop.is_set():
                self._open_listener()
            self._listening.notify_all()

    def start(self) -> TerminalSimulator:
        with self._lock:
            self._open_listener()  # also picks the port when it is 0
            if self._scenario is Scenario.REFUSED:
                self._close_listener()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._close_listener()
            self._listening.notify_all()
        self._thread.join(timeout=5)

    def __enter__(self) -> TerminalSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the socket --------------------------------------------------------------------------

    def _open_listener(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(4)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            # shutdown first: it stops the kernel accepting at once, even while the serving
            # thread is still polling this socket
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    def _serve(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                while self._listener is None and not self._stop.is_set():
                    self._listening.wait()
                listener = self._listener
            if listener is None:
                return
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                continue  # the listener was closed under us (REFUSED or stop)
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(REQUEST_READ_TIMEOUT_S)
        try:
            request = _read_request(conn)
        except (OSError, ValueError) as exc:
            log.info("terminal simulator: no usable request (%s)", exc)
            return
        if request is None:
            return  # a connection opened and closed: an availability check
        scenario = self._scenario
        missing = [tag for tag in REQUIRED_IN_REQUEST if tag not in request]
        try:
            if missing:
                conn.sendall(_answer(request, {RESULT: "01", REASON: "09"}))
            elif request.get(ANSWER_MODE) == "1":
                conn.sendall(_answer(request, {RESULT: "11"}))
            else:
                self._pay(conn, request, scenario)
        except OSError as exc:
            log.info("terminal simulator: the register went away (%s)", exc)

    def _pay(self, conn: socket.socket, request: dict[str, str], scenario: Scenario) -> None:
        self.charging = request[PROTOCOL_ID]
        try:
            stopped = self._stop.wait(self.delay_s)
        finally:
            self.charging = None
        if stopped:
            return
        authorisation = f"{random.randrange(10**6):06d}" if scenario in _CHARGED else ""
        self.ledger.append(
            TerminalRecord(
                request[PROTOCOL_ID],
                int(request[AMOUNT]),
                scenario,
                scenario in _CHARGED,
                authorisation,
            )
        )
        approval = _answer(request, {RESULT: "10", **_card_fields(authorisation)})
        if scenario in _REASONS:
            conn.sendall(_answer(request, {RESULT: "01", REASON: _REASONS[scenario]}))
        elif scenario is Scenario.MALFORMED:
            conn.sendall(b"?!" + bytes(random.randrange(0x80, 0x100) for _ in range(20)))
        elif scenario is Scenario.WRONG_ECHO:
            wrong = dict(request, **{AMOUNT: str(int(request[AMOUNT]) + 100)})
            conn.sendall(_answer(wrong, {RESULT: "10", **_card_fields(authorisation)}))
        elif scenario is Scenario.CLOSED_AFTER_APPROVAL:
            conn.sendall(approval[: len(approval) // 2])
            conn.shutdown(socket.SHUT_RDWR)
        elif scenario is Scenario.CHUNKED:
            self._send_in_pieces(conn, approval)
        else:
            conn.sendall(approval)

    def _send_in_pieces(self, conn: socket.socket, answer: bytes) -> None:
        """Three pieces cut inside fields, then the socket stays open until the register
        closes it, as some terminals do."""
        cuts = [0, 7, len(answer) // 2 + 1, len(answer)]
        for start, end in itertools.pairwise(cuts):
            conn.sendall(answer[start:end])
            if self._stop.wait(0.05):
                return
        conn.settimeout(REQUEST_READ_TIMEOUT_S)
        with contextlib.suppress(OSError):
            while conn.recv(1024):
                pass


def _read_request(conn: socket.socket) -> dict[str, str] | None:
    """Reads fields until the request is whole; None when the register closes first."""
    buffer = b""
    fields: dict[str, str] = {}
    while True:
        chunk = conn.recv(1024)
        if not chunk:
            if buffer:
                raise ValueError(f"the register closed mid-request: {buffer[:20]!r}")
            return fields or None
        buffer += chunk
        while len(buffer) >= 5:
            tag, size = buffer[:2].decode("ascii"), int(buffer[2:5])
            if len(buffer) < 5 + size:
                break
            fields[tag] = buffer[5 : 5 + size].decode("ascii")
            buffer = buffer[5 + size :]
        whole = all(tag in fields for tag in (*REQUIRED_IN_REQUEST, ANSWER_MODE))
        if not buffer and (whole or _quiet(conn)):
            return fields


def _quiet(conn: socket.socket) -> bool:
    """A request without BA (or without a required field) is whole once the register stops
    writing for a moment."""
    conn.settimeout(0.2)
    try:
        more = conn.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return True
    finally:
        conn.settimeout(REQUEST_READ_TIMEOUT_S)
    return not more


def _answer(request: dict[str, str], extra: dict[str, str]) -> bytes:
    """CZ first, the echoed fields (amount zero-padded like some terminals do), then `extra`."""
    values = {VERSION: request.get(VERSION, "0300")}
    for tag in (REGISTER, ACTION, CURRENCY):
        if tag in request:
            values[tag] = request[tag]
    if request.get(AMOUNT, "").isdigit():
        values[AMOUNT] = request[AMOUNT].rjust(8, "0")
    values.update(extra)
    return "".join(f"{tag}{len(v):03d}{v}" for tag, v in values.items() if v).encode("ascii")


def _card_fields(authorisation: str) -> dict[str, str]:
    return {
        APPLICATION: "00B",  # CB contactless
        READ_MODE: "2",
        AUTHORISATION: authorisation,
        MASKED_PAN: "497010######0042",
        CARD_AID: "A0000000421010",
        EXPIRY: "2912",
        CONTRACT: "1234567",
    }
