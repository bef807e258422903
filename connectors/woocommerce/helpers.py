"""The WooCommerce REST client (``/wp-json/wc/v3/orders``) and the mapping of an order to Triad's record.

Listing: ``per_page=100&page=N&orderby=id&order=asc`` (a stable order while new orders arrive), filtered by
``modified_after`` + ``dates_are_gmt=true`` for incremental runs; the pages end at ``X-WP-TotalPages`` or
the first empty page. Authentication: the REST API key and secret as HTTP Basic auth (WooCommerce accepts
it over HTTPS). Money comes as strings ("12.50"); refunds are listed with negative totals.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors import commerce
from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    MalformedResponseError,
    PageNumberPaginator,
    RetryPolicy,
    dig,
    make_session,
)
from connectors.social import parse_timestamp
from connectors.woocommerce import settings

log = logging.getLogger(__name__)


def store_handle(url: str) -> str:
    """``https://www.shop.example/`` → ``shop.example``: the sync target and the default brand name."""
    host = urlsplit(url if "://" in url else f"https://{url}").netloc or url
    return host.lower().removeprefix("www.")


def classify_error(response: requests.Response, body: Any) -> APIError | None:
    code = dig(body, "code") if isinstance(body, dict) else None
    message = dig(body, "message") if isinstance(body, dict) else None
    detail = message or response.reason or "no details"
    if response.status_code in (401, 403) or (isinstance(code, str) and "authentication" in code):
        return AuthenticationError(
            f"WooCommerce refused the API key (HTTP {response.status_code}: {detail}). Check "
            f"{settings.KEY_CREDENTIAL} and {settings.SECRET_CREDENTIAL} (environment variables, or the same keys "
            "in .streamlit/secrets.toml): a REST API key with Read access, used over HTTPS.",
            code=code,
        )
    if response.status_code == 404:
        return MalformedResponseError(
            f"There is no WooCommerce REST API at this address (HTTP 404: {detail}). Check --url: it is the "
            "shop's address, e.g. https://shop.example (pretty permalinks must be on).",
            code=code,
        )
    return None


class WooCommerceClient:
    def __init__(self, url: str, key: str, secret: str, *, retry: RetryPolicy | None = None):
        base = url if "://" in url else f"https://{url}"
        session = make_session("woocommerce")
        session.auth = (key, secret)
        self.client = APIClient(
            base,
            connector="woocommerce",
            label="WooCommerce",
            session=session,
            retry=retry,
            auth_settings=(settings.KEY_CREDENTIAL, settings.SECRET_CREDENTIAL),
            classify_error=classify_error,
        )
        self.pages = 0
        self.skipped: dict[str, int] = {}
        if base.startswith("http://") and urlsplit(base).hostname not in ("localhost", "127.0.0.1", "::1"):
            log.warning("WooCommerce accepts API keys over HTTPS only; %s is plain HTTP", store_handle(base))

    @property
    def requests(self) -> int:
        return self.client.requests_sent

    def close(self) -> None:
        self.client.close()

    def orders(
        self, since: dt.datetime | None, progress: Callable[[str, float], None]
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": settings.PAGE_SIZE, "orderby": "id", "order": "asc"}
        if since is not None:
            params["modified_after"] = (
                (since - dt.timedelta(seconds=settings.CURSOR_OVERLAP)).replace(microsecond=0).isoformat()
            )
            params["dates_are_gmt"] = "true"
        paginator = PageNumberPaginator("page", total_pages_header=settings.TOTAL_PAGES_HEADER)
        records: list[dict[str, Any]] = []
        for body in self.client.paginate(settings.ORDERS_PATH, paginator=paginator, params=params):
            self.pages += 1
            if not isinstance(body, list):
                raise MalformedResponseError(
                    "WooCommerce answered the orders listing with something that is not a list; nothing was "
                    "written. Check --url.",
                    connector="woocommerce",
                )
            for order in body:
                status = str(order.get("status") or "")
                if status in settings.NOT_PLACED:
                    self.skipped[f"{status} orders"] = self.skipped.get(f"{status} orders", 0) + 1
                    continue
                records.append(woo_order(order))
            progress(
                f"{len(records):,} orders fetched",
                min(0.85, 0.05 + 0.8 * self.pages / max(1, paginator.page)),
            )
        return records


def _money(value: Any, order: Any, what: str) -> Any:
    try:
        return commerce.money(value)
    except ArithmeticError:
        raise MalformedResponseError(
            f"WooCommerce sent {what} {value!r} for order {order}, which is not an amount; nothing was written.",
            connector="woocommerce",
        ) from None


def _gmt(value: Any) -> dt.datetime | None:
    """WooCommerce's ``*_gmt`` times carry no offset: they are UTC."""
    return parse_timestamp(value)


def woo_order(order: dict[str, Any]) -> dict[str, Any]:
    """A WooCommerce order → Triad's normalised order record."""
    order_id = order.get("id")
    if order_id is None:
        raise MalformedResponseError("WooCommerce sent an order without its id; nothing was written.",
                                     connector="woocommerce")  # fmt: skip
    meta = {m.get("key"): m.get("value") for m in order.get("meta_data") or [] if isinstance(m, dict)}
    landing = meta.get(settings.META_LANDING_PAGE) or None
    from_page = commerce.utm_from_url(landing)
    ordered_at = _gmt(order.get("date_created_gmt")) or parse_timestamp(order.get("date_created"))
    if ordered_at is None:
        raise MalformedResponseError(f"WooCommerce sent order {order_id} without a creation date; nothing was "
                                     "written.", connector="woocommerce")  # fmt: skip
    refunded = sum(
        (abs(_money(r.get("total"), order_id, "a refund total")) for r in order.get("refunds") or []),
        start=commerce.money("0"),
    )
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    customer_id = order.get("customer_id")
    name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p)
    return {
        "external_order_id": str(order_id),
        "ordered_at": ordered_at,
        "updated_at": _gmt(order.get("date_modified_gmt")) or parse_timestamp(order.get("date_modified")),
        "gross": _money(order.get("total"), order_id, "total"),
        "discount": _money(order.get("discount_total"), order_id, "discount_total"),
        "refunded": refunded,
        "currency": order.get("currency") or "USD",
        "promo_code": commerce.first_code(c.get("code") for c in order.get("coupon_lines") or []),
        **{k: (meta.get(settings.META_UTM[k]) or None) or from_page[k] for k in commerce.UTM_FIELDS},
        "landing_page": landing,
        "referrer": meta.get(settings.META_REFERRER) or None,
        "is_test": False,
        "is_cancelled": str(order.get("status") or "") in settings.CANCELLED,
        "customer_email": billing.get("email") or None,
        "customer_phone": billing.get("phone") or None,
        "customer_name": name or None,
        "customer_external_id": str(customer_id) if customer_id not in (None, 0, "0") else None,
        "country": billing.get("country") or shipping.get("country") or None,
    }
