"""The Shopify Admin API client (GraphQL and REST orders) and the mapping of an order to Triad's record.

GraphQL: ``orders(first, after, query: "updated_at:>='…'", sortKey: UPDATED_AT)``, paged by
``pageInfo { hasNextPage endCursor }``. Shopify throttles GraphQL by query cost and answers a throttled
request with HTTP 200 and ``errors[].extensions.code == "THROTTLED"``; we wait for the bucket to refill
(``extensions.cost.throttleStatus``) and ask again. HTTP-level retries (429 with ``Retry-After``, 5xx) are the
shared HTTP layer's.

REST: ``GET orders.json?status=any&updated_at_min=…&limit=250``, paged by the ``Link: <…page_info=…>;
rel="next"`` header (the next URL carries every parameter itself).

Money arrives as strings ("12.50") and stays exact (Decimal). ``customer`` may be null (guest checkouts,
apps without customer access): the buyer is then known by the order's e-mail or phone, or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

import requests

from connectors import commerce
from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    FatalAPIError,
    LinkHeaderPaginator,
    MalformedResponseError,
    PaginationError,
    RateLimitError,
    RetryPolicy,
    dig,
    make_session,
)
from connectors.shopify import settings
from connectors.social import parse_timestamp

log = logging.getLogger(__name__)


def shop_base_url(shop: str) -> str:
    """``mystore`` → ``https://mystore.myshopify.com`` (a full domain or URL is kept)."""
    text = shop.strip().rstrip("/")
    if text.startswith(("http://", "https://")):
        return text
    if "." not in text:
        text = f"{text}.myshopify.com"
    return f"https://{text}"


def shop_handle(shop: str) -> str:
    """The shop's short name (``mystore`` for ``mystore.myshopify.com``): the sync target and default brand."""
    text = shop.strip().rstrip("/").split("://")[-1]
    return text.removesuffix(".myshopify.com")


def _errors_text(body: Any) -> str | None:
    """Shopify's ``errors``: a string, a list of {message}, or {field: [messages]}."""
    errors = dig(body, "errors")
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list) and errors:
        first = errors[0]
        return str(first.get("message") if isinstance(first, dict) else first)
    if isinstance(errors, dict) and errors:
        return "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items()
        )
    return None


def classify_error(response: requests.Response, body: Any) -> APIError | None:
    """Shopify's error bodies, in words: a refused token names the setting to fix."""
    status = response.status_code
    detail = _errors_text(body) or response.reason or "no details"
    if status in (401, 403):
        what = (
            "refused the access token"
            if status == 401
            else "refused access (a missing scope such as read_orders?)"
        )
        return AuthenticationError(
            f"Shopify {what} (HTTP {status}: {detail}). Check {settings.CREDENTIAL} (environment variable, or "
            "the same key in .streamlit/secrets.toml): it must be an Admin API access token of this shop with "
            "the read_orders scope (read_all_orders for orders older than 60 days)."
        )
    if status == 402:
        return FatalAPIError(f"Shopify says the shop is frozen or unpaid (HTTP 402: {detail}).")
    if status == 423:
        return FatalAPIError(f"Shopify says the shop is locked (HTTP 423: {detail}).")
    if status == 404:
        return FatalAPIError(
            f"Shopify found no such shop or API version (HTTP 404: {detail}). Check --shop (and --base-url or "
            f"--api-version if you set them)."
        )
    return None


