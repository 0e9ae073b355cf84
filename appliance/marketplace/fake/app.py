"""The fake marketplace's HTTP face: OFN's v0 and DFC routes with their quirks (§10).

Decimals as strings ("42.0"), localised French dates beside `completed_at_utc_iso8601`,
`pagination: null` on unpaged order lists, bare arrays for order-cycle products, unknown
ransack predicates silently ignored, 401 (never 403) for denials, `ship` answering 200 whatever
it did, nginx HTML pages for 5xx and maintenance. One blueprint per group of routes (`routes/`).
"""

from __future__ import annotations

from flask import Flask

from appliance.marketplace.fake.routes import catalogue, dfc, gate, images, orders
from appliance.marketplace.fake.routes.common import STATE_KEY
from appliance.marketplace.fake.state import FakeState


def create_app(state: FakeState) -> Flask:
    app = Flask("fake_ofn")
    app.config["JSON_SORT_KEYS"] = False
    app.extensions[STATE_KEY] = state
    for group in (gate, catalogue, orders, dfc, images):
        app.register_blueprint(group.bp)
    return app
