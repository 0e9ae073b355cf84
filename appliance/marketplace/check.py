"""`comptoir marketplace check`: the installer's questions to the instance, in plain words.

Is the key right, does its user manage the hub, are the shipping methods and order cycles the
hub's, is the legacy inventory (variant overrides) in use, can the shop-sales order take sales?
OFN has no API listing shipping methods or order cycles, so they are learned from the hub's
recent orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config import Config
from appliance.marketplace import shop_sales_order
from appliance.marketplace.client import (
    Client,
    MarketplaceAuthError,
    MarketplaceError,
    MarketplaceRefused,
)

RECENT_ORDERS = 20


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str


def check(config: Config, client: Client) -> list[Finding]:
    """Every finding, stopping early when the rest cannot be asked (no key, no hub)."""
    m = config.marketplace
    findings: list[Finding] = []
    try:
        client.request("GET", "/api/v0/orders", [("page", 1), ("per_page", 1)])
    except MarketplaceAuthError:
        findings.append(
            Finding(
                False,
                "wrong API key: the marketplace refuses it. Copy the kiosk user's key from "
                f"Account > Developer settings into {m.api_key_file}",
            )
        )
        return findings
    findings.append(Finding(True, "the API key is accepted"))
    try:
        shop = client.shop(m.hub_id)
    except MarketplaceRefused:
        findings.append(
            Finding(False, f"hub {m.hub_id} does not exist on {m.url}: fix [marketplace] hub_id")
        )
        return findings
    findings.append(Finding(True, f"hub {m.hub_id} is {shop.get('name')!r}"))
    if not client.managed_enterprise(m.hub_id):
        findings.append(
            Finding(
                False,
                f"the key's user does not manage hub {m.hub_id}: ask the hub's owner to add "
                "that user as a manager of the enterprise",
            )
        )
        return findings
    findings.append(Finding(True, f"the key's user manages hub {m.hub_id}"))
    findings += _shipping_methods_and_cycles(config, client)
    findings += _inventory(config, client)
    findings += _shop_sales_order(config, client)
    return findings


def _shipping_methods_and_cycles(config: Config, client: Client) -> list[Finding]:
    m = config.marketplace
    answer = client.request(
        "GET",
        "/api/v0/orders",
        [
            ("q[distributor_id_eq]", m.hub_id),
            ("q[state_in][]", "complete"),
            ("q[state_in][]", "resumed"),
            ("q[s]", "id desc"),
            ("page", 1),
            ("per_page", RECENT_ORDERS),
        ],
    )
    recent = [
        o["number"]
        for o in (answer.body or {}).get("orders") or []
        if (o.get("distributor") or {}).get("id") == m.hub_id
    ]
    details = client.map(client.order, recent)
    methods = {d["shipping_method"]["id"]: d["shipping_method"]["name"] for d in details}
    cycle_ids = ((d.get("order_cycle") or {}).get("id") for d in details)
    cycles = sorted({cycle for cycle in cycle_ids if cycle is not None})
    seen = ", ".join(f"{i} {n!r}" for i, n in sorted(methods.items())) or "none"
    findings = []
    if not m.shipping_method_ids:
        findings.append(
            Finding(
                False,
                "[marketplace] shipping_method_ids is empty: every pickup order of the hub would "
                f"come here. Methods seen in recent orders: {seen}",
            )
        )
    for method in m.shipping_method_ids:
        if method in methods:
            findings.append(Finding(True, f"shipping method {method} is {methods[method]!r}"))
        else:
            findings.append(
                Finding(
                    False,
                    f"unknown shipping method {method}: none of the hub's last {len(recent)} "
                    f"orders use it (seen: {seen}). Check the id in the hub's admin, "
                    "Settings > Shipping methods",
                )
            )
    for cycle in m.order_cycle_ids or tuple(cycles):
        try:
            client.order_cycle_products(cycle, m.hub_id)
            findings.append(Finding(True, f"order cycle {cycle} is open for the hub"))
        except MarketplaceRefused as exc:
            what = "is not open for the hub" if exc.status == 404 else "does not exist"
            findings.append(Finding(exc.status == 404, f"order cycle {cycle} {what}"))
    return findings


def _inventory(config: Config, client: Client) -> list[Finding]:
    try:
        client.bulk_products(enterprise_id=config.marketplace.hub_id)
        drift = f"the instance filters producers with q[{client.supplier_filter}]"
    except MarketplaceError as exc:
        drift = str(exc)
    overridden = sum(
        1
        for product in client.bulk_products()
        for v in product.get("variants") or []
        if v.get("variant_overrides_count")
    )
    if overridden:
        return [
            Finding(True, drift),
            Finding(
                False,
                f"legacy inventory in use: {overridden} variants have hub overrides. Online "
                "orders take stock from the override, which the API cannot write; give the hub "
                "its own linked variants instead",
            ),
        ]
    return [Finding(True, drift), Finding(True, "no legacy inventory (variant overrides)")]


def _shop_sales_order(config: Config, client: Client) -> list[Finding]:
    number = config.marketplace.shop_sales_order
    if not number:
        return []
    try:
        shop_sales_order.quantities(config, client, number)
    except MarketplaceError as exc:
        return [Finding(False, str(exc))]
    return [Finding(True, f"order {number} can take the on-site sales")]
