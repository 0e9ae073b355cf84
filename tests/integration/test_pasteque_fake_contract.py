"""The fake Pastèque keeps API v8's contract as the reference describes it
(`../shared/reference/pasteque-api.md`, the section of each rule in the test's docstring).

Requests are made by hand over HTTP (urllib), not through Comptoir's client, so that the wire
itself is checked: form fields holding JSON strings, the Token header, status lines.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from appliance.marketplace.fake.scripting import SimClock
from appliance.pasteque.fake import FakeState, Fault, seed, serve
from appliance.pasteque.fake.fiscal import verify


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw.strip() else None


@dataclass
class Wire:
    base: str
    token: str = ""
    tokens: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Token": self.token} if self.token else {}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                reply = Reply(resp.status, resp.reason, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, str(exc.reason), dict(exc.headers), exc.read())
        if reply.headers.get("Token"):
            self.token = reply.headers["Token"]
            self.tokens.append(self.token)
        return reply

    def login(self, user: str = seed.DEMO_USER, password: str = seed.DEMO_PASSWORD) -> Reply:
        return self.call("POST", "/api/login", {"user": user, "password": password})

    def tickets(self, *tickets: dict[str, Any]) -> Reply:
        return self.call("POST", "/api/ticket", {"tickets": json.dumps(list(tickets))})

    def session(self, session: dict[str, Any]) -> Reply:
        return self.call("POST", "/api/cash", {"session": json.dumps(session)})


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))


@pytest.fixture
def fake(clock: SimClock) -> FakeState:
    return seed.demo(FakeState(clock=clock))


@pytest.fixture
def wire(fake: FakeState) -> Iterator[Wire]:
    with serve(fake) as base:
        w = Wire(base)
        assert w.login().status == 200
        yield w


@pytest.fixture
def shop(fake: FakeState, wire: Wire) -> dict[str, int]:
    """The register with session 1 open, and the ids a ticket names."""
    register = fake.register_by(reference=seed.DEMO_REGISTER)
    assert register is not None
    ids = {
        "register": register.id,
        "user": next(u.id for u in fake.users.values() if u.name == seed.CASHIER),
        "tax": next(t.id for t in fake.taxes.values() if t.rate == 0.055),
        "card": next(m.id for m in fake.payment_modes.values() if m.reference == "magcard"),
        "currency": next(iter(fake.currencies)),
    }
    opened = wire.session(
        {"cashRegister": register.id, "sequence": 1, "openDate": 1000, "openCash": 0}
    )
    assert opened.status == 200
    return ids


def ticket(
    ids: dict[str, int], number: int, euros: float = 2.11, sequence: int = 1
) -> dict[str, Any]:
    base = round(euros / 1.055, 2)
    return {
        "cashRegister": ids["register"],
        "sequence": sequence,
        "number": number,
        "date": 1_700_000_000 + number,
        "user": ids["user"],
        "finalPrice": base,
        "finalTaxedPrice": euros,
        "lines": [
            {
                "dispOrder": 1,
                "productLabel": "Tomate",
                "taxedUnitPrice": 5.9,
                "quantity": 0.358,
                "taxedPrice": euros,
                "finalTaxedPrice": euros,
                "tax": ids["tax"],
                "taxRate": 0.055,
            }
        ],
        "taxes": [{"tax": ids["tax"], "base": base, "amount": round(euros - base, 2)}],
        "payments": [
            {
                "dispOrder": 1,
                "paymentMode": ids["card"],
                "currency": ids["currency"],
                "amount": euros,
            }
        ],
    }


# -- §1 authentication ----------------------------------------------------------------------------


def test_a_wrong_password_is_a_200_with_null(fake: FakeState) -> None:
    """§1: failure is still HTTP 200, body `null`."""
    with serve(fake) as base:
        reply = Wire(base).login(password="wrong")
    assert (reply.status, reply.body) == (200, None)


def test_login_answers_the_token_as_a_json_string_and_in_the_token_header(fake: FakeState) -> None:
    with serve(fake) as base:
        reply = Wire(base).login()
    assert reply.status == 200 and isinstance(reply.body, str)
    assert reply.headers["Token"] == reply.body
    assert "Token=" in reply.headers["Set-Cookie"]


def test_without_a_token_every_api_path_says_not_logged(fake: FakeState) -> None:
    with serve(fake) as base:
        anonymous = Wire(base)
        for path in ("/api/version", "/api/cashregister/getAll", "/api/tax/getAll"):
            reply = anonymous.call("GET", path)
            assert (reply.status, reply.raw) == (403, b"Not logged")


def test_every_authenticated_answer_carries_a_fresh_token(wire: Wire, clock: SimClock) -> None:
    """§1 sliding renewal: the token of each reply replaces the one sent."""
    first = wire.token
    clock.sleep(5)
    assert wire.call("GET", "/api/version").status == 200
    assert wire.token != first
    clock.sleep(599)  # past the first token's 600 s, within the second's
    assert wire.call("GET", "/api/version").status == 200


def test_a_token_idle_past_jwt_timeout_is_refused(wire: Wire, clock: SimClock) -> None:
    clock.sleep(600)
    assert wire.call("GET", "/api/version").status == 403
    assert wire.login().status == 200
    assert wire.call("GET", "/api/version").body == {"version": "8.9", "level": 8}


def test_the_token_may_also_come_in_the_query_or_a_cookie(wire: Wire) -> None:
    token, wire.token = wire.token, ""
    assert wire.call("GET", f"/api/version?Token={token}").status == 200
    req = urllib.request.Request(wire.base + "/api/version", headers={"Cookie": f"Token={token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


# -- §2.1, §2.2 registers and sync ----------------------------------------------------------------


def test_a_register_is_found_by_reference_and_an_unknown_one_is_a_404(wire: Wire) -> None:
    found = wire.call("GET", f"/api/cashregister/getByReference/{seed.DEMO_REGISTER}")
    assert found.status == 200 and found.body["nextTicketId"] == 1
    missing = wire.call("GET", "/api/cashregister/getByReference/nope")
    assert missing.status == 404 and missing.body["error"] == "RecordNotFound"


def test_sync_by_label_makes_session_1_when_the_register_has_none(wire: Wire) -> None:
    label = urllib.parse.quote(seed.DEMO_LABEL)
    synced = wire.call("GET", f"/api/sync/{label}").body
    assert synced["cash"]["sequence"] == 1 and synced["cash"]["openDate"] is None
    assert {m["reference"] for m in synced["paymentmodes"]} >= {"magcard", "online"}
    assert wire.call("GET", f"/api/sync/{seed.DEMO_REGISTER}").status == 404  # a label, not a ref


def test_creating_a_register_twice_is_a_unique_value_error(wire: Wire) -> None:
    req = urllib.request.Request(
        wire.base + "/api/cashregister/caisse-2",
        data=b'{"label": "Caisse 2"}',
        method="PUT",
        headers={"Token": wire.token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["reference"] == "caisse-2"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=10)
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["constraint"] == "UniqueValue"


# -- §2.4 tickets ---------------------------------------------------------------------------------


def test_tickets_are_a_form_field_holding_a_json_array(wire: Wire, shop: dict[str, int]) -> None:
    reply = wire.call("POST", "/api/ticket", {"tickets": "{not json"})
    assert (reply.status, reply.reason) == (400, "Unable to parse input data")
    reply = wire.tickets(ticket(shop, 1))
    assert reply.status == 200
    assert reply.body == {
        "successes": [{"cashRegister": shop["register"], "sequence": 1, "number": 1}],
        "failures": [],
        "errors": [],
    }


def test_an_identical_ticket_sent_again_is_a_success_and_no_new_record(
    wire: Wire, shop: dict[str, int], fake: FakeState
) -> None:
    wire.tickets(ticket(shop, 1))
    records = len(fake.fiscal.all_records())
    again = ticket(shop, 1)
    again["finalTaxedPrice"] += 0.000001  # floats compared to 1e-5
    assert wire.tickets(again).body["successes"][0]["number"] == 1
    assert len(fake.fiscal.all_records()) == records


def test_the_same_number_with_other_content_is_a_failure_kept_as_a_signed_trace(
    wire: Wire, shop: dict[str, int], fake: FakeState
) -> None:
    wire.tickets(ticket(shop, 1))
    reply = wire.tickets(ticket(shop, 1, euros=3.0))
    assert reply.status == 200 and not reply.body["successes"]
    (failure,) = reply.body["failures"]
    message = json.loads(failure["message"])
    assert (message["error"], message["constraint"]) == ("InvalidRecord", "ReadOnly")
    trace = fake.fiscal.records("tkt", f"failure-{shop['register']:010d}")
    assert len(trace) == 1 and '"finalTaxedPrice": 3.0' in trace[0].content


def test_one_bad_ticket_in_a_batch_blocks_no_other(wire: Wire, shop: dict[str, int]) -> None:
    """§2.4 (testRejectMiddle): each ticket on its own, in order."""
    bad = ticket(shop, 2)
    bad["lines"].append(dict(bad["lines"][0]))  # dispOrder repeated
    reply = wire.tickets(ticket(shop, 1), bad, ticket(shop, 3)).body
    assert [s["number"] for s in reply["successes"]] == [1, 3]
    assert json.loads(reply["failures"][0]["message"])["error"]["error"] == "UnicityException"


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        ({"number": 0}, "Generated"),
        ({"sequence": 9}, "AssociationNotFound"),
        ({"user": 999}, "AssociationNotFound"),
        ({"finalTaxedPrice": None}, "NotNull"),
        ({"date": "tomorrow"}, "InvalidDate"),
        ({"finalPrice": "abc"}, "Float"),
    ],
)
def test_tickets_the_model_cannot_take_are_failures_naming_the_constraint(
    wire: Wire, shop: dict[str, int], change: dict[str, Any], constraint: str
) -> None:
    (failure,) = wire.tickets({**ticket(shop, 1), **change}).body["failures"]
    message = json.loads(failure["message"])
    assert (message.get("constraint") or message["error"]["constraint"]) == constraint


def test_a_ticket_into_a_closed_session_is_refused(wire: Wire, shop: dict[str, int]) -> None:
    wire.session(
        {
            "cashRegister": shop["register"],
            "sequence": 1,
            "openDate": 1000,
            "openCash": 0,
            "closeDate": 2000,
            "closeCash": 0,
            "cs": 0,
            "ticketCount": 0,
        }
    )
    (failure,) = wire.tickets(ticket(shop, 1)).body["failures"]
    assert json.loads(failure["message"])["error"]["constraint"] == "OpenedCashRequired"


def test_next_ticket_id_follows_the_highest_number_written(
    wire: Wire, shop: dict[str, int]
) -> None:
    """§2.1 (testUpdateNextTicketId): 1, 5, 2 give 2, 6, 6."""
    seen = []
    for number in (1, 5, 2):
        wire.tickets(ticket(shop, number))
        register = wire.call("GET", f"/api/cashregister/{shop['register']}").body
        seen.append(register["nextTicketId"])
    assert seen == [2, 6, 6]


def test_amounts_are_stored_rounded_as_the_setters_round(
    wire: Wire, shop: dict[str, int], fake: FakeState
) -> None:
    """§5: 2 decimals for prices, 5 for unit prices, quantities and payments."""
    odd = ticket(shop, 1)
    odd["finalTaxedPrice"] = 2.114999
    odd["lines"][0]["quantity"] = 0.3581234
    odd["payments"][0]["amount"] = 2.1100049
    wire.tickets(odd)
    stored = fake.tickets[(shop["register"], 1)]
    assert stored["finalTaxedPrice"] == 2.11
    assert stored["lines"][0]["quantity"] == 0.35812
    assert stored["payments"][0]["amount"] == 2.11
    assert wire.call("GET", f"/api/ticket/{shop['register']}/1").body["number"] == 1
    assert wire.call("GET", f"/api/ticket/{shop['register']}/77").body == []


# -- §2.3 sessions and §3 fiscal records ----------------------------------------------------------


def close_of(ids: dict[str, int], sequence: int = 1, **values: Any) -> dict[str, Any]:
    return {
        "cashRegister": ids["register"],
        "sequence": sequence,
        "openDate": 1000,
        "openCash": 0.0,
        "closeDate": 5000,
        "closeCash": 0.0,
        "expectedCash": 0.0,
        "ticketCount": 1,
        "cs": 2.0,
        "csPeriod": 2.0,
        "csFYear": 2.0,
        "csPerpetual": 2.0,
        "payments": [{"paymentMode": ids["card"], "currency": ids["currency"], "amount": 2.11}],
        "taxes": [
            {
                "tax": ids["tax"],
                "base": 2.0,
                "amount": 0.11,
                "basePeriod": 2.0,
                "amountPeriod": 0.11,
                "baseFYear": 2.0,
                "amountFYear": 0.11,
            }
        ],
        **values,
    }


def test_closing_writes_a_z_record_and_makes_the_next_session_with_the_sums_carried(
    wire: Wire, shop: dict[str, int], fake: FakeState
) -> None:
    wire.tickets(ticket(shop, 1))
    closed = wire.session(close_of(shop))
    assert closed.status == 200 and closed.body["closeDate"] == 5000
    following = wire.call("GET", f"/api/cashsession/{shop['register']}/2").body
    assert following["continuous"] is True and following["openDate"] is None
    assert (following["csPeriod"], following["csPerpetual"]) == (2.0, 2.0)
    assert following["taxes"][0]["basePeriod"] == 2.0
    (z,) = fake.fiscal.records("z", f"{shop['register']:010d}")
    assert json.loads(z.content)["cashRegisterReference"] == seed.DEMO_REGISTER
    assert wire.call("GET", f"/api/cashsession/{shop['register']}/3").body is None


@pytest.mark.parametrize(("close_type", "period", "year"), [(1, 0.0, 2.0), (2, 0.0, 0.0)])
def test_a_period_or_fiscal_year_close_restarts_what_the_next_session_carries(
    wire: Wire, shop: dict[str, int], close_type: int, period: float, year: float
) -> None:
    wire.session(close_of(shop, closeType=close_type))
    following = wire.call("GET", f"/api/cashsession/{shop['register']}/2").body
    assert (following["csPeriod"], following["csFYear"], following["csPerpetual"]) == (
        period,
        year,
        2.0,
    )


def test_a_closed_session_is_read_only_but_the_same_close_again_is_accepted(
    wire: Wire, shop: dict[str, int]
) -> None:
    assert wire.session(close_of(shop)).status == 200
    assert wire.session(close_of(shop)).status == 200
    changed = wire.session(close_of(shop, cs=3.0))
    assert (changed.status, changed.reason, changed.raw) == (
        400,
        "Closed sessions are read-only.",
        b"",
    )


def test_a_session_the_server_never_saw_open_cannot_be_closed(
    wire: Wire, shop: dict[str, int]
) -> None:
    reply = wire.session(close_of(shop, sequence=7))
    assert (reply.status, reply.reason) == (
        400,
        "Trying to close a session that was not registered as open.",
    )


def test_changing_a_write_once_value_ends_in_a_500(wire: Wire, shop: dict[str, int]) -> None:
    reply = wire.session({"cashRegister": shop["register"], "sequence": 1, "openDate": 1001})
    assert reply.status == 500
    again = wire.session({"cashRegister": shop["register"], "sequence": 1, "openDate": 1000})
    assert again.status == 200  # the same value again is accepted


def test_sums_sent_while_opening_are_ignored(wire: Wire, shop: dict[str, int]) -> None:
    reply = wire.session({"cashRegister": shop["register"], "sequence": 1, "csPerpetual": 99.0})
    assert reply.body["csPerpetual"] == 0.0


def test_the_summary_adds_up_the_stored_tickets(wire: Wire, shop: dict[str, int]) -> None:
    wire.tickets(ticket(shop, 1, 2.11), ticket(shop, 2, 4.22))
    summary = wire.call("GET", f"/api/cashsession/summary/{shop['register']}/1").body
    assert summary["ticketCount"] == 2
    assert summary["payments"] == [
        {"type": "magcard", "currency": shop["currency"], "amount": 6.33, "currencyAmount": 6.33}
    ]
    assert summary["taxes"][0]["tax"] == shop["tax"]


def test_every_chain_verifies_and_its_eos_shows_a_cut(
    wire: Wire, shop: dict[str, int], fake: FakeState
) -> None:
    """§3: records numbered in order of arrival, each signed over the previous; the EOS record
    (number 0) chains to the last one, so a cut-off chain shows."""
    wire.tickets(ticket(shop, 2), ticket(shop, 1))
    sequence = f"{shop['register']:010d}"
    records = fake.fiscal.records("tkt", sequence)
    assert [json.loads(r.content)["number"] for r in records] == [2, 1]  # arrival order
    assert [r.number for r in records] == [1, 2]
    eos = fake.fiscal.eos("tkt", sequence)
    assert eos is not None and eos.signature.startswith("sha3-512:")
    assert verify(records, eos) == ""
    assert "cut" in verify(records[:1], eos)
    exported = wire.call("GET", "/api/fiscal/export").body
    assert [r["number"] for r in exported if r["sequence"] == sequence] == [0, 1, 2]


# -- faults the tests script ----------------------------------------------------------------------


def test_scripted_faults_answer_as_a_server_in_trouble(
    wire: Wire, fake: FakeState, shop: dict[str, int]
) -> None:
    fake.fail_next(Fault.SERVER_ERROR)
    reply = wire.call("GET", "/api/version")
    assert reply.status == 500 and b"Slim Application Error" in reply.raw
    fake.fail_next(Fault.MAINTENANCE)
    assert b"maintenance" in wire.call("GET", "/api/version").raw
    fake.fail_next(Fault.TOKEN_EXPIRED)
    assert wire.call("GET", "/api/version").status == 403
    wire.login()
    fake.fail_next(Fault.LOST_REPLY, path="/api/ticket")
    assert wire.tickets(ticket(shop, 1)).status == 502
    assert (shop["register"], 1) in fake.tickets  # done, though the reply was lost
    fake.fail_next(Fault.TICKET_ERROR)
    assert wire.tickets(ticket(shop, 2)).body["errors"][0]["number"] == 2
    fake.slow_s = 0.3
    fake.fail_next(Fault.SLOW)
    started = time.monotonic()
    assert wire.call("GET", "/api/version").status == 200
    assert time.monotonic() - started >= 0.3
    fake.down = True
    assert wire.call("GET", "/api/version").status == 503


def test_the_fakes_z_page_shows_each_session_in_french(wire: Wire, shop: dict[str, int]) -> None:
    wire.tickets(ticket(shop, 1))
    wire.session(close_of(shop))
    page = wire.call("GET", "/fake/z").raw.decode()
    assert "session 1 (clôturée)" in page and "Carte bancaire (magcard) : 2,11 €" in page
    assert wire.call("GET", "/fake/z.json").body[0]["from_tickets"]["ticketCount"] == 1


def test_dates_in_may_be_day_strings(wire: Wire, shop: dict[str, int], fake: FakeState) -> None:
    """§0: an integer timestamp, YYYY-MM-DD or YYYY-MM-DD HH:MM; dates out are timestamps."""
    wire.tickets({**ticket(shop, 1), "date": "2026-11-20 10:30"})
    when = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert fake.tickets[(shop["register"], 1)]["date"] == int(when.timestamp())
