"""HTTP client of an Open Food Network instance (API v0, and DFC for the installer's check).

Polite to a small server (CoopCircuits runs 3 workers): at most two requests at a time, a
timeout on each, exponential backoff with full jitter on 5xx, 504, HTML maintenance pages,
cut-off answers and network errors, and the wait a 429 asks for (`Retry-After`, in seconds or
as an HTTP date; past RETRY_AFTER_CAP_S the round gives up and the next sync tries again).
Every list is paged explicitly (`per_page` <= 100), because an unpaged request returns
everything. Ransack ignores a filter it does not know, so callers check filters on what comes
back. The API key goes in a header, never in a URL or a log line."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

from appliance import clock
from appliance.errors import ComptoirError

log = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PARALLEL = 2
ATTEMPTS = 4
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
#: The longest `Retry-After` waited for within one request; a longer one ends the round.
RETRY_AFTER_CAP_S = 120.0

T = TypeVar("T")
R = TypeVar("R")


class MarketplaceError(ComptoirError):
    """Something between this box and the marketplace went wrong."""


class MarketplaceUnavailable(MarketplaceError):
    """Down, in maintenance, too slow or unreachable: try again later, nothing was lost."""


class MarketplaceAuthError(MarketplaceError):
    """The API key is missing, wrong, or its user may not do this."""

    exit_code = 3


class MarketplaceRefused(MarketplaceError):
    """A 4xx other than 401: this request will not succeed by retrying it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    date: str  # the server's clock (HTTP Date), ISO 8601 UTC, or ""


def read_api_key(path: Path | None) -> str:
    """The key from `[marketplace] api_key_file`; its text is never logged or stored."""
    if path is None:
        raise MarketplaceAuthError(
            "no API key: set [marketplace] api_key_file to a file holding the kiosk user's key "
            "(Account > Developer settings on the marketplace)"
        )
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MarketplaceAuthError(
            f"cannot read the API key file {path} ([marketplace] api_key_file): {exc.strerror}"
        ) from None
    if not key:
        raise MarketplaceAuthError(f"the API key file {path} is empty: paste the key into it")
    return key


