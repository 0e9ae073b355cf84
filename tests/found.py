"""`found(x)`: what a test expects to be there (a row, a regex match), without its None."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def found(value: T | None) -> T:
    assert value is not None, "expected to find it, found nothing"
    return value
