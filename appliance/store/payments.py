"""Card payments, write-ahead: the attempt is on disk before the terminal hears of it.

The kiosk's payment flow, in this order (each step its own transaction):

    attempt_id = payments.begin_attempt(db, basket.total_cents, basket)   # PENDING, journalled
    result = terminal.pay(basket.total_cents, attempt_id)                 # never retried
    sale = sales.complete_sale(db, attempt_id, result, device_id)         # Sale, or None

`begin_attempt` refuses a second PENDING attempt (one request in flight per terminal) with
`PaymentInFlight`. At kiosk start, before any payment, call `recover(db)`: an attempt still
PENDING means the kiosk died mid-payment; it becomes UNKNOWN (never retried, never recorded as
a sale) with an alert. Staff resolve an UNKNOWN attempt from the terminal's journal or the bank
remittance with `sales.resolve_unknown`: charged records the sale then, not charged closes it.
This module knows attempts only; `sales` builds on it (never the other way round).

Every state change appends a `payment` journal entry, so every attempt's outcome is in the
journal. An UNKNOWN outcome also raises a `payment_unknown` alarm (alert and outbox event).
The technical events journal (store/technical_events.py) gets each unknown outcome, its
resolution, and each terminal error, in the same transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance import clock
from appliance.core.journal import canonical_json
from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.core.sale import Basket
from appliance.errors import ComptoirError
from appliance.said import said
from appliance.store import alerts, journal, outbox, technical_events
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.technical_events import EventKind

log = logging.getLogger(__name__)


class AttemptState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    ERROR = "error"
    UNKNOWN = "unknown"
    CHARGED = "charged"  # was unknown; staff found the customer was charged (sale recorded)
    NOT_CHARGED = "not_charged"  # was unknown; staff found the customer was not charged


class PaymentInFlight(ComptoirError):
    """Another payment is still waiting for the terminal."""


class AttemptStateError(ComptoirError):
    """The attempt does not exist or is not in a state that allows this."""


@dataclass(frozen=True)
class Attempt:
    id: str
    amount_cents: int
    basket: Basket
    state: AttemptState
    result_code: str
    reason_code: str
    authorisation: str
    card_application: str
    masked_pan: str
    message: str
    created_at: str
    finished_at: str | None


_COLUMNS = (
    "id, amount_cents, basket, state, result_code, reason_code, authorisation, "
    "card_application, masked_pan, message, created_at, finished_at"
)


def begin_attempt(db: sqlite3.Connection, amount_cents: int, basket: Basket) -> str:
    """Record a PENDING attempt with the basket it pays for; returns its id (the terminal
    reference). Raises PaymentInFlight while another attempt is PENDING."""
    if amount_cents <= 0 or amount_cents != basket.total_cents:
        raise ValueError(
            f"amount {amount_cents} cents is not the basket total {basket.total_cents} cents"
        )
    attempt_id = uuid.uuid4().hex
    with transaction(db):
        pending = db.execute("SELECT id FROM payment_attempts WHERE state = 'pending'").fetchone()
        if pending:
            raise PaymentInFlight(
                said(
                    "payment %(attempt)s is still waiting for the terminal: wait for its answer "
                    "(or restart the kiosk, which marks it unknown) before starting another",
                    attempt=pending[0],
                )
            )
        db.execute(
            "INSERT INTO payment_attempts (id, amount_cents, basket, created_at) "
            "VALUES (?, ?, ?, ?)",
            (attempt_id, amount_cents, canonical_json(basket.to_dict()), clock.now_iso()),
        )
        journal.append(
            db,
            "payment",
            {"attempt": attempt_id, "amount_cents": amount_cents, "outcome": "pending"},
        )
    return attempt_id


def get_attempt(db: sqlite3.Connection, attempt_id: str) -> Attempt:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM payment_attempts WHERE id = ?", (attempt_id,)
    ).fetchone()
    if row is None:
        raise AttemptStateError(said("there is no payment attempt %(attempt)s", attempt=attempt_id))
    return _attempt(row)


def attempts_in(db: sqlite3.Connection, state: AttemptState) -> list[Attempt]:
    """Attempts in `state`, oldest first (the admin lists UNKNOWN ones to resolve)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM payment_attempts WHERE state = ? ORDER BY created_at",
        (state.value,),
    )
    return [_attempt(row) for row in rows]


