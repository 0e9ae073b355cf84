"""The shop's records behind the touchscreen: what the flows ask of the store, the marketplace and
the mail server, done in one thread of its own with its own database connection.

`ShopActions.answer` carries out one intention and returns the flow's answer, if any: journal a
weighing, print and journal a label, check a pickup code, record a deposit, e-mail the code, read
the wall. They run in arrival order, so the journal keeps the order the customer acted in (a
weighing before its label). The till (`Till`) is a second such thread for payments alone, which
may take a minute at the terminal without holding up the door records.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from appliance import clock
from appliance.config import Config
from appliance.core.catalogue import Product, SoldBy
from appliance.core.closing_paper import closing_lines
from appliance.core.fiscal import RecordType, signature_extract
from appliance.core.locker import Use, compartments_from
from appliance.core.money import format_euros
from appliance.core.order import OrderState
from appliance.core.payment import PaymentOutcome
from appliance.core.receipt import FiscalMark
from appliance.devices.locks.door_watch import DoorNotice
from appliance.devices.locks.worker import Unlock, Unlocked
from appliance.devices.printers.worker import PrinterWorker
from appliance.devices.worker import Worker
from appliance.errors import ComptoirError
from appliance.kiosk.checkout import Checkout
from appliance.kiosk.documents import Documents
from appliance.kiosk.flows import intentions as i
from appliance.kiosk.flows.events import (
    CatalogueLoaded,
    CodeChecked,
    CodeSent,
    DepositRecorded,
    Event,
    OrderReread,
    PaymentAnswered,
    ProducerIdentified,
    ShelfLoaded,
    WallLoaded,
)
from appliance.kiosk.flows.values import BasketLine, ForSale, OrderToDeposit
from appliance.kiosk.pictures import Pictures, for_site
from appliance.notify.help_request import send_help_request
from appliance.notify.pickup_email import NotifySendError, PickupNotice, send_pickup_code
from appliance.said import Said, said
from appliance.said import of as said_of
from appliance.store import (
    alerts,
    catalogue,
    closings,
    lockers,
    orders,
    pickup_codes,
    producers,
    sales,
    technical_events,
    tickets,
    weighings,
)
from appliance.store import fiscal as fiscal_records
from appliance.store.alerts import Alarm
from appliance.store.db import open_database, transaction
from appliance.store.technical_events import EventKind

log = logging.getLogger(__name__)

#: The help alert's words by (a product on screen, a basket): said, so read in French too.
HELP_TEMPLATES = {
    (False, False): said("a customer asks for help at the kiosk (screen %(doing)s)"),
    (True, False): said(
        "a customer asks for help at the kiosk (screen %(doing)s, product %(product)s)"
    ),
    (False, True): said(
        "a customer asks for help at the kiosk (screen %(doing)s, basket of %(lines)s "
        "line(s), %(total_cents)s)"
    ),
    (True, True): said(
        "a customer asks for help at the kiosk (screen %(doing)s, product %(product)s, "
        "basket of %(lines)s line(s), %(total_cents)s)"
    ),
}

T = TypeVar("T")
#: How long a label may take at the printer before it counts as not printed.
PRINT_TIMEOUT_S = 30.0


class StoreWorker(Worker):
    """A worker thread with a database connection of its own (made and closed in the thread)."""

    def __init__(self, name: str, database_path: Path) -> None:
        super().__init__(name, interval_s=3600)
        self.database_path = database_path
        self._db: sqlite3.Connection | None = None

    def run(self, job: Callable[[sqlite3.Connection], T]) -> Future[T]:
        return self.submit(lambda: job(self._connection()))

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = open_database(self.database_path)
        return self._db

    def teardown(self) -> None:
        if self._db is not None:
            self._db.close()


class ShopActions:
    """Carries out the flows' record-keeping intentions; every method runs in `worker`."""

    def __init__(self, site: Config, printer: PrinterWorker) -> None:
        self.site = site
        self.printer = printer
        self.documents = Documents(site)
        self.worker = StoreWorker("shop", site.database_path)
        self.pictures: Pictures = for_site(site)
        self.labels_printed = 0
        self._key: bytes | None = None
        self._expires: dict[str, datetime] = {}

    @property
    def key(self) -> bytes:
        """The device key that seals pickup codes and PINs (read, or made, on first use)."""
        if self._key is None:
            settings = self.site.lockers
            self._key = pickup_codes.device_key_for(
                settings.device_key_file, self.site.device.data_dir
            )
        return self._key

    def start(self, db: sqlite3.Connection) -> None:
        """The wall's compartments as configured, before anyone uses them."""
        if self.site.lockers.controller != "none":
            lockers.sync_compartments(db, compartments_from(self.site.lockers.compartments))

    def answer(self, db: sqlite3.Connection, intention: i.ShopIntention) -> Event | None:
        cfg = self.site.lockers
        match intention:
            case i.LoadCatalogue():
                products = catalogue.list_products(db, active_only=True)
                return CatalogueLoaded(self.pictures.dress(products))
            case i.RecordWeighing(line):
                assert line.weighing is not None
                weighings.record_weighing(
                    db,
                    line.weighing,
                    line.product,
                    device_id=self.site.device.id,
                    interval_g=self.site.scale.interval_g,
                )
            case i.AskForHelp() as asked:
                self._ask_for_help(db, asked)
            case i.RecordAbandoned(lines=lines, why=why):
                technical_events.record(
                    db,
                    technical_events.EventKind.BASKET_ABANDONED,
                    {
                        "why": why,
                        "lines": len(lines),
                        "total_cents": sum(line.price_cents for line in lines),
                        "labelled": sum(line.labelled for line in lines),
                    },
                    by="kiosk",
                )
            case i.PrintLabel(line):
                self._print_label(db, line)
            case i.PrintReceipt(number):
                self._print_receipt(db, int(number))
            case i.CheckCode(text=text):
                check = pickup_codes.check_code(db, text, key=self.key)
                return CodeChecked(
                    check.verdict,
                    check.order_number,
                    check.compartment,
                    check.code_id,
                    _seconds_until(check.locked_until),
                )
            case i.RereadOrder(order_number=number):
                return OrderReread(number, self._reread(db, number))
            case i.RecordPickup(order_number=number, compartment=c, code_id=code_id):
                if not lockers.collect(db, number, c, code_id=code_id):
                    log.warning("order %s was not in compartment %s any more", number, c)
            case i.ReportProblem(problem=problem, compartment=c, order_number=number):
                lockers.raise_alarm(db, Alarm(problem.value), c, _problem(problem.value, number))
            case i.IdentifyProducer(text=text, badge=badge):
                who = producers.identify_producer(db, text, key=self.key, badge=badge)
                return ProducerIdentified(
                    who.verdict, who.producer, _seconds_until(who.locked_until)
                )
            case i.LoadWall():
                waiting = orders.list_orders(db, OrderState.WAITING)
                return WallLoaded(
                    tuple(OrderToDeposit(o.number, o.customer_name, len(o.lines)) for o in waiting),
                    compartments_from(cfg.compartments),
                    frozenset(lockers.busy(db)),
                )
            case i.RecordDeposit(order_number=number, compartment=c, producer=producer):
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
                    return DepositRecorded(number, False, str(exc))
                self._expires[number] = issued.expires_at
                return DepositRecorded(number, True, code=issued.code, token=issued.token)
            case i.SendCode() as send:
                return self._send_code(db, send)
            case i.RecordWalkinFill(compartment=c, name=name, price_cents=price, producer=who):
                lockers.fill_walkin(db, c, name=name, price_cents=price, producer=who)
            case i.LoadShelf():
                return ShelfLoaded(self.shelf(db))
            case i.RecordWalkinSold(compartment=c, reference=reference):
                lockers.empty_walkin(db, c, reference)
            case i.FlagRefund(amount_cents=amount, reference=reference, compartment=c):
                lockers.raise_alarm(
                    db,
                    Alarm.WALKIN_REFUND_NEEDED,
                    c,
                    said(
                        "walk-in sale %(reference)s paid %(amount_cents)s but door %(number)s "
                        "stayed shut: refund the customer",
                        reference=reference or "?",
                        amount_cents=amount,
                        number=c,
                    ),
                    amount_cents=amount,
                    reference=reference,
                )
        return None

    def _ask_for_help(self, db: sqlite3.Connection, asked: i.AskForHelp) -> None:
        """An alert for the producer (web admin, MQTT) and, when configured, an e-mail."""
        what = f"screen {asked.doing}"
        if asked.product:
            what += f", product {asked.product}"
        if asked.lines:
            what += f", basket {asked.lines} line(s) {format_euros(asked.total_cents)}"
        with transaction(db):
            alerts.raise_alarm(
                db,
                Alarm.HELP_REQUESTED,
                said(
                    HELP_TEMPLATES[bool(asked.product), bool(asked.lines)].template,
                    doing=asked.doing,
                    product=asked.product,
                    lines=asked.lines,
                    total_cents=asked.total_cents,
                ),
                subject=self.site.device.id,
                doing=asked.doing,
                product=asked.product,
                lines=asked.lines,
                total_cents=asked.total_cents,
                language=asked.language,
            )
        if self.site.kiosk.help_email:
            try:
                send_help_request(self.site, what)
            except NotifySendError as exc:
                log.error("help request not e-mailed: %s", exc)

    def shelf(self, db: sqlite3.Connection) -> tuple[ForSale, ...]:
        """The walk-in compartments holding produce, each as the product its sale records."""
        vat = self.site.marketplace.vat_rate_bp
        return tuple(
            ForSale(
                s.number,
                Product(
                    s.walkin_sku or f"CASIER-{s.number}",
                    s.walkin_name,
                    SoldBy.PIECE,
                    s.walkin_price_cents,
                    vat,
                ),
            )
            for s in lockers.states(db).values()
            if s.use is Use.WALKIN
        )

    def record_notice(self, db: sqlite3.Connection, notice: DoorNotice) -> None:
        """Every door notice in the door log; alarms also as alerts for staff."""
        n = notice.compartment
        if notice.notice.is_alarm:
            alarm = Alarm(notice.notice.value)
            lockers.raise_alarm(db, alarm, n, notice.message or notice.notice.value)
        elif n is not None:
            lockers.record_door_event(db, n, notice.notice.value, detail=str(notice.message))
        if n is None:
            log.warning("lock controller: %s %s", notice.notice.value, notice.message)

    def record_remote_open(
        self, db: sqlite3.Connection, unlock: Unlock, requested_by: str, reason: str
    ) -> None:
        """A door opened at another process's request (device command), with who and why."""
        detail = f"{reason}: {unlock.outcome.value}" + (
            f" ({unlock.message})" if unlock.outcome is Unlocked.FAULT else ""
        )
        lockers.record_door_event(
            db, unlock.compartment, "remote_open", requested_by=requested_by, detail=detail
        )
        log.info(
            "door %s opened remotely by %s: %s",
            unlock.compartment,
            requested_by,
            unlock.outcome.value,
        )

    def _print_label(self, db: sqlite3.Connection, line: BasketLine) -> None:
        content = self.documents.label(line, weighings.next_label_ticket(db), clock.now())
        try:
            where = self.printer.print_label(content).result(PRINT_TIMEOUT_S)
        except ComptoirError as exc:
            log.warning("label %s not printed: %s", content.ticket, exc)
            printer_error(db, str(exc), document="label", number=content.ticket)
            return
        weighings.record_label(
            db,
            content,
            device_id=self.site.device.id,
            interval_g=self.site.scale.interval_g,
            printer=where,
        )
        self.labels_printed += 1
        log.info("label %s printed to %s", content.ticket, where)

    def _print_receipt(self, db: sqlite3.Connection, number: int) -> None:
        try:
            where = self.print_receipt(db, number)
        except ComptoirError as exc:
            log.warning("receipt %s not printed: %s", number, exc)
            return
        log.info("receipt %s printed to %s", number, where)

    def print_receipt(self, db: sqlite3.Connection, number: int, *, copy_by: str = "") -> str:
        """Print receipt `number`; with `copy_by`, a DUPLICATA recorded as a signed copy made at
        that person's request (device command `reprint_receipt`). Returns where it went."""
        device_id = self.site.device.id
        training = tickets.in_training(db)  # a training box's receipt numbers are its own
        sale = sales.sale_by_receipt(db, device_id, number, training=training)
        if sale is None:
            raise ComptoirError(f"receipt {number} is not in the database")
        ticket = tickets.ticket_of_sale(db, device_id, number, training=training)
        fiscal = None
        if ticket is not None:
            copy = tickets.record_duplicate(db, ticket, by=copy_by).data["copy"] if copy_by else 0
            extract = signature_extract(ticket.signature)
            fiscal = FiscalMark(ticket.number, extract, ticket.data["mode"], copy)
        lines, url = self.documents.receipt(sale, fiscal)
        try:
            return self.printer.print_receipt(number, lines, url).result(PRINT_TIMEOUT_S)
        except ComptoirError as exc:
            printer_error(db, str(exc), document="receipt", number=number)
            raise

    def print_closing(self, db: sqlite3.Connection, number: int | None) -> dict[str, Any]:
        """Print closing (Z) `number`, or the last one, with its signed figures (device
        command `print_closing`). Returns which closing and where it went."""
        record = (
            fiscal_records.get(db, RecordType.CLOSING, number)
            if number is not None
            else fiscal_records.last(db, RecordType.CLOSING)
        )
        if record is None:
            raise ComptoirError(
                f"there is no closing {number} on this box"
                if number is not None
                else "there is no closing yet on this box: the first is made after the first day"
            )
        lines = closing_lines(closings.as_document(record), self.documents.columns)
        try:
            where = self.printer.print_receipt(record.number, lines, kind="closing")
            printed = where.result(PRINT_TIMEOUT_S)
        except ComptoirError as exc:
            printer_error(db, str(exc), document="closing", number=record.number)
            raise
        return {"closing": record.number, "printed_to": printed}

    def _reread(self, db: sqlite3.Connection, number: str) -> OrderState | None:
        """The marketplace's word on the order; None (use the local copy) when it is absent."""
        if not self.site.marketplace.url:
            return None
        try:
            from appliance.marketplace.sync import reread_order

            order = reread_order(self.site, db, number)
        except Exception as exc:  # offline or unconfigured: the local copy decides
            log.warning("order %s not read again from the marketplace: %s", number, exc)
            return None
        return order.state if order is not None else None

    def _send_code(self, db: sqlite3.Connection, send: i.SendCode) -> CodeSent:
        order = orders.get(db, send.order_number)
        expires = self._expires.pop(send.order_number, clock.now())
        try:
            send_pickup_code(
                self.site,
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
                said(
                    "order %(order)s: %(error)s (send a new code: comptoir locker resend)",
                    order=send.order_number,
                    error=said_of(exc),
                ),
            )
            return CodeSent(send.order_number, False, str(exc))
        return CodeSent(send.order_number, True)