class ShopifyClient:
    """One shop's Admin API: orders through GraphQL or REST, every page fetched before anything is written."""

    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        base_url: str | None = None,
        api_version: str = settings.API_VERSION,
        retry: RetryPolicy | None = None,
    ):
        self.shop = shop
        self.api_version = api_version
        session = make_session("shopify", headers={settings.TOKEN_HEADER: access_token})
        self.client = APIClient(
            base_url or shop_base_url(shop),
            connector="shopify",
            label="Shopify",
            session=session,
            retry=retry,
            auth_settings=(settings.CREDENTIAL,),
            classify_error=classify_error,
        )
        self.pages = 0

    @property
    def requests(self) -> int:
        return self.client.requests_sent

    def close(self) -> None:
        self.client.close()

    # -- REST --------------------------------------------------------------------------------------------
    def rest_orders(self, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "status": "any",
            "limit": settings.REST_PAGE_SIZE,
            "order": "updated_at asc",
        }
        if since is not None:
            params["updated_at_min"] = commerce.iso_utc(since)
        path = settings.REST_ORDERS_PATH.format(version=self.api_version)
        for body in self.client.paginate(path, paginator=LinkHeaderPaginator(), params=params):
            self.pages += 1
            orders = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(orders, list):
                raise MalformedResponseError(
                    "Shopify answered orders.json without an 'orders' list; nothing was written. If you set "
                    "--base-url, check that it points at the shop.",
                    connector="shopify",
                )
            yield from orders

    # -- GraphQL -----------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request's ``data``, waiting out THROTTLED answers; other errors raise."""
        path = settings.GRAPHQL_PATH.format(version=self.api_version)
        policy = self.client.retry
        for attempt in range(1, settings.MAX_THROTTLE_TRIES + 1):
            body = self.client.request_json("POST", path, json_body={"query": query, "variables": variables})
            if not isinstance(body, dict):
                raise MalformedResponseError(
                    "Shopify's GraphQL answer is not a JSON object.", connector="shopify"
                )
            errors = body.get("errors")
            if not errors:
                data = body.get("data")
                if not isinstance(data, dict):
                    raise MalformedResponseError("Shopify's GraphQL answer has no data.", connector="shopify")
                return data
            codes = (
                {dig(e, "extensions.code") for e in errors if isinstance(e, dict)}
                if isinstance(errors, list)
                else set()
            )
            message = _errors_text(body) or "unknown error"
            if codes & settings.THROTTLED_CODES:
                wait = _throttle_wait(body, policy)
                if attempt == settings.MAX_THROTTLE_TRIES:
                    raise RateLimitError(
                        f"Shopify kept throttling the GraphQL API after {attempt} tries ({message}). Run the sync "
                        "again in a minute; nothing was written.",
                        connector="shopify",
                        code="THROTTLED",
                    )
                log.warning("Shopify GraphQL throttled; waiting %.1f s (try %d)", wait, attempt + 1)
                policy.sleep(wait)
                continue
            if codes & settings.ACCESS_CODES:
                raise AuthenticationError(
                    f"Shopify refused the GraphQL query ({message}). Check that {settings.CREDENTIAL} has the "
                    "read_orders scope.",
                    connector="shopify",
                    code=next(iter(codes & settings.ACCESS_CODES)),
                )
            raise FatalAPIError(f"Shopify rejected the GraphQL query ({message}).", connector="shopify")
        raise AssertionError("unreachable")  # pragma: no cover

    def graphql_orders(self, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        variables: dict[str, Any] = {"first": settings.GRAPHQL_PAGE_SIZE, "after": None, "query": None}
        if since is not None:
            variables["query"] = f"updated_at:>='{commerce.iso_utc(since)}'"
        seen: set[str] = set()
        while True:
            data = self.graphql(settings.ORDERS_QUERY, variables)
            self.pages += 1
            orders = data.get("orders")
            if not isinstance(orders, dict) or not isinstance(orders.get("nodes", orders.get("edges")), list):
                raise MalformedResponseError("Shopify's GraphQL answer has no orders.", connector="shopify")
            nodes = orders.get("nodes")
            if nodes is None:
                nodes = [edge.get("node") for edge in orders["edges"] if isinstance(edge, dict)]
            yield from (n for n in nodes if isinstance(n, dict))
            page = orders.get("pageInfo") or {}
            cursor = page.get("endCursor")
            if not page.get("hasNextPage") or not cursor:
                return
            if cursor in seen:
                raise PaginationError(
                    "Shopify sent the same page cursor twice; stopped to avoid an endless loop. Nothing was "
                    "written; run the sync again later.",
                    connector="shopify",
                )
            seen.add(cursor)
            variables["after"] = cursor

    def orders(
        self, api: str, since: dt.datetime | None, progress: Callable[[str, float], None]
    ) -> list[dict[str, Any]]:
        """Every order updated since ``since`` (all when None), normalised."""
        source = self.graphql_orders if api == "graphql" else self.rest_orders
        mapper = graphql_order if api == "graphql" else rest_order
        records: list[dict[str, Any]] = []
        for raw in source(since):
            records.append(mapper(raw))
            if len(records) % 250 == 0:
                progress(f"{len(records):,} orders fetched", min(0.85, 0.05 + len(records) / 50_000))
        return records


def _throttle_wait(body: dict[str, Any], policy: RetryPolicy) -> float:
    status = dig(body, "extensions.cost.throttleStatus") or {}
    requested = dig(body, "extensions.cost.requestedQueryCost")
    try:
        available = float(status.get("currentlyAvailable", 0))
        rate = float(status.get("restoreRate", 50)) or 50.0
        needed = float(requested or status.get("maximumAvailable", 1000) / 10)
        return max(0.5, min(policy.backoff_max, (needed - available) / rate))
    except (TypeError, ValueError):
        return policy.backoff(1)


# ---------------------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------------------
def _money(value: Any, *, what: str, order: Any) -> Any:
    try:
        return commerce.money(value)
    except ArithmeticError:
        raise MalformedResponseError(
            f"Shopify sent {what} {value!r} for order {order}, which is not an amount; nothing was written.",
            connector="shopify",
        ) from None


def _time(value: Any, *, what: str, order: Any, required: bool = False) -> dt.datetime | None:
    moment = parse_timestamp(value)
    if moment is None and (required or value not in (None, "")):
        raise MalformedResponseError(
            f"Shopify sent order {order} with {what} {value!r}, which is not a time; nothing was written.",
            connector="shopify",
        )
    return moment


def rest_order(order: dict[str, Any]) -> dict[str, Any]:
    """A REST ``orders.json`` order → Triad's normalised order record."""
    order_id = order.get("id")
    if order_id is None:
        raise MalformedResponseError(
            "Shopify sent an order without its id; nothing was written.", connector="shopify"
        )
    currency = order.get("currency") or "USD"
    refunded = sum(
        (
            _money(t.get("amount"), what="a refund amount", order=order_id)
            for refund in order.get("refunds") or []
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") in (None, "success")
            and t.get("currency") in (None, currency)
        ),
        start=commerce.money("0"),
    )  # fmt: skip
    customer = order.get("customer") or {}
    billing = order.get("billing_address") or {}
    shipping = order.get("shipping_address") or {}
    name = billing.get("name") or " ".join(
        p for p in (customer.get("first_name"), customer.get("last_name")) if p
    )
    return {
        "external_order_id": str(order_id),
        "ordered_at": _time(
            order.get("processed_at") or order.get("created_at"),
            what="created_at",
            order=order_id,
            required=True,
        ),  # fmt: skip
        "updated_at": _time(order.get("updated_at"), what="updated_at", order=order_id),
        "gross": _money(order.get("total_price"), what="total_price", order=order_id),
        "discount": _money(order.get("total_discounts"), what="total_discounts", order=order_id),
        "refunded": refunded,
        "currency": currency,
        "promo_code": commerce.first_code(d.get("code") for d in order.get("discount_codes") or []),
        **commerce.utm_from_url(order.get("landing_site")),
        "landing_page": order.get("landing_site") or None,
        "referrer": order.get("referring_site") or None,
        "is_test": bool(order.get("test")),
        "is_cancelled": order.get("cancelled_at") is not None,
        "customer_email": order.get("email") or order.get("contact_email") or customer.get("email"),
        "customer_phone": order.get("phone") or customer.get("phone") or billing.get("phone"),
        "customer_name": name or None,
        "customer_external_id": None if customer.get("id") is None else str(customer["id"]),
        "country": billing.get("country_code")
        or shipping.get("country_code")
        or (customer.get("default_address") or {}).get("country_code"),
    }


def _shop_money(order: dict[str, Any], field: str) -> Any:
    return _money(
        dig(order, f"{field}.shopMoney.amount"), what=field, order=order.get("name") or order.get("id")
    )


def graphql_order(order: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL ``Order`` node → Triad's normalised order record (same ids as REST: legacyResourceId)."""
    gid = order.get("id")
    legacy = order.get("legacyResourceId") or (str(gid).rsplit("/", 1)[-1] if gid else None)
    if not legacy:
        raise MalformedResponseError(
            "Shopify sent an order without its id; nothing was written.", connector="shopify"
        )
    journey = order.get("customerJourneySummary") or {}
    visit = journey.get("lastVisit") or journey.get("firstVisit") or {}
    utm = {
        f"utm_{k}": v
        for k, v in (visit.get("utmParameters") or {}).items()
        if k in ("source", "medium", "campaign", "content")
    }
    from_page = commerce.utm_from_url(visit.get("landingPage"))
    customer = order.get("customer") or {}
    billing = order.get("billingAddress") or {}
    shipping = order.get("shippingAddress") or {}
    customer_gid = customer.get("id")
    return {
        "external_order_id": str(legacy),
        "ordered_at": _time(
            order.get("processedAt") or order.get("createdAt"), what="createdAt", order=legacy, required=True
        ),  # fmt: skip
        "updated_at": _time(order.get("updatedAt"), what="updatedAt", order=legacy),
        "gross": _shop_money(order, "totalPriceSet"),
        "discount": _shop_money(order, "totalDiscountsSet"),
        "refunded": _shop_money(order, "totalRefundedSet"),
        "currency": dig(order, "totalPriceSet.shopMoney.currencyCode") or order.get("currencyCode") or "USD",
        "promo_code": commerce.first_code(order.get("discountCodes") or []),
        **{k: utm.get(k) or from_page[k] for k in commerce.UTM_FIELDS},
        "landing_page": visit.get("landingPage") or None,
        "referrer": visit.get("referrerUrl") or None,
        "is_test": bool(order.get("test")),
        "is_cancelled": order.get("cancelledAt") is not None,
        "customer_email": order.get("email"),
        "customer_phone": order.get("phone"),
        "customer_name": billing.get("name"),
        "customer_external_id": None if not customer_gid else str(customer_gid).rsplit("/", 1)[-1],
        "country": billing.get("countryCodeV2") or shipping.get("countryCodeV2"),
    }
