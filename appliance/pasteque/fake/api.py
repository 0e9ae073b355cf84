"""What the fake server does with a write: tickets one by one (§2.4), sessions open and close
(§2.3), and the reads built from what it stored (summary, sync). Call with `state.lock` held.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.pasteque.fake.model import (
    WRITE_ONCE,
    InvalidField,
    InvalidRecord,
    Rejected,
    Unicity,
    WriteOnce,
    carried,
    new_session,
    read_session,
    read_ticket,
    same,
)
from appliance.pasteque.fake.state import CashRegister, FakeState, Struct, php_round

NOT_OPEN = "Trying to close a session that was not registered as open."
READ_ONLY_SESSION = "Closed sessions are read-only."


def fiscal_sequence(register_id: Any) -> str:
    return f"{register_id:010d}" if isinstance(register_id, int) else "general"


def failure_sequence(register_id: Any) -> str:
    return f"failure-{register_id:010d}" if isinstance(register_id, int) else "failure-general"


def record_failure(state: FakeState, type_: str, register_id: Any, raw: Any, reason: Any) -> None:
    """Every refused write leaves a signed trace, so the client may purge it locally."""
    content = json.dumps({"input": raw, "reason": reason}, ensure_ascii=False, sort_keys=True)
    state.fiscal.append(type_, failure_sequence(register_id), state.now_s(), content)


# -- tickets --------------------------------------------------------------------------------------


def write_tickets(state: FakeState, batch: list[Any], *, as_errors: bool = False) -> Struct:
    """`POST /api/ticket`: each ticket on its own, in order; one bad ticket blocks no other."""
    answer: Struct = {"successes": [], "failures": [], "errors": []}
    for raw in batch:
        ident = _ident(raw)
        if as_errors:
            message = "Error: SQLSTATE[HY000]: General error: 5 database is locked"
            answer["errors"].append({**ident, "message": message})
            continue
        try:
            ticket = _accept_ticket(state, raw)
        except (InvalidField, InvalidRecord, Unicity) as exc:
            if isinstance(exc, InvalidRecord):
                message = json.dumps(exc.struct, ensure_ascii=False)
            else:
                message = json.dumps({"input": raw, "error": exc.struct}, ensure_ascii=False)
            record_failure(state, "tkt", ident["cashRegister"], raw, exc.struct)
            answer["failures"].append({**ident, "message": message})
            continue
        answer["successes"].append(_ident(ticket))
    return answer


def _accept_ticket(state: FakeState, raw: Any) -> Struct:
    ticket = read_ticket(state, raw)
    register_id, number = ticket["cashRegister"], ticket["number"]
    key = {"cashRegister": register_id, "number": number}
    if number == 0:
        raise InvalidRecord("Generated", "Ticket", key, "Ticket number 0 is reserved.")
    session = state.sessions.get((register_id, ticket["sequence"]))
    if session is None:
        raise InvalidField(
            "AssociationNotFound", "Ticket", "cashRegister&sequence", ticket["sequence"], key
        )
    if session["openDate"] is None or session["closeDate"] is not None:
        raise InvalidField("OpenedCashRequired", "Ticket", "sequence", ticket["sequence"], key)
    existing = state.tickets.get((register_id, number))
    if existing is not None:
        if same(existing, ticket):
            return existing  # identical resubmission: a success, no new fiscal record
        raise InvalidRecord("ReadOnly", "Ticket", key, "Tickets are read only.")
    ticket["id"] = state.next_id()
    state.tickets[(register_id, number)] = ticket
    content = json.dumps(ticket, ensure_ascii=False, sort_keys=True)
    state.fiscal.append("tkt", fiscal_sequence(register_id), ticket["date"], content)
    register = state.registers[register_id]
    register.next_ticket_id = max(register.next_ticket_id, number + 1)
    return ticket


def _ident(raw: Any) -> Struct:
    raw = raw if isinstance(raw, dict) else {}
    return {k: raw.get(k) for k in ("cashRegister", "sequence", "number")}


# -- sessions -------------------------------------------------------------------------------------


def write_session(state: FakeState, raw: Any) -> Struct:
    """`POST /api/cash`: open or close, found by (cashRegister, sequence)."""
    session, close_type = read_session(state, raw)
    register_id, sequence = session["cashRegister"], session["sequence"]
    if sequence == 0:
        raise Rejected("Session sequence 0 is reserved.")
    existing = state.sessions.get((register_id, sequence))
    if existing is None:
        if session["closeDate"] is not None:
            raise Rejected(NOT_OPEN)
        existing = new_session(register_id, sequence, session["continuous"])
        existing["id"] = state.next_id()
        state.sessions[(register_id, sequence)] = existing
    elif existing["closeDate"] is not None:
        if same(existing, session):
            return existing
        raise Rejected(READ_ONLY_SESSION)
    for name in WRITE_ONCE:
        if (
            existing[name] is not None
            and session[name] is not None
            and not same(existing[name], session[name])
        ):
            raise WriteOnce(f"{name} is already set and cannot change")
    if existing["id"] is None:
        existing["id"] = state.next_id()
    if session["closeDate"] is None:
        _merge(existing, session, ("csPeriod", "csFYear", "csPerpetual", "taxes"), closing=False)
        return existing
    if existing["openDate"] is None:
        raise Rejected(NOT_OPEN)
    if session["csPerpetual"] is None:  # older clients: previous perpetual + cs
        session["csPerpetual"] = php_round(existing["csPerpetual"] + (session["cs"] or 0.0), 5)
    _merge(existing, session, (), closing=True)
    _close(state, state.registers[register_id], existing, close_type)
    return existing


def _merge(stored: Struct, incoming: Struct, ignored: tuple[str, ...], *, closing: bool) -> None:
    """Values given replace the stored ones; on close the lists are the session's whole Z."""
    for name, value in incoming.items():
        if name in ignored or name == "id":
            continue
        if isinstance(value, list):
            if closing or value:
                stored[name] = value
        elif value is not None:
            stored[name] = value


