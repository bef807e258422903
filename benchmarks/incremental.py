"""Incremental attribution after a sync of new orders (issue 8: 10k new orders re-attributed in under 2 s).

Inside one transaction that is rolled back (the store is left as it was): ``orders`` new orders are written
the way a sync writes them — copies of the latest orders of every brand with new ids, half of them for their
existing customers and half for new customers, with the codes, UTM links and referrers of the originals — and
then, as ``attribution.refresh_attribution(store, order_ids=…)`` does after a sync, their customers' first
orders are recomputed (``first_orders.refresh_first_orders``) and ``attribution.run_attribution(order_ids=…)``
re-attributes them and their customers' other orders (the default model; the clock covers both). The
figure is the median over ``repeat`` such transactions; the rows it re-attributed are printed beside it.
"""

from __future__ import annotations

import statistics
import time

import duckdb

from benchmarks.common import Report
from models import attribution
from models.first_orders import refresh_first_orders

SYNC_SQL = """
WITH latest AS (
    SELECT * FROM orders WHERE NOT is_test ORDER BY ordered_at DESC, order_id DESC LIMIT $n
)
SELECT order_id + $offset AS order_id, brand_id, 'bench-sync' AS source,
       external_order_id || '-bench' AS external_order_id,
       CASE WHEN row_number() OVER (ORDER BY order_id) % 2 = 0 THEN customer_id ELSE NULL END AS customer_id,
       ordered_at + INTERVAL 1 DAY AS ordered_at, gross, discount, refunded, currency, promo_code, utm_source,
       utm_medium, utm_campaign, utm_content, landing_page, referrer, is_test, is_cancelled,
       updated_at + INTERVAL 1 DAY AS updated_at, cost_of_goods
FROM latest
"""


def _one_sync(con: duckdb.DuckDBPyConnection, orders: int) -> tuple[float, int]:
    con.execute("BEGIN TRANSACTION")
    try:
        offset = con.execute("SELECT max(order_id) FROM orders").fetchone()[0]
        con.execute(f"INSERT INTO orders BY NAME {SYNC_SQL}", {"n": orders, "offset": offset})  # noqa: S608
        ids = [
            r[0] for r in con.execute("SELECT order_id FROM orders WHERE order_id > ?", [offset]).fetchall()
        ]
        t0 = time.perf_counter()
        refresh_first_orders(con, order_ids=ids)
        firsts = time.perf_counter() - t0
        attribution.run_attribution(con, order_ids=ids)
        seconds = time.perf_counter() - t0
        scope = con.execute("SELECT count(*) FROM attributed_orders WHERE order_id > ?", [offset]).fetchone()[
            0
        ]
    finally:
        con.execute("ROLLBACK")
    return seconds, int(scope), firsts


def run(report: Report, db: str, repeat: int, orders: int = 10_000) -> None:
    con = duckdb.connect(db)
    runs = [_one_sync(con, orders) for _ in range(max(1, repeat))]
    con.close()
    seconds = statistics.median(r[0] for r in runs)
    report.add(
        "incremental",
        "incremental.attribution_after_sync_s",
        seconds,
        "s",
        f"{orders:,} new orders; {runs[0][1]:,} of them attributed; first orders "
        f"{statistics.median(r[2] for r in runs):.2f} s of it",
    )
