"""The locker wall behind the touchscreen: one device thread carries out the locker flows'
intentions against the store and the lock controller, and turns door notices into flow events.

Intentions, door notices and remote `open_door` commands all go through one queue and one
thread, in the order they came: a door's "opened" always reaches the flow before its "closed",
and the database connection stays in the thread that made it. Answers reach the UI only through
`post` (the app wires it to `Clock.schedule_once`). Codes and PINs pass through, never logged.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from appliance import clock
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.locker import Use, compartments_from
from appliance.core.order import OrderState
from appliance.core.payment import PaymentOutcome
from appliance.devices.locks.base import LockController, LockUnavailable
from appliance.devices.locks.door_watch import DoorNotice, DoorWatch, DoorWatcher, Notice
from appliance.errors import ComptoirError
from appliance.kiosk.flows import pickup as p
from appliance.kiosk.flows import refill as r
from appliance.kiosk.flows import walkin as w
from appliance.kiosk.flows.events import BasketLine, Charge, PaymentAnswered
from appliance.kiosk.flows.visit import LoadShelf
from appliance.notify.pickup_email import NotifySendError, PickupNotice, send_pickup_code
from appliance.store import lockers, orders, pickup_codes, producers
from appliance.store.alerts import Alarm
from appliance.store.db import open_database

log = logging.getLogger(__name__)

#: After an unlock, an opening within this much longer than the confirmation time is ours.
EXPECT_MARGIN_S = 2.0
#: How long a remote `open_door` waits for the locker thread.
REMOTE_OPEN_TIMEOUT_S = 30.0

Charger = Callable[[Charge, Callable[[PaymentAnswered], None]], None]
_STOP = object()


class LockerRunner:
    """Owns the controller and the door watch of one wall; `carry_out` never blocks."""

    def __init__(
        self,
        config: Config,
        controller: LockController,
        post: Callable[[object], None],
        *,
        charge: Charger | None = None,
        watch_interval_s: float | None = None,
    ) -> None:
        self.config = config
        self.controller = controller
        self.post = post
        self.charge = charge
        settings = config.lockers
        self.confirm_s = settings.unlock_confirm_ms / 1000
        self.key = pickup_codes.device_key_for(settings.device_key_file, config.device.data_dir)
        self.compartments = compartments_from(settings.compartments)
        watch = DoorWatch(
            debounce_s=settings.door_debounce_ms / 1000, alarm_s=settings.door_open_alarm_s
        )
        self.watcher = DoorWatcher(
            controller,
            watch,
            self._jobs_put_notice,
            interval_s=watch_interval_s or settings.status_poll_ms / 1000,
        )
        self.board_down = False
        self._expires: dict[str, datetime] = {}
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lockers", daemon=True)

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(c.number for c in self.compartments)

    def start(self) -> LockerRunner:
        db = open_database(self.config.database_path)
        try:
            lockers.sync_compartments(db, self.compartments)
        finally:
            db.close()
        self.watcher.poll_once()  # the doors' first state: nothing is "forced" at start
        self._thread.start()
        self.watcher.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self._jobs.put(_STOP)
        self._thread.join(timeout=10)
        self.controller.close()

    @property
    def health(self) -> str:
        return "board_down" if self.board_down else "ok"

    # -- from the UI thread and the command thread ------------------------------------------------

    def carry_out(self, intention: object) -> None:
        self._jobs.put(intention)

    def open_door(self, number: int, requested_by: str, reason: str) -> dict[str, Any]:
        """A remote opening (device command), audited; raises ComptoirError when it failed."""
        done: Future = Future()
        self._jobs.put((number, requested_by, reason, done))
        return done.result(timeout=REMOTE_OPEN_TIMEOUT_S)

    # -- the locker thread ----------------------------------------------------------------------

    def _jobs_put_notice(self, notice: DoorNotice) -> None:
        self._jobs.put(notice)

    def _run(self) -> None:
        db = open_database(self.config.database_path)
        try:
            while (job := self._jobs.get()) is not _STOP:
                try:
                    self._do(db, job)
                except Exception:  # one failed job must not stop the wall
                    log.exception("locker job %s failed", type(job).__name__)
        finally:
            db.close()

    def _do(self, db: sqlite3.Connection, job: object) -> None:
        if isinstance(job, DoorNotice):
            self._notice(db, job)
        elif isinstance(job, tuple):
            number, requested_by, reason, done = job
            try:
                done.set_result(self._remote_open(db, number, requested_by, reason))
            except Exception as exc:
                done.set_exception(exc)
        else:
            answer = self._answer(db, job)
            if answer is not None:
                self.post(answer)

    def _unlock(self, number: int) -> object:
        self.watcher.expect_open(number, within_s=self.confirm_s + EXPECT_MARGIN_S)
        try:
            return (
                p.DoorOpened(number) if self.controller.unlock(number) else p.DoorNotOpened(number)
            )
        except LockUnavailable as exc:
            return p.LockFailed(number, str(exc))

    def _remote_open(
        self, db: sqlite3.Connection, number: int, requested_by: str, reason: str
    ) -> dict[str, Any]:
        result = self._unlock(number)
        outcome = {
            p.DoorOpened: "opened",
            p.DoorNotOpened: "stayed shut",
            p.LockFailed: "lock fault",
        }[type(result)]
        detail = f"{reason}: {outcome}" + (
            f" ({result.message})" if isinstance(result, p.LockFailed) else ""
        )
        lockers.record_door_event(
            db, number, "remote_open", requested_by=requested_by, detail=detail
        )
        log.info("door %s opened remotely by %s: %s", number, requested_by, outcome)
        if isinstance(result, p.DoorNotOpened):
            raise ComptoirError(f"door {number} stayed shut after the unlock: check the lock")
        if isinstance(result, p.LockFailed):
            raise ComptoirError(f"door {number}: {result.message}")
        return {"compartment": number, "opened": True}

    def _notice(self, db: sqlite3.Connection, notice: DoorNotice) -> None:
        n = notice.compartment
        if notice.notice is Notice.BOARD_DOWN:
            self.board_down = True
        elif notice.notice is Notice.BOARD_BACK:
            self.board_down = False
        if notice.notice.is_alarm:
            lockers.raise_alarm(
                db, Alarm(notice.notice.value), n, notice.message or notice.notice.value
            )
        elif n is not None:
            lockers.record_door_event(db, n, notice.notice.value, detail=notice.message)
        if n is None:
            log.warning("lock controller: %s %s", notice.notice.value, notice.message)
        elif notice.notice is Notice.CLOSED:
            self.post(p.DoorClosed(n, notice.item_present))
        elif notice.notice is Notice.OPEN_WARNING:
            self.post(p.DoorWarning(n))

    def _answer(self, db: sqlite3.Connection, intention: object) -> object | None:
        cfg = self.config.lockers
        match intention:
            case p.OpenDoor(compartment=n):
                return self._unlock(n)
            case p.CheckCode(text=text):
                check = pickup_codes.check_code(db, text, key=self.key)
                return p.CodeChecked(
                    check.verdict,
                    check.order_number,
                    check.compartment,
                    check.code_id,
                    _seconds_until(check.locked_until),
                )
            case p.RereadOrder(order_number=number):
                return p.OrderReread(number, self._reread(db, number))
            case p.RecordPickup(order_number=number, compartment=c, code_id=code_id):
                if not lockers.collect(db, number, c, code_id=code_id):
                    log.warning("order %s was not in compartment %s any more", number, c)
            case p.ReportProblem(problem=problem, compartment=c, order_number=number):
                about = f"order {number}: " if number else ""
                lockers.raise_alarm(
                    db, Alarm(problem.value), c, about + problem.value.replace("_", " ")
                )
            case r.IdentifyProducer(text=text, badge=badge):
                who = producers.identify_producer(db, text, key=self.key, badge=badge)
                return r.ProducerIdentified(
                    who.verdict, who.producer, _seconds_until(who.locked_until)
                )
            case r.LoadWall():
                waiting = orders.list_orders(db, OrderState.WAITING)
                return r.WallLoaded(
                    tuple(
                        r.OrderToDeposit(o.number, o.customer_name, len(o.lines)) for o in waiting
                    ),
                    self.compartments,
                    frozenset(lockers.busy(db)),
                )
            case r.RecordDeposit(order_number=number, compartment=c, producer=producer):
                try:
                    issued = lockers.deposit(
                        db,
                        number,
                        c,
                        producer=producer,
                        key=self.key,
                        validity_days=cfg.code_validity_days,
                        digits=cfg.code_digits,
                    )
                except ComptoirError as exc:
                    return r.DepositRecorded(number, False, str(exc))
                self._expires[number] = issued.expires_at
                return r.DepositRecorded(number, True, code=issued.code, token=issued.token)
            case r.SendCode() as send:
                return self._send_code(db, send)
            case r.RecordWalkinFill(compartment=c, name=name, price_cents=price, producer=who):
                lockers.fill_walkin(db, c, name=name, price_cents=price, producer=who)
            case w.ChargeCard(amount_cents=amount, item=item):
                self._charge(amount, item)
            case w.RecordWalkinSold(compartment=c, reference=reference):
                lockers.empty_walkin(db, c, reference)
            case w.FlagRefund(amount_cents=amount, reference=reference, compartment=c):
                lockers.raise_alarm(
                    db,
                    Alarm.WALKIN_REFUND_NEEDED,
                    c,
                    f"walk-in sale {reference or '?'} paid {amount} cents but door {c} stayed "
                    f"shut: refund the customer",
                    amount_cents=amount,
                    reference=reference,
                )
            case LoadShelf():
                return w.ShelfLoaded(shelf(db))
        return None

    def _reread(self, db: sqlite3.Connection, number: str) -> OrderState | None:
        """The marketplace's word on the order; None (use the local copy) when it is absent."""
        if not self.config.marketplace.url:
            return None
        try:
            from appliance.marketplace.sync import reread_order

            order = reread_order(self.config, db, number)
        except Exception as exc:  # offline or unconfigured: the local copy decides
            log.warning("order %s not read again from the marketplace: %s", number, exc)
            return None
        return order.state if order is not None else None

    def _send_code(self, db: sqlite3.Connection, send: r.SendCode) -> r.CodeSent:
        order = orders.get(db, send.order_number)
        expires = self._expires.pop(send.order_number, clock.now())
        try:
            send_pickup_code(
                self.config,
                PickupNotice(
                    to=order.customer_email if order else "",
                    customer_name=order.customer_name if order else "",
                    order_number=send.order_number,
                    compartment=send.compartment,
                    code=send.code,
                    token=send.token,
                    expires_at=expires,
                ),
            )
        except NotifySendError as exc:
            lockers.raise_alarm(
                db,
                Alarm.PICKUP_CODE_NOT_SENT,
                send.compartment,
                f"order {send.order_number}: {exc} (send a new code: comptoir locker resend)",
            )
            return r.CodeSent(send.order_number, False, str(exc))
        return r.CodeSent(send.order_number, True)

    def _charge(self, amount: int, item: w.ForSale) -> None:
        if self.charge is None:
            self.post(w.PaymentDone(PaymentOutcome.ERROR))
            return
        product = Product(
            item.sku or f"CASIER-{item.compartment}",
            item.name,
            SoldBy.PIECE,
            amount,
            self.config.marketplace.vat_rate_bp,
        )
        self.charge(
            Charge(amount, (BasketLine(product, 1, amount),)),
            lambda answer: self.post(w.PaymentDone(answer.outcome, answer.receipt_number)),
        )


def shelf(db: sqlite3.Connection) -> tuple[w.ForSale, ...]:
    return tuple(
        w.ForSale(s.number, s.walkin_name, s.walkin_price_cents, s.walkin_sku)
        for s in lockers.states(db).values()
        if s.use is Use.WALKIN
    )


def _seconds_until(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (moment - clock.now()).total_seconds())
