"""WooCommerce orders from a real HTTP server on 127.0.0.1 answering like ``/wp-json/wc/v3/orders``: numbered pages
ending at ``X-WP-TotalPages``, HTTP Basic auth with the REST key, coupon lines, refunds with negative totals,
order attribution in the meta data."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.woocommerce import settings, sync_woocommerce
from models import privacy
from models.store import Store
from tests.commerce.support import fixture, rows, snapshot

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"
PATH = "/" + settings.ORDERS_PATH
PAGES = ["woocommerce_orders_page1.json", "woocommerce_orders_page2.json"]


def handler(pages: list[str]):
    def handle(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response(json.dumps(fixture("woocommerce_auth_error.json")), status=401,
                            content_type="application/json")  # fmt: skip
        page = int(request.args.get("page", "1"))
        body = fixture(pages[page - 1]) if page <= len(pages) else []
        headers = {"X-WP-Total": str(4 * len(pages)), "X-WP-TotalPages": str(len(pages))}
        return Response(json.dumps(body), headers=headers, content_type="application/json")

    return handle


def sync(store: Store, server: HTTPServer, retry: Any, **kwargs: Any) -> Any:
    return sync_woocommerce(store, server.url_for("/"), key=KEY, secret=SECRET, retry=retry, **kwargs)


def test_orders_land_with_coupons_refunds_and_attribution(
    httpserver: HTTPServer, store: Store, retry: Any
) -> None:
    httpserver.expect_request(PATH).respond_with_handler(handler(PAGES))
    result = sync(store, httpserver, retry)
    assert result.ok, result.message
    assert (result.pages, result.fetched, result.orders.inserted) == (2, 3, 3)
    assert "Skipped 1 pending orders" in result.message

    got = {r["external_order_id"]: r for r in rows(store, "SELECT * FROM orders")}
    assert set(got) == {"727", "728", "730"}  # 729 is pending: not a sale yet
    first = got["727"]
    assert (first["gross"], first["discount"], first["refunded"], first["currency"]) == (
        Decimal("31.90"), Decimal("3.00"), Decimal("0.00"), "EUR")  # fmt: skip
    assert first["promo_code"] == "MAX10"
    assert (first["utm_source"], first["utm_medium"], first["utm_campaign"], first["utm_content"]) == (
        "tiktok",
        "influencer",
        "summer",
        "max_video",
    )  # fmt: skip (content only in the landing page)
    assert first["landing_page"].startswith("https://shop.example/shop/?utm_source=tiktok")
    assert first["referrer"] == "https://www.tiktok.com/"
    assert first["ordered_at"] == dt.datetime(2024, 5, 1, 8, 30)
    refunded = got["728"]
    assert refunded["refunded"] == Decimal("31.90") and not refunded["is_cancelled"]
    assert refunded["customer_id"] == first["customer_id"]  # the same buyer, whatever the e-mail's case
    assert got["730"]["is_cancelled"]

    secret = privacy.workspace_secret(store.path)
    keys = {r["customer_key"] for r in rows(store, "SELECT customer_key FROM customers")}
    assert privacy.customer_key(secret, email="max.kaeufer@example.org") in keys and len(keys) == 2
    shop = f"localhost:{httpserver.port}"  # the shop's host names the brand (and the sync target)
    assert rows(store, "SELECT name, currency FROM brands") == [{"name": shop, "currency": "EUR"}]
    assert "kaeufer" not in json.dumps(snapshot(store)).lower()

    first_request = httpserver.log[0][0]
    assert first_request.args["per_page"] == "100" and first_request.args["orderby"] == "id"
    assert "modified_after" not in first_request.args


def test_second_run_is_incremental_and_changes_nothing(
    httpserver: HTTPServer, store: Store, retry: Any
) -> None:
    httpserver.expect_request(PATH).respond_with_handler(handler(PAGES))
    assert sync(store, httpserver, retry).ok
    before = snapshot(store)
    again = sync(store, httpserver, retry)
    assert again.ok and again.orders.inserted == 0 and again.orders.updated == 0
    assert snapshot(store) == before
    request = httpserver.log[-1][0]
    assert request.args["modified_after"] == "2024-05-06T11:59:59"  # the cursor minus a second (exclusive)
    assert request.args["dates_are_gmt"] == "true"


def test_a_refused_key_writes_nothing(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    httpserver.expect_request(PATH).respond_with_handler(handler(PAGES))
    before = snapshot(store)
    result = sync_woocommerce(store, httpserver.url_for("/"), key=KEY, secret="cs_wrong", retry=retry)
    assert not result.ok
    assert "Consumer key is invalid" in result.message and "TRIAD_WOOCOMMERCE_KEY" in result.message
    assert "cs_wrong" not in result.message
    assert snapshot(store) == before
    assert [r["status"] for r in rows(store, "SELECT status FROM sync_runs")] == ["failed"]
