"""The invariants checked at the end of a run, each against evidence outside the box where there
is some: the terminal simulator's ledger of what it charged, the fake marketplace's requests,
the MQTT consumer's receipts, the box's own verification commands, /proc.

The box's database is read read-only, as an auditor would; nothing here writes to it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.devices.payment.caisse_ap import request_id
from appliance.pasteque import euros
from appliance.pasteque.mapping import Mapping, Paid
from appliance.pasteque.sessions import read_z
from appliance.store import pasteque as till_store

#: Resident memory growth allowed per simulated day after warm-up.
RSS_GOAL_MB_PER_DAY = 1.0
#: Open files are judged by their floor, not a slope: the fewest a run holds in the first half of
#: its samples after warm-up against the fewest in its last quarter. A socket open for a request
#: at the instant of a sample adds +1 here and there (what made a slope of +0.25/day out of 11 ->
#: 12); a leak raises the floor itself. Goal 0: the floor never rises. Samples taken while a
#: fault is injected do not count: the agent holds one file fewer while the broker is away (a
#: week's floor "rose" 17 -> 18 for that alone).
FD_FLOOR_GROWTH_GOAL = 0
#: A slope needs this much of a run after warm-up to mean something.
MIN_SPAN_DAYS = 2.0


@dataclass
class Check:
    name: str
    held: bool
    figure: str
    details: list[str] = field(default_factory=list)
    judged: bool = True  # False: measured and printed, not enough run to judge

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "held": self.held if self.judged else None,  # null: measured, not judged
            "judged": self.judged,
            "figure": self.figure,
            "details": self.details[:20],
        }


def open_readonly(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    return db


def payments(db: sqlite3.Connection, ledger: list[Any]) -> list[Check]:
    """Every charge the terminal made is recorded once (a sale, or an unknown outcome staff
    must settle); no sale without a charge; no card charged twice for one attempt."""
    attempts = {
        cj: (aid, state)
        for aid, state in db.execute("SELECT id, state FROM payment_attempts")
        for cj in [request_id(aid)]
    }
    sales_by_attempt = Counter(a for (a,) in db.execute("SELECT attempt_id FROM sales"))
    charged = [r for r in ledger if r.charged]
    per_cj = Counter(r.request_id for r in charged)
    missing, doubled, unsettled = [], [], []
    for cj, times in per_cj.items():
        if times > 1:
            doubled.append(f"request {cj} charged {times} times")
        found = attempts.get(cj)
        if found is None:
            missing.append(f"charge {cj}: no payment attempt recorded")
            continue
        attempt_id, state = found
        sold = sales_by_attempt.get(attempt_id, 0)
        if state in ("approved", "charged") and sold != 1:
            missing.append(f"attempt {attempt_id} ({state}) has {sold} sales")
        elif state == "unknown":
            unsettled.append(attempt_id)
        elif state not in ("approved", "charged", "unknown"):
            missing.append(f"attempt {attempt_id} charged but recorded {state}")
    charged_attempts = {attempts[cj][0] for cj in per_cj if cj in attempts}
    phantom = [a for a in sales_by_attempt if a not in charged_attempts]
    unknown_alerts = {
        s for (s,) in db.execute("SELECT subject FROM alerts WHERE kind = 'payment_unknown'")
    }
    silent = [a for a in unsettled if a not in unknown_alerts]
    return [
        Check(
            "every approved payment recorded exactly once",
            not missing and not doubled and not silent,
            f"{len(per_cj)} charges, {sum(sales_by_attempt.values())} sales, "
            f"{len(unsettled)} unknown outcomes left for staff",
            missing + doubled + [f"unknown outcome {a} without an alert" for a in silent],
        ),
        Check(
            "no sale without an approved payment",
            not phantom,
            f"{len(phantom)} sales without a charge",
            [f"sale for attempt {a}" for a in phantom],
        ),
    ]


def orders(
    db: sqlite3.Connection,
    ship_requests: list[str],
    shipped: list[str],
    cancelled: dict[str, str],
) -> list[Check]:
    """Collected orders reported once; none handed out twice; none handed out once cancelled.

    `shipped` lists the marketplace's "received" notices, one per order that moved to shipped:
    `ship` is idempotent and may be retried after a lost answer, so requests may exceed one,
    the move may not."""
    pickups = [
        json.loads(p)
        for (p,) in db.execute("SELECT payload FROM outbox WHERE type = 'order_collected'")
    ]
    collected_events = Counter(p["number"] for p in pickups)
    collected_at = {p["number"]: p["collected_at"] for p in pickups}
    collected = {n for (n,) in db.execute("SELECT number FROM orders WHERE state = 'collected'")}
    moves = Counter(shipped)
    twice = [f"{n} collected {c} times" for n, c in collected_events.items() if c > 1]
    unreported = [
        f"{n} collected, shipped {moves.get(n, 0)} times" for n in collected if moves.get(n) != 1
    ]
    handed_cancelled = []
    for number, when in cancelled.items():
        if collected_at.get(number, "") > when:
            handed_cancelled.append(
                f"{number} cancelled at {when}, collected at {collected_at[number]}"
            )
    return [
        Check(
            "every collected order reported to the marketplace exactly once",
            not unreported,
            f"{len(collected)} collected, {sum(moves.values())} shipped, "
            f"{len(ship_requests)} ship requests",
            unreported,
        ),
        Check("no order handed out twice", not twice, f"{len(collected_events)} pickups", twice),
        Check(
            "no cancelled order handed out",
            not handed_cancelled,
            f"{len(cancelled)} cancelled online",
            handed_cancelled,
        ),
    ]


def outbox_delivered(db: sqlite3.Connection, received: Counter[str]) -> Check:
    produced = [e for (e,) in db.execute("SELECT event_id FROM outbox ORDER BY id")]
    missing = [e for e in produced if e not in received]
    twice = sum(1 for e in produced if received.get(e, 0) > 1)
    return Check(
        "every outbox event delivered to MQTT",
        not missing,
        f"{len(produced)} events, {len(missing)} missing, {twice} delivered twice (deduped)",
        [f"event {e} never arrived" for e in missing],
    )


def closings_equal_tickets(
    db: sqlite3.Connection, closings: list[dict[str, Any]], days: list[str]
) -> Check:
    """Each daily closing equals the sales recorded in its period; every finished day closed."""
    wrong = []
    daily = [c for c in closings if c.get("period") == "day"]
    for closing in daily:
        start, end = closing["start"], closing["end"]
        tickets, total = db.execute(
            "SELECT count(*), coalesce(sum(total_cents), 0) FROM sales "
            "WHERE created_at >= ? AND created_at < ?",
            (_stored(start), _stored(end)),
        ).fetchone()
        if (tickets, total) != (closing["tickets"], closing["total_cents"]):
            wrong.append(
                f"closing {closing['number']} ({closing.get('label', start)}): "
                f"{closing['tickets']} tickets {closing['total_cents']} c, "
                f"sales say {tickets} tickets {total} c"
            )
    labels = " ".join(json.dumps(c) for c in daily)
    unclosed = [d for d in days if d not in labels]
    return Check(
        "daily closings equal their tickets, every day closed at night",
        not wrong and not unclosed,
        f"{len(daily)} daily closings for {len(days)} days",
        wrong + [f"day {d} has no closing" for d in unclosed],
    )


TILL_CHECK = "the till's cash sessions equal the box's daily closings to the cent"


def till_sessions(db: sqlite3.Connection, till: Any, daily: list[Any]) -> list[Check]:
    """The shop's Pastèque holds every ticket the box numbered, once, and for each daily
    closing with sales a closed cash session whose card tickets are that closing to the cent:
    in number, by VAT rate and in total, both in the tickets it stored and in the Z it closed
    (online orders handed out at the box are tickets of their own, paid online)."""
    state = till_store.gateway(db)
    if not state.mapping:
        return [Check(TILL_CHECK, False, "the gateway never reached the till")]
    mapping = Mapping.from_json(state.mapping)
    register, card = mapping.register_id, mapping.modes[Paid.CARD.value]
    numbered = {t.number for t in till_store.tickets(db)}
    with till.lock:
        stored = {n for (r, n) in till.tickets if r == register}
    sent = Check(
        "every ticket reached the till once",
        stored == numbered,
        f"{len(numbered)} tickets numbered by the box, {len(stored)} in the till",
        [f"ticket {n} missing" for n in sorted(numbered - stored)]
        + [f"ticket {n} unknown to the box" for n in sorted(stored - numbered)],
    )
    sequences = {
        json.loads(s.closing or "{}").get("number"): s.sequence for s in till_store.sessions(db)
    }
    closed = {int(s["sequence"]): s for s in till.closed_sessions(register)}
    wrong, compared = [], 0
    for closing in daily:
        box = closing.data
        if not box.get("tickets"):
            continue
        sequence = sequences.get(closing.number)
        session = closed.get(sequence) if sequence is not None else None
        if session is None:
            wrong.append(f"closing {closing.number}: no closed session in the till")
            continue
        compared += 1
        want = (
            box["tickets"],
            sum(p["total_cents"] for p in box["by_payment"] if p["method"] == "card"),
            {
                v["rate_bp"]: (v["total_cents"] - v["vat_cents"], v["vat_cents"])
                for v in box["by_vat"]
            },
        )
        held = _card_tickets(till.session_tickets(register, sequence), card, mapping)
        z = read_z(session, mapping)
        if held != want:
            wrong.append(f"closing {closing.number}: the till's card tickets {held}, box {want}")
        if z.by_payment.get(mapping.mode_references.get(card, ""), 0) != want[1]:
            wrong.append(
                f"closing {closing.number}: the till's Z card {z.by_payment}, box {want[1]}"
            )
    figure = f"{compared} sessions for {len([c for c in daily if c.data.get('tickets')])} closings"
    return [sent, Check(TILL_CHECK, not wrong, figure, wrong)]


def _card_tickets(
    tickets: list[dict[str, Any]], card: int, mapping: Mapping
) -> tuple[int, int, dict[int, tuple[int, int]]]:
    """(number, card total, VAT rate -> (base, VAT)) of the tickets paid by card, in cents."""
    rates = {tax: rate for rate, tax in mapping.taxes.items()}
    count, total = 0, 0
    by_vat: dict[int, tuple[int, int]] = {}
    for ticket in tickets:
        if not any(p["paymentMode"] == card for p in ticket["payments"]):
            continue
        count += 1
        total += sum(
            euros.cents(p["amount"]) for p in ticket["payments"] if p["paymentMode"] == card
        )
        for tax in ticket["taxes"]:
            base, vat = by_vat.get(rates[tax["tax"]], (0, 0))
            by_vat[rates[tax["tax"]]] = (
                base + euros.cents(tax["base"]),
                vat + euros.cents(tax["amount"]),
            )
    return count, total, by_vat


def _stored(moment: str) -> str:
    """A closing's bound in the stored-time format (ISO UTC with microseconds)."""
    from datetime import UTC

    return datetime.fromisoformat(moment).astimezone(UTC).isoformat(timespec="microseconds")


