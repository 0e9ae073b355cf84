"""The fake server's model rules: reading ticket and session JSON as the server's fields do,
rounding as its setters round, and the equality behind idempotent resubmission (§2.4, §5).

A field that cannot be read raises `InvalidField` (the API's `InvalidField` with a constraint);
a record that may not be written raises `InvalidRecord`; a rule the session API enforces with a
plain message raises `Rejected`, which the route answers as HTTP 400 with that reason phrase.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from appliance.pasteque.fake.state import FakeState, Struct, php_round

FLOAT_TOLERANCE = 0.00001
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


class InvalidField(Exception):
    def __init__(self, constraint: str, klass: str, field: str, value: Any, key: Any = None):
        super().__init__(f"{klass}.{field}: {constraint}")
        self.struct = {
            "error": "InvalidField",
            "constraint": constraint,
            "class": klass,
            "field": field,
            "key": key,
            "value": value,
        }


class InvalidRecord(Exception):
    def __init__(self, constraint: str, klass: str, key: Any, message: str):
        super().__init__(message)
        self.struct = {
            "error": "InvalidRecord",
            "constraint": constraint,
            "class": klass,
            "key": key,
            "message": message,
        }


class Unicity(Exception):
    def __init__(self, klass: str, field: str, value: Any):
        super().__init__(f"{klass}.{field} repeated")
        self.struct = {"error": "UnicityException", "class": klass, "field": field, "value": value}


class Rejected(Exception):
    """The session API's plain-string rejections (HTTP 400, message as the reason phrase)."""


class WriteOnce(Exception):
    """A write-once session value changed: the model throws outside the caught exceptions."""


# -- field readers --------------------------------------------------------------------------------


def _int(raw: Struct, name: str, klass: str, *, required: bool = False) -> int | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise InvalidField("NotNull", klass, name, value)
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidField("Integer", klass, name, value)
    try:
        return int(value)
    except ValueError:
        raise InvalidField("Integer", klass, name, value) from None


