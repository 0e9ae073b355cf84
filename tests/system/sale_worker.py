"""A kiosk's payment loop, alone in its process, for the crash test to kill.

    python tests/system/sale_worker.py --config FILE --terminal HOST:PORT --sales N

It calls `payments.recover` first, like the kiosk at start, then runs begin_attempt -> pay on the
real terminal (simulator) -> complete_sale N times and prints one line per sale. With
SALE_WORKER_PAUSE_AT set to a step name it stops dead at the first time it reaches that step and
prints `paused STEP`, so the test can SIGKILL it exactly there:

- `after_begin`: the attempt is PENDING on disk, nothing sent to the terminal yet;
- `after_pay`: the terminal answered, nothing of the answer written yet;
- `in_complete`: inside complete_sale's transaction, sale, lines, stock and journal written,
  outbox event not yet.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
from typing import Any

from appliance import config as config_module
from appliance.core.sale import Basket, SaleLine
from appliance.devices.payment.caisse_ap import CaisseApTerminal, split_address
from appliance.store import catalogue, outbox, payments, sales
from appliance.store.db import open_database

PAUSE_AT = os.environ.get("SALE_WORKER_PAUSE_AT", "")


def reached(step: str) -> None:
    if step == PAUSE_AT:
        print(f"paused {step}", flush=True)
        threading.Event().wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--terminal", required=True)
    parser.add_argument("--sales", type=int, default=1)
    args = parser.parse_args()
    config = config_module.load(config_module.config_path(args.config))
    db = open_database(config.database_path)
    host, port = split_address(args.terminal)
    card = CaisseApTerminal(host, port, timeout_s=60)
    products = catalogue.list_products(db)

    emit = outbox.emit

    def emit_after_pause(*a: Any, **kw: Any) -> outbox.Event:
        reached("in_complete")
        return emit(*a, **kw)

    outbox.emit = emit_after_pause

    for attempt_id in payments.recover(db):
        print(f"recovered {attempt_id}", flush=True)
    for _ in range(args.sales):
        basket = Basket(
            tuple(
                SaleLine.weighed(p, random.randint(100, 900))
                if p.by_weight
                else SaleLine.pieces(p, random.randint(1, 3))
                for p in random.sample(products, random.randint(1, len(products)))
            )
        )
        reached("before_begin")
        attempt_id = payments.begin_attempt(db, basket.total_cents, basket)
        reached("after_begin")
        result = card.pay(basket.total_cents, attempt_id)
        reached("after_pay")
        sale = sales.complete_sale(db, attempt_id, result, config.device.id)
        receipt = sale.receipt_number if sale else "-"
        print(f"sale {attempt_id} {result.outcome} {receipt}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
