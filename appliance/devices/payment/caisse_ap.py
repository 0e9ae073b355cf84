"""Caisse-AP over IP: the French vendor-neutral link to a card terminal (payments-fiscal.md §1.1).

One TCP connection per payment: connect, send one debit request, wait for the card dialogue to
end, read the answer. The answer may come in several pieces and the terminal may leave the socket
open, so the reader stops when the fields read so far form a whole answer and no more bytes come
for a short while. Outcomes, from the terminal's own codes:

| terminal says                                           | outcome   |
|---------------------------------------------------------|-----------|
| AE 10                                                   | approved  |
| AF 04 refused, 05 forbidden, 00-03 or any other reason  | declined  |
| AF 06 abandoned, 11 operator abandon                    | abandoned |
| AF 08 input timeout                                     | timeout   |
| AF 09, 10, 12, 13 (format, selection, action, currency) | error     |
| AF 07, wrong echo, unreadable or missing answer         | unknown   |
| connection refused, request not sent                    | error     |

AF 09/10/12/13 are errors, not declines: the terminal refused to start the payment because of
how it was asked, so the card was never read and an installer has something to fix.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time

from appliance.config import Payment, split_host_port
from appliance.devices.payment import tlv
from appliance.devices.payment.base import PaymentOutcome, PaymentResult, Terminal

log = logging.getLogger(__name__)

#: How long the last piece of an answer may wait behind a structurally complete one.
SETTLE_S = 0.3
CONNECT_TIMEOUT_S = 5.0
MAX_AMOUNT_CENTS = 10**12 - 1

_DECLINED_PLAINLY = {tlv.REASON_REFUSED, tlv.REASON_FORBIDDEN}
_ABANDONED = {tlv.REASON_ABANDONED, tlv.REASON_OPERATOR_ABANDON}
_REFUSED_TO_START = {
    tlv.REASON_FORMAT_ERROR,
    tlv.REASON_SELECTION_ERROR,
    tlv.REASON_UNKNOWN_ACTION,
    tlv.REASON_CURRENCY_UNSUPPORTED,
}


def split_address(address: str) -> tuple[str, int]:
    """`host:port` as (host, port); ValueError saying what is expected."""
    found = split_host_port(address)
    if found is None:
        raise ValueError(f"{address!r} is not host:port, such as 192.168.1.50:8888")
    return found


def request_id(reference: str) -> str:
    """The 12-digit CJ sent for the write-ahead attempt `reference` (same reference, same id)."""
    digest = hashlib.sha256(reference.encode("utf-8")).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"


def build_request(amount_cents: int, reference: str, register_number: int) -> bytes:
    """A debit of `amount_cents` euro cents, answered at the end of the transaction."""
    return tlv.encode(
        [
            (tlv.VERSION, tlv.PROTOCOL_VERSION),
            (tlv.PROTOCOL_ID, request_id(reference)),
            (tlv.REGISTER, f"{register_number:02d}"),
            (tlv.AMOUNT, f"{amount_cents:02d}"),
            (tlv.ACTION, tlv.DEBIT),
            (tlv.CURRENCY, tlv.EURO),
            (tlv.ANSWER_MODE, tlv.ANSWER_AT_END),
        ]
    )


def interpret(request: tlv.Fields, answer: tlv.Fields, amount_cents: int) -> PaymentResult:
    """The outcome of a complete answer to `request`, echoes checked first."""
    result_code = answer.get(tlv.RESULT, "")
    reason_code = answer.get(tlv.REASON, "")

    def result(outcome: PaymentOutcome, message: str) -> PaymentResult:
        return PaymentResult(
            outcome,
            amount_cents,
            result_code=result_code,
            reason_code=reason_code,
            authorisation=answer.get(tlv.AUTHORISATION, ""),
            card_application=answer.get(tlv.APPLICATION, ""),
            masked_pan=answer.get(tlv.MASKED_PAN, ""),
            message=message,
        )

    wrong = [tag for tag in tlv.ECHOED if tag in answer and not _echoes(tag, request, answer)]
    if wrong:
        sent = ", ".join(f"{t}={request[t]}" for t in wrong)
        got = ", ".join(f"{t}={answer[t]}" for t in wrong)
        return result(
            PaymentOutcome.UNKNOWN,
            f"the answer does not match the request (sent {sent}, got {got})",
        )
    if result_code == tlv.RESULT_DONE:
        return result(PaymentOutcome.APPROVED, "payment approved")
    if result_code != tlv.RESULT_NOT_DONE:
        return result(PaymentOutcome.UNKNOWN, f"unexpected result AE={result_code}")
    if reason_code == tlv.REASON_NOT_COMPLETED:
        return result(PaymentOutcome.UNKNOWN, "the terminal says the payment was not completed")
    if reason_code in _DECLINED_PLAINLY:
        return result(PaymentOutcome.DECLINED, f"card declined (AF={reason_code})")
    if reason_code in _ABANDONED:
        return result(PaymentOutcome.ABANDONED, f"payment abandoned (AF={reason_code})")
    if reason_code == tlv.REASON_INPUT_TIMEOUT:
        return result(PaymentOutcome.TIMEOUT, "nobody presented a card in time")
    if reason_code in _REFUSED_TO_START:
        return result(
            PaymentOutcome.ERROR,
            f"the terminal refused the request (AF={reason_code}): check its configuration",
        )
    return result(PaymentOutcome.DECLINED, f"payment not done (AF={reason_code})")


def _echoes(tag: str, request: tlv.Fields, answer: tlv.Fields) -> bool:
    if tag == tlv.AMOUNT:
        return tlv.same_amount(request[tag], answer[tag])
    return request[tag] == answer[tag]


class CaisseApTerminal(Terminal):
    """A terminal at `host:port` speaking Caisse-AP over IP; one payment per connection."""

    @classmethod
    def from_settings(cls, settings: Payment) -> CaisseApTerminal:
        """The terminal at `[payment] address`, as this register, with its timeout."""
        host, port = split_address(settings.address)
        return cls(
            host, port, register_number=settings.register_number, timeout_s=settings.timeout_s
        )

    def __init__(
        self,
        host: str,
        port: int,
        *,
        register_number: int = 1,
        timeout_s: float = 180.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.register_number = register_number
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def pay(self, amount_cents: int, reference: str) -> PaymentResult:
        if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
            raise ValueError(f"amount {amount_cents} cents is not a payable amount")
        request = build_request(amount_cents, reference, self.register_number)
        try:
            conn = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as exc:
            return self._failed(amount_cents, f"cannot reach the terminal: {_why(exc)}")
        with conn:
            try:
                conn.sendall(request)
            except OSError as exc:
                return self._failed(amount_cents, f"the request was not sent: {_why(exc)}")
            log.info("payment %s of %d cents sent to %s", reference, amount_cents, self.address)
            answer, problem = self._read_answer(conn)
        if problem:
            log.warning("payment %s outcome unknown: %s", reference, problem)
            return PaymentResult(PaymentOutcome.UNKNOWN, amount_cents, message=problem)
        result = interpret(tlv.decode(request), tlv.decode(answer), amount_cents)
        log.info("payment %s: %s (%s)", reference, result.outcome, result.message)
        return result

    def available(self) -> bool:
        """Whether the terminal accepts a connection (nothing is sent on it)."""
        try:
            with socket.create_connection((self.host, self.port), self.connect_timeout_s):
                return True
        except OSError:
            return False

    def _read_answer(self, conn: socket.socket) -> tuple[bytes, str]:
        """(answer bytes, "") once complete, or (what came, why it is not an answer)."""
        deadline = time.monotonic() + self.timeout_s
        data = b""
        complete = False
        while True:
            wait = SETTLE_S if complete else deadline - time.monotonic()
            if wait <= 0:
                return data, f"no answer from the terminal within {self.timeout_s:g} s"
            conn.settimeout(wait)
            try:
                piece = conn.recv(4096)
            except TimeoutError:
                if complete:
                    return data, ""
                continue
            except OSError as exc:
                piece = b""
                log.warning("terminal connection broke: %s", _why(exc))
            if not piece:
                if complete:
                    return data, ""
                what = "an incomplete answer" if data else "no answer"
                return data, f"the terminal closed the connection after the request with {what}"
            data += piece
            try:
                complete = tlv.answer_complete(data)
            except tlv.TlvError as exc:
                return data, f"the terminal's answer is unreadable ({exc})"

    def _failed(self, amount_cents: int, message: str) -> PaymentResult:
        log.warning("payment not started on %s: %s", self.address, message)
        return PaymentResult(PaymentOutcome.ERROR, amount_cents, message=message)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