def command(name: str, done: Any) -> Check:
    text = (done.stdout + done.stderr).strip().splitlines()
    return Check(
        name,
        done.returncode == 0,
        text[0][:120] if text else f"exit {done.returncode}",
        text[1:6] if done.returncode else [],
    )


def pooled_slope(runs: list[list[tuple[float, float]]]) -> float:
    """One least-squares slope through several runs, each free to start at its own level (a
    restarted process starts small again): what each run grows by, weighted by its length."""
    num = den = 0.0
    for points in runs:
        if not points:
            continue
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        num += sum((x - mx) * (y - my) for x, y in points)
        den += sum((x - mx) ** 2 for x, _ in points)
    return num / den if den else 0.0


def fd_floor_growth(fds: list[int]) -> int:
    """How much the fewest open files of a run's last quarter exceed those of its first half."""
    half, quarter = len(fds) // 2, max(1, len(fds) // 4)
    return min(fds[-quarter:]) - min(fds[:half]) if half else 0


def resources(services: dict[str, Any], warmup_days: float) -> tuple[list[Check], dict]:
    """RSS and fd slopes per simulated day of each process, through all its runs after each
    run's own warm-up (a killed process starts again, and warms up again). Judged only when
    those runs add up to `MIN_SPAN_DAYS`: a slope over hours says nothing of a month."""
    checks: list[Check] = []
    figures: dict[str, dict[str, object]] = {}
    for name, service in services.items():
        runs = []
        for inc in service.incarnations:
            if inc.samples:
                warm = inc.samples[0]["day"] + warmup_days
                runs.append([s for s in inc.samples if s["day"] >= warm])
        runs = [r for r in runs if len(r) >= 2 and r[-1]["day"] > r[0]["day"]]
        if not runs:
            figures[name] = {"samples": 0, "judged": False}
            continue
        span = sum(r[-1]["day"] - r[0]["day"] for r in runs)
        rss = pooled_slope([[(s["day"], s["rss_mb"]) for s in r] for r in runs])
        fds = pooled_slope([[(s["day"], s["fds"]) for s in r] for r in runs])
        floor = max(fd_floor_growth([s["fds"] for s in r if not s.get("fault")]) for r in runs)
        longest = max(runs, key=lambda r: r[-1]["day"] - r[0]["day"])
        judged = span >= MIN_SPAN_DAYS
        figures[name] = {
            "span_days": round(span, 2),
            "runs": len(runs),
            "samples": sum(len(r) for r in runs),
            "rss_mb_first": round(longest[0]["rss_mb"], 1),
            "rss_mb_last": round(longest[-1]["rss_mb"], 1),
            "rss_mb_max": round(max(s["rss_mb"] for r in runs for s in r), 1),
            "rss_mb_per_day": round(rss, 3),
            "fds_first": longest[0]["fds"],
            "fds_last": longest[-1]["fds"],
            "fds_per_day": round(fds, 3),
            "fds_floor_growth": floor,
            "judged": judged,
            # every sample after warm-up, for comparing a run with the last
            "samples_after_warmup": [[dict(s) for s in r] for r in runs],
        }
        over = f"over {span:.1f} days after warm-up" + (
            "" if judged else f" (under {MIN_SPAN_DAYS:g}: not judged, make soak judges)"
        )
        checks.append(
            Check(
                f"{name}: resident memory flat",
                rss < RSS_GOAL_MB_PER_DAY or not judged,
                f"{rss:+.2f} MB/day (goal < {RSS_GOAL_MB_PER_DAY:g}) {over}",
                judged=judged,
            )
        )
        checks.append(
            Check(
                f"{name}: open files flat",
                floor <= FD_FLOOR_GROWTH_GOAL or not judged,
                f"floor {floor:+d} (goal 0; slope {fds:+.2f}/day), "
                f"{longest[0]['fds']} -> {longest[-1]['fds']}, {over}",
                judged=judged,
            )
        )
    return checks, figures


TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


def logs_clean(logs: list[Path]) -> Check:
    found = []
    for path in logs:
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            if TRACEBACK.search(line):
                tail = next(
                    (
                        lines[j]
                        for j in range(i + 1, min(i + 80, len(lines)))
                        if lines[j] and not lines[j].startswith((" ", "Traceback"))
                    ),
                    "?",
                )
                before = lines[i - 1][:160] if i else ""
                found.append(f"{path.name}:{i + 1}: {tail[:200]} (after: {before})")
    return Check("no unhandled exception in any log", not found, f"{len(found)} tracebacks", found)