class Client:
    """One marketplace instance seen through one user's API key."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 20,
        key_file: Path | None = None,
        sleep: Callable[[float], object] = time.sleep,
        jitter: Callable[[], float] = random.random,
        attempts: int = ATTEMPTS,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise MarketplaceError(
                f"[marketplace] url = {url!r} is wrong: expected https://instance, "
                "such as https://www.coopcircuits.fr"
            )
        self.base = url.rstrip("/")
        self._key = api_key
        self._key_file = key_file
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._jitter = jitter
        self._slots = threading.Semaphore(MAX_PARALLEL)
        self.attempts = attempts
        self._count_lock = threading.Lock()
        self.requests = 0
        self.supplier_filter = "variants_enterprise_id_eq"

    # -- catalogue --------------------------------------------------------------------------------

    def bulk_products(
        self,
        *,
        enterprise_id: int | None = None,
        updated_after: str = "",
        first_page: list[Answer] | None = None,
    ) -> list[dict[str, Any]]:
        """Every product the key's user may edit (`{products, pagination}`, 15 by default).

        The answer shows no `updated_at`, so that filter cannot be checked here: if it were
        ignored, the read would only be longer.
        """
        query: dict[str, Any] = {"q[s]": "id asc"}
        if updated_after:
            query["q[updated_at_gt]"] = updated_after
        if enterprise_id is None:
            path = "/api/v0/products/bulk_products"
            return list(self._pages(path, query, "products", first_page))
        return self._products_of(enterprise_id, query)

    def _products_of(self, enterprise_id: int, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Products with a variant of one producer; older releases name the filter `supplier`."""
        names = [self.supplier_filter]
        names += [
            n for n in ("variants_enterprise_id_eq", "variants_supplier_id_eq") if n != names[0]
        ]
        for name in names:
            products = list(
                self._pages(
                    "/api/v0/products/bulk_products",
                    {**query, f"q[{name}]": enterprise_id},
                    "products",
                )
            )
            if all(
                any(v.get("producer_id") == enterprise_id for v in p.get("variants") or [])
                for p in products
            ):
                self.supplier_filter = name
                return products
            log.info("marketplace ignored q[%s]: trying the other release's name", name)
        raise MarketplaceError(
            "the marketplace ignores both producer filters (enterprise and supplier): "
            "this release is not supported"
        )

    def variant(self, product_id: int, variant_id: int) -> dict[str, Any]:
        """A fresh read of one variant, right before writing its stock."""
        return self.request("GET", f"/api/v0/products/{product_id}/variants/{variant_id}").body

    def set_stock(self, product_id: int, variant_id: int, on_hand: int) -> dict[str, Any]:
        """An absolute stock write: `on_hand` becomes the variant's network-wide count."""
        path = f"/api/v0/products/{product_id}/variants/{variant_id}"
        return self.request("PUT", path, body={"variant": {"on_hand": on_hand}}).body

    def add_to_order(self, number: str, variant_id: int, quantity: int) -> dict[str, Any]:
        """Add units to a completed order: OFN takes them from stock, relatively and row-locked.

        Not idempotent, so never retried here: after an unknown outcome the caller reads the
        order to learn whether the units landed.
        """
        path = f"/api/v0/orders/{_number(number)}/shipments"
        body = {"variant_id": variant_id, "quantity": quantity}
        return self.request("POST", path, body=body, retry=False).body

    def order_cycle_products(self, order_cycle_id: int, hub_id: int) -> list[dict[str, Any]]:
        """What the hub sells in an open order cycle (a bare array; sold-out variants absent)."""
        return list(
            self._pages(
                f"/api/v0/order_cycles/{order_cycle_id}/products", {"distributor": hub_id}, None
            )
        )

    # -- orders -----------------------------------------------------------------------------------

    def orders(
        self,
        hub_id: int,
        *,
        shipping_method_id: int | None = None,
        updated_after: str = "",
        states: Iterable[str] = (),
        shipment_states: Iterable[str] = (),
        order_cycle_ids: Iterable[int] = (),
        first_page: list[Answer] | None = None,
    ) -> list[dict[str, Any]]:
        """Orders of the hub, filtered on the server and checked again here.

        The pickup point filter is the top-level `shipping_method_id` (not in `q`); the index
        does not show it, so the caller checks it on each order's detail. `first_page` receives
        the first answer, whose Date is the server's clock for the next incremental read.
        """
        states, shipment_states = tuple(states), tuple(shipment_states)
        order_cycle_ids = tuple(order_cycle_ids)
        query: list[tuple[str, Any]] = [("q[distributor_id_eq]", hub_id), ("q[s]", "id asc")]
        query += [("q[state_in][]", s) for s in states]
        query += [("q[shipment_state_in][]", s) for s in shipment_states]
        query += [("q[order_cycle_id_in][]", oc) for oc in order_cycle_ids]
        if updated_after:
            query.append(("q[updated_at_gt]", updated_after))
        if shipping_method_id is not None:
            query.append(("shipping_method_id", shipping_method_id))
        kept = []
        for order in self._pages("/api/v0/orders", query, "orders", first_page):
            if (order.get("distributor") or {}).get("id") != hub_id:
                continue
            if states and order.get("state") not in states:
                continue
            if shipment_states and order.get("shipment_state") not in shipment_states:
                continue
            if (
                order_cycle_ids
                and (order.get("order_cycle") or {}).get("id") not in order_cycle_ids
            ):
                continue
            kept.append(order)
        return kept

    def order(self, number: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v0/orders/{_number(number)}").body

    def capture(self, number: str) -> dict[str, Any]:
        """Take the pending pay-at-pickup payment, so that the shipment becomes ready."""
        return self.request("PUT", f"/api/v0/orders/{_number(number)}/capture").body

    def ship(self, number: str) -> dict[str, Any]:
        """Report the pickup. 200 proves nothing: the caller checks `shipment_state`."""
        return self.request("PUT", f"/api/v0/orders/{_number(number)}/ship").body

    # -- enterprises (installer's check) ----------------------------------------------------------

    def shop(self, hub_id: int) -> dict[str, Any]:
        return self.request("GET", f"/api/v0/shops/{hub_id}").body

    def managed_enterprise(self, hub_id: int) -> bool:
        """True when the key's user manages the enterprise (DFC answers 404 otherwise)."""
        try:
            self.request("GET", f"/api/dfc/enterprises/{hub_id}")
        except MarketplaceRefused as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # -- plumbing ---------------------------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`fn` over `items`, two at a time (the server's fair share), results in order."""
        with ThreadPoolExecutor(MAX_PARALLEL) as pool:
            return list(pool.map(fn, items))

    def _pages(
        self,
        path: str,
        query: dict[str, Any] | list[tuple[str, Any]],
        key: str | None,
        first_page: list[Answer] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list; stops on an empty page or at the last page announced."""
        params = list(query.items()) if isinstance(query, dict) else list(query)

        def page(n: int) -> tuple[list[dict[str, Any]], int | None, Answer]:
            answer = self.request("GET", path, [*params, ("page", n), ("per_page", PER_PAGE)])
            body = answer.body
            if key is None:
                if not isinstance(body, list):
                    raise MarketplaceUnavailable(f"unexpected answer from {path}: not a list")
                return body, None, answer
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise MarketplaceUnavailable(f"unexpected answer from {path}: no {key!r} list")
            pages = (body.get("pagination") or {}).get("pages")
            return body[key], int(pages) if pages is not None else None, answer

        items, pages, answer = page(1)
        if first_page is not None:
            first_page.append(answer)
        yield from items
        if not items:
            return
        if pages is not None:
            for more, _, _ in self.map(page, range(2, pages + 1)):
                yield from more
            return
        n = 2
        while True:
            more, _, _ = page(n)
            if not more:
                return
            yield from more
            n += 1

    def request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
        *,
        retry: bool = True,
    ) -> Answer:
        """One call with retries; raises MarketplaceUnavailable once the retries are spent."""
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode([(k, str(v)) for k, v in query])
        problem = ""
        asked_wait_s: float | None = None
        for attempt in range(self.attempts if retry else 1):
            if attempt:
                self._sleep(asked_wait_s if asked_wait_s is not None else self._backoff(attempt))
            try:
                return self._once(method, path, url, body)
            except _Transient as exc:
                problem, asked_wait_s = str(exc), exc.wait_s
                log.warning(
                    "marketplace %s %s: %s (attempt %d)", method, path, problem, attempt + 1
                )
            if asked_wait_s is not None and asked_wait_s > RETRY_AFTER_CAP_S:
                raise MarketplaceUnavailable(
                    f"the marketplace at {self.base} asks to wait {asked_wait_s:.0f} s before "
                    f"another request ({problem}); nothing is lost, a later sync tries again"
                )
        raise MarketplaceUnavailable(
            f"the marketplace at {self.base} is not answering properly ({problem}); "
            "nothing is lost, the next sync tries again"
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before try number `attempt` + 1."""
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        return delay * (0.5 + self._jitter() / 2)

    def _once(self, method: str, path: str, url: str, body: dict[str, Any] | None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", "X-Spree-Token": self._key}
        if path.startswith(("/api/v1/", "/api/dfc/")):
            headers = {"Accept": "application/json", "X-Api-Token": self._key}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        with self._slots:
            with self._count_lock:
                self.requests += 1
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    status, raw, headers_in = resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as exc:
                status, headers_in = exc.code, exc.headers
                try:
                    raw = exc.read()
                except OSError:
                    raw = b""
            except (OSError, TimeoutError) as exc:
                raise _Transient(f"no answer: {getattr(exc, 'reason', exc)}") from None
        date = headers_in.get("Date") or ""
        if status == 429:
            wait_s = _retry_after(headers_in.get("Retry-After") or "", date)
            raise _Transient("HTTP 429, too many requests", wait_s=wait_s)
        return self._answer(method, path, status, raw, headers_in.get("Content-Type") or "", date)

    def _answer(
        self, method: str, path: str, status: int, raw: bytes, content_type: str, date: str
    ) -> Answer:
        looks_html = bool(raw.strip()) and ("html" in content_type or raw.lstrip()[:1] == b"<")
        if status >= 500 or (status < 300 and looks_html):
            kind = "a maintenance page" if looks_html else "an error"
            raise _Transient(f"HTTP {status} with {kind}")
        if status == 401:
            where = f" ({self._key_file})" if self._key_file else ""
            raise MarketplaceAuthError(
                f"the marketplace refused the API key (HTTP 401 on {method} {path}): put the "
                f"current key of the kiosk's user in [marketplace] api_key_file{where}, and make "
                "sure that user manages the hub ([marketplace] hub_id)"
            )
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError:
            if status < 300:
                raise _Transient(f"HTTP {status} with a cut-off answer") from None
            parsed = None
        if status >= 400:
            raise MarketplaceRefused(
                f"the marketplace refused {method} {path} (HTTP {status})", status
            )
        return Answer(status, parsed, _iso_date(date))


class _Transient(Exception):
    """Worth another try after a pause: the server's own (`wait_s`), else the backoff."""

    def __init__(self, message: str, *, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def _retry_after(value: str, server_date: str) -> float | None:
    """Seconds a `Retry-After` asks for: a number of seconds, or an HTTP date counted from the
    server's own `Date` (the box's clock may be off); None when absent or unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        until = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    try:
        now = parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        now = clock.now()
    if until.tzinfo is None or now.tzinfo is None:
        return None
    return max(0.0, (until - now).total_seconds())


def _iso_date(http_date: str) -> str:
    if not http_date:
        return ""
    try:
        return clock.iso(parsedate_to_datetime(http_date))
    except (TypeError, ValueError):
        return ""


def _number(number: str) -> str:
    """Order numbers are R + digits; anything else must not reach a URL path."""
    if not (number[:1] == "R" and number[1:].isdigit()):
        raise MarketplaceError(f"not a marketplace order number: {number!r} (expected R123456789)")
    return number
