"""What the fake's routes share: the state behind the app, OFN's error replies, ransack
parameters and pagy's pagination."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Response, current_app, g, jsonify, request

from appliance.marketplace.fake.state import FakeState, Order

#: Where `create_app` keeps the state, in `app.extensions`.
STATE_KEY = "fake_ofn"


def state() -> FakeState:
    """The fake's state, for the request being answered."""
    found: FakeState = current_app.extensions[STATE_KEY]
    return found


def unauthorized(why: str, key: str = "") -> tuple[Response, int]:
    if request.path.startswith("/api/dfc/"):
        return Response(b"", 401), 401
    if request.path.startswith("/api/v1/"):
        return jsonify({"errors": [{"detail": "Clé d'API invalide"}]}), 401
    if why == "invalid":
        return jsonify({"error": f"Clé d'API invalide ({key}) spécifiée."}), 401
    return jsonify({"error": "Vous n'êtes pas autorisé(e) à effectuer cette action."}), 401


def not_found() -> tuple[Response, int]:
    return jsonify({"error": "La ressource que vous cherchez est introuvable."}), 404


def visible_order(fake: FakeState, number: str) -> Order | tuple[Response, int]:
    found = fake.orders.get(number)
    if found is None:
        return not_found()
    if found.distributor_id not in fake.managed_by(g.key):
        return unauthorized("denied")
    return found


def ransack() -> dict[str, Any]:
    """`q[...]` parameters; `_in[]` predicates become lists. Unknown ones are kept and ignored."""
    q: dict[str, Any] = {}
    for key in request.args:
        if key.startswith("q[") and key.endswith("[]"):
            q[key[2:-3]] = request.args.getlist(key)
        elif key.startswith("q["):
            q[key[2:-1]] = request.args[key]
    return q


def paginate(rows: list[Any], default: int) -> tuple[int, int, list[Any]]:
    page = request.args.get("page", default=1, type=int)
    per_page = request.args.get("per_page", default=default, type=int)
    limit = min(max(per_page, 1), 100)  # pagy caps at 100 and echoes what was asked
    page = max(page, 1)
    return page, per_page, rows[(page - 1) * limit : page * limit]


def pagination(results: int, page: int, per_page: int) -> dict[str, int]:
    limit = min(max(per_page, 1), 100)
    return {
        "results": results,
        "pages": max(1, math.ceil(results / limit)),
        "page": page,
        "per_page": per_page,
    }


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def to_i(value: Any) -> int:
    """Ruby's `to_i`: nil and garbage become 0."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