def _close(state: FakeState, register: CashRegister, session: Struct, close_type: int) -> None:
    """The Z: a fiscal record of the whole session, then the next session, sums carried."""
    z = {
        **session,
        "cashRegisterReference": register.reference,
        "cashRegisterLabel": register.label,
        "payments": [
            {**p, "paymentModeReference": state.payment_modes[p["paymentMode"]].reference}
            for p in session["payments"]
        ],
        "closeType": close_type,
        "version": state.version,
    }
    content = json.dumps(z, ensure_ascii=False, sort_keys=True)
    state.fiscal.append("z", fiscal_sequence(register.id), session["closeDate"], content)
    following = (register.id, session["sequence"] + 1)
    if following not in state.sessions:
        state.sessions[following] = carried(session, close_type)
        state.sessions[following]["id"] = state.next_id()


# -- reads ----------------------------------------------------------------------------------------


def summary(state: FakeState, register_id: int, sequence: int) -> Struct:
    """`GET /api/cashsession/summary/...`: totals the server computes from its own tickets."""
    tickets = state.session_tickets(register_id, sequence)
    payments: dict[tuple[str, int], list[float]] = {}
    taxes: dict[int, list[float]] = {}
    cats: dict[int, float] = {}
    cat_taxes: dict[tuple[int, int], list[float]] = {}
    cs = 0.0
    for ticket in tickets:
        cs += ticket["finalPrice"]
        for p in ticket["payments"]:
            key = (state.payment_modes[p["paymentMode"]].reference, p["currency"])
            sums = payments.setdefault(key, [0.0, 0.0])
            sums[0] += p["amount"]
            sums[1] += p["currencyAmount"]
        for t in ticket["taxes"]:
            sums = taxes.setdefault(t["tax"], [0.0, 0.0])
            sums[0] += t["base"]
            sums[1] += t["amount"]
        for line in ticket["lines"]:
            product = state.products.get(line["product"] or 0)
            if product is None:
                continue
            taxed = line["finalTaxedPrice"] if line["finalTaxedPrice"] is not None else 0.0
            base = taxed / (1 + line["taxRate"])
            cats[product.category] = cats.get(product.category, 0.0) + base
            sums = cat_taxes.setdefault((product.category, line["tax"]), [0.0, 0.0])
            sums[0] += base
            sums[1] += taxed - base
    return {
        "cashRegister": register_id,
        "sequence": sequence,
        "ticketCount": len(tickets),
        "custCount": sum(t["custCount"] or 0 for t in tickets),
        "paymentCount": sum(len(t["payments"]) for t in tickets),
        "cs": php_round(cs, 5),
        "payments": [
            {"type": ref, "currency": cur, "amount": php_round(a, 5), "currencyAmount": b}
            for (ref, cur), (a, b) in sorted(payments.items())
        ],
        "taxes": [
            {"tax": tax, "base": php_round(b, 5), "amount": php_round(a, 5)}
            for tax, (b, a) in sorted(taxes.items())
        ],
        "catSales": [{"category": c, "amount": php_round(a, 2)} for c, a in sorted(cats.items())],
        "catTaxes": [
            {
                "tax": tax,
                "reference": state.categories[c].reference,
                "label": state.categories[c].label,
                "base": php_round(b, 2),
                "amount": php_round(a, 2),
            }
            for (c, tax), (b, a) in sorted(cat_taxes.items())
        ],
        "custBalances": [],
    }


def current_session(state: FakeState, register: CashRegister) -> Struct:
    """The latest session of the register; session 1 is made when it has none."""
    mine = [s for (r, _), s in state.sessions.items() if r == register.id]
    if mine:
        return max(mine, key=lambda s: s["sequence"])
    first = new_session(register.id, 1, True)
    first["id"] = state.next_id()
    state.sessions[(register.id, 1)] = first
    return first


def sync(state: FakeState, register: CashRegister) -> Struct:
    """`GET /api/sync/{label}`: the register, its current session and every list a till uses."""
    return {
        "cashRegister": register.to_struct(),
        "cash": current_session(state, register),
        "paymentmodes": [m.to_struct() for m in state.payment_modes.values()],
        "currencies": [c.to_struct() for c in state.currencies.values()],
        "floors": [],
        "users": [u.to_struct() for u in state.users.values()],
        "roles": [{"id": 1, "name": "Caisse", "permissions": []}],
        "taxes": [t.to_struct() for t in state.taxes.values()],
        "categories": [c.to_struct() for c in state.categories.values()],
        "products": [p.to_struct(state.taxes) for p in state.products.values() if p.visible],
        "tariffareas": [],
        "discounts": [],
        "customers": [],
        "topcustomers": [],
        "discountprofiles": [],
        "resources": [],
        "options": [],
    }
