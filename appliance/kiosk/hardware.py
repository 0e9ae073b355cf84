"""The kiosk's devices, each driven from its own thread; the UI only hears events.

The scale monitor polls the scale, one printer thread prints and watches the paper, one
payment thread charges baskets (and walk-in compartments), and the locker runner drives the
locks when `[lockers]` has a controller. Every result comes back as a flow event through `post`,
which the app wires to `Clock.schedule_once` (thread-safe), so nothing here ever blocks Kivy's
loop. `health` says in one word per device how each is doing, for the heartbeat.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from zoneinfo import ZoneInfo

from appliance import clock
from appliance.config import Config
from appliance.core.barcode import BarcodeLayout
from appliance.core.catalogue import Product, SoldBy
from appliance.core.fiscal import signature_extract
from appliance.core.label import LabelContent, Shop, label_for_pieces, label_for_weighing
from appliance.core.receipt import (
    MODE_MARKS,
    FiscalMark,
    ReceiptHeader,
    receipt_lines,
    receipt_url,
)
from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.locks.factory import controller_for
from appliance.devices.payment.base import PaymentOutcome, Terminal
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.status import PrinterStatus
from appliance.devices.scales.base import Article
from appliance.devices.scales.monitor import ScaleMonitor
from appliance.errors import ComptoirError
from appliance.kiosk import health
from appliance.kiosk.checkout import Checkout
from appliance.kiosk.flows.events import (
    BasketLine,
    Charge,
    Event,
    Intention,
    PaperState,
    PaymentAnswered,
    PrinterChanged,
    PrintLabel,
    PrintReceipt,
    ReadingArrived,
    RecordWeighing,
    SetArticle,
    TerminalChanged,
)
from appliance.kiosk.lockers import LockerRunner
from appliance.legal import legal_identity
from appliance.store import sales, technical_events, tickets, weighings
from appliance.store.db import open_database

log = logging.getLogger(__name__)

#: How often the printer's paper is checked, and a lost terminal tried again.
PRINTER_POLL_S = 2.0
TERMINAL_RETRY_S = 5.0

_PAPER = {
    PrinterStatus.ONLINE: PaperState.OK,
    PrinterStatus.UNKNOWN: PaperState.OK,  # a printer that cannot read back is assumed fed
    PrinterStatus.PAPER_NEAR_END: PaperState.NEAR_END,
    PrinterStatus.PAPER_OUT: PaperState.OUT,
    PrinterStatus.OFFLINE: PaperState.OFFLINE,
}
_STOP = object()


class Hardware:
    """Scale, label printer and card terminal of one kiosk, behind events and intentions."""

    def __init__(
        self,
        config: Config,
        printer: LabelPrinter,
        terminal: Terminal | None,
        post: Callable[[Event], None],
    ) -> None:
        self.config = config
        self.printer = printer
        self.terminal = terminal
        self.post = post
        self.scale = (
            ScaleMonitor(config.scale, self._reading) if config.scale.protocol != "none" else None
        )
        self._scale_status: ReadingStatus | None = None
        self._paper: PaperState | None = None
        self.checkout = (
            Checkout(
                config.database_path, terminal, config.device.id, config.kiosk.receipt_base_url
            )
            if terminal
            else None
        )
        self.labels_printed = 0
        self._printer_jobs: queue.Queue = queue.Queue()
        self._payments: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._terminal_lost = threading.Event()
        self._threads = [
            threading.Thread(target=self._printer_loop, name="printer", daemon=True),
            threading.Thread(target=self._payment_loop, name="payment", daemon=True),
            threading.Thread(target=self._terminal_loop, name="terminal", daemon=True),
        ]
        self.lockers, self._locks_word = self._open_lockers()
        mark = MODE_MARKS.get(config.shop.mode)
        self._shop = Shop(
            f"{config.device.name} · {mark}" if mark else config.device.name,
            config.device.address,
            config.device.id,
            ZoneInfo(config.device.timezone),
            config.device.language,
        )

    def start(self) -> Hardware:
        db = open_database(self.config.database_path)
        try:  # the mode in force, version and config changes: before the first sale
            technical_events.process_started(db, self.config, "kiosk")
        finally:
            db.close()
        if self.checkout:
            self.checkout.recover()
        if self.scale:
            self.scale.start()
        else:
            self.post(ReadingArrived(Reading(ReadingStatus.ERROR, detail="no scale configured")))
        for thread in self._threads:
            thread.start()
        if self.lockers:
            try:
                self.lockers.start()
            except ComptoirError as exc:
                log.error("lockers unavailable: %s", exc)
                self.lockers, self._locks_word = None, "missing"
        return self

    def stop(self) -> None:
        self._stop.set()
        self._printer_jobs.put(_STOP)
        self._payments.put(_STOP)
        if self.scale:
            self.scale.stop()
        if self.lockers:
            self.lockers.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def paying(self) -> bool:
        return bool(self._payments.unfinished_tasks)

    def _open_lockers(self) -> tuple[LockerRunner | None, str]:
        """The locker runner, or None with the word the heartbeat says instead."""
        try:
            controller = controller_for(self.config.lockers)
            if controller is None:
                return None, health.NOT_CONFIGURED
            return LockerRunner(self.config, controller, self.post, charge=self.charge), ""
        except ComptoirError as exc:  # a port gone, a bad wiring, no key: the shop still sells
            log.error("lockers unavailable: %s", exc)
            return None, "missing"

    def health(self) -> dict[str, str]:
        """One word per device, for the kiosk's heartbeat."""
        terminal = (
            health.NOT_CONFIGURED
            if self.terminal is None
            else "missing"
            if self._terminal_lost.is_set()
            else "ok"
        )
        return {
            "scale": health.scale_word(self._scale_status) if self.scale else health.NOT_CONFIGURED,
            "printer": self._paper.value if self._paper else "starting",
            "terminal": terminal,
            "locks": self.lockers.health if self.lockers else self._locks_word,
            "sensors": health.sensors_word(self.config.haccp),
        }

    def _reading(self, reading: Reading) -> None:
        self._scale_status = reading.status
        self.post(ReadingArrived(reading))

    # -- intentions from the flow ---------------------------------------------------------------

    def carry_out(self, intention: Intention) -> None:
        match intention:
            case PrintLabel() | RecordWeighing():
                self._printer_jobs.put(intention)
            case SetArticle(product) if self.scale:
                self.scale.set_article(Article(product.unit_price_cents, product.tare_g))
            case Charge():
                self.charge(intention, self.post)
            case PrintReceipt():
                self._printer_jobs.put(intention)

    def charge(self, charge: Charge, answer: Callable[[PaymentAnswered], None]) -> None:
        """Queue a payment; `answer` hears the outcome (one payment at a time per terminal)."""
        if self.checkout:
            self._payments.put((charge, answer))
        else:
            answer(PaymentAnswered(PaymentOutcome.ERROR, charge.amount_cents))

    # -- device commands (from other threads) ---------------------------------------------------

    def zero_scale(self, timeout_s: float = 5.0) -> None:
        if self.scale is None:
            raise ComptoirError("no scale is configured ([scale] protocol = none)")
        self.scale.zero().result(timeout_s)

    def print_test_label(self, timeout_s: float = 30.0) -> str:
        """Print a label that says it is a test; returns where it went. It goes through the
        printer thread like any label, so two threads never talk to the printer at once."""
        done: Future[str] = Future()
        self._printer_jobs.put(done)
        return done.result(timeout_s)

    def _test_label(self) -> str:
        test = Product("test", "ÉTIQUETTE DE TEST", SoldBy.PIECE, 0, 0)
        return self.printer.print_label(self._label(BasketLine(test, 1, 0), ticket=0))

    # -- threads --------------------------------------------------------------------------------

    def _label(self, line: BasketLine, ticket: int) -> LabelContent:
        layout = BarcodeLayout.parse(
            line.product.barcode_layout or self.config.printer.barcode_layout
        )
        now = clock.now()
        if line.weighing is not None:
            return label_for_weighing(
                line.weighing,
                line.product,
                shop=self._shop,
                interval_g=self.config.scale.interval_g,
                layout=layout,
                packed_at=now,
                ticket=ticket,
            )
        return label_for_pieces(
            line.quantity,
            line.product,
            shop=self._shop,
            layout=layout,
            packed_at=now,
            ticket=ticket,
        )

    def reprint_receipt(self, number: int, by: str, timeout_s: float = 30.0) -> str:
        """A copy of receipt `number`, marked DUPLICATA and recorded as a signed copy; it goes
        through the printer thread like any print."""
        done: Future[str] = Future()
        self._printer_jobs.put((done, number, by))
        return done.result(timeout_s)

    def _print_receipt(
        self, db: sqlite3.Connection, number: int, *, copy_by: str | None = None
    ) -> str:
        sale = sales.sale_by_receipt(db, self.config.device.id, number)
        if sale is None:
            raise ComptoirError(f"receipt {number} is not in the database")
        ticket = tickets.ticket_of_sale(db, self.config.device.id, number)
        copy = 0
        if ticket is not None and copy_by is not None:
            copy = tickets.record_duplicate(db, ticket, by=copy_by).data["copy"]
        fiscal = (
            FiscalMark(
                ticket.number, signature_extract(ticket.signature), ticket.data["mode"], copy
            )
            if ticket is not None
            else None
        )
        identity = legal_identity()
        header = ReceiptHeader(
            self.config.device.name,
            self.config.device.address,
            self.config.device.id,
            identity.sha256,
            identity.version,
        )
        local = datetime.fromisoformat(sale.created_at).astimezone(self._shop.timezone)
        lines = receipt_lines(sale, header, local.strftime("%d/%m/%Y %H:%M"), fiscal=fiscal)
        url = receipt_url(self.config.kiosk.receipt_base_url, sale)
        return self.printer.print_receipt(number, lines, url)

    def _carry_out_job(
        self, db: sqlite3.Connection, job: PrintLabel | RecordWeighing | PrintReceipt
    ) -> None:
        """Print or record; both run in this one thread, so the journal keeps their order."""
        match job:
            case RecordWeighing(line):
                assert line.weighing is not None
                weighings.record_weighing(
                    db,
                    line.weighing,
                    line.product,
                    device_id=self.config.device.id,
                    interval_g=self.config.scale.interval_g,
                )
            case PrintLabel(line):
                content = self._label(line, weighings.next_label_ticket(db))
                where = self.printer.print_label(content)
                weighings.record_label(
                    db,
                    content,
                    device_id=self.config.device.id,
                    interval_g=self.config.scale.interval_g,
                    printer=where,
                )
                self.labels_printed += 1
                log.info("label %s printed to %s", content.ticket, where)
            case PrintReceipt(number):
                where = self._print_receipt(db, int(number))
                log.info("receipt %s printed to %s", number, where)

    def _reprint(self, db: sqlite3.Connection, done: Future[str], number: int, by: str) -> None:
        try:
            done.set_result(self._print_receipt(db, number, copy_by=by))
        except Exception as exc:  # the command records the failure with its reason
            done.set_exception(exc)

    def _printer_loop(self) -> None:
        """One thread talks to the printer: labels when asked, the paper state in between."""
        db = open_database(self.config.database_path)
        try:
            self._serve_printer(db)
        finally:
            db.close()

    def _serve_printer(self, db: sqlite3.Connection) -> None:
        last: PaperState | None = None
        while not self._stop.is_set():
            try:
                paper = _PAPER[self.printer.status()]
            except Exception:  # a broken status read is an offline printer, not a dead thread
                log.exception("printer status failed")
                paper = PaperState.OFFLINE
            self._paper = paper
            if paper is not last:
                self.post(PrinterChanged(paper))
                last = paper
            try:
                job = self._printer_jobs.get(timeout=PRINTER_POLL_S)
            except queue.Empty:
                continue
            if job is _STOP:
                return
            if isinstance(job, tuple):  # a receipt copy: its caller waits for the outcome
                self._reprint(db, *job)
                continue
            if isinstance(job, Future):  # a test label: its caller waits for the outcome
                try:
                    job.set_result(self._test_label())
                except Exception as exc:  # the command records the failure with its reason
                    job.set_exception(exc)
                continue
            try:
                self._carry_out_job(db, job)
            except ComptoirError as exc:
                log.warning("not printed: %s", exc)

    def _payment_loop(self) -> None:
        while True:
            job = self._payments.get()
            try:
                if job is _STOP:
                    return
                charge, reply = job
                assert self.checkout is not None
                try:
                    answer = self.checkout.charge(charge)
                except Exception as exc:  # the attempt is recorded: staff settle it
                    log.exception("payment could not be completed")
                    answer = PaymentAnswered(
                        PaymentOutcome.UNKNOWN, charge.amount_cents, "", str(exc)
                    )
                if answer.outcome is PaymentOutcome.ERROR:
                    self._terminal_lost.set()
                    self.post(TerminalChanged(False))
                reply(answer)
            finally:
                self._payments.task_done()

    def _terminal_loop(self) -> None:
        """After the terminal failed, check it quietly until it answers again."""
        while not self._stop.is_set():
            if not self._terminal_lost.wait(0.5):
                continue
            if self._stop.wait(TERMINAL_RETRY_S):
                return
            if self.terminal is not None and self.terminal.available():
                self._terminal_lost.clear()
                self.post(TerminalChanged(True))
