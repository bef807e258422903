"""The attribution engine: which creator, if any, gets credit for each order.

Rules (METRICS.md, "attributed order"):

1. **Promo code.** The order used a code assigned to a creator's deal (``promo_codes.kind = 'influencer'``).
   A code counts from the campaign's start until ``window_days`` after its end; a code redeemed outside
   that span is not attributed (it is what leakage looks like, see ``models.campaigns.leakage_flags``).
2. **Link.** Otherwise, the order's UTM values (``utm_campaign`` + ``utm_content``) or its landing page (the
   deal's tracking link) point at a deal, *and* the order came within ``window_days`` after that creator's
   click (the same visitor clicking the deal's link, where clicks are tracked) or post (a sponsored post of
   the creator for that campaign). The anchor used is stored with the order.

Precedence ``code_first`` (default): a creator's own code beats another creator's link; ``link_first``
reverses it. A sitewide code (``kind = 'sitewide'``) never blocks link credit. Test and cancelled orders are
never attributed. Every order is attributed at most once per model (the primary key of
``attributed_orders`` is ``(model_id, order_id)``).

Results are materialised in ``attributed_orders`` so pages read them instantly; :func:`refresh_attribution`
re-runs every registered model over the whole history (after a change of settings), over some brands (after a
deal, code or link changed), or — given the ids of the orders a sync or an import wrote — over just those
orders and their customers' other orders, which gives the same rows as a full rebuild in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from models.filters import MetricDefinition
from models.first_orders import refresh_first_orders, refresh_order_date_bounds
from models.store import Store, upsert

log = logging.getLogger(__name__)

PRECEDENCES = ("code_first", "link_first")
DEFAULT_WINDOW_DAYS = 30
DEFAULT_PRECEDENCE = "code_first"


@dataclass(frozen=True)
class AttributionModel:
    """The settings of one attribution model; its id names them so results can be traced back."""

    window_days: int = DEFAULT_WINDOW_DAYS
    precedence: str = DEFAULT_PRECEDENCE

    def __post_init__(self) -> None:
        if self.precedence not in PRECEDENCES:
            raise ValueError(f"precedence must be one of {PRECEDENCES}, not {self.precedence!r}")
        if not 1 <= self.window_days <= 365:
            raise ValueError("the attribution window must be between 1 and 365 days")

    @property
    def model_id(self) -> str:
        order = "code>link" if self.precedence == "code_first" else "link>code"
        return f"{order}:{self.window_days}d"

    @property
    def label(self) -> str:
        first, second = ("promo code", "link") if self.precedence == "code_first" else ("link", "promo code")
        return f"{first} first, then {second}; {self.window_days}-day window"


DEFAULT_MODEL = AttributionModel()

DEFINITIONS: dict[str, MetricDefinition] = {
    "attributed_order": MetricDefinition(
        "attributed order",
        "an order matched to a campaign–influencer by (1) that influencer's promo code, used between the "
        "campaign start and the window after its end, else (2) its UTM link (utm_campaign + utm_content or the "
        "tracking link) within the window after that influencer's click or post",
        "A creator's own code beats another creator's link; a sitewide code does not block link credit; test and "
        "cancelled orders are never attributed; each order at most once per model.",
        {"window": f"{DEFAULT_WINDOW_DAYS} days", "precedence": "promo code first"},
    ),
    "attributed_revenue": MetricDefinition(
        "attributed revenue", "Σ gross sales of attributed orders (order value before discounts and refunds)"
    ),
}


_SCOPE_TABLE = "_attribution_scope"  # temp table of the order ids an incremental run re-attributes


def _attribution_sql(where_brand: str, *, scoped: bool = False) -> str:
    # Parameters: window_days (x4), code_priority, link_priority, model_id — see run_attribution.
    where_scope = f"AND o.order_id IN (SELECT order_id FROM {_SCOPE_TABLE})" if scoped else ""  # noqa: S608
    # scoped: only the clicks of the scope's customers can anchor its link orders
    click_scope = "AND cu.customer_id IN (SELECT customer_id FROM eligible)" if scoped else ""
    return f"""
    WITH eligible AS (
        SELECT o.order_id, o.brand_id, o.customer_id, o.ordered_at, o.gross, o.discount, o.refunded,
               o.cost_of_goods, upper(o.promo_code) AS code, lower(o.utm_campaign) AS utm_campaign,
               lower(o.utm_content) AS utm_content, o.landing_page
        FROM orders o
        WHERE NOT o.is_test AND NOT o.is_cancelled {where_brand} {where_scope}
    ),
    deal_info AS (
        SELECT d.deal_id, d.influencer_id, d.campaign_id, c.brand_id, c.start_date, c.end_date,
               lower(d.utm_campaign) AS utm_campaign, lower(d.utm_content) AS utm_content, d.tracking_link
        FROM deals d JOIN campaigns c USING (campaign_id)
    ),
    code_hits AS (
        SELECT e.order_id, di.deal_id, 'code' AS method, NULL::TIMESTAMP AS anchor_at
        FROM eligible e
        JOIN promo_codes pc ON pc.brand_id = e.brand_id AND pc.code = e.code AND pc.kind = 'influencer'
        JOIN deal_info di ON di.deal_id = pc.deal_id
        WHERE (di.start_date IS NULL OR e.ordered_at >= di.start_date)  -- open-ended campaigns
          AND (di.end_date IS NULL OR e.ordered_at < di.end_date + to_days(CAST(? AS INTEGER) + 1))
    ),
    link_matches AS (  -- two equi-joins (an OR in one join condition would compare every pair)
        SELECT e.order_id, e.customer_id, e.ordered_at, di.deal_id, di.campaign_id, di.influencer_id
        FROM eligible e
        JOIN deal_info di ON di.brand_id = e.brand_id AND e.utm_campaign = di.utm_campaign
                         AND e.utm_content = di.utm_content
        UNION
        SELECT e.order_id, e.customer_id, e.ordered_at, di.deal_id, di.campaign_id, di.influencer_id
        FROM eligible e
        JOIN deal_info di ON di.brand_id = e.brand_id AND e.landing_page = di.tracking_link
    ),
    post_anchors AS (
        SELECT di.deal_id, p.posted_at AS anchor_at
        FROM posts p
        JOIN accounts a USING (account_id)
        JOIN deal_info di ON di.campaign_id = p.campaign_id AND di.influencer_id = a.influencer_id
    ),
    click_anchors AS (
        SELECT k.deal_id, cu.customer_id, k.clicked_at AS anchor_at
        FROM link_clicks k
        JOIN customers cu ON cu.brand_id = k.brand_id AND cu.customer_key = k.visitor_key
        WHERE k.deal_id IS NOT NULL {click_scope}
    ),
    link_hits AS (
        SELECT m.order_id, m.deal_id, 'link' AS method,
               greatest(pa.anchor_at, ca.anchor_at) AS anchor_at
        FROM link_matches m
        ASOF LEFT JOIN post_anchors pa ON pa.deal_id = m.deal_id AND m.ordered_at >= pa.anchor_at
        ASOF LEFT JOIN click_anchors ca ON ca.deal_id = m.deal_id AND ca.customer_id = m.customer_id
                                          AND m.ordered_at >= ca.anchor_at
        WHERE greatest(pa.anchor_at, ca.anchor_at) >= m.ordered_at - to_days(CAST(? AS INTEGER))
    ),
    ranked AS (
        SELECT h.*, CASE h.method WHEN 'code' THEN ? ELSE ? END AS priority
        FROM (SELECT * FROM code_hits UNION ALL SELECT * FROM link_hits) h
        QUALIFY row_number() OVER (PARTITION BY h.order_id
                                   ORDER BY priority, h.anchor_at DESC NULLS LAST, h.deal_id) = 1
    ),
    first_orders AS (  -- exactly one first order per customer, even when two share a timestamp
        SELECT e.customer_id, arg_min(e.order_id, (e.ordered_at, e.order_id)) AS first_order_id
        FROM eligible e
        WHERE e.customer_id IN (SELECT customer_id FROM eligible WHERE order_id IN (SELECT order_id FROM ranked))
        GROUP BY e.customer_id
    )
    SELECT ? AS model_id, e.order_id, e.brand_id, di.campaign_id, r.deal_id, di.influencer_id, r.method,
           r.anchor_at, e.ordered_at, e.customer_id,
           coalesce(e.order_id = f.first_order_id, false) AS is_new_customer,
           e.gross + e.discount AS revenue, e.discount, e.refunded, e.cost_of_goods
    FROM ranked r
    JOIN eligible e USING (order_id)
    JOIN deal_info di USING (deal_id)
    LEFT JOIN first_orders f ON f.customer_id = e.customer_id
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters


