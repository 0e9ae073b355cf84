"""Worlds for the fake Pastèque: the shop of `make demo`, as an installer would have set it up.

Its instance account is `DEMO_USER` / `DEMO_PASSWORD`; the box's register has the reference
`DEMO_REGISTER` (and the label `DEMO_LABEL`); the cashier named on its tickets is "Comptoir".
Taxes, payment modes and categories are those of a French farm shop; the "online" payment mode
is the one the co-op's gateway needs for orders paid on the marketplace.
"""

from __future__ import annotations

from appliance.pasteque.fake.state import (
    Account,
    Category,
    Currency,
    FakeState,
    PaymentMode,
    Product,
    Tax,
    User,
)

DEMO_USER = "comptoir"
DEMO_PASSWORD = "demo-pasteque-password"
DEMO_REGISTER = "comptoir-demo"
DEMO_LABEL = "Comptoir libre-service"
CASHIER = "Comptoir"

TAXES = (("TVA 5,5 %", 0.055), ("TVA 10 %", 0.1), ("TVA 20 %", 0.2), ("TVA 2,1 %", 0.021))
MODES = (
    ("cash", "Espèces"),
    ("magcard", "Carte bancaire"),
    ("cheque", "Chèque"),
    ("online", "Payé en ligne"),
)
CATEGORIES = (
    ("legumes", "Légumes"),
    ("fruits", "Fruits"),
    ("cremerie", "Crèmerie"),
    ("epicerie", "Épicerie"),
    ("boissons", "Boissons"),
)
#: A few products the shop also sells at its counter, matched to the box's by reference (sku).
PRODUCTS = (
    ("TOM-COEUR", "Tomate cœur de bœuf", "legumes", 0.055, 5.59242, True),
    ("CAROTTE", "Carotte des sables", "legumes", 0.055, 1.80095, True),
    ("OEUFS-6", "Œufs plein air x6", "cremerie", 0.055, 2.27488, False),
    ("CIDRE-BRUT", "Cidre brut fermier 75 cl", "boissons", 0.2, 3.75, False),
)


def demo(state: FakeState | None = None) -> FakeState:
    """The demo shop: one account, the box's register, and the lists a till reads."""
    state = state or FakeState()
    with state.lock:
        state.accounts.append(Account(DEMO_USER, DEMO_PASSWORD))
        for label, rate in TAXES:
            tax = Tax(state.next_id(), label, rate)
            state.taxes[tax.id] = tax
        for order, (reference, label) in enumerate(MODES):
            mode = PaymentMode(state.next_id(), reference, label, disp_order=order)
            state.payment_modes[mode.id] = mode
        euro = Currency(state.next_id(), "eur", "Euro", "€", main=True)
        state.currencies[euro.id] = euro
        for reference, label in CATEGORIES:
            category = Category(state.next_id(), reference, label)
            state.categories[category.id] = category
        for name in ("Administrateur", CASHIER):
            user = User(state.next_id(), name)
            state.users[user.id] = user
        by_reference = {c.reference: c.id for c in state.categories.values()}
        by_rate = {t.rate: t.id for t in state.taxes.values()}
        for reference, label, category_reference, rate, price, scaled in PRODUCTS:
            product = Product(
                state.next_id(),
                reference,
                label,
                by_reference[category_reference],
                by_rate[rate],
                price,
                scaled=scaled,
            )
            state.products[product.id] = product
        state.add_register(DEMO_REGISTER, DEMO_LABEL)
    return state
