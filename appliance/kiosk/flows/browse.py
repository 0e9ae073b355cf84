"""Choosing a product: categories, a search box, and the products that match both."""

from __future__ import annotations

import unicodedata

from appliance.core.catalogue import Product


def _folded(text: str) -> str:
    """Lower case without accents, so "peche" finds "Pêche"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Browse:
    """The product grid's state; an empty category means every category."""

    def __init__(self, products: tuple[Product, ...] = ()) -> None:
        self.products = tuple(p for p in products if p.active)
        self.category = ""
        self.search = ""

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({p.category for p in self.products if p.category}))

    @property
    def visible(self) -> tuple[Product, ...]:
        wanted = _folded(self.search.strip())
        return tuple(
            p
            for p in self.products
            if (not self.category or p.category == self.category)
            and (not wanted or wanted in _folded(f"{p.name} {p.producer} {p.origin}"))
        )

    def find(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)

    def reset(self) -> None:
        self.category = ""
        self.search = ""
