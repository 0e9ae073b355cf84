"""Before every route: the scripted faults (nginx's pages, rack-timeout's 504, a proxy's 429)
and the API key; after it, the server's Date and a JSON cut off half-way when asked."""

from __future__ import annotations

import time
from email.utils import format_datetime

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from appliance.marketplace.fake.routes import common
from appliance.marketplace.fake.state import FakeState, Fault

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>CoopCircuits est en "
    "maintenance</h1><p>Nous revenons très vite.</p></body></html>"
)
ERROR_PAGE = (
    "<!DOCTYPE html><html><body><h1>We're sorry, but something went wrong.</h1></body></html>"
)

bp = Blueprint("gate", __name__)


@bp.before_app_request
def _gate() -> ResponseReturnValue | None:
    fake = common.state()
    with fake.lock:
        fake.in_flight += 1
        fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
    fault = fake.arrive(request.method, request.path)
    if fake.latency_s:
        time.sleep(fake.latency_s)
    if fault is Fault.SLOW:
        time.sleep(fake.slow_s)
    elif fault is Fault.MAINTENANCE:
        return Response(MAINTENANCE_PAGE, 503, content_type="text/html; charset=utf-8")
    elif fault is Fault.SERVER_ERROR:
        return Response(ERROR_PAGE, 500, content_type="text/html; charset=utf-8")
    elif fault is Fault.GATEWAY_TIMEOUT:
        return Response(b"", 504)
    elif fault is Fault.UNAUTHORIZED:
        return common.unauthorized("invalid")
    elif fault is Fault.RATE_LIMITED:
        headers = {"Retry-After": fake.retry_after}
        return Response("Retry later\n", 429, headers=headers, content_type="text/plain")
    g.truncate = fault is Fault.TRUNCATED
    return _authenticate(fake)


@bp.teardown_app_request
def _done(_: BaseException | None) -> None:
    fake = common.state()
    with fake.lock:
        fake.in_flight -= 1


@bp.after_app_request
def _finish(response: Response) -> Response:
    response.headers["Date"] = format_datetime(common.state().clock(), usegmt=True)
    if getattr(g, "truncate", False) and response.is_json:
        data = response.get_data()
        response.set_data(data[: max(1, len(data) // 2)])
    return response


def _authenticate(fake: FakeState) -> ResponseReturnValue | None:
    v0 = request.path.startswith("/api/v0/")
    header = "X-Spree-Token" if v0 else "X-Api-Token"
    key = request.headers.get(header) or request.args.get("token") or ""
    if not v0 and request.headers.get("Authorization"):
        return Response(b"", 401)  # DFC decodes any Authorization header as a JWT first
    if key and not fake.is_key(key):
        return common.unauthorized("invalid", key)
    g.key = key
    return None