def _float(raw: Struct, name: str, klass: str, places: int | None, default: Any = None) -> Any:
    """FloatField: a JSON number or a decimal string; "" is null; rounded like the setter."""
    value = raw.get(name, default)
    if value is None or value == "":
        return default if value is None else None
    if isinstance(value, bool):
        raise InvalidField("Float", klass, name, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidField("Float", klass, name, value) from None
    return php_round(number, places) if places is not None else number


def _bool(raw: Struct, name: str, klass: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise InvalidField("Boolean", klass, name, value)
    return value


def _date(raw: Struct, name: str, klass: str, *, required: bool = False) -> int | None:
    """A Unix timestamp, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (server time: UTC here)."""
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise InvalidField("NotNull", klass, name, value)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        moment = value
    elif isinstance(value, str) and (_DAY.fullmatch(value) or _MINUTE.fullmatch(value)):
        shape = "%Y-%m-%d %H:%M" if " " in value else "%Y-%m-%d"
        try:
            moment = int(datetime.strptime(value, shape).replace(tzinfo=UTC).timestamp())
        except ValueError:
            raise InvalidField("InvalidDate", klass, name, value) from None
    else:
        raise InvalidField("InvalidDate", klass, name, value)
    if moment >= 253402300800:  # year 10000
        raise InvalidField("InvalidDate", klass, name, value)
    return moment


def _list(raw: Struct, name: str, klass: str) -> list[Struct]:
    value = raw.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidField("ArrayRequired", klass, name, value)
    return value


def _exists(state: FakeState, table: dict[int, Any], value: int | None, klass: str, name: str):
    if value is not None and value not in table:
        raise InvalidField("AssociationNotFound", klass, name, value)


# -- tickets --------------------------------------------------------------------------------------


def read_ticket(state: FakeState, raw: Any) -> Struct:
    """A ticket of the `tickets` array as the model holds it, or InvalidField / Unicity."""
    if not isinstance(raw, dict):
        raise InvalidField("ArrayRequired", "Ticket", "tickets", raw)
    if raw.get("id") is not None:
        raise InvalidField("ReadOnly", "Ticket", "id", raw.get("id"))
    klass = "Ticket"
    ticket: Struct = {
        "cashRegister": _int(raw, "cashRegister", klass, required=True),
        "sequence": _int(raw, "sequence", klass, required=True),
        "number": _int(raw, "number", klass, required=True),
        "date": _date(raw, "date", klass, required=True),
        "user": _int(raw, "user", klass),
        "custCount": _int(raw, "custCount", klass),
        "price": _float(raw, "price", klass, 2),
        "taxedPrice": _float(raw, "taxedPrice", klass, 2),
        "discountRate": _float(raw, "discountRate", klass, None, 0.0),
        "finalPrice": _float(raw, "finalPrice", klass, 2),
        "finalTaxedPrice": _float(raw, "finalTaxedPrice", klass, 2),
        "custBalance": _float(raw, "custBalance", klass, 2, 0.0),
        "customer": _int(raw, "customer", klass),
        "tariffArea": _int(raw, "tariffArea", klass),
        "discountProfile": _int(raw, "discountProfile", klass),
    }
    key = {"cashRegister": ticket["cashRegister"], "number": ticket["number"]}
    _exists(state, state.registers, ticket["cashRegister"], klass, "cashRegister")
    _exists(state, state.users, ticket["user"], klass, "user")
    for name in ("customer", "tariffArea", "discountProfile"):
        _exists(state, {}, ticket[name], klass, name)  # the fake has none of these
    lines = [_line(state, line) for line in _list(raw, "lines", klass)]
    _unique(lines, "dispOrder", klass, "lines.dispOrder")
    taxes = [_ticket_tax(state, tax) for tax in _list(raw, "taxes", klass)]
    _unique(taxes, "tax", klass, "taxes.tax")
    payments = [_payment(state, p) for p in _list(raw, "payments", klass)]
    ticket.update(lines=lines, taxes=taxes, payments=payments)
    # NOT NULL columns of the database: the write fails as a database error
    for name in ("user", "finalPrice", "finalTaxedPrice"):
        if ticket[name] is None:
            raise InvalidField("NotNull", klass, name, None, key)
    return ticket


def _line(state: FakeState, raw: Struct) -> Struct:
    klass = "TicketLine"
    line: Struct = {
        "dispOrder": _int(raw, "dispOrder", klass, required=True),
        "product": _int(raw, "product", klass),
        "productLabel": raw.get("productLabel"),
        "unitPrice": _float(raw, "unitPrice", klass, 5),
        "taxedUnitPrice": _float(raw, "taxedUnitPrice", klass, 5),
        "quantity": _float(raw, "quantity", klass, 5, 1.0),
        "price": _float(raw, "price", klass, 2),
        "taxedPrice": _float(raw, "taxedPrice", klass, 2),
        "tax": _int(raw, "tax", klass, required=True),
        "taxRate": _float(raw, "taxRate", klass, None),
        "discountRate": _float(raw, "discountRate", klass, None, 0.0),
        "finalPrice": _float(raw, "finalPrice", klass, 2),
        "finalTaxedPrice": _float(raw, "finalTaxedPrice", klass, 2),
    }
    _exists(state, state.products, line["product"], klass, "product")
    _exists(state, state.taxes, line["tax"], klass, "tax")
    if line["productLabel"] is None:
        product = state.products.get(line["product"] or 0)
        line["productLabel"] = product.label if product else ""
    if not isinstance(line["productLabel"], str):
        raise InvalidField("String", klass, "productLabel", line["productLabel"])
    for name in ("taxRate", "taxedPrice"):
        if line[name] is None:
            raise InvalidField("NotNull", klass, name, None)
    return line


def _ticket_tax(state: FakeState, raw: Struct) -> Struct:
    klass = "TicketTax"
    tax: Struct = {
        "tax": _int(raw, "tax", klass, required=True),
        "taxRate": _float(raw, "taxRate", klass, None),
        "base": _float(raw, "base", klass, 2),
        "amount": _float(raw, "amount", klass, 2),
    }
    _exists(state, state.taxes, tax["tax"], klass, "tax")
    if tax["taxRate"] is None:
        tax["taxRate"] = state.taxes[tax["tax"]].rate
    for name in ("base", "amount"):
        if tax[name] is None:
            raise InvalidField("NotNull", klass, name, None)
    return tax


def _payment(state: FakeState, raw: Struct) -> Struct:
    klass = "TicketPayment"
    mode = _int(raw, "paymentMode", klass)
    if mode is None and raw.get("desktop") is True and isinstance(raw.get("type"), str):
        found = [m for m in state.payment_modes.values() if m.reference == raw["type"]]
        if not found:
            raise InvalidField("AssociationNotFound", klass, "type", raw["type"])
        mode = found[0].id
    payment: Struct = {
        "dispOrder": _int(raw, "dispOrder", klass, required=True),
        "paymentMode": mode,
        "currency": _int(raw, "currency", klass, required=True),
        "amount": _float(raw, "amount", klass, 5),
        "currencyAmount": _float(raw, "currencyAmount", klass, 5),
    }
    if payment["paymentMode"] is None:
        raise InvalidField("NotNull", klass, "paymentMode", None)
    _exists(state, state.payment_modes, payment["paymentMode"], klass, "paymentMode")
    _exists(state, state.currencies, payment["currency"], klass, "currency")
    if payment["amount"] is None:
        raise InvalidField("NotNull", klass, "amount", None)
    if payment["currencyAmount"] is None:
        payment["currencyAmount"] = payment["amount"]
    return payment


def _unique(items: list[Struct], name: str, klass: str, field: str) -> None:
    seen = set()
    for item in items:
        if item[name] in seen:
            raise Unicity(klass, field, item[name])
        seen.add(item[name])


# -- sessions -------------------------------------------------------------------------------------

SESSION_FLOATS_5 = ("openCash", "closeCash", "expectedCash", "cs", "csPeriod", "csFYear")
WRITE_ONCE = ("openDate", "openCash", "closeDate", "closeCash", "cs", "ticketCount", "custCount")
SUMS = ("csPeriod", "csFYear", "csPerpetual")


def read_session(state: FakeState, raw: Any) -> tuple[Struct, int]:
    """A session as the model holds it, and its `closeType` (input only)."""
    if not isinstance(raw, dict):
        raise InvalidField("ArrayRequired", "CashSession", "session", raw)
    klass = "CashSession"
    session: Struct = {
        "cashRegister": _int(raw, "cashRegister", klass, required=True),
        "sequence": _int(raw, "sequence", klass, required=True),
        "continuous": _bool(raw, "continuous", klass, True),
        "openDate": _date(raw, "openDate", klass),
        "closeDate": _date(raw, "closeDate", klass),
        "ticketCount": _int(raw, "ticketCount", klass),
        "custCount": _int(raw, "custCount", klass),
    }
    for name in (*SESSION_FLOATS_5, "csPerpetual"):
        session[name] = _float(raw, name, klass, 5)
    _exists(state, state.registers, session["cashRegister"], klass, "cashRegister")
    session["payments"] = [
        {
            "paymentMode": _int(p, "paymentMode", "CashSessionPayment", required=True),
            "currency": _int(p, "currency", "CashSessionPayment", required=True),
            "amount": _float(p, "amount", "CashSessionPayment", 5, 0.0),
            "currencyAmount": _float(p, "currencyAmount", "CashSessionPayment", 5, 0.0),
        }
        for p in _list(raw, "payments", klass)
    ]
    session["taxes"] = [_session_tax(state, t) for t in _list(raw, "taxes", klass)]
    session["catSales"] = [
        {
            "reference": str(c.get("reference") or ""),
            "label": str(c.get("label") or ""),
            "amount": _float(c, "amount", "CashSessionCat", 5, 0.0),
        }
        for c in _list(raw, "catSales", klass)
    ]
    session["catTaxes"] = [
        {
            "tax": _int(c, "tax", "CashSessionCatTax", required=True),
            "reference": str(c.get("reference") or ""),
            "label": str(c.get("label") or ""),
            "base": _float(c, "base", "CashSessionCatTax", 5, 0.0),
            "amount": _float(c, "amount", "CashSessionCatTax", 5, 0.0),
        }
        for c in _list(raw, "catTaxes", klass)
    ]
    session["custBalances"] = [
        {
            "customer": _int(c, "customer", "CashSessionCustBalance", required=True),
            "balance": _float(c, "balance", "CashSessionCustBalance", 5, 0.0),
        }
        for c in _list(raw, "custBalances", klass)
    ]
    for p in session["payments"]:
        _exists(state, state.payment_modes, p["paymentMode"], "CashSessionPayment", "paymentMode")
        _exists(state, state.currencies, p["currency"], "CashSessionPayment", "currency")
    close_type = _int(raw, "closeType", klass) or 0
    if close_type not in (0, 1, 2):
        raise InvalidField("Enum", klass, "closeType", close_type)
    return session, close_type


def _session_tax(state: FakeState, raw: Struct) -> Struct:
    klass = "CashSessionTax"
    tax: Struct = {"tax": _int(raw, "tax", klass, required=True)}
    _exists(state, state.taxes, tax["tax"], klass, "tax")
    tax["taxRate"] = _float(raw, "taxRate", klass, None)
    if tax["taxRate"] is None:
        tax["taxRate"] = state.taxes[tax["tax"]].rate
    for name in ("base", "amount", "basePeriod", "amountPeriod", "baseFYear", "amountFYear"):
        tax[name] = _float(raw, name, klass, 5, 0.0)
    return tax


def new_session(register_id: int, sequence: int, continuous: bool = True) -> Struct:
    """A session as the server pre-creates it: no dates, sums at zero."""
    return {
        "id": None,
        "cashRegister": register_id,
        "sequence": sequence,
        "continuous": continuous,
        "openDate": None,
        "closeDate": None,
        "openCash": None,
        "closeCash": None,
        "expectedCash": None,
        "ticketCount": None,
        "custCount": None,
        "cs": None,
        "csPeriod": 0.0,
        "csFYear": 0.0,
        "csPerpetual": 0.0,
        "payments": [],
        "taxes": [],
        "catSales": [],
        "catTaxes": [],
        "custBalances": [],
    }


def carried(closed: Struct, close_type: int) -> Struct:
    """The next session after `closed` (`CashSession::initSums`): period sums restart after a
    period close, period and year sums after a fiscal-year close; perpetual always carries."""
    keep_period, keep_year = close_type == 0, close_type in (0, 1)
    following = new_session(closed["cashRegister"], closed["sequence"] + 1, True)
    following["csPeriod"] = closed["csPeriod"] if keep_period else 0.0
    following["csFYear"] = closed["csFYear"] if keep_year else 0.0
    following["csPerpetual"] = closed["csPerpetual"]
    following["taxes"] = [
        {
            "tax": t["tax"],
            "taxRate": t["taxRate"],
            "base": 0.0,
            "amount": 0.0,
            "basePeriod": t["basePeriod"] if keep_period else 0.0,
            "amountPeriod": t["amountPeriod"] if keep_period else 0.0,
            "baseFYear": t["baseFYear"] if keep_year else 0.0,
            "amountFYear": t["amountFYear"] if keep_year else 0.0,
        }
        for t in closed["taxes"]
    ]
    return following


# -- equality -------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Field by field as the server compares: floats to 1e-5, everything else exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - {"id"}
        return all(same(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        return abs(a - b) <= FLOAT_TOLERANCE
    return bool(a == b)
