"""Worlds for the fake marketplace: a small demo hub, and a big one for the benchmark.

The kiosk's user (API key `DEMO_KEY`) manages hub 3 only; its locker is shipping method 7.
"""

from __future__ import annotations

from appliance.marketplace.fake.state import (
    Enterprise,
    FakeState,
    OrderCycle,
    Product,
    ShippingMethod,
    Variant,
)

DEMO_KEY = "demo-kiosk-key-0123456789abcdef"
HUB_ID = 3
LOCKER_METHOD_ID = 7
FARM_PICKUP_METHOD_ID = 8
ORDER_CYCLE_ID = 5
SHOP_SALES_ORDER = "R000000999"  # made once by the hub's admin for on-site sales

#: producer, product, [(display name, unit, unit value, price cents, on hand, on demand)]
_DEMO_CATALOGUE: list[tuple[int, str, list[tuple[str, str, float, int, int, bool]]]] = [
    (1, "Carottes", [("", "weight", 1000, 280, 40, False), ("Botte", "items", 1, 250, 12, False)]),
    (
        1,
        "Pommes de terre",
        [("", "weight", 2500, 550, 25, False), ("", "weight", 100, 30, 300, False)],
    ),
    (1, "Salade batavia", [("", "items", 1, 150, 30, False)]),
    (1, "Poireaux", [("", "weight", 1000, 350, 15, False)]),
    (1, "Courge butternut", [("", "weight", 1000, 320, 0, True)]),
    (
        2,
        "Crottin de chèvre",
        [("", "items", 1, 290, 48, False), ("Lot de 3", "items", 3, 800, 10, False)],
    ),
    (2, "Yaourt de chèvre", [("", "items", 4, 420, 20, False)]),
    (2, "Tomme de chèvre", [("", "weight", 250, 650, 16, False)]),
    (
        4,
        "Pommes Reinette",
        [("", "weight", 1000, 360, 60, False), ("", "weight", 3000, 950, 10, False)],
    ),
    (4, "Jus de pomme", [("", "volume", 1, 390, 36, False)]),
    (4, "Poires Conférence", [("", "weight", 1000, 420, 20, False)]),
    (4, "Cidre brut", [("", "volume", 0.75, 550, 24, False)]),
    (3, "Œufs plein air", [("Boîte de 6", "items", 6, 330, 30, False)]),
    (3, "Pain de campagne", [("", "weight", 800, 480, 8, False)]),
    (3, "Miel de fleurs", [("", "weight", 500, 890, 14, False)]),
]


