"""Rows/s of a Shopify REST orders sync against a local HTTP server on 127.0.0.1.

The server (``http.server`` in a thread) answers ``orders.json`` like the Admin API: pages of 250 orders in
the documented shape (the test fixture's first order, varied per order), chained by ``Link`` headers. Page
bodies are serialised before the clock starts, so the figure is the connector's own path: HTTP client, JSON
parsing, normalising, customer hashing and the upsert into a fresh store.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from benchmarks.common import ROOT, Report
from connectors.http import RetryPolicy
from connectors.shopify import settings, sync_shopify
from models.store import Store

TOKEN = "shpat_benchmark_0123456789abcdef"
TEMPLATE = ROOT / "tests" / "commerce" / "fixtures" / "shopify_rest_orders_page1.json"
PAGE_SIZE = settings.REST_PAGE_SIZE


def generate_orders(n: int) -> list[dict[str, object]]:
    """``n`` REST orders: the fixture's first order with its own id, time, buyer, total and code."""
    template = json.loads(TEMPLATE.read_text())["orders"][0]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    orders = []
    for i in range(n):
        order = copy.deepcopy(template)
        moment = (start + dt.timedelta(minutes=7 * i)).isoformat()
        total = f"{20 + (i * 37) % 480}.{i % 100:02d}"
        order.update(
            id=7_000_000_000_000 + i,
            name=f"#{10_000 + i}",
            order_number=10_000 + i,
            created_at=moment,
            processed_at=moment,
            updated_at=moment,
            email=f"buyer{i % (n // 3 + 1)}@example.com",
            contact_email=f"buyer{i % (n // 3 + 1)}@example.com",
            total_price=total,
            subtotal_price=total,
            refunds=[],
            discount_codes=[{"code": f"creator{i % 40}", "amount": "5.00", "type": "fixed_amount"}],
        )
        order.pop("customer", None)
        orders.append(order)
    return orders


class _Server:
    """orders.json pages on 127.0.0.1, pre-serialised; page i links to page i + 1 by ``page_info``."""

    def __init__(self, orders: list[dict[str, object]]) -> None:
        self.pages = [
            json.dumps({"orders": orders[i : i + PAGE_SIZE]}).encode()
            for i in range(0, len(orders), PAGE_SIZE)
        ] or [b'{"orders": []}']
        pages = self.pages
        path = "/" + settings.REST_ORDERS_PATH.format(version=settings.API_VERSION)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                if url.path != path or self.headers.get(settings.TOKEN_HEADER) != TOKEN:
                    self.send_error(404 if url.path != path else 401)
                    return
                index = int(parse_qs(url.query).get("page_info", ["0"])[0])
                body = pages[index]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if index + 1 < len(pages):
                    host, port = self.server.server_address[:2]
                    nxt = f"http://{host}:{port}{path}?limit={PAGE_SIZE}&page_info={index + 1}"
                    self.send_header("Link", f'<{nxt}>; rel="next"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sync_seconds(server: _Server, path: Path) -> tuple[float, int]:
    """One full sync into a fresh store; seconds and orders written."""
    store = Store(path)
    with store.connect():  # the schema exists before the clock starts
        pass
    retry = RetryPolicy(max_tries=1, backoff_base=0.0, jitter=0.0, sleep=lambda _s: None)
    t0 = time.perf_counter()
    result = sync_shopify(
        store, "benchshop", base_url=server.url, api="rest", access_token=TOKEN, retry=retry
    )
    seconds = time.perf_counter() - t0
    with store.connect() as cur:
        written = cur.execute("SELECT count(*) FROM orders").fetchone()[0]
    store.close()
    if result.status != "succeeded":
        raise RuntimeError(f"benchmark sync failed: {result}")
    return seconds, written


def run(report: Report, orders: int, repeat: int) -> None:
    with (
        _Server(generate_orders(orders)) as server,
        tempfile.TemporaryDirectory(prefix="triad-bench-sync-") as tmp,
    ):
        runs = []
        for i in range(max(1, repeat)):
            seconds, written = sync_seconds(server, Path(tmp) / f"sync{i}.duckdb")
            runs.append(seconds)
    report.add(
        "sync", "sync.shopify_rest.orders", written, "rows", f"{len(server.pages)} pages of {PAGE_SIZE}"
    )
    report.add(
        "sync", "sync.shopify_rest.rows_per_s", written / statistics.median(runs), "rows/s", "fresh store"
    )
