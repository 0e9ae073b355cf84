"""The card terminal's own thread: one payment at a time, and a lost terminal watched quietly.

A payment the terminal could not even start (ERROR: unreachable, refused) marks it lost and
`on_available(False)` is heard; from then on the worker checks it every `retry_s` without any
financial request, and `on_available(True)` is heard when it answers again. Payments are never
retried here: a request sent once is answered once (see `payment.base`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

from appliance.core.payment import PaymentOutcome, PaymentResult
from appliance.devices.payment.base import Terminal
from appliance.devices.worker import Worker

#: How often a lost terminal is tried again.
RETRY_S = 5.0


class TerminalWorker(Worker):
    def __init__(
        self,
        terminal: Terminal,
        on_available: Callable[[bool], None],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        super().__init__("terminal", interval_s=0.5)
        self.terminal = terminal
        self.on_available = on_available
        self.retry_s = retry_s
        self.lost = False
        self._next_check = 0.0

    def pay(self, amount_cents: int, reference: str) -> Future[PaymentResult]:
        """Charge once; `reference` is the write-ahead attempt id."""
        return self.submit(lambda: self._pay(amount_cents, reference))

    def _pay(self, amount_cents: int, reference: str) -> PaymentResult:
        result = self.terminal.pay(amount_cents, reference)
        if result.outcome is PaymentOutcome.ERROR and not self.lost:
            self.lost = True
            self._next_check = time.monotonic() + self.retry_s
            self.on_available(False)
        return result

    def chore(self) -> None:
        if not self.lost or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + self.retry_s
        if self.terminal.available():
            self.lost = False
            self.on_available(True)