def demo(state: FakeState | None = None) -> FakeState:
    """A small hub: four producers, about twenty variants, six orders for the locker, and an
    empty completed order for on-site sales (`SHOP_SALES_ORDER`)."""
    state = state or FakeState()
    hub = state.add_enterprise(
        Enterprise(HUB_ID, "Les Paniers du Lilas", is_hub=True, managers={DEMO_KEY})
    )
    for eid, name in ((1, "Ferme des Lilas"), (2, "Chèvrerie du Moulin"), (4, "Verger Martin")):
        state.add_enterprise(Enterprise(eid, name, grants_to={hub.id}))
    state.add_enterprise(Enterprise(9, "Autre boutique", is_hub=True, managers={"other-hub-key"}))
    state.shipping_methods[LOCKER_METHOD_ID] = ShippingMethod(
        LOCKER_METHOD_ID, "Casier – Ferme des Lilas", HUB_ID, "Casiers réfrigérés, 24 h/24"
    )
    state.shipping_methods[FARM_PICKUP_METHOD_ID] = ShippingMethod(
        FARM_PICKUP_METHOD_ID, "Retrait à la ferme", HUB_ID
    )
    variant_ids = set()
    for producer_id, name, variants in _DEMO_CATALOGUE:
        product_id = state.next_id()
        product = Product(product_id, name, f"/img/{product_id}.jpg")
        made = []
        for display, unit, value, price, on_hand, on_demand in variants:
            made.append(
                Variant(
                    state.next_id(),
                    product.id,
                    producer_id,
                    display,
                    price,
                    on_hand,
                    on_demand,
                    unit,
                    value,
                )
            )
        state.add_product(product, *made)
        variant_ids |= {v.id for v in made}
    for product in state.products.values():
        product.updated_at = state.ago(days=2)
    state.order_cycles[ORDER_CYCLE_ID] = OrderCycle(
        ORDER_CYCLE_ID, "Semaine 47", True, {HUB_ID}, variant_ids, fees_cents=20
    )
    by_name = {state.products[v.product_id].name: v.id for v in reversed(state.variants.values())}
    customers = [
        ("Camille Durand", "camille@example.test", "06 11 22 33 44", True),
        ("Louis Martin", "louis@example.test", "", True),
        ("Inès Petit", "ines@example.test", "06 55 66 77 88", True),
        ("Hugo Bernard", "hugo@example.test", "07 12 34 56 78", False),  # pays at pickup
    ]
    baskets = [
        [("Carottes", 2), ("Crottin de chèvre", 3)],
        [("Pommes Reinette", 1), ("Jus de pomme", 2), ("Œufs plein air", 1)],
        [("Salade batavia", 1), ("Yaourt de chèvre", 2)],
        [("Miel de fleurs", 1), ("Pain de campagne", 1)],
    ]
    for (name, email, phone, paid), basket in zip(customers, baskets, strict=True):
        state.place_order(
            distributor_id=HUB_ID,
            order_cycle_id=ORDER_CYCLE_ID,
            shipping_method_id=LOCKER_METHOD_ID,
            full_name=name,
            email=email,
            phone=phone,
            lines=[(by_name[p], q) for p, q in basket],
            paid=paid,
        )
    state.place_order(
        distributor_id=HUB_ID,
        order_cycle_id=ORDER_CYCLE_ID,
        shipping_method_id=FARM_PICKUP_METHOD_ID,
        full_name="Jeanne Roux",
        email="jeanne@example.test",
        lines=[(by_name["Poireaux"], 2)],
    )
    cancelled = state.place_order(
        distributor_id=HUB_ID,
        order_cycle_id=ORDER_CYCLE_ID,
        shipping_method_id=LOCKER_METHOD_ID,
        full_name="Paul Lefèvre",
        email="paul@example.test",
        lines=[(by_name["Cidre brut"], 2)],
    )
    state.cancel(cancelled.number)
    state.place_order(
        distributor_id=HUB_ID,
        order_cycle_id=ORDER_CYCLE_ID,
        shipping_method_id=FARM_PICKUP_METHOD_ID,
        full_name="Vente sur place",
        email="casier@paniers-lilas.test",
        lines=[],
        number=SHOP_SALES_ORDER,
    )
    for order in state.orders.values():
        order.updated_at = order.completed_at = order.created_at = state.ago(hours=20)
    return state


def big(state: FakeState, variants: int, orders: int, *, per_product: int = 2) -> FakeState:
    """The demo hub's people, with `variants` variants and `orders` locker orders (benchmark)."""
    demo(state)
    state.products.clear()
    state.variants.clear()
    state.orders.clear()
    producers = (1, 2, 4)
    ids = []
    for n in range(0, variants, per_product):
        product = Product(state.next_id(), f"Produit {n // per_product}")
        made = [
            Variant(state.next_id(), product.id, producers[n % 3], f"{k + 1}", 100 + n % 900, 10**6)
            for k in range(min(per_product, variants - n))
        ]
        state.add_product(product, *made)
        ids += [v.id for v in made]
    for n in range(orders):
        state.place_order(
            distributor_id=HUB_ID,
            order_cycle_id=ORDER_CYCLE_ID,
            shipping_method_id=LOCKER_METHOD_ID,
            full_name=f"Client {n}",
            email=f"client{n}@example.test",
            lines=[(ids[(n * 7 + k) % len(ids)], 1 + k) for k in range(3)],
            paid=n % 5 != 0,
        )
    for product in state.products.values():
        product.updated_at = state.ago(hours=2)
    for order in state.orders.values():
        order.updated_at = order.completed_at = order.created_at = state.ago(hours=2)
    return state
