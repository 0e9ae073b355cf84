"""The one executor of the kiosk's intentions, and what the devices say turned into events.

Every intention the flows return goes through `Effects.carry_out`: to a device's own worker for
what a device alone does (the scale's article, a door), to the till for a charge, to the shop
actions for what is recorded. Nothing here blocks the caller: answers come back as events
through `post`, which the app wires to `Clock.schedule_once` (thread-safe). The devices are
opened in their own threads too, so the UI thread never touches a port or the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any

from appliance.config import Config
from appliance.core.payment import PaymentResult
from appliance.core.weighing import Reading, ReadingStatus
from appliance.devices.locks.base import LockController
from appliance.devices.locks.door_watch import DoorNotice, Notice
from appliance.devices.locks.worker import LockWorker, Unlock, Unlocked
from appliance.devices.payment.base import Terminal
from appliance.devices.payment.worker import TerminalWorker
from appliance.devices.printers.base import LabelPrinter
from appliance.devices.printers.status import PrinterStatus
from appliance.devices.printers.worker import PrinterWorker
from appliance.devices.scales.base import Article
from appliance.devices.scales.monitor import ScaleMonitor
from appliance.devices.speaker import Speaker
from appliance.devices.worker import log_failure
from appliance.errors import ComptoirError
from appliance.kiosk import health
from appliance.kiosk.checkout import Checkout
from appliance.kiosk.flows.events import (
    DoorClosed,
    DoorNotOpened,
    DoorOpened,
    DoorWarning,
    Event,
    LockFailed,
    PrinterChanged,
    ReadingArrived,
    TerminalChanged,
)
from appliance.kiosk.flows.intentions import Charge, Intention, OpenDoor, Say, SetArticle
from appliance.kiosk.flows.values import PaperState
from appliance.kiosk.shop_actions import ShopActions, Till, printer_error
from appliance.said import said

log = logging.getLogger(__name__)

Post = Callable[[Event], None]

#: How long a remote `open_door` waits for the lock and its record.
REMOTE_OPEN_TIMEOUT_S = 30.0
#: Beyond the terminal's own timeout, how long the till waits before calling the outcome unknown.
ANSWER_MARGIN_S = 30.0

_PAPER = {
    PrinterStatus.ONLINE: PaperState.OK,
    PrinterStatus.UNKNOWN: PaperState.OK,  # a printer that cannot read back is assumed fed
    PrinterStatus.PAPER_NEAR_END: PaperState.NEAR_END,
    PrinterStatus.PAPER_OUT: PaperState.OUT,
    PrinterStatus.OFFLINE: PaperState.OFFLINE,
}


def _open_locks(site: Config) -> LockController | None:
    from appliance.devices.locks.factory import open_locks

    return open_locks(site.lockers)


class Effects:
    """The devices, the till and the shop's records of one kiosk, behind intentions and events."""

    def __init__(
        self,
        site: Config,
        printer: LabelPrinter,
        terminal: Terminal | None,
        post: Post,
        *,
        open_locks: Callable[[], LockController | None] | None = None,
    ) -> None:
        self.site = site
        self.post = post
        self.scale = (
            ScaleMonitor(site.scale, self._reading) if site.scale.protocol != "none" else None
        )
        self.printer = PrinterWorker(printer, self._printer)
        self.terminal = TerminalWorker(terminal, self._terminal) if terminal else None
        self.locks = (
            LockWorker(site.lockers, open_locks or partial(_open_locks, site), self._door)
            if site.lockers.controller != "none"
            else None
        )
        self.shop = ShopActions(site, self.printer)
        self.speaker = Speaker(site.kiosk.speech_wav_dir)
        checkout = (
            Checkout(self._pay, site.device.id, site.kiosk.receipt_base_url)
            if self.terminal
            else None
        )
        self.till = Till(site, checkout)
        self._scale_status: ReadingStatus | None = None
        self._last_reading: tuple[float, Reading] | None = None

    def start(self) -> Effects:
        """Start every thread; the first jobs (recovering payments, the wall's compartments) run
        in them before anything the flows ask."""
        self.till.worker.start()
        self.till.worker.run(self.till.start).add_done_callback(log_failure("payment recovery"))
        self.shop.worker.start()
        self.shop.worker.run(self.shop.start).add_done_callback(log_failure("locker set-up"))
        if self.scale:
            self.scale.start()
        else:
            self.post(ReadingArrived(Reading(ReadingStatus.ERROR, detail="no scale configured")))
        self.printer.start()
        self.speaker.start()
        if self.terminal:
            self.terminal.start()
        if self.locks:
            self.locks.start()
        return self

    def stop(self) -> None:
        if self.locks:
            self.locks.stop()
        if self.terminal:
            self.terminal.stop()
        self.printer.stop()
        self.speaker.stop()
        if self.scale:
            self.scale.stop()
        self.shop.worker.stop()
        self.till.worker.run(self.till.stop).add_done_callback(log_failure("recording the stop"))
        self.till.worker.stop()

    @property
    def paying(self) -> bool:
        return self.till.paying

    # -- the one way intentions are carried out -------------------------------------------------

    def carry_out(self, intention: Intention) -> None:
        match intention:
            case SetArticle(product):
                if self.scale:
                    article = Article(product.unit_price_cents, product.tare_g)
                    self.scale.set_article(article).add_done_callback(log_failure("set article"))
            case OpenDoor(compartment=number):
                self._unlock(number).add_done_callback(self._unlocked)
            case Say(text=text, language=language):
                self.speaker.say(text, language)
            case Charge():
                till = self.till
                self._answer(till.pay(partial(till.charge, charge=intention)), intention)
            case _:
                shop = self.shop
                self._answer(shop.worker.run(partial(shop.answer, intention=intention)), intention)

    def _pay(self, amount_cents: int, attempt_id: str) -> PaymentResult:
        """In the till's thread: the terminal worker's answer, or an error after its timeout
        (the attempt then stays unknown for staff to settle)."""
        assert self.terminal is not None
        wait_s = self.site.payment.timeout_s + ANSWER_MARGIN_S
        return self.terminal.pay(amount_cents, attempt_id).result(wait_s)

    def _answer(self, future: Future[Any], intention: Intention) -> None:
        def answered(done: Future[Any]) -> None:
            exc = done.exception()
            if exc is not None:
                log.error("%s failed: %s", type(intention).__name__, exc, exc_info=exc)
            elif done.result() is not None:
                self.post(done.result())

        future.add_done_callback(answered)

    # -- doors ----------------------------------------------------------------------------------

    def _unlock(self, number: int) -> Future[Unlock]:
        if self.locks is None:
            refused: Future[Unlock] = Future()
            refused.set_result(Unlock(number, Unlocked.FAULT, "no lockers are configured"))
            return refused
        return self.locks.unlock(number)

    def _unlocked(self, done: Future[Unlock]) -> None:
        """In the lock worker's thread, before its next door notice: the flow hears in order."""
        try:
            unlock = done.result()
        except Exception as exc:  # a bug in a driver: the door did not open for the customer
            log.exception("unlock failed")
            self.post(LockFailed(-1, str(exc)))
            return
        n = unlock.compartment
        if unlock.outcome is Unlocked.OPENED:
            self.post(DoorOpened(n))
        elif unlock.outcome is Unlocked.STAYED_SHUT:
            self.post(DoorNotOpened(n))
        else:
            self.post(LockFailed(n, unlock.message))

    def open_door(self, number: int, requested_by: str, reason: str) -> dict[str, Any]:
        """A remote opening (device command), audited; raises ComptoirError when it failed."""
        unlock = self._unlock(number).result(REMOTE_OPEN_TIMEOUT_S)
        shop = self.shop
        shop.worker.run(
            partial(
                shop.record_remote_open, unlock=unlock, requested_by=requested_by, reason=reason
            )
        ).result(REMOTE_OPEN_TIMEOUT_S)
        if unlock.outcome is Unlocked.STAYED_SHUT:
            raise ComptoirError(
                said("door %(number)s stayed shut after the unlock: check the lock", number=number)
            )
        if unlock.outcome is Unlocked.FAULT:
            raise ComptoirError(
                said("door %(number)s: %(problem)s", number=number, problem=unlock.message)
            )
        return {"compartment": number, "opened": True}

    # -- what the devices say (in their threads) --------------------------------------------------

    def _reading(self, reading: Reading) -> None:
        self._scale_status = reading.status
        self._last_reading = (time.monotonic(), reading)
        self.post(ReadingArrived(reading))

    def next_reading(self, timeout_s: float) -> Reading | None:
        """The first scale reading after now (the hardware test), None if none came in time."""
        asked = time.monotonic()
        while time.monotonic() < asked + timeout_s:
            last = self._last_reading
            if last is not None and last[0] >= asked:
                return last[1]
            time.sleep(0.05)
        return None

    def _printer(self, status: PrinterStatus) -> None:
        if status in (PrinterStatus.PAPER_OUT, PrinterStatus.OFFLINE):
            self.shop.worker.run(partial(printer_error, problem=status.value)).add_done_callback(
                log_failure("printer error event")
            )
        self.post(PrinterChanged(_PAPER[status]))

    def _terminal(self, available: bool) -> None:
        self.post(TerminalChanged(available))

    def _door(self, notice: DoorNotice) -> None:
        shop = self.shop
        shop.worker.run(partial(shop.record_notice, notice=notice)).add_done_callback(
            log_failure(f"door notice {notice.notice.value}")
        )
        n = notice.compartment
        if n is not None and notice.notice is Notice.CLOSED:
            self.post(DoorClosed(n, notice.item_present))
        elif n is not None and notice.notice is Notice.OPEN_WARNING:
            self.post(DoorWarning(n))

    def health(self) -> dict[str, str]:
        """One word per device, for the kiosk's heartbeat."""
        printer = self.printer.status
        terminal = (
            health.NOT_CONFIGURED
            if self.terminal is None
            else "missing"
            if self.terminal.lost
            else "ok"
        )
        return {
            "scale": health.scale_word(self._scale_status) if self.scale else health.NOT_CONFIGURED,
            "printer": _PAPER[printer].value if printer else "starting",
            "terminal": terminal,
            "locks": self.locks.health if self.locks else health.NOT_CONFIGURED,
            "sensors": health.sensors_word(self.site.haccp),
        }