def run_attribution(
    cur: duckdb.DuckDBPyConnection,
    model: AttributionModel = DEFAULT_MODEL,
    *,
    brand_ids: list[int] | None = None,
    order_ids: Sequence[int] | None = None,
    customer_ids: Sequence[int] | None = None,
    make_default: bool | None = None,
) -> dict[str, object]:
    """Re-attribute the whole history (or some brands) under ``model``; call inside a write transaction.

    Replaces the model's rows for those brands, so running it twice with the same settings changes nothing.

    Incremental: with ``order_ids`` (orders inserted or changed since the last run, e.g. by a sync) only those
    orders and every order of their customers are re-attributed — an order's credit depends on nothing else
    that a sync changes (its own fields, and its customer's other orders for "new customer"), so the result
    equals a full rebuild. ``customer_ids`` adds customers whose orders must be re-attributed too (e.g. the
    former customer of an order whose customer changed). Deals, codes, posts or clicks changed: run a full
    (or per-brand) rebuild instead.
    """
    scoped = order_ids is not None or customer_ids is not None
    if scoped:
        _fill_scope(cur, order_ids or [], customer_ids or [])
    try:
        return _run_attribution(cur, model, brand_ids=brand_ids, scoped=scoped, make_default=make_default)
    finally:
        if scoped:
            cur.execute(f"DROP TABLE IF EXISTS {_SCOPE_TABLE}")


