"""The fake Pastèque's HTTP face: API v8's routes with their quirks (§0-§2 of the reference).

Form posts whose fields hold JSON strings (`tickets=`, `session=`); a JWT in the `Token` header,
cookie, form or query, refreshed in every authenticated answer and refused (403 "Not logged")
past `jwt_timeout`; a failed login answered 200 `null`; `POST /api/ticket` always 200 with
successes, failures and errors; session rejections as HTTP 400 whose reason phrase is the
message, with no body; float euros everywhere. `/fake/z` is the fake's own page (not the API).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from flask import Flask, Response, g, request

from appliance.pasteque.fake import api, pages
from appliance.pasteque.fake.model import InvalidField, Rejected, WriteOnce
from appliance.pasteque.fake.state import CashRegister, FakeState, Fault, Struct

OPEN_PATHS = ("/api/login", "/fiscal/", "/fake/")
SLIM_ERROR_PAGE = (
    "<html><head><title>Slim Application Error</title></head><body><h1>Slim Application "
    "Error</h1><p>A website error has occurred. Sorry for the temporary inconvenience.</p>"
    "</body></html>"
)
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Pastèque est en "
    "maintenance</h1><p>Merci de réessayer dans quelques minutes.</p></body></html>"
)
BAD_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


def create_app(state: FakeState) -> Flask:
    app = Flask("fake_pasteque")

    @app.before_request
    def _gate() -> Response | None:
        g.user = None
        fault = state.arrive(request.method, request.path)
        g.lost = fault is Fault.LOST_REPLY
        g.ticket_error = fault is Fault.TICKET_ERROR
        if fault is Fault.SLOW:
            time.sleep(state.slow_s)
        elif fault is Fault.MAINTENANCE:
            return Response(MAINTENANCE_PAGE, 503, content_type="text/html; charset=utf-8")
        elif fault is Fault.SERVER_ERROR:
            return Response(SLIM_ERROR_PAGE, 500, content_type="text/html; charset=utf-8")
        elif fault is Fault.TOKEN_EXPIRED:
            state.expire_tokens()
        if request.path == "/" or request.path.startswith(OPEN_PATHS):
            return None
        user = _token_user(state, _token_in_request())
        if user is None:
            return Response("Not logged", 403, content_type="text/plain; charset=utf-8")
        g.user = user
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        if g.get("user"):
            token = issue_token(state, g.user)
            response.headers["Token"] = token
            response.set_cookie("Token", token, httponly=True)
        if g.get("lost"):
            return Response(BAD_GATEWAY_PAGE, 502, content_type="text/html; charset=utf-8")
        return response

    # -- login and version ------------------------------------------------------------------------

    @app.post("/api/login")
    def login() -> Response:
        user, password = request.form.get("user", ""), request.form.get("password", "")
        with state.lock:
            known = any(
                hmac.compare_digest(a.user, user) and hmac.compare_digest(a.password, password)
                for a in state.accounts
            )
            if known:
                state.logins += 1
        if not known:
            return _json(None)  # still 200: a client must read `null` as a failed login
        g.user = user
        return _json(issue_token(state, user))

    @app.get("/api/version")
    def version() -> Response:
        return _json({"version": state.version, "level": state.level})

    # -- cash registers and sync ------------------------------------------------------------------

    @app.get("/api/cashregister/getAll")
    def registers() -> Response:
        with state.lock:
            return _json([r.to_struct() for r in state.registers.values()])

    @app.get("/api/cashregister/getByReference/<reference>")
    def register_by_reference(reference: str) -> Response:
        with state.lock:
            found = state.register_by(reference=reference)
            return _register_or_404(found, {"reference": reference})

    @app.get("/api/cashregister/getByName/<name>")
    def register_by_name(name: str) -> Response:
        with state.lock:
            return _register_or_404(state.register_by(label=name), {"label": name})

    @app.get("/api/cashregister/<int:register_id>")
    def register_by_id(register_id: int) -> Response:
        with state.lock:
            return _register_or_404(state.registers.get(register_id), {"id": register_id})

    @app.put("/api/cashregister/<reference>")
    def create_register(reference: str) -> Response:
        body = request.get_json(silent=True) or {}
        with state.lock:
            if "id" in body:
                return _json(_field_error("ReadOnly", "CashRegister", "id", body["id"]), 400)
            if state.register_by(reference=reference):
                error = _field_error("UniqueValue", "CashRegister", "reference", reference)
                return _json(error, 400)
            created = state.add_register(reference, str(body.get("label") or reference))
            return _json(created.to_struct())

    @app.get("/api/sync/<label>")
    def sync(label: str) -> Response:
        with state.lock:
            register = state.register_by(label=label)
            if register is None:
                return _not_found("CashRegister", {"label": label})
            return _json(api.sync(state, register))

    # -- reference data ---------------------------------------------------------------------------

    @app.get("/api/tax/getAll")
    def taxes() -> Response:
        return _json([t.to_struct() for t in state.taxes.values()])

    @app.get("/api/paymentmode/getAll")
    def payment_modes() -> Response:
        return _json([m.to_struct() for m in state.payment_modes.values()])

    @app.get("/api/currency/getAll")
    def currencies() -> Response:
        return _json([c.to_struct() for c in state.currencies.values()])

    @app.get("/api/category/getAll")
    def categories() -> Response:
        return _json([c.to_struct() for c in state.categories.values()])

    @app.get("/api/user/getAll")
    def users() -> Response:
        return _json([u.to_struct() for u in state.users.values()])

    @app.get("/api/product/getAll")
    def products() -> Response:
        return _json([p.to_struct(state.taxes) for p in state.products.values()])

    # -- cash sessions ----------------------------------------------------------------------------

    @app.get("/api/cashsession/<int:register_id>/<int:sequence>")
    def session(register_id: int, sequence: int) -> Response:
        with state.lock:
            if register_id not in state.registers:
                return _not_found("CashRegister", {"id": register_id})
            return _json(state.sessions.get((register_id, sequence)))

    @app.get("/api/cashsession/summary/<int:register_id>/<int:sequence>")
    def session_summary(register_id: int, sequence: int) -> Response:
        with state.lock:
            if register_id not in state.registers:
                return _not_found("CashRegister", {"id": register_id})
            return _json(api.summary(state, register_id, sequence))

    @app.get("/api/cash/search/")
    def session_search() -> Response:
        start = request.args.get("dateStart", type=int)
        stop = request.args.get("dateStop", type=int)
        register_id = request.args.get("cashRegister", type=int)
        if start is None:
            return _json(_field_error("NotNull", "CashSession", "dateStart", None), 400)
        with state.lock:
            found = [
                s
                for (r, _), s in sorted(state.sessions.items())
                if s["closeDate"] is not None
                and (register_id is None or r == register_id)
                and s["closeDate"] >= start
                and (stop is None or s["closeDate"] < stop)
            ]
            return _json(found)

    @app.post("/api/cash")
    def write_session() -> Response:
        text = request.form.get("session")
        raw = _parse(text)
        with state.lock:
            if raw is _UNPARSED:
                api.record_failure(state, "z", None, text, "Unable to parse input data")
                return _reason(400, "Unable to parse input data")
            register_id = raw.get("cashRegister") if isinstance(raw, dict) else None
            try:
                return _json(api.write_session(state, raw))
            except InvalidField as exc:
                api.record_failure(state, "z", register_id, raw, exc.struct)
                return _json(exc.struct, 400)
            except Rejected as exc:
                api.record_failure(state, "z", register_id, raw, str(exc))
                return _reason(400, str(exc))
            except WriteOnce as exc:  # thrown by the model, outside what the route catches
                api.record_failure(state, "z", register_id, raw, str(exc))
                return Response(SLIM_ERROR_PAGE, 500, content_type="text/html; charset=utf-8")

    # -- tickets ----------------------------------------------------------------------------------

    @app.post("/api/ticket")
    def write_tickets() -> Response:
        text = request.form.get("tickets")
        raw = _parse(text)
        with state.lock:
            if raw is _UNPARSED or not isinstance(raw, list):
                api.record_failure(state, "tkt", None, text, "Unable to parse input data")
                return _reason(400, "Unable to parse input data")
            return _json(api.write_tickets(state, raw, as_errors=g.ticket_error))

    @app.get("/api/ticket/<int:register_id>/<int:number>")
    def ticket(register_id: int, number: int) -> Response:
        with state.lock:
            found = state.tickets.get((register_id, number))
            return _json(found if found is not None else [])  # the 404 is built, not returned

    @app.get("/api/ticket/session/<int:register_id>/<int:sequence>")
    def session_tickets(register_id: int, sequence: int) -> Response:
        with state.lock:
            found = state.session_tickets(register_id, sequence)
            if request.args.get("count"):
                return _json(len(found))
            offset = request.args.get("offset", default=0, type=int)
            limit = request.args.get("limit", type=int)
            return _json(found[offset : offset + limit if limit else None])

    # -- fiscal read-out --------------------------------------------------------------------------

    @app.get("/api/fiscal/export")
    def fiscal_export() -> Response:
        with state.lock:
            return _json([r.to_struct() for r in state.fiscal.all_records()])

    # -- the fake's own pages ---------------------------------------------------------------------

    @app.get("/fake/z")
    def z_page() -> Response:
        with state.lock:
            return Response(pages.z_page(state), content_type="text/html; charset=utf-8")

    @app.get("/fake/z.json")
    def z_json() -> Response:
        with state.lock:
            return _json(pages.z_report(state))

    return app


# -- tokens ---------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_token(state: FakeState, user: str) -> str:
    """A JWT (HS256) with `iat` and the account: no `exp`, the server checks iat + timeout."""
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    claims = {"iat": state.now_s(), "user": user, "gen": state.token_generation}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(state.jwt_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"


def _token_user(state: FakeState, token: str) -> str | None:
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(
            state.jwt_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(_b64(expected), signature):
            return None
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        iat, generation = int(claims["iat"]), int(claims.get("gen", 0))
    except (ValueError, KeyError, TypeError):
        return None
    if iat + state.jwt_timeout_s <= state.now_s() or generation < state.token_generation:
        return None
    return str(claims.get("user") or "")


def _token_in_request() -> str:
    """Header, then POST field, then GET parameter, then cookie (`Login::getToken`)."""
    return (
        request.headers.get("Token")
        or request.form.get("Token")
        or request.args.get("Token")
        or request.cookies.get("Token")
        or ""
    )


# -- answers --------------------------------------------------------------------------------------

_UNPARSED = object()


def _parse(text: str | None) -> Any:
    if text is None:
        return _UNPARSED
    try:
        return json.loads(text)
    except ValueError:
        return _UNPARSED


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, mimetype="application/json")


def _reason(status: int, message: str) -> Response:
    """A rejection whose message is the status line's reason phrase, with no body."""
    response = Response(b"", content_type="text/plain")
    response.status = f"{status} {message}"
    return response


def _field_error(constraint: str, klass: str, field: str, value: Any) -> Struct:
    return {
        "error": "InvalidField",
        "constraint": constraint,
        "class": klass,
        "field": field,
        "key": None,
        "value": value,
    }


def _not_found(klass: str, key: Any) -> Response:
    return _json({"error": "RecordNotFound", "class": klass, "key": key}, 404)


def _register_or_404(register: CashRegister | None, key: Any) -> Response:
    if register is None:
        return _not_found("CashRegister", key)
    return _json(register.to_struct())
