"""Shopify orders from a real HTTP server on 127.0.0.1 that answers like the Admin API: REST pages chained by
``Link`` headers, GraphQL pages by ``pageInfo``, 429 with ``Retry-After``, GraphQL throttling, refused tokens.
What must hold: exact totals, codes and UTM values land; a second load adds nothing; an incremental run asks
from the cursor; a failed sync leaves the data as it was and says why; no e-mail, name or phone is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.shopify import settings, sync_shopify
from models import privacy
from models.ids import stable_id
from models.store import Store
from tests.commerce.support import fixture, rows, snapshot

TOKEN = "shpat_test_0123456789abcdef"
REST_PATH = f"/admin/api/{settings.API_VERSION}/orders.json"
GRAPHQL_PATH = f"/admin/api/{settings.API_VERSION}/graphql.json"
ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[Request], Response]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def rest_pages(server: HTTPServer, pages: list[str]) -> Handler:
    """orders.json: page i links to page i+1 with a page_info cursor, like Shopify."""

    def handle(request: Request) -> Response:
        if request.headers.get(settings.TOKEN_HEADER) != TOKEN:
            return json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                401,
            )
        index = int(request.args.get("page_info", "p0")[1:])
        headers = {}
        if index + 1 < len(pages):
            link = server.url_for(f"{REST_PATH}?limit=250&page_info=p{index + 1}")
            headers["Link"] = f'<{link}>; rel="next"'
        if index > 0:
            headers["Link"] = ", ".join(
                filter(
                    None,
                    [
                        f'<{server.url_for(REST_PATH)}?limit=250&page_info=p{index - 1}>; rel="previous"',
                        headers.get("Link"),
                    ],
                )  # fmt: skip
            )
        return json_response(fixture(pages[index]), headers=headers)

    return handle


def graphql_pages(pages: list[str]) -> Handler:
    """graphql.json: the cursor of page i's pageInfo.endCursor asks for page i+1."""
    cursors = {None: 0}
    for i, name in enumerate(pages[:-1]):
        cursors[fixture(name)["data"]["orders"]["pageInfo"]["endCursor"]] = i + 1

    def handle(request: Request) -> Response:
        if request.headers.get(settings.TOKEN_HEADER) != TOKEN:
            return json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                401,
            )
        body = json.loads(request.data)
        assert "orders(" in body["query"] and "pageInfo" in body["query"]
        return json_response(fixture(pages[cursors[body["variables"]["after"]]]))

    return handle


def serve(server: HTTPServer, path: str, handler: Handler, method: str = "GET") -> None:
    server.expect_request(path, method=method).respond_with_handler(handler)


