"""Each customer's first valid order per brand (table ``customer_first_orders``) and each brand's first and
last order (``order_date_bounds``), materialised.

"New customers" (overview KPIs and trends) and cohort retention group customers by their first valid order
(neither test nor cancelled) with the brand. Computing that from the orders means aggregating every order of
the store on each page view (~1 s for 20M orders); this table holds the answer, one row per (brand,
customer), and is refreshed wherever attribution is (``models.attribution.refresh_attribution``), which every
orders writer calls: the demo load, the commerce syncs, the order imports. The date bounds spare every page's
sidebar a pass over every order's date (~0.2 s).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

# The definition, in one place: the order with the earliest ``ordered_at``, the lowest ``order_id`` on a tie
# (the same tie-break as attribution's ``is_new_customer``).
_FIRST_ORDERS = """
    SELECT brand_id, customer_id, arg_min(order_id, (ordered_at, order_id)) AS order_id,
           min(ordered_at) AS ordered_at
    FROM orders
    WHERE NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL {where}
    GROUP BY brand_id, customer_id
"""


def refresh_first_orders(
    cur: duckdb.DuckDBPyConnection,
    *,
    brand_ids: Sequence[int] | None = None,
    order_ids: Sequence[int] | None = None,
    customer_ids: Sequence[int] | None = None,
) -> int:
    """Recompute the first orders of every customer, of some brands' customers, or (incremental) of the
    customers of ``order_ids`` and ``customer_ids`` (``brand_ids`` is then not needed: a customer belongs to one
    brand); call inside a write transaction. Returns how many customers were recomputed.

    Incremental: an order inserted, changed, cancelled or moved to another customer can only change the first
    order of its customer now and of the customer whose first order it was before. The latter (rare: a first
    order cancelled, moved or re-dated) are recomputed from all their orders; for the others the earlier of
    their recorded first order and their changed orders is the answer, which needs no pass over the orders.
    """
    if order_ids is None and customer_ids is None:
        if brand_ids is None:
            cur.execute("DELETE FROM customer_first_orders")
            where, params = "", []
        else:
            if not brand_ids:
                return 0
            marks = ", ".join("?" for _ in brand_ids)
            cur.execute(f"DELETE FROM customer_first_orders WHERE brand_id IN ({marks})", list(brand_ids))  # noqa: S608
            where, params = f"AND brand_id IN ({marks})", [int(b) for b in brand_ids]
        cur.execute(f"INSERT INTO customer_first_orders BY NAME {_FIRST_ORDERS.format(where=where)}", params)  # noqa: S608
        row = cur.execute("SELECT count(*) FROM customer_first_orders").fetchone()
        return int(row[0]) if row else 0

    changed = pa.table({"order_id": pa.array([int(o) for o in order_ids or []], pa.int64())})
    extra = pa.table({"customer_id": pa.array([int(c) for c in customer_ids or []], pa.int64())})
    cur.register("_first_orders_changed", changed)
    cur.register("_first_orders_customers", extra)
    try:
        # The changed orders as they are now (a lookup by order id, cheap), and the customers whose recorded
        # first order is one of them (or who were named): only those need all their orders read again.
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _first_orders_new AS
            SELECT o.brand_id, o.customer_id, o.order_id, o.ordered_at
            FROM orders o SEMI JOIN _first_orders_changed USING (order_id)
            WHERE NOT o.is_test AND NOT o.is_cancelled AND o.customer_id IS NOT NULL
            """
        )
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _first_orders_full AS
            SELECT customer_id FROM customer_first_orders SEMI JOIN _first_orders_changed USING (order_id)
            UNION
            SELECT customer_id FROM _first_orders_customers
            """
        )
    finally:
        cur.unregister("_first_orders_changed")
        cur.unregister("_first_orders_customers")
    try:
        full = cur.execute("SELECT count(*) FROM _first_orders_full").fetchone()[0]
        if full:
            cur.execute(
                "DELETE FROM customer_first_orders "
                "WHERE customer_id IN (SELECT customer_id FROM _first_orders_full)"
            )
            where = "AND customer_id IN (SELECT customer_id FROM _first_orders_full)"
            cur.execute(f"INSERT INTO customer_first_orders BY NAME {_FIRST_ORDERS.format(where=where)}")  # noqa: S608
        # Everyone else keeps their first order unless a changed order comes earlier: their other orders did
        # not change, and were no earlier than it.
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _first_orders_merged AS
            SELECT brand_id, customer_id, arg_min(order_id, (ordered_at, order_id)) AS order_id,
                   min(ordered_at) AS ordered_at
            FROM (
                SELECT * FROM _first_orders_new
                WHERE customer_id NOT IN (SELECT customer_id FROM _first_orders_full)
                UNION ALL
                SELECT f.brand_id, f.customer_id, f.order_id, f.ordered_at FROM customer_first_orders f
                WHERE f.customer_id IN (SELECT customer_id FROM _first_orders_new)
                  AND f.customer_id NOT IN (SELECT customer_id FROM _first_orders_full)
            )
            GROUP BY brand_id, customer_id
            """
        )
        cur.execute(
            "DELETE FROM customer_first_orders WHERE customer_id IN (SELECT customer_id FROM _first_orders_merged)"
        )
        cur.execute("INSERT INTO customer_first_orders BY NAME SELECT * FROM _first_orders_merged")
        row = cur.execute(
            "SELECT count(*) FROM (SELECT customer_id FROM _first_orders_full "
            "UNION SELECT customer_id FROM _first_orders_merged)"
        ).fetchone()
        return int(row[0]) if row else 0
    finally:
        for table in ("_first_orders_new", "_first_orders_full", "_first_orders_merged"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 - fixed names


_BOUNDS = """
    SELECT brand_id, arg_min(order_id, (ordered_at, order_id)) AS first_order_id, min(ordered_at) AS first_at,
           arg_max(order_id, (ordered_at, order_id)) AS last_order_id, max(ordered_at) AS last_at
    FROM orders
    WHERE NOT is_test {where}
    GROUP BY brand_id
"""


def refresh_order_date_bounds(
    cur: duckdb.DuckDBPyConnection,
    *,
    brand_ids: Sequence[int] | None = None,
    order_ids: Sequence[int] | None = None,
) -> None:
    """Recompute each brand's first and last order (test orders left out): all brands, some, or
    (incremental) after ``order_ids`` were inserted or changed; call inside a write transaction.

    Incremental: a brand whose recorded first or last order is among the changed ones (it may have been
    re-dated or marked as a test) is recomputed from its orders; for the others the bounds can only widen to
    the changed orders' dates."""
    if order_ids is None:
        if brand_ids is None:
            cur.execute("DELETE FROM order_date_bounds")
            where, params = "", []
        else:
            if not brand_ids:
                return
            marks = ", ".join("?" for _ in brand_ids)
            cur.execute(f"DELETE FROM order_date_bounds WHERE brand_id IN ({marks})", list(brand_ids))  # noqa: S608
            where, params = f"AND brand_id IN ({marks})", [int(b) for b in brand_ids]
        cur.execute(f"INSERT INTO order_date_bounds BY NAME {_BOUNDS.format(where=where)}", params)  # noqa: S608
        return
    changed = pa.table({"order_id": pa.array([int(o) for o in order_ids], pa.int64())})
    cur.register("_bounds_changed_ids", changed)
    try:
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _bounds_changed AS
            SELECT o.brand_id, o.order_id, o.ordered_at, o.is_test
            FROM orders o SEMI JOIN _bounds_changed_ids USING (order_id)
            """
        )
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _bounds_full AS
            SELECT brand_id FROM order_date_bounds
            WHERE first_order_id IN (SELECT order_id FROM _bounds_changed_ids)
               OR last_order_id IN (SELECT order_id FROM _bounds_changed_ids)
            """
        )
    finally:
        cur.unregister("_bounds_changed_ids")
    try:
        full = [r[0] for r in cur.execute("SELECT brand_id FROM _bounds_full").fetchall()]
        if full:
            refresh_order_date_bounds(cur, brand_ids=full)
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _bounds_merged AS
            SELECT brand_id, arg_min(order_id, (ordered_at, order_id)) AS first_order_id, min(ordered_at) AS first_at,
                   arg_max(order_id, (ordered_at, order_id)) AS last_order_id, max(ordered_at) AS last_at
            FROM (
                SELECT brand_id, order_id, ordered_at FROM _bounds_changed
                WHERE NOT is_test AND brand_id NOT IN (SELECT brand_id FROM _bounds_full)
                UNION ALL
                SELECT brand_id, first_order_id, first_at FROM order_date_bounds
                WHERE brand_id IN (SELECT brand_id FROM _bounds_changed WHERE NOT is_test)
                  AND brand_id NOT IN (SELECT brand_id FROM _bounds_full)
                UNION ALL
                SELECT brand_id, last_order_id, last_at FROM order_date_bounds
                WHERE brand_id IN (SELECT brand_id FROM _bounds_changed WHERE NOT is_test)
                  AND brand_id NOT IN (SELECT brand_id FROM _bounds_full)
            )
            GROUP BY brand_id
            """
        )
        cur.execute("DELETE FROM order_date_bounds WHERE brand_id IN (SELECT brand_id FROM _bounds_merged)")
        cur.execute("INSERT INTO order_date_bounds BY NAME SELECT * FROM _bounds_merged")
    finally:
        for table in ("_bounds_changed", "_bounds_full", "_bounds_merged"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 - fixed names


# For ``triad db check``: rows that differ from a recomputation (0 when the table is up to date).
STALE_FIRST_ORDERS_SQL = f"""
    SELECT count(*) FROM (
        (SELECT brand_id, customer_id, order_id, ordered_at FROM customer_first_orders
         EXCEPT ALL {_FIRST_ORDERS.format(where="")})
        UNION ALL
        ({_FIRST_ORDERS.format(where="")}
         EXCEPT ALL SELECT brand_id, customer_id, order_id, ordered_at FROM customer_first_orders)
    )
"""  # noqa: S608 - fixed SQL


STALE_DATE_BOUNDS_SQL = f"""
    SELECT count(*) FROM (
        (SELECT * FROM order_date_bounds EXCEPT ALL {_BOUNDS.format(where="")})
        UNION ALL
        ({_BOUNDS.format(where="")} EXCEPT ALL SELECT * FROM order_date_bounds)
    )
"""  # noqa: S608 - fixed SQL