#: The problems at the locker that are alarms, as staff read them.
_PROBLEMS = {
    "cancelled": said("cancelled"),
    "door_failed": said("door failed"),
    "lock_fault": said("lock fault"),
    "item_left": said("item left"),
}


def _problem(problem: str, order: str | None) -> Said | str:
    """A problem at the locker as staff read it ('order 12: door failed')."""
    what = _PROBLEMS.get(problem, problem.replace("_", " "))
    return said("order %(order)s: %(problem)s", order=order, problem=what) if order else what


def printer_error(
    db: sqlite3.Connection, problem: str, *, document: str = "", number: int = 0
) -> None:
    """The printer out of paper or offline, or a document it did not print (`document` and
    its `number`), in the technical events journal."""
    technical_events.record(
        db,
        EventKind.PRINTER_ERROR,
        {"problem": problem, "document": document, "number": number},
        by="kiosk",
    )


class Till:
    """The payments' own thread: one charge at a time, from attempt to recorded sale."""

    def __init__(self, site: Config, checkout: Checkout | None) -> None:
        self.site = site
        self.checkout = checkout
        self.worker = StoreWorker("till", site.database_path)
        self._charges = 0  # queued or under way
        self._counting = threading.Lock()

    @property
    def paying(self) -> bool:
        """A charge (a customer's or a test payment) is queued or under way: not the start's
        recovery or the stop, which once made a box just started refuse a test payment."""
        return self._charges > 0

    def pay(self, job: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Queue a charge on the till's thread, counted as paying from now until answered."""
        self._count(+1)
        charged = self.worker.run(job)
        charged.add_done_callback(lambda _done: self._count(-1))
        return charged

    def _count(self, change: int) -> None:
        with self._counting:
            self._charges += change

    def start(self, db: sqlite3.Connection) -> None:
        """Record the start (the mode in force, version and config changes) and settle what a
        crash left PENDING, before any new payment."""
        technical_events.process_started(db, self.site, "kiosk")
        if self.checkout is not None:
            self.checkout.recover(db)

    def stop(self, db: sqlite3.Connection) -> None:
        """Record the clean stop (the last job of the till's thread)."""
        technical_events.process_stopped(db, "kiosk")

    def charge(self, db: sqlite3.Connection, charge: i.Charge) -> PaymentAnswered:
        if self.checkout is None:
            return PaymentAnswered(PaymentOutcome.ERROR, charge.amount_cents)
        return self.checkout.charge(db, charge)


def _seconds_until(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (moment - clock.now()).total_seconds())
