"""The fake Open Food Network keeps OFN's contract and quirks (§10 of the reference).

DFC answers are checked against an example of OFN's own OpenAPI description (`swagger/dfc.yaml`
at v5.7.7, generated from OFN's request specs; copied below so the test stands alone); v0 has
no trustworthy description, so its quirks are checked one by one against the reference.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from appliance.marketplace.fake import FakeState, seed, serve
from tests.agent_support import wait_until

KEY = seed.DEMO_KEY
SAMPLE = "http://test.host/api/dfc"
# dfc.yaml, GET /api/dfc/enterprises/{enterprise_id}/catalog_items, 200, "with given enterprise id"
OFN_CATALOG_EXAMPLE: dict[str, Any] = {
    "@context": "https://w3id.org/dfc/ontology/context/context_1.16.0.json",
    "@graph": [
        {
            "@id": f"{SAMPLE}/enterprises/10000/catalog_items/10001",
            "@type": "dfc-b:CatalogItem",
            "dfc-b:references": f"{SAMPLE}/enterprises/10000/supplied_products/10001",
            "dfc-b:sku": "AR",
            "dfc-b:stockLimitation": 0,
            "dfc-b:offeredThrough": f"{SAMPLE}/enterprises/10000/offers/10001",
            "dfc-b:managedBy": f"{SAMPLE}/enterprises/10000",
        },
        {
            "@id": f"{SAMPLE}/enterprises/10000/supplied_products/10001",
            "@type": "dfc-b:SuppliedProduct",
            "dfc-b:name": "Apple - 1g",
            "dfc-b:description": "Red",
            "dfc-b:hasQuantity": {
                "@type": "dfc-b:QuantitativeValue",
                "dfc-b:hasUnit": "dfc-m:Gram",
                "dfc-b:value": 1.0,
            },
            "dfc-b:isVariantOf": f"{SAMPLE}/product_groups/90000",
            "ofn:spree_product_id": 90000,
            "ofn:spree_product_uri": f"{SAMPLE}/enterprises/10000?spree_product_id=90000",
        },
        {
            "@id": f"{SAMPLE}/product_groups/90000",
            "@type": "dfc-b:SuppliedProduct",
            "dfc-b:name": "Apple",
            "dfc-b:hasVariant": f"{SAMPLE}/enterprises/10000/supplied_products/10001",
        },
        {
            "@id": f"{SAMPLE}/enterprises/10000/offers/10001",
            "@type": "dfc-b:Offer",
            "dfc-b:hasPrice": {
                "@type": "dfc-b:Price",
                "dfc-b:value": 19.99,
                "dfc-b:hasUnit": "dfc-m:AustralianDollar",
            },
            "dfc-b:stockLimitation": 0,
        },
    ],
}


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def url(fake: FakeState) -> Iterator[str]:
    with serve(fake) as base:
        yield base


def call(
    base: str, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, parsed JSON or raw bytes) of one request."""
    sent = {"X-Spree-Token" if "/v0/" in path else "X-Api-Token": KEY, **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def variant_named(fake: FakeState, product: str) -> Any:
    return next(v for v in fake.variants.values() if fake.products[v.product_id].name == product)


# -- DFC, against OFN's dfc.yaml -------------------------------------------------------------------


def _shape(node: Any) -> Any:
    """Keys all the way down (nested nodes included), without the values."""
    if isinstance(node, dict):
        return frozenset((k, _shape(v)) for k, v in node.items())
    return "list" if isinstance(node, list) else "value"


def test_dfc_catalogue_has_the_shape_of_ofns_own_description(url, fake):
    expected = OFN_CATALOG_EXAMPLE
    status, got = call(url, "GET", f"/api/dfc/enterprises/{seed.HUB_ID}/catalog_items")

    assert status == 200
    assert got["@context"] == expected["@context"]
    shapes: dict[str, set[Any]] = {}
    for node in expected["@graph"]:
        on_demand = {k: v for k, v in node.items() if k != "dfc-b:stockLimitation"}
        shapes.setdefault(node["@type"], set()).update({_shape(node), _shape(on_demand)})
    assert {node["@type"] for node in got["@graph"]} == set(shapes)
    for node in got["@graph"]:
        assert _shape(node) in shapes[node["@type"]], node
    # only the variants the hub itself produces, as OFN's `enterprise.variants`
    own = {v.id for v in fake.variants.values() if v.producer_id == seed.HUB_ID}
    items = [n for n in got["@graph"] if n["@type"] == "dfc-b:CatalogItem"]
    assert {int(n["@id"].rsplit("/", 1)[1]) for n in items} == own


def test_dfc_with_an_authorization_header_is_refused_with_an_empty_body(url):
    status, body = call(
        url, "GET", f"/api/dfc/enterprises/{seed.HUB_ID}", headers={"Authorization": "Bearer x"}
    )
    assert (status, body) == (401, b"")


def test_dfc_stock_writes_keep_ofns_pitfalls(url, fake):
    eggs = variant_named(fake, "Œufs plein air")
    base = f"/api/dfc/enterprises/{seed.HUB_ID}"

    no_stock = call(url, "PUT", f"{base}/catalog_items/{eggs.id}", body={"dfc-b:sku": "OEUF6"})
    assert no_stock == (204, b"") and eggs.on_hand == 0  # a missing stockLimitation means 0
    negative = call(url, "PUT", f"{base}/offers/{eggs.id}", body={"dfc-b:stockLimitation": -1})
    assert negative == (204, b"") and eggs.on_demand  # negative means on demand


# -- v0 quirks -------------------------------------------------------------------------------------


def test_v0_denials_are_401_with_an_error_never_403(url, fake):
    fake.place_order(
        distributor_id=9,
        order_cycle_id=seed.ORDER_CYCLE_ID,
        shipping_method_id=seed.LOCKER_METHOD_ID,
        full_name="Ailleurs",
        email="a@example.test",
        lines=[],
        number="R000000777",
    )
    bad_key = call(url, "GET", "/api/v0/orders", headers={"X-Spree-Token": "nope"})
    not_mine = call(url, "GET", "/api/v0/orders/R000000777")

    assert bad_key[0] == 401 and set(bad_key[1]) == {"error"}
    assert not_mine[0] == 401 and set(not_mine[1]) == {"error"}


def test_v0_orders_are_unpaged_unless_asked_and_ignore_unknown_filters(url, fake):
    status, unpaged = call(url, "GET", "/api/v0/orders?q[shipping_method_id_eq]=99999")
    _, paged = call(url, "GET", "/api/v0/orders?per_page=2&page=1")

    assert status == 200 and unpaged["pagination"] is None
    assert len(unpaged["orders"]) == len(fake.orders)  # the unknown predicate filtered nothing
    assert paged["pagination"] == {
        "results": len(fake.orders),
        "pages": (len(fake.orders) + 1) // 2,
        "page": 1,
        "per_page": 2,
    }
    order = unpaged["orders"][0]
    assert isinstance(order["total"], str) and order["completed_at_utc_iso8601"]
    assert order["completed_at"].split()[0] in (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    )


def test_v0_bulk_products_pages_by_15_and_sends_decimals_as_strings(url, fake):
    _, first = call(url, "GET", "/api/v0/products/bulk_products")
    _, past_the_end = call(url, "GET", "/api/v0/products/bulk_products?page=99&per_page=100")

    assert len(first["products"]) == 15 and first["pagination"]["per_page"] == 15
    assert past_the_end["products"] == []
    product = first["products"][0]
    assert product["price"] == "0.0"  # a dead attribute in OFN
    assert all(isinstance(v["price"], str) for v in product["variants"])


def test_v0_order_cycle_products_are_a_bare_array_without_sold_out_variants(url, fake):
    path = f"/api/v0/order_cycles/{seed.ORDER_CYCLE_ID}/products?distributor={seed.HUB_ID}"
    salad = variant_named(fake, "Salade batavia")
    salad.on_hand = 0

    status, first = call(url, "GET", path)
    _, everything = call(url, "GET", path + "&per_page=100")
    fake.order_cycles[seed.ORDER_CYCLE_ID].open = False
    closed = call(url, "GET", path)
    unknown = call(url, "GET", f"/api/v0/order_cycles/404/products?distributor={seed.HUB_ID}")

    assert status == 200 and isinstance(first, list) and len(first) == 10
    listed = {v["id"] for p in everything for v in p["variants"]}
    assert salad.id not in listed
    assert all(v["price_with_fees"] for p in everything for v in p["variants"])
    assert closed == (404, {})
    assert unknown[0] == 422 and "exception" in unknown[1]


def test_v0_ship_answers_200_even_when_nothing_was_shipped(url, fake):
    unpaid = next(o for o in fake.orders.values() if o.payment_state == "balance_due")

    status, answer = call(url, "PUT", f"/api/v0/orders/{unpaid.number}/ship")

    assert status == 200 and answer["shipment_state"] == "pending"
    assert fake.emails == []


def test_v0_stock_writes_are_absolute_and_refuse_negative_values(url, fake):
    salad = variant_named(fake, "Salade batavia")
    path = f"/api/v0/products/{salad.product_id}/variants/{salad.id}"

    status, answer = call(url, "PUT", path, body={"variant": {"on_hand": 7}})
    negative = call(url, "PUT", path, body={"variant": {"on_hand": -1}})

    assert status == 200 and answer["on_hand"] == 7 and salad.on_hand == 7
    assert negative[0] == 422 and "errors" in negative[1] and salad.on_hand == 7


def test_v0_adding_to_a_completed_order_moves_stock_and_refuses_oversell(url, fake):
    salad = variant_named(fake, "Salade batavia")
    before = salad.on_hand
    path = f"/api/v0/orders/{seed.SHOP_SALES_ORDER}/shipments"

    status, shipment = call(url, "POST", path, body={"variant_id": salad.id, "quantity": 2})
    oversold = call(url, "POST", path, body={"variant_id": salad.id, "quantity": before})

    assert status == 200 and shipment["number"].startswith("H") and len(shipment["number"]) == 12
    assert shipment["order_id"] == seed.SHOP_SALES_ORDER
    assert salad.on_hand == before - 2
    assert oversold[0] == 422 and "exception" in oversold[1] and salad.on_hand == before - 2


def test_the_fake_runs_as_a_command_seeded_with_the_demo_hub(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "appliance", "marketplace", "fake", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        banner = process.stdout.readline()
        base = f"http://127.0.0.1:{port}"

        def answers() -> tuple[int, Any] | None:
            try:
                return call(base, "GET", f"/api/v0/shops/{seed.HUB_ID}")
            except OSError:
                return None

        status, shop = wait_until(answers, 30, "the fake's first answer")
        _, orders = call(base, "GET", "/api/v0/orders?per_page=100")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()

    assert f"hub {seed.HUB_ID}" in banner and seed.DEMO_KEY in banner
    assert status == 200 and shop["name"] == "Les Paniers du Lilas"
    assert len(orders["orders"]) == 7