def _fill_scope(
    cur: duckdb.DuckDBPyConnection, order_ids: Sequence[int], customer_ids: Sequence[int]
) -> None:
    """The temp table of order ids an incremental run covers: the orders, and all orders of their customers."""
    changed = pa.table({"order_id": pa.array(list(order_ids), pa.int64())})
    extra = pa.table({"customer_id": pa.array(list(customer_ids), pa.int64())})
    cur.register("_attribution_changed", changed)
    cur.register("_attribution_customers", extra)
    try:
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {_SCOPE_TABLE} AS
            WITH touched AS (
                SELECT o.customer_id FROM orders o SEMI JOIN _attribution_changed c USING (order_id)
                WHERE o.customer_id IS NOT NULL
                UNION
                SELECT a.customer_id FROM attributed_orders a SEMI JOIN _attribution_changed c USING (order_id)
                WHERE a.customer_id IS NOT NULL  -- the customer an attributed order had before it changed
                UNION
                SELECT customer_id FROM _attribution_customers
            )
            SELECT order_id FROM _attribution_changed
            UNION
            SELECT o.order_id FROM orders o SEMI JOIN touched t USING (customer_id)
            """  # noqa: S608 - fixed table names
        )
    finally:
        cur.unregister("_attribution_changed")
        cur.unregister("_attribution_customers")


def _run_attribution(
    cur: duckdb.DuckDBPyConnection,
    model: AttributionModel,
    *,
    brand_ids: list[int] | None,
    scoped: bool,
    make_default: bool | None,
) -> dict[str, object]:
    where_brand, brand_params = "", []
    if brand_ids is not None:
        if not brand_ids:
            return {"model_id": model.model_id, "orders_attributed": 0}
        where_brand = f"AND o.brand_id IN ({', '.join('?' for _ in brand_ids)})"
        brand_params = list(brand_ids)
    code_priority, link_priority = (1, 2) if model.precedence == "code_first" else (2, 1)
    params = [
        *brand_params,
        model.window_days,
        model.window_days,
        code_priority,
        link_priority,
        model.model_id,
    ]
    delete_params: list[object] = [model.model_id]
    delete_sql = "DELETE FROM attributed_orders WHERE model_id = ?"
    if brand_ids is not None:
        delete_sql += f" AND brand_id IN ({', '.join('?' for _ in brand_ids)})"
        delete_params += brand_params
    if scoped:
        delete_sql += f" AND order_id IN (SELECT order_id FROM {_SCOPE_TABLE})"  # noqa: S608
    cur.execute(delete_sql, delete_params)
    insert = _attribution_sql(where_brand, scoped=scoped)
    cur.execute(f"INSERT INTO attributed_orders BY NAME {insert}", params)  # noqa: S608
    counts = cur.execute(
        "SELECT count(*) FROM attributed_orders WHERE model_id = ?", [model.model_id]
    ).fetchone()
    seen = cur.execute("SELECT count(*) FROM orders WHERE NOT is_test AND NOT is_cancelled").fetchone()
    has_default = cur.execute("SELECT count(*) FROM attribution_models WHERE is_default").fetchone()
    is_default = (
        make_default
        if make_default is not None
        else (model == DEFAULT_MODEL and not (has_default and has_default[0]))
    )
    if is_default:
        cur.execute("UPDATE attribution_models SET is_default = false WHERE model_id <> ?", [model.model_id])
    upsert(
        cur,
        "attribution_models",
        {
            "model_id": model.model_id,
            "window_days": model.window_days,
            "precedence": model.precedence,
            "computed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "orders_seen": seen[0] if seen else 0,
            "orders_attributed": counts[0] if counts else 0,
            "is_default": bool(is_default),
        },
        update=["computed_at", "orders_seen", "orders_attributed"],
        set_sql={"is_default": "attribution_models.is_default OR excluded.is_default"},
    )
    return {"model_id": model.model_id, "orders_attributed": int(counts[0]) if counts else 0}


def registered_models(cur: duckdb.DuckDBPyConnection) -> list[AttributionModel]:
    rows = cur.execute("SELECT window_days, precedence FROM attribution_models ORDER BY model_id").fetchall()
    return [AttributionModel(int(w), str(p)) for w, p in rows]


def default_model_id(cur: duckdb.DuckDBPyConnection) -> str:
    """The model the pages show: the one marked default, else the built-in default."""
    row = cur.execute("SELECT model_id FROM attribution_models WHERE is_default LIMIT 1").fetchone()
    return str(row[0]) if row else DEFAULT_MODEL.model_id


def refresh_attribution(
    store: Store,
    *,
    brand_ids: list[int] | None = None,
    order_ids: Sequence[int] | None = None,
    customer_ids: Sequence[int] | None = None,
) -> list[dict[str, object]]:
    """Re-run every registered model (the default one at least), in one transaction per model.

    After a sync or an import, pass the ``order_ids`` it inserted or changed: only those orders and their
    customers' orders are re-attributed (see :func:`run_attribution`), which equals a full rebuild.
    Each customer's first order and each brand's order date bounds (:mod:`models.first_orders`) are refreshed
    first, the same way.
    """
    with store.connect() as cur:
        models = registered_models(cur) or [DEFAULT_MODEL]
    with store.transaction() as cur:  # derived from the orders alone, like the attribution below
        refresh_first_orders(cur, brand_ids=brand_ids, order_ids=order_ids, customer_ids=customer_ids)
        refresh_order_date_bounds(cur, brand_ids=brand_ids, order_ids=order_ids)
    results = []
    for model in models:
        with store.transaction() as cur:
            results.append(
                run_attribution(
                    cur, model, brand_ids=brand_ids, order_ids=order_ids, customer_ids=customer_ids
                )
            )
    return results


def set_default_model(store: Store, model: AttributionModel) -> dict[str, object]:
    """Compute ``model`` over the whole history (if needed) and make it the one the pages show."""
    with store.transaction() as cur:
        return run_attribution(cur, model, make_default=True)


def attribution_models(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The registered models with when they ran and how many orders they attributed."""
    return cur.execute(
        "SELECT model_id, window_days, precedence, computed_at, orders_seen, orders_attributed, is_default "
        "FROM attribution_models ORDER BY is_default DESC, model_id"
    ).pl()


def refresh_for_campaign(store: Store, campaign_id: int) -> list[dict[str, object]]:
    """Re-attribute the brand of one campaign (after a deal, code or tracking link was added to it)."""
    with store.connect() as cur:
        row = cur.execute("SELECT brand_id FROM campaigns WHERE campaign_id = ?", [campaign_id]).fetchone()
    return refresh_attribution(store, brand_ids=[int(row[0])]) if row else []
