"""Incremental attribution (only the synced orders and their customers) gives what a full rebuild gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models import overview
from models.attribution import AttributionModel, refresh_attribution, run_attribution
from models.first_orders import (
    STALE_DATE_BOUNDS_SQL,
    STALE_FIRST_ORDERS_SQL,
    refresh_first_orders,
    refresh_order_date_bounds,
)
from models.store import get_store

COLUMNS = "model_id, order_id, brand_id, campaign_id, deal_id, influencer_id, method, anchor_at, ordered_at, " \
    "customer_id, is_new_customer, revenue, discount, refunded, cost_of_goods"  # fmt: skip


def _attributed(cur) -> pl.DataFrame:  # noqa: ANN001 - a DuckDB cursor
    return cur.execute(f"SELECT {COLUMNS} FROM attributed_orders ORDER BY model_id, order_id").pl()  # noqa: S608


def _sync(cur) -> list[int]:  # noqa: ANN001 - a DuckDB cursor
    """What a sync does to the store: new orders (code, link and plain ones; some earlier than their customer's
    first order, some of new customers) and changed ones (cancelled, a code added, a code removed).
    Returns the ids of every order it inserted or changed."""
    top = cur.execute("SELECT max(order_id) FROM orders").fetchone()[0]
    cur.execute("CREATE TEMP TABLE picked AS SELECT * FROM orders WHERE NOT is_test ORDER BY order_id")
    cur.execute(
        """
        INSERT INTO customers (customer_id, brand_id, customer_key, first_seen_at)
        SELECT (SELECT max(customer_id) FROM customers) + row_number() OVER (ORDER BY customer_id),
               brand_id, customer_key || '-new', first_seen_at
        FROM customers WHERE customer_id % 97 = 0
        """
    )
    new_orders = f"""
        SELECT order_id + {top} AS order_id, brand_id, source, external_order_id || '-sync' AS external_order_id,
               CASE WHEN order_id % 3 = 0 THEN customer_id
                    ELSE (SELECT max(customer_id) FROM customers) - (order_id % 50) END AS customer_id,
               ordered_at + CASE WHEN order_id % 2 = 0 THEN INTERVAL 3 DAY ELSE -INTERVAL 40 DAY END AS ordered_at,
               gross, discount, refunded, currency, promo_code, utm_source, utm_medium, utm_campaign, utm_content,
               landing_page, referrer, is_test, is_cancelled, updated_at, cost_of_goods
        FROM picked
        WHERE order_id IN (SELECT order_id FROM attributed_orders) OR order_id % 41 = 0
        LIMIT 400
    """  # noqa: S608 - a fixed test query
    cur.execute(f"INSERT INTO orders BY NAME {new_orders}")  # noqa: S608
    inserted = [r[0] for r in cur.execute("SELECT order_id FROM orders WHERE order_id > ?", [top]).fetchall()]
    changed = [
        r[0]
        for r in cur.execute(
            "SELECT order_id FROM attributed_orders WHERE order_id <= ? ORDER BY order_id LIMIT 30", [top]
        ).fetchall()
    ]
    cur.execute("UPDATE orders SET is_cancelled = true WHERE list_contains(?, order_id)", [changed[:10]])
    cur.execute(
        "UPDATE orders SET promo_code = NULL, utm_campaign = NULL, landing_page = NULL "
        "WHERE list_contains(?, order_id)",
        [changed[10:20]],
    )
    code_given = cur.execute(
        """
        UPDATE orders SET promo_code = (SELECT code FROM promo_codes p WHERE p.brand_id = orders.brand_id
                                        AND p.kind = 'influencer' ORDER BY code LIMIT 1)
        WHERE order_id IN (SELECT order_id FROM orders WHERE promo_code IS NULL AND NOT is_test
                           AND order_id <= ? ORDER BY order_id LIMIT 25)
        RETURNING order_id
        """,
        [top],
    ).fetchall()
    return inserted + changed + [r[0] for r in code_given]


@pytest.mark.parametrize("model", [AttributionModel(), AttributionModel(7, "link_first")])
def test_incremental_attribution_equals_a_full_rebuild(
    demo_db: Path, tmp_path: Path, model: AttributionModel
) -> None:
    path = tmp_path / "sync.duckdb"
    shutil.copy(demo_db, path)
    store = get_store(path)
    with store.transaction() as cur:
        run_attribution(cur, model)
        before = _attributed(cur)
        touched = _sync(cur)
    assert len(touched) > 100
    with store.transaction() as cur:
        run_attribution(cur, model, order_ids=touched)
        incremental = _attributed(cur)
    with store.transaction() as cur:
        run_attribution(cur, model)
        full = _attributed(cur)
    store.close()
    assert not full.equals(before)  # the sync changed what is attributed
    assert_frame_equal(incremental, full)


def test_refresh_with_order_ids_touches_only_their_customers(demo_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "refresh.duckdb"
    shutil.copy(demo_db, path)
    store = get_store(path)
    with store.connect() as cur:
        before = _attributed(cur)
        order_id, customer_id = cur.execute(
            "SELECT order_id, customer_id FROM attributed_orders ORDER BY order_id LIMIT 1"
        ).fetchone()
    with store.transaction() as cur:  # corrupt another customer's row: an incremental run must leave it
        cur.execute(
            "UPDATE attributed_orders SET revenue = -1 WHERE order_id = "
            "(SELECT max(order_id) FROM attributed_orders WHERE customer_id <> ?)",
            [customer_id],
        )
    refresh_attribution(store, order_ids=[order_id])
    with store.connect() as cur:
        after = _attributed(cur)
    store.close()
    assert (after["revenue"] == -1).sum() == 1
    unchanged = after.filter(pl.col("revenue") != -1)
    assert_frame_equal(unchanged, before.filter(pl.col("order_id").is_in(unchanged["order_id"].implode())))


def _first_orders(cur) -> pl.DataFrame:  # noqa: ANN001 - a DuckDB cursor
    return cur.execute("SELECT * FROM customer_first_orders ORDER BY brand_id, customer_id").pl()


def test_incremental_first_orders_equal_a_full_rebuild(demo_db: Path, tmp_path: Path) -> None:
    """Each customer's first valid order (what "new customers" and cohorts read) stays right after a sync
    refreshes only the synced orders' customers — also when an order moves to another customer."""
    path = tmp_path / "firsts.duckdb"
    shutil.copy(demo_db, path)
    store = get_store(path)
    with store.transaction() as cur:
        assert cur.execute(STALE_FIRST_ORDERS_SQL).fetchone()[0] == 0  # the demo load derived it
        before = _first_orders(cur)
        touched = _sync(cur)
        # a customer's first order handed to another customer of the brand: both customers change
        moved = cur.execute(
            """
            UPDATE orders SET customer_id = (SELECT max(c.customer_id) FROM customers c
                                             WHERE c.brand_id = orders.brand_id)
            WHERE order_id = (SELECT order_id FROM customer_first_orders ORDER BY customer_id LIMIT 1)
            RETURNING order_id
            """
        ).fetchall()
        assert cur.execute(STALE_FIRST_ORDERS_SQL).fetchone()[0] > 0  # the sync made it stale
        recomputed = refresh_first_orders(cur, order_ids=[*touched, *(r[0] for r in moved)])
        assert 0 < recomputed < before.height
        assert cur.execute(STALE_FIRST_ORDERS_SQL).fetchone()[0] == 0
        incremental = _first_orders(cur)
        refresh_first_orders(cur)
        assert_frame_equal(incremental, _first_orders(cur))
    store.close()
    assert not incremental.equals(before)