def record_outcome(db: sqlite3.Connection, attempt: Attempt, result: PaymentResult) -> None:
    """Write the terminal's answer on a PENDING attempt, inside the caller's transaction;
    an UNKNOWN outcome also raises an alert and a `payment_unknown` event."""
    state = AttemptState(result.outcome.value)
    db.execute(
        "UPDATE payment_attempts SET state = ?, result_code = ?, reason_code = ?, "
        "authorisation = ?, card_application = ?, masked_pan = ?, message = ?, finished_at = ? "
        "WHERE id = ? AND state = 'pending'",
        (
            state.value,
            result.result_code,
            result.reason_code,
            result.authorisation,
            result.card_application,
            result.masked_pan,
            result.message,
            clock.now_iso(),
            attempt.id,
        ),
    )
    journal.append(
        db,
        "payment",
        {
            "attempt": attempt.id,
            "amount_cents": attempt.amount_cents,
            "outcome": state.value,
            "result_code": result.result_code,
            "reason_code": result.reason_code,
            "authorisation": result.authorisation,
        },
    )
    if result.outcome is PaymentOutcome.UNKNOWN:
        _alert_unknown(db, attempt, result.message)
    elif result.outcome is PaymentOutcome.ERROR:
        technical_events.record(
            db,
            EventKind.TERMINAL_ERROR,
            {"attempt": attempt.id, "problem": result.message, "result_code": result.result_code},
            by="kiosk",
        )


#: Why a payment in flight at the kiosk's start is unknown.
KIOSK_STOPPED = said("the kiosk stopped while the terminal was handling this payment")


def recover(db: sqlite3.Connection) -> list[str]:
    """At kiosk start: every PENDING attempt becomes UNKNOWN with an alert; returns their ids.
    Call it before the first payment, never while one is in flight."""
    recovered = []
    with transaction(db):
        for attempt in attempts_in(db, AttemptState.PENDING):
            record_outcome(
                db,
                attempt,
                PaymentResult(
                    PaymentOutcome.UNKNOWN,
                    attempt.amount_cents,
                    message=str(KIOSK_STOPPED),
                ),
            )
            recovered.append(attempt.id)
    for attempt_id in recovered:
        log.warning("payment %s was in flight when the kiosk stopped: outcome unknown", attempt_id)
    return recovered


def settle_unknown(db: sqlite3.Connection, attempt_id: str, charged: bool, by: str) -> bool:
    """Staff's answer for an UNKNOWN attempt, inside the caller's transaction: the attempt
    becomes CHARGED or NOT_CHARGED and its alert closes; False when it already was (nothing
    written). `sales.resolve_unknown` records the sale of a charged one."""
    state = AttemptState.CHARGED if charged else AttemptState.NOT_CHARGED
    attempt = get_attempt(db, attempt_id)
    if attempt.state is state:
        return False
    if attempt.state is not AttemptState.UNKNOWN:
        raise AttemptStateError(
            said(
                "payment %(attempt)s is %(state)s, not unknown: nothing to resolve",
                attempt=attempt_id,
                state=attempt.state.value,
            )
        )
    db.execute("UPDATE payment_attempts SET state = ? WHERE id = ?", (state.value, attempt_id))
    journal.append(
        db,
        "payment",
        {
            "attempt": attempt_id,
            "amount_cents": attempt.amount_cents,
            "outcome": state.value,
            "resolved_by": by,
        },
    )
    alerts.resolve_about(db, Alarm.PAYMENT_UNKNOWN, attempt_id, by, state.value)
    technical_events.record(
        db,
        EventKind.PAYMENT_RESOLVED,
        {"attempt": attempt_id, "amount_cents": attempt.amount_cents, "charged": charged},
        by=by,
    )
    outbox.emit(
        db,
        "payment_resolved",
        {"attempt": attempt_id, "charged": charged, "by": by},
        event_id=f"payment-resolved-{attempt_id}",
    )
    return True


def _alert_unknown(db: sqlite3.Connection, attempt: Attempt, why: str) -> None:
    technical_events.record(
        db,
        EventKind.PAYMENT_UNKNOWN,
        {"attempt": attempt.id, "amount_cents": attempt.amount_cents, "reason": why},
        by="kiosk",
    )
    alerts.raise_alarm(
        db,
        Alarm.PAYMENT_UNKNOWN,
        said(
            "card payment of %(amount_cents)s (attempt %(attempt)s): outcome unknown "
            "(%(why)s). The customer may have been charged: check the terminal's journal or "
            "the bank remittance, then mark it charged or not charged.",
            amount_cents=attempt.amount_cents,
            attempt=attempt.id,
            why=KIOSK_STOPPED if why == str(KIOSK_STOPPED) else why,  # else the terminal's words
        ),
        subject=attempt.id,
        event_id=f"payment-unknown-{attempt.id}",
        attempt=attempt.id,
        amount_cents=attempt.amount_cents,
        reason=why,
    )


def _attempt(row: tuple[Any, ...]) -> Attempt:
    values = list(row)
    values[2] = Basket.from_dict(json.loads(values[2]))
    values[3] = AttemptState(values[3])
    return Attempt(*values)
