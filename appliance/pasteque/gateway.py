"""The till gateway's rounds: map the server, take the outbox, send the queue in order.

One round: (re)read the server's register, taxes, payment modes and categories when needed;
take new outbox events into frozen tickets; then for each session in order, open it, send its
tickets in batches, and once the box's closing has ended it and every ticket is answered, check
the server's own sums and close it with the totals it expects. A failure stops the round where
it is (nothing is skipped: the next round starts there); `run_forever` waits longer after each
failed round (backoff), and a failure that repeats raises an alert on the web admin.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from appliance import clock as box_clock
from appliance.config import Config
from appliance.errors import ComptoirError
from appliance.pasteque import euros, intake, sessions, tickets
from appliance.pasteque.client import (
    Client,
    PastequeError,
    PastequeRefused,
    read_password,
)
from appliance.pasteque.mapping import Mapping, MappingError, build, check_version
from appliance.pasteque.mapping import register_reference as reference_of
from appliance.pasteque.tickets import Figures
from appliance.said import Said, said
from appliance.store import agent_state, alerts, pasteque
from appliance.store.db import transaction

log = logging.getLogger(__name__)

HEARTBEAT = "pasteque"
BATCH = 50
MAPPING_MAX_AGE_S = 3600
BACKOFF_BASE_S = 15.0
BACKOFF_CAP_S = 300.0
POLL_S = 5.0
UNREACHABLE = alerts.Alarm.PASTEQUE_UNREACHABLE
REFUSED = alerts.Alarm.PASTEQUE_TICKET_REFUSED
STOPPED = alerts.Alarm.PASTEQUE_STOPPED
MISMATCH = alerts.Alarm.PASTEQUE_MISMATCH
RESOLVER = "pasteque gateway"


class SessionConflict(MappingError):
    """The server's session does not follow the box's: someone else uses this register."""


@dataclass(frozen=True)
class RoundReport:
    at: str
    ok: bool
    taken: int = 0
    opened: int = 0
    sent: int = 0
    refused: int = 0
    closed: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def client_for(config: Config) -> Client:
    p = config.pasteque
    if not p.url:
        raise PastequeError("[pasteque] url is not set: put the Pastèque server's address there")
    if not p.user:
        raise PastequeError("[pasteque] user is not set: put the instance account's name there")
    return Client(p.url, p.user, read_password(p.password_file), timeout_s=p.timeout_s)


class Gateway:
    """One box's gateway; keeps its client (and token) from one round to the next."""

    def __init__(
        self,
        config: Config,
        db: sqlite3.Connection,
        *,
        client: Client | None = None,
        clock: Callable[[], datetime] = box_clock.now,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self._client = client
        self._server_session: dict[str, Any] | None = None  # the current one, read at mapping

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = client_for(self.config)
        return self._client

    def round(self) -> RoundReport:
        """One round; never raises for what a person can fix (it is in the report)."""
        at = box_clock.iso(self.clock())
        counts = {"taken": 0, "opened": 0, "sent": 0, "refused": 0, "closed": 0}
        try:
            mapping = self._mapping()
            counts["taken"] = intake.take(self.config, self.db, mapping)
            self._send(mapping, counts)
        except MappingError as exc:
            self._stopped(str(exc))
            self._failed(at, str(exc))
            return _report(at, counts, str(exc))
        except ComptoirError as exc:
            self._failed(at, str(exc))
            return _report(at, counts, str(exc))
        with transaction(self.db):
            pasteque.record_success(self.db, at)
            state = pasteque.gateway(self.db)
            if not state.stopped:
                alerts.resolve_about(self.db, STOPPED, self._subject(), RESOLVER, "mapped again")
            alerts.resolve_about(
                self.db, UNREACHABLE, self._subject(), RESOLVER, f"Pastèque answered at {at}"
            )
        beat(self.config, self.db, ok=True)
        return _report(at, counts)

    # -- mapping ----------------------------------------------------------------------------------

    def map_now(self) -> Mapping:
        """A fresh read of the server (the installer's check): a MappingError says what lacks."""
        self._server_session = None
        return self._mapping()

    def _mapping(self) -> Mapping:
        state = pasteque.gateway(self.db)
        fresh = (
            state.mapping
            and self._server_session is not None
            and not state.stopped
            and (self.clock() - datetime.fromisoformat(state.mapped_at)).total_seconds()
            < MAPPING_MAX_AGE_S
        )
        if fresh:
            return Mapping.from_json(state.mapping)
        client, reference = self.client, reference_of(self.config)
        version = check_version(client.version(), client.base)
        register = client.register(reference)
        if register is None:
            raise MappingError(
                f"Pastèque has no cash register with reference {reference!r}: create it in "
                "Pastèque's admin (Caisses) with that reference, or set [pasteque] cash_register"
            )
        synced = client.sync(str(register.get("label") or ""))
        mapping = build(self.config, register, synced, version)
        for rate, what in self._rates_needed().items():
            mapping.tax_for(rate, what)
        self._server_session = synced.get("cash") if isinstance(synced.get("cash"), dict) else {}
        with transaction(self.db):
            pasteque.save_mapping(self.db, mapping.to_json(), box_clock.iso(self.clock()))
        log.info("Pastèque %s mapped: register %s", version, mapping.register_reference)
        return mapping

    def _rates_needed(self) -> dict[int, str]:
        """The VAT rates the box's tickets can carry, each with what needs it: the catalogue's,
        and the marketplace's rate for walk-in lockers and orders without a local product."""
        rates = {
            rate: "products of the catalogue"
            for (rate,) in self.db.execute("SELECT DISTINCT vat_rate_bp FROM products WHERE active")
        }
        marketplace = self.config.marketplace
        if self.config.lockers.compartments or (
            self.config.pasteque.online_orders and marketplace.url
        ):
            rates.setdefault(
                marketplace.vat_rate_bp,
                "walk-in lockers and online orders without a local product: "
                "[marketplace] vat_rate_bp",
            )
        return rates

    # -- sending, in order ------------------------------------------------------------------------

    def _send(self, mapping: Mapping, counts: dict[str, int]) -> None:
        for s in pasteque.sessions(self.db, open_only=True):
            queued = pasteque.tickets(self.db, session_id=s.id, state="queued")
            if not queued and s.closing is None:
                return  # the day goes on: nothing to send, later sessions wait for its closing
            s = self._opened(mapping, s, counts)
            while queued := pasteque.tickets(self.db, session_id=s.id, state="queued", limit=BATCH):
                self._post(mapping, s, queued, counts)
            if s.closing is None:
                return
            self._close(mapping, s)
            counts["closed"] += 1

    def _opened(self, mapping: Mapping, s: pasteque.Session, counts: dict[str, int]):
        if s.opened_at is not None:
            return s
        adopt = False
        if s.open_body is None:
            sequence, continuous, adopt = self._next_sequence()
            first = self.db.execute(
                "SELECT min(date_s) FROM pasteque_tickets WHERE session_id = ?", (s.id,)
            ).fetchone()[0]
            open_date = first if first is not None else _closing(s)["date_s"]
            if adopt:  # open on the server already (a box reinstalled mid-day): take it as is
                open_date = int((self._server_session or {}).get("openDate") or open_date)
                log.warning("Pastèque session %d was open already: the box continues it", sequence)
            body = sessions.open_body(
                mapping, sequence, continuous=continuous, open_date_s=open_date
            )
            with transaction(self.db):
                pasteque.freeze_open(self.db, s.id, sequence, continuous, sessions.render(body))
            s = pasteque.session(self.db, s.id)
        assert s.open_body is not None and s.sequence is not None
        try:
            if not adopt:
                self.client.post_session(s.open_body)
        except PastequeRefused as exc:
            raise SessionConflict(
                f"Pastèque refused to open session {s.sequence} of register "
                f"{mapping.register_reference} ({exc.reason or exc}): is another till using "
                "this register? Give the box a register of its own ([pasteque] cash_register)"
            ) from None
        with transaction(self.db):
            pasteque.mark_opened(self.db, s.id, box_clock.iso(self.clock()))
        counts["opened"] += 1
        return pasteque.session(self.db, s.id)

    def _next_sequence(self) -> tuple[int, bool, bool]:
        """(sequence, continuous, adopt): after the box's last session, or the server's current
        one for the box's first (not continuous when the register has a past: a new box)."""
        last = pasteque.last_sequence(self.db)
        if last is not None:
            return last + 1, True, False
        current = self._server_session or {}
        sequence = int(current.get("sequence") or 1)
        if current.get("closeDate") is not None:
            return sequence + 1, False, False
        return sequence, sequence == 1, current.get("openDate") is not None

    def _post(
        self,
        mapping: Mapping,
        s: pasteque.Session,
        queued: list[pasteque.Ticket],
        counts: dict[str, int],
    ) -> None:
        assert s.sequence is not None
        body = tickets.render((json.loads(t.content) for t in queued), s.sequence)
        answer = self.client.post_tickets(body)
        now = box_clock.iso(self.clock())
        by_number = {t.number: t for t in queued}
        sent = [n for n in _numbers(answer["successes"]) if n in by_number]
        refused = {
            n: str(item.get("message") or "")[:2000]
            for item in answer["failures"]
            if isinstance(item, dict) and (n := _number(item)) in by_number
        }
        with transaction(self.db):
            pasteque.mark_sent(self.db, sent, now)
            for number, message in refused.items():
                pasteque.mark_refused(self.db, number, message)
                alerts.raise_alarm(
                    self.db,
                    REFUSED,
                    said(
                        "Pastèque refused ticket %(ticket)s (%(source)s) for good: %(reason)s. "
                        "The server kept a signed trace; the box's totals and the till's Z now "
                        "differ by this ticket.",
                        ticket=number,
                        source=by_number[number].source,
                        reason=_reason(message),
                    ),
                    subject=f"ticket {number}",
                    register=mapping.register_reference,
                    ticket=number,
                )
            left = [n for n in by_number if n not in sent and n not in refused]
            errors = [str(e.get("message") or "") for e in answer["errors"] if isinstance(e, dict)]
            why = errors[0] if errors else "no answer for these tickets"
            pasteque.note_attempt(self.db, left, why)
        counts["sent"] += len(sent)
        counts["refused"] += len(refused)
        if left:
            raise PastequeError(f"Pastèque could not record {len(left)} ticket(s) yet: {why}")

    def _close(self, mapping: Mapping, s: pasteque.Session) -> None:
        assert s.sequence is not None
        if s.close_body is None:
            body = self._close_body(mapping, s)
            with transaction(self.db):
                pasteque.freeze_close(self.db, s.id, sessions.render(body))
            s = pasteque.session(self.db, s.id)
        assert s.close_body is not None
        try:
            z = self.client.post_session(s.close_body)
        except PastequeRefused as exc:
            raise SessionConflict(
                f"Pastèque refused to close session {s.sequence} of register "
                f"{mapping.register_reference} ({exc.reason or exc}): another till may have "
                "closed it; check the register's Z in Pastèque"
            ) from None
        with transaction(self.db):
            pasteque.mark_closed(
                self.db, s.id, json.dumps(z, ensure_ascii=False), box_clock.iso(self.clock())
            )
        log.info("Pastèque session %s closed (box day %s)", s.sequence, s.day)

    def _close_body(self, mapping: Mapping, s: pasteque.Session) -> dict[str, Any]:
        assert s.sequence is not None
        sent = pasteque.tickets(self.db, session_id=s.id, state="sent")
        figures = [Figures.from_json(t.figures) for t in sent]
        self._compare(mapping, s, sessions.Totals.of(figures))
        carried = sessions.Carried.of(self.client.session(mapping.register_id, s.sequence))
        day = date.fromisoformat(s.day)
        previous = [p for p in pasteque.sessions(self.db) if p.closed and p.id != s.id]
        before = date.fromisoformat(previous[-1].day) if previous else None
        start = (self.config.shop.fiscal_year_start_month, 1)
        closing = _closing(s)
        self._reconcile(s, closing)
        last_ticket = max((t.date_s for t in sent), default=closing["date_s"])
        return sessions.close_body(
            mapping,
            s.sequence,
            continuous=s.continuous,
            open_date_s=int(json.loads(s.open_body or "{}").get("openDate") or last_ticket),
            close_date_s=max(closing["date_s"], last_ticket),
            figures=figures,
            carried=carried,
            new_period=before is not None and (before.year, before.month) != (day.year, day.month),
            new_year=before is not None
            and sessions.fiscal_year_of(before, start) != sessions.fiscal_year_of(day, start),
            kind=sessions.close_type(day, start),
        )

    def _reconcile(self, s: pasteque.Session, closing: dict[str, Any]) -> None:
        """The session's sales and refunds against the box's own daily closing: per VAT rate,
        per payment method and in number. A difference is an alert (the till's Z would not be
        the box's)."""
        if closing.get("tickets") is None:
            return
        own = [
            Figures.from_json(t.figures)
            for t in pasteque.tickets(self.db, session_id=s.id)
            if t.kind in ("sale", "refund")
        ]
        by_vat: dict[int, tuple[int, int]] = {}
        for f in own:
            for t in f.taxes:
                total, vat = by_vat.get(t.rate_bp, (0, 0))
                by_vat[t.rate_bp] = (total + t.base_cents + t.vat_cents, vat + t.vat_cents)
        box_vat = {v["rate_bp"]: (v["total_cents"], v["vat_cents"]) for v in closing["by_vat"]}
        box_card = sum(p["total_cents"] for p in closing["by_payment"] if p["method"] == "card")
        differences = []
        if len(own) != closing["tickets"]:
            differences.append(f"{len(own)} tickets, the box's closing {closing['tickets']}")
        if by_vat != box_vat:
            differences.append(f"by VAT rate {by_vat}, the box's closing {box_vat}")
        if sum(f.total_cents for f in own) != box_card:
            differences.append(f"card total differs from the box's closing ({box_card} cents)")
        if differences:
            self._mismatch(
                f"box closing {closing.get('number')}",
                said(
                    "The till's session for %(day)s does not hold what the box's closing "
                    "%(closing)s counted: %(differences)s.",
                    day=s.day,
                    closing=closing.get("number"),
                    differences="; ".join(differences),
                ),
            )

    def _mismatch(self, subject: str, message: Said) -> None:
        if any(a.subject == subject for a in alerts.open_alerts(self.db, MISMATCH)):
            return
        with transaction(self.db):
            alerts.raise_alarm(
                self.db, MISMATCH, message, subject=subject, register=reference_of(self.config)
            )

    def _compare(self, mapping: Mapping, s: pasteque.Session, own: sessions.Totals) -> None:
        """The server's sums of what it stored against the box's: a difference is an alert."""
        assert s.sequence is not None
        server = self.client.summary(mapping.register_id, s.sequence)
        differences = []
        if int(server.get("ticketCount") or 0) != own.ticket_count:
            differences.append(
                f"{server.get('ticketCount')} tickets, the box sent {own.ticket_count}"
            )
        if euros.cents(server.get("cs") or 0) != own.net_cents:
            differences.append(
                f"revenue excl. VAT {server.get('cs')} €, the box's {euros.euros(own.net_cents)} €"
            )
        for t in server.get("taxes") or []:
            base, vat = own.taxes.get(int(t.get("tax") or 0), (0, 0))
            if (euros.cents(t.get("base") or 0), euros.cents(t.get("amount") or 0)) != (base, vat):
                differences.append(
                    f"tax {t.get('tax')}: base {t.get('base')}, VAT {t.get('amount')}"
                )
        if differences:
            self._mismatch(
                f"session {s.sequence}",
                said(
                    "Pastèque's session %(session)s does not add up to what the box sent: "
                    "%(differences)s. The box closes it with its own figures; check who else "
                    "writes to this register.",
                    session=s.sequence,
                    differences="; ".join(differences),
                ),
            )

    # -- failures ---------------------------------------------------------------------------------

    def _failed(self, at: str, error: str) -> None:
        state = pasteque.gateway(self.db)
        delay = backoff_s(state.failures_in_row + 1, self.config.pasteque.interval_s)
        retry_at = box_clock.iso(self.clock() + timedelta(seconds=delay))
        with transaction(self.db):
            failures = pasteque.record_failure(self.db, at, error, retry_at)
            if failures >= self.config.pasteque.alert_after and not alerts.open_alerts(
                self.db, UNREACHABLE
            ):
                alerts.raise_alarm(
                    self.db,
                    UNREACHABLE,
                    said(
                        "The box could not send to Pastèque (failures in a row: %(failures)s; "
                        "the last: %(error)s). Sales go on and wait in the box; see comptoir "
                        "pasteque status.",
                        failures=failures,
                        error=error,
                    ),
                    subject=self._subject(),
                    register=reference_of(self.config),
                    failures=failures,
                )
        log.warning("Pastèque round failed (%d in a row): %s", failures, error)
        beat(self.config, self.db, ok=False, error=error)

    def _stopped(self, reason: str) -> None:
        with transaction(self.db):
            pasteque.stop(self.db, reason)
            if not alerts.open_alerts(self.db, STOPPED):
                alerts.raise_alarm(
                    self.db,
                    STOPPED,
                    said(
                        "The Pastèque gateway stopped: %(reason)s. The box keeps selling and "
                        "keeps everything for Pastèque until this is fixed.",
                        reason=reason,
                    ),
                    subject=self._subject(),
                    register=reference_of(self.config),
                )
        self._server_session = None

    def _subject(self) -> str:
        return f"register {reference_of(self.config)}"


def backoff_s(failures: int, interval_s: int, jitter: Callable[[], float] = random.random) -> float:
    """The pause after `failures` failed rounds in a row: doubling from 15 s up to 5 minutes
    (never longer than the interval when that is longer), with some jitter."""
    cap = max(BACKOFF_CAP_S, float(interval_s))
    delay = min(cap, BACKOFF_BASE_S * 2 ** max(0, failures - 1))
    return delay * (0.75 + jitter() / 4)


def run_forever(
    config: Config,
    db: sqlite3.Connection,
    stop_event: threading.Event,
    *,
    clock: Callable[[], datetime] = box_clock.now,
    wait: Callable[[float], bool] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """The agent's loop: a round, then a pause (the interval, or the backoff after a failure),
    cut short when the box records something new for Pastèque."""
    wait = wait or stop_event.wait
    gateway = Gateway(config, db, clock=clock)
    while not stop_event.is_set():
        report = gateway.round()
        failures = pasteque.gateway(db).failures_in_row
        pause = (
            backoff_s(failures, config.pasteque.interval_s)
            if not report.ok
            else float(config.pasteque.interval_s)
        )
        until = monotonic() + pause
        while not stop_event.is_set() and (left := until - monotonic()) > 0.01:
            if wait(min(POLL_S, left)):
                return
            if report.ok and intake.waiting(db):
                break


def beat(config: Config, db: sqlite3.Connection, *, ok: bool, error: str = "") -> None:
    """The gateway's heartbeat (telemetry reads it): stale after two intervals and a backoff."""
    stale_after_s = 2 * config.pasteque.interval_s + int(BACKOFF_CAP_S) + 60
    detail = {"ok": ok, "last_error": error}
    agent_state.beat(db, HEARTBEAT, stale_after_s=stale_after_s, detail=detail)


def _report(at: str, counts: dict[str, int], error: str = "") -> RoundReport:
    return RoundReport(
        at,
        not error,
        taken=counts["taken"],
        opened=counts["opened"],
        sent=counts["sent"],
        refused=counts["refused"],
        closed=counts["closed"],
        error=error,
    )


def _closing(s: pasteque.Session) -> dict[str, Any]:
    return json.loads(s.closing or "{}") or {"date_s": 0}


def _numbers(items: list[Any]) -> list[int]:
    return [n for item in items if isinstance(item, dict) and (n := _number(item)) is not None]


def _number(item: dict[str, Any]) -> int | None:
    value = item.get("number")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reason(message: str) -> str:
    """The server's words from a failure message (a JSON string, or plain text)."""
    try:
        parsed = json.loads(message)
    except ValueError:
        return message[:300]
    if not isinstance(parsed, dict):
        return str(parsed)[:300]
    error = parsed["error"] if isinstance(parsed.get("error"), dict) else parsed
    keys = ("message", "error", "constraint", "class", "field")
    return " ".join(str(error[k]) for k in keys if error.get(k))[:300]