def test_refresh_attribution_keeps_first_orders_current(demo_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "firsts-refresh.duckdb"
    shutil.copy(demo_db, path)
    store = get_store(path)
    with store.transaction() as cur:
        touched = _sync(cur)
    refresh_attribution(store, order_ids=touched)
    with store.connect() as cur:
        assert cur.execute(STALE_FIRST_ORDERS_SQL).fetchone()[0] == 0
    store.close()


def test_incremental_date_bounds_equal_a_full_rebuild(demo_db: Path, tmp_path: Path) -> None:
    """Each brand's first and last order (the pages' date bounds) after a sync: widened by new orders, and
    recomputed where a recorded bound itself changed (here: a brand's last order became a test order)."""
    path = tmp_path / "bounds.duckdb"
    shutil.copy(demo_db, path)
    store = get_store(path)
    with store.transaction() as cur:
        assert cur.execute(STALE_DATE_BOUNDS_SQL).fetchone()[0] == 0  # the demo load derived it
        before = cur.execute("SELECT * FROM order_date_bounds ORDER BY brand_id").pl()
        touched = _sync(cur)
        late = cur.execute(
            "UPDATE orders SET ordered_at = (SELECT max(last_at) FROM order_date_bounds) + INTERVAL 5 DAY "
            "WHERE order_id = ? RETURNING order_id",
            [touched[0]],
        ).fetchall()
        tested = cur.execute(
            "UPDATE orders SET is_test = true WHERE order_id = "
            "(SELECT last_order_id FROM order_date_bounds ORDER BY brand_id DESC LIMIT 1) RETURNING order_id"
        ).fetchall()
        assert cur.execute(STALE_DATE_BOUNDS_SQL).fetchone()[0] > 0
        refresh_order_date_bounds(cur, order_ids=[*touched, *(r[0] for r in late + tested)])
        assert cur.execute(STALE_DATE_BOUNDS_SQL).fetchone()[0] == 0
        after = cur.execute("SELECT * FROM order_date_bounds ORDER BY brand_id").pl()
        shown = overview.data_date_bounds(cur)
        truth = cur.execute(
            "SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders WHERE NOT is_test"
        )
        assert shown == truth.fetchone()
    store.close()
    assert not after.equals(before)
