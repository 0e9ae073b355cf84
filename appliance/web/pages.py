"""Long lists cut into pages a phone scrolls through: `?page=N` of the query string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for


def page_asked() -> int:
    """`page` of the query string, 1 when absent or not a page number (a list is never refused
    for a bad page: the first one shows)."""
    text = request.args.get("page", "")
    return int(text) if text.isdigit() and 0 < len(text) < 7 and int(text) > 0 else 1


def page_url(number: int) -> str:
    """This page with the same query (day, period...) at page `number` (a template global)."""
    values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
    return url_for(str(request.endpoint), **{**values, "page": str(number)})


@dataclass(frozen=True)
class Pages:
    """Page `number` (from 1) of `total` items, `size` a page; past the end is the last page."""

    asked: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def number(self) -> int:
        return min(self.asked, self.count)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        """The position (from 1) of the page's first item, 0 when there is none."""
        return self.offset + 1 if self.total else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None