def sync(store: Store, server: HTTPServer, retry: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("api", "rest")
    return sync_shopify(
        store, "teststore", base_url=server.url_for("/"), access_token=TOKEN, retry=retry, **kwargs
    )


def orders(store: Store) -> dict[str, dict[str, Any]]:
    return {r["external_order_id"]: r for r in rows(store, "SELECT * FROM orders ORDER BY external_order_id")}


REST = ["shopify_rest_orders_page1.json", "shopify_rest_orders_page2.json"]
GRAPHQL = ["shopify_graphql_orders_page1.json", "shopify_graphql_orders_page2.json"]


def test_rest_orders_land_with_exact_totals_codes_and_utm(
    httpserver: HTTPServer, store: Store, retry: Any
) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    result = sync(store, httpserver, retry)
    assert result.ok, result.message
    assert (result.fetched, result.pages, result.orders.inserted) == (4, 2, 4)

    got = orders(store)
    a = got["5829214208147"]
    assert (a["gross"], a["discount"], a["refunded"]) == (
        Decimal("1234.56"),
        Decimal("123.45"),
        Decimal("34.56"),
    )
    assert a["currency"] == "USD" and a["promo_code"] == "JANE20"
    assert (a["utm_source"], a["utm_medium"], a["utm_campaign"], a["utm_content"]) == (
        "instagram", "influencer", "spring24", "jane_reel")  # fmt: skip
    assert a["landing_page"].startswith("/products/trail-runner?utm_source=instagram")
    assert a["referrer"] == "https://l.instagram.com/"
    assert a["ordered_at"] == dt.datetime(2024, 3, 1, 15, 15)  # 10:15 at -05:00, stored as naive UTC
    assert a["updated_at"] == dt.datetime(2024, 3, 2, 14, 0)
    assert a["order_id"] == stable_id("order", a["brand_id"], "shopify", "5829214208147")
    assert not a["is_test"] and not a["is_cancelled"]

    guest, test_order, cancelled = got["5829214208148"], got["5829214208149"], got["5829214208150"]
    assert guest["promo_code"] is None and guest["utm_source"] is None and guest["customer_id"] is not None
    assert test_order["is_test"] and test_order["customer_id"] is None  # no customer, no e-mail: no buyer
    assert cancelled["is_cancelled"] and cancelled["refunded"] == Decimal(
        "80.00"
    )  # the failed refund is not money
    assert (cancelled["utm_source"], cancelled["utm_campaign"], cancelled["utm_medium"]) == (
        "newsletter",
        "march",
        None,
    )
    assert cancelled["customer_id"] == a["customer_id"]  # a repeat purchase links to the same customer

    brand = rows(store, "SELECT * FROM brands")
    assert [(b["name"], b["currency"], b["domain"]) for b in brand] == [("teststore", "USD", None)]
    assert rows(
        store, "SELECT state_value FROM sync_state WHERE connector = 'shopify' AND target = 'teststore'"
    ) == [{"state_value": "2024-03-11T09:00:00Z"}]
    run = rows(store, "SELECT * FROM sync_runs")[0]
    assert (run["connector"], run["target"], run["status"]) == ("shopify", "teststore", "succeeded")
    assert json.loads(run["details"])["orders"] == {"inserted": 4, "updated": 0, "unchanged": 0}

    first, second = (entry[0] for entry in httpserver.log)
    assert (
        first.args["status"] == "any" and first.args["limit"] == "250" and "updated_at_min" not in first.args
    )
    assert dict(second.args) == {"limit": "250", "page_info": "p1"}  # the Link URL carries everything


def test_customer_contact_data_never_stored_in_clear(
    httpserver: HTTPServer, store: Store, retry: Any
) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    assert sync(store, httpserver, retry).ok
    everything = json.dumps(
        snapshot(store, tuple(t for t in ("customers", "orders", "brands", "audit_log", "sync_runs")))
    )
    for clear in ("jane.buyer", "guest.buyer", "Buyer", "555 555", "5555550123"):
        assert clear.lower() not in everything.lower(), clear
    secret_file = privacy.secret_path(store.path)
    assert secret_file.parent == store.path.parent and secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = privacy.workspace_secret(store.path)
    customers = {r["customer_key"]: r for r in rows(store, "SELECT * FROM customers")}
    jane = privacy.customer_key(secret, email=" Jane.Buyer@Example.com ")
    assert jane in customers and len(jane) == 32
    assert customers[jane]["first_seen_at"] == dt.datetime(2024, 3, 1, 15, 15)
    assert customers[jane]["country"] == "US"
    assert len(customers) == 2  # Jane and the guest; the test order had no buyer


def test_graphql_pages_with_page_info(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    serve(httpserver, GRAPHQL_PATH, graphql_pages(GRAPHQL), method="POST")
    result = sync(store, httpserver, retry, api="graphql")
    assert result.ok, result.message
    assert (result.fetched, result.pages) == (4, 2)
    a = orders(store)["5829214208147"]
    assert (a["gross"], a["discount"], a["refunded"], a["promo_code"]) == (
        Decimal("1234.56"), Decimal("123.45"), Decimal("34.56"), "JANE20")  # fmt: skip
    assert (a["utm_source"], a["utm_medium"], a["utm_campaign"], a["utm_content"]) == (
        "instagram", "influencer", "spring24", "jane_reel")  # fmt: skip
    assert a["landing_page"] == (
        "https://teststore.example/products/trail-runner?utm_source=instagram&utm_medium=influencer"
        "&utm_campaign=spring24&utm_content=jane_reel"
    )
    requests = [json.loads(entry[0].data)["variables"] for entry in httpserver.log]
    assert [v["after"] for v in requests] == [None, "eyJsYXN0X2lkIjo1ODI5MjE0MjA4MTQ5fQ=="]
    assert all(v["first"] == settings.GRAPHQL_PAGE_SIZE and v["query"] is None for v in requests)


def test_switching_between_rest_and_graphql_keeps_the_same_orders(
    httpserver: HTTPServer, store: Store, retry: Any
) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    serve(httpserver, GRAPHQL_PATH, graphql_pages(GRAPHQL), method="POST")
    assert sync(store, httpserver, retry).ok
    again = sync(store, httpserver, retry, api="graphql", full=True)
    assert again.ok and again.orders.inserted == 0 and again.customers.inserted == 0
    assert len(orders(store)) == 4


def test_loading_twice_changes_nothing(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    assert sync(store, httpserver, retry).ok
    before = snapshot(store)
    again = sync(store, httpserver, retry, full=True)
    assert again.ok and (again.orders.inserted, again.orders.updated, again.orders.unchanged) == (0, 0, 4)
    assert snapshot(store) == before
    assert "0 new, 0 updated, 4 unchanged" in again.message


def test_incremental_run_reads_from_the_cursor(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    assert sync(store, httpserver, retry).ok
    httpserver.clear()
    serve(httpserver, REST_PATH, rest_pages(httpserver, ["shopify_rest_orders_update.json"]))
    result = sync(store, httpserver, retry)
    assert result.ok and (result.orders.inserted, result.orders.updated) == (0, 1)
    (request, _), = httpserver.log  # fmt: skip
    assert request.args["updated_at_min"] == "2024-03-11T09:00:00Z"
    assert orders(store)["5829214208148"]["refunded"] == Decimal("9.90")
    assert rows(store, "SELECT state_value FROM sync_state")[0]["state_value"] == "2024-03-20T10:00:00Z"
    since = sync(store, httpserver, retry, since=dt.datetime(2024, 1, 31))
    assert since.ok and httpserver.log[-1][0].args["updated_at_min"] == "2024-01-31T00:00:00Z"


def test_429_with_retry_after_then_success(
    httpserver: HTTPServer, store: Store, retry: Any, sleeps: list
) -> None:
    answers = iter([json_response({"errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                                   "to resume uninterrupted service."}, 429, {"Retry-After": "2.0"})])  # fmt: skip
    pages = rest_pages(httpserver, REST)
    serve(httpserver, REST_PATH, lambda request: next(answers, None) or pages(request))
    result = sync(store, httpserver, retry)
    assert result.ok and result.orders.inserted == 4
    assert sleeps == [2.0]  # the wait Shopify asked for, not our own backoff
    assert len(httpserver.log) == 3


def test_graphql_throttled_then_success(
    httpserver: HTTPServer, store: Store, retry: Any, sleeps: list
) -> None:
    answers = iter([json_response(fixture("shopify_graphql_throttled.json"))])
    pages = graphql_pages(GRAPHQL)
    serve(httpserver, GRAPHQL_PATH, lambda request: next(answers, None) or pages(request), method="POST")
    result = sync(store, httpserver, retry, api="graphql")
    assert result.ok and result.orders.inserted == 4
    assert sleeps == [0.5]  # (152 requested - 150 available) / 100 per second, at least half a second


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
         ["refused the access token", "TRIAD_SHOPIFY_ACCESS_TOKEN", "Invalid API key"]),
        (403, {"errors": "[API] This action requires merchant approval for read_orders scope."},
         ["read_orders", "TRIAD_SHOPIFY_ACCESS_TOKEN"]),
        (404, {"errors": "Not Found"}, ["no such shop", "--shop"]),
        (503, {"errors": "Service Unavailable"}, ["server error", "Gave up after 3 tries"]),
    ],
)  # fmt: skip
def test_a_failed_sync_leaves_the_store_unchanged_and_says_why(
    httpserver: HTTPServer, store: Store, retry: Any, status: int, body: dict, words: list[str]
) -> None:
    serve(httpserver, REST_PATH, lambda request: json_response(body, status))
    before = snapshot(store)
    result = sync(store, httpserver, retry)
    assert not result.ok
    for word in words:
        assert word in result.message
    assert "Nothing was written" in result.message and TOKEN not in result.message
    assert snapshot(store) == before
    run = rows(store, "SELECT * FROM sync_runs")
    assert [(r["status"], r["rows_written"]) for r in run] == [("failed", 0)]
    assert run[0]["message"] == result.message


def test_a_failure_on_a_later_page_writes_nothing(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    pages = rest_pages(httpserver, REST)

    def handle(request: Request) -> Response:
        if request.args.get("page_info") == "p1":
            return json_response({"errors": "Internal Server Error"}, 500)
        return pages(request)

    serve(httpserver, REST_PATH, handle)
    before = snapshot(store)
    result = sync(store, httpserver, retry)
    assert not result.ok and "HTTP 500" in result.message
    assert snapshot(store) == before  # the first page's orders were not written either, nor a cursor


def test_the_sync_refreshes_attribution(httpserver: HTTPServer, store: Store, retry: Any) -> None:
    with store.transaction() as cur:
        cur.execute("INSERT INTO brands (brand_id, name, currency) VALUES (1, 'Trail Co', 'USD')")
        cur.execute("INSERT INTO influencers (influencer_id, name) VALUES (1, 'Jane Creator')")
        cur.execute("INSERT INTO campaigns (campaign_id, brand_id, name, status, start_date, end_date) "
                    "VALUES (1, 1, 'Spring', 'active', DATE '2024-02-01', DATE '2024-04-30')")  # fmt: skip
        cur.execute("INSERT INTO deals (deal_id, campaign_id, influencer_id, stage) VALUES (1, 1, 1, 'live')")
        cur.execute(
            "INSERT INTO promo_codes (brand_id, code, deal_id, kind) VALUES (1, 'JANE20', 1, 'influencer')"
        )
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    result = sync(store, httpserver, retry, brand="Trail Co")
    assert result.ok and result.brand_id == 1 and not result.brand_created
    attributed = rows(store, "SELECT o.external_order_id, a.method, a.revenue FROM attributed_orders a "
                             "JOIN orders o USING (order_id)")  # fmt: skip
    assert attributed == [
        {"external_order_id": "5829214208147", "method": "code", "revenue": Decimal("1358.01")}
    ]


def triad(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triad_cli", *args],
        cwd=ROOT,
        env={**os.environ, "TRIAD_HTTP_MAX_TRIES": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_sync_shopify(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver, REST_PATH, rest_pages(httpserver, REST))
    db = str(tmp_path / "cli.duckdb")
    base = [
        "sync",
        "shopify",
        "--shop",
        "teststore",
        "--base-url",
        httpserver.url_for("/"),
        "--api",
        "rest",
        "--db",
        db,
    ]
    env = {"TRIAD_SECRETS_FILE": str(tmp_path / "none.toml"), "HOME": str(tmp_path)}
    missing = triad(*base, env={**env, "TRIAD_SHOPIFY_ACCESS_TOKEN": ""})
    assert missing.returncode == 2 and "TRIAD_SHOPIFY_ACCESS_TOKEN" in missing.stderr
    ok = triad(*base, env={**env, "TRIAD_SHOPIFY_ACCESS_TOKEN": TOKEN})
    assert ok.returncode == 0, ok.stderr
    assert "4 new" in ok.stderr and "orders" in ok.stdout and "customers" in ok.stdout
    refused = triad(*base, "--full", env={**env, "TRIAD_SHOPIFY_ACCESS_TOKEN": "shpat_wrong_token_000"})
    assert refused.returncode == 1
    assert "refused the access token" in refused.stderr and "shpat_wrong_token_000" not in refused.stderr
