"""Campaign conversions: spend, attributed orders and revenue, the cost ratios, the funnel, lift and leakage.

Every figure reads the materialised attribution (``attributed_orders``) of one attribution model (the
default one unless a ``model_id`` is given), so pages answer instantly and the model in use can be named.
Definitions follow METRICS.md; :data:`DEFINITIONS` holds the one-line text the pages show.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from models.attribution import default_model_id
from models.filters import Filters, MetricDefinition

ACTIVE_STAGES = ("contracted", "live", "completed")
MIN_PRE_DAYS = 14  # the lift baseline needs at least two weeks of the brand's own orders
COUPON_SITES = (
    "retailmenot",
    "couponfollow",
    "honey.com",
    "joinhoney",
    "dealspotr",
    "knoji",
    "couponbirds",
    "slickdeals",
    "wethrift",
    "promocodes",
    "coupons.com",
    "groupon",
    "vouchercodes",
    "savings.com",
    "couponcabin",
)

DEFINITIONS: dict[str, MetricDefinition] = {
    "spend": MetricDefinition(
        "spend",
        "fees + product cost of seeded goods + commission rate × attributed revenue",
        "Deals count from the 'contracted' stage on; prospects and declined deals cost nothing.",
    ),
    "orders": MetricDefinition(
        "attributed orders", "orders attributed to the campaign–influencer by the model in use"
    ),
    "revenue": MetricDefinition(
        "attributed revenue", "Σ gross sales of attributed orders (before discounts and refunds)"
    ),
    "new_customers": MetricDefinition(
        "new customers won", "attributed orders that were the customer's first order with the brand"
    ),
    "returning_customers": MetricDefinition(
        "returning customers reached",
        "distinct customers of attributed orders who had ordered from the brand before",
    ),
    "views": MetricDefinition(
        "views",
        "Σ views of the influencers' sponsored posts for the campaign",
        "Used in place of impressions, which the platforms do not give per post.",
    ),
    "engagements": MetricDefinition(
        "engagements", "Σ likes + comments + shares + saves of the sponsored posts"
    ),
    "clicks": MetricDefinition("link clicks", "clicks on the deals' tracking links"),
    "cpm": MetricDefinition(
        "CPM", "spend / views × 1,000", "Views stand in for impressions (not collected)."
    ),
    "cpe": MetricDefinition("CPE", "spend / engagements"),
    "cpa": MetricDefinition("CPA", "spend / attributed orders"),
    "cpa_new": MetricDefinition("CPA per new customer", "spend / new customers won"),
    "roas": MetricDefinition("ROAS", "attributed revenue / spend"),
    "net_roas": MetricDefinition(
        "net ROAS",
        "(attributed revenue − discounts − refunds − cost of goods) / spend",
        "Cost of goods counts as 0 where the store has none.",
    ),
    "roi": MetricDefinition("ROI", "(attributed revenue − spend) / spend"),
    "conversion_rate": MetricDefinition(
        "conversion rate", "link-attributed orders / link clicks", "Only where clicks are tracked."
    ),
    "lift": MetricDefinition(
        "lift",
        "orders (or revenue) in the campaign window − the baseline expected from the brand's own "
        "pre-period (same weekday profile, trailing 8 weeks)",
        "95 % interval from the day-to-day variation of the pre-period (normal approximation). All of the "
        "brand's orders count, attributed or not, so halo sales show; other campaigns of the brand running at "
        "the same time are not separated out.",
        {"pre-period": "8 weeks"},
    ),
    "leakage": MetricDefinition(
        "leakage flag",
        "promo-code redemptions with no click and a referrer from a coupon site, or far more "
        "redemptions than the influencer's reach could explain",
        "Flagged when ≥ 3 coupon-site redemptions make ≥ 10 % of the code's redemptions, or redemptions exceed "
        "2 % of the sponsored posts' reach (views, else 30 % of followers at posting time).",
        {"min coupon orders": 3, "min share": "10 %", "max plausible conversion of reach": "2 %"},
    ),
}


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN ({den}) > 0 THEN ({num}) / ({den}) END"


def _deals_sql(where: str) -> str:
    """The deals of ``where`` with their spend, conversions and reach (CTE ``base``); parameters: the WHERE
    clause's, then the attribution model. Shared by :func:`deal_performance` and :func:`campaign_summary`.

    Without a filter (``WHERE 1=1``: every deal) the conversions and clicks are not narrowed to the selected
    deals: the LEFT JOINs of ``base`` keep the same rows, and probing 1M rows against every deal id costs more
    than it saves. ``cost_of_goods`` sums without coalescing (NULLs are skipped; ``base`` turns a sum of none
    into 0) and code orders are the rest of the orders (``method`` is 'code' or 'link', NOT NULL): the same
    numbers, fewer operations per attributed order."""
    narrowed = where.strip() != "WHERE 1=1"
    conv_deals = " AND a.deal_id IN (SELECT deal_id FROM sel)" if narrowed else ""
    click_deals = " WHERE deal_id IN (SELECT deal_id FROM sel)" if narrowed else ""
    return f"""
    WITH sel AS (
        SELECT d.deal_id, d.campaign_id, d.influencer_id, d.stage, d.fee, d.product_cost, d.commission_rate,
               c.brand_id, c.name AS campaign, c.status, c.start_date, c.end_date, c.currency, i.name AS influencer
        FROM deals d JOIN campaigns c USING (campaign_id) JOIN influencers i USING (influencer_id)
        {where}
    ),
    conv AS (
        SELECT a.deal_id, count(*) AS orders, sum(a.revenue) AS revenue, sum(a.discount) AS discounts,
               sum(a.refunded) AS refunds, sum(a.cost_of_goods) AS cost_of_goods,
               count(*) FILTER (WHERE a.is_new_customer) AS new_customers,
               count(DISTINCT a.customer_id) FILTER (WHERE NOT a.is_new_customer) AS returning_customers,
               count(*) FILTER (WHERE a.method = 'link') AS link_orders
        FROM attributed_orders a
        WHERE a.model_id = ?{conv_deals}
        GROUP BY a.deal_id
    ),
    reach AS (
        SELECT s.deal_id, count(p.post_id) AS posts, sum(p.views) AS views,
               count(p.post_id) FILTER (WHERE p.views IS NULL) AS posts_without_views,
               sum(coalesce(p.likes, 0) + coalesce(p.comments, 0) + coalesce(p.shares, 0) + coalesce(p.saves, 0))
                   AS engagements
        FROM sel s
        JOIN accounts a ON a.influencer_id = s.influencer_id
        JOIN posts p ON p.account_id = a.account_id AND p.campaign_id = s.campaign_id
        GROUP BY s.deal_id
    ),
    clicks AS (
        SELECT deal_id, count(*) AS clicks FROM link_clicks{click_deals}
        GROUP BY deal_id
    ),
    base AS (
        SELECT s.*, coalesce(cv.orders, 0) AS orders, coalesce(cv.revenue, 0)::DOUBLE AS revenue,
               coalesce(cv.discounts, 0)::DOUBLE AS discounts, coalesce(cv.refunds, 0)::DOUBLE AS refunds,
               coalesce(cv.cost_of_goods, 0)::DOUBLE AS cost_of_goods,
               coalesce(cv.new_customers, 0) AS new_customers,
               coalesce(cv.returning_customers, 0) AS returning_customers,
               coalesce(cv.link_orders, 0) AS link_orders,
               coalesce(cv.orders - cv.link_orders, 0) AS code_orders,
               coalesce(r.posts, 0) AS posts, coalesce(r.views, 0) AS views,
               coalesce(r.posts_without_views, 0) AS posts_without_views,
               coalesce(r.engagements, 0) AS engagements, coalesce(k.clicks, 0) AS clicks,
               CASE WHEN s.stage IN {ACTIVE_STAGES!r}
                    THEN (s.fee + s.product_cost)::DOUBLE
                         + s.commission_rate * coalesce(cv.revenue, 0)::DOUBLE
                    ELSE 0 END AS spend
        FROM sel s LEFT JOIN conv cv USING (deal_id) LEFT JOIN reach r USING (deal_id)
        LEFT JOIN clicks k USING (deal_id)
    )
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters


def deal_performance(
    con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, model_id: str | None = None
) -> pl.DataFrame:
    """One row per deal (campaign × influencer): spend, conversions, reach and every cost ratio.

    Filters: brand, campaign, influencer; a date range keeps campaigns that overlap it (their whole results).
    """
    model = model_id or default_model_id(con)
    where, params = _deal_where(filters)
    select = f"""
    SELECT *,
           {_ratio("spend * 1000", "views")} AS cpm,
           {_ratio("spend", "engagements")} AS cpe,
           {_ratio("spend", "orders")} AS cpa,
           {_ratio("spend", "new_customers")} AS cpa_new,
           {_ratio("revenue", "spend")} AS roas,
           {_ratio("revenue - discounts - refunds - cost_of_goods", "spend")} AS net_roas,
           {_ratio("revenue - spend", "spend")} AS roi,
           {_ratio("link_orders::DOUBLE", "clicks")} AS conversion_rate
    FROM base
    ORDER BY campaign_id, revenue DESC, deal_id
    """  # noqa: S608 - fixed SQL fragments
    sql = _deals_sql(where) + select
    return con.execute(sql, [*params, model]).pl()


_SUMS = (
    "spend",
    "orders",
    "revenue",
    "discounts",
    "refunds",
    "cost_of_goods",
    "new_customers",
    "returning_customers",
    "link_orders",
    "code_orders",
    "posts",
    "views",
    "posts_without_views",
    "engagements",
    "clicks",
)
_SUMMARY_TYPES = {
    "spend": pl.Float64,
    "orders": pl.Int64,
    "revenue": pl.Float64,
    "discounts": pl.Float64,
    "refunds": pl.Float64,
    "cost_of_goods": pl.Float64,
    "new_customers": pl.Int64,
    "returning_customers": pl.Int64,
    "link_orders": pl.Int64,
    "code_orders": pl.Int64,
    "posts": pl.Int64,
    "views": pl.Decimal(38, 0),
    "posts_without_views": pl.Int64,
    "engagements": pl.Decimal(38, 0),
    "clicks": pl.Int64,
    "deals": pl.UInt32,
    "paid_deals": pl.UInt32,
}


def campaign_summary(
    con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, model_id: str | None = None
) -> pl.DataFrame:
    """One row per campaign: status, dates, spend, conversions, reach and the cost ratios.

    The sums of :func:`deal_performance` per campaign, added up in the same DuckDB statement (one pass)."""
    model = model_id or default_model_id(con)
    where, params = _deal_where(filters)
    keys = "campaign_id, brand_id, campaign, status, start_date, end_date, currency"
    if filters.influencer_ids is None:
        # every campaign in scope, also those without a deal yet (they show with zeros)
        listed_where, listed_params = _campaign_where(filters)
        listed = "SELECT c.campaign_id, c.brand_id, c.name AS campaign, c.status, c.start_date, c.end_date, "
        listed += f"c.currency FROM campaigns c {listed_where}"
    else:
        listed, listed_params = f"SELECT DISTINCT {keys} FROM base", []  # noqa: S608 - fixed names
    sums = ", ".join(f"sum({c}) AS {c}" for c in _SUMS)
    coalesced = ", ".join(f"coalesce(p.{c}, 0) AS {c}" for c in (*_SUMS, "deals", "paid_deals"))
    tail = f""",
    per_campaign AS (
        SELECT campaign_id, {sums}, count(deal_id) AS deals, count(*) FILTER (WHERE spend > 0) AS paid_deals
        FROM base GROUP BY campaign_id
    ),
    listed AS ({listed})
    SELECT l.*, {coalesced}
    FROM listed l LEFT JOIN per_campaign p USING (campaign_id)
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    sql = _deals_sql(where) + tail
    out = con.execute(sql, [*params, model, *listed_params]).pl().cast(_SUMMARY_TYPES)  # type: ignore[arg-type]
    return _with_ratios(out).sort("start_date", "campaign_id", descending=[True, False], nulls_last=True)


def _campaign_where(filters: Filters) -> tuple[str, list[object]]:
    """Campaigns of the brand and campaign filters that overlap the date range (campaigns without dates do)."""
    where, params = filters.where({"brand": "c.brand_id", "campaign": "c.campaign_id"})
    if filters.start is not None:
        where += " AND coalesce(c.end_date, DATE '9999-12-31') >= ?"
        params.append(filters.start)
    if filters.end is not None:
        where += " AND coalesce(c.start_date, DATE '0001-01-01') <= ?"
        params.append(filters.end)
    return where, params


def _deal_where(filters: Filters) -> tuple[str, list[object]]:
    """Deals of the brand, campaign and influencer filters whose campaign overlaps the date range."""
    where, params = filters.where(
        {"brand": "c.brand_id", "campaign": "c.campaign_id", "influencer": "d.influencer_id"}
    )
    if filters.start is not None:
        where += " AND coalesce(c.end_date, DATE '9999-12-31') >= ?"
        params.append(filters.start)
    if filters.end is not None:
        where += " AND coalesce(c.start_date, DATE '0001-01-01') <= ?"
        params.append(filters.end)
    return where, params


def _with_ratios(frame: pl.DataFrame) -> pl.DataFrame:
    def ratio(num: pl.Expr, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(num / pl.col(den)).otherwise(None)

    return frame.with_columns(
        cpm=ratio(pl.col("spend") * 1000, "views"),
        cpe=ratio(pl.col("spend"), "engagements"),
        cpa=ratio(pl.col("spend"), "orders"),
        cpa_new=ratio(pl.col("spend"), "new_customers"),
        roas=ratio(pl.col("revenue"), "spend"),
        net_roas=ratio(
            pl.col("revenue") - pl.col("discounts") - pl.col("refunds") - pl.col("cost_of_goods"), "spend"
        ),
        roi=ratio(pl.col("revenue") - pl.col("spend"), "spend"),
        conversion_rate=ratio(pl.col("link_orders").cast(pl.Float64), "clicks"),
    )


def conversions_per_day(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    model_id: str | None = None,
    by_influencer: bool = False,
) -> pl.DataFrame:
    """Attributed orders, revenue and new customers per day (and per influencer if asked)."""
    model = model_id or default_model_id(con)
    where, params = filters.where(
        {
            "brand": "a.brand_id",
            "campaign": "a.campaign_id",
            "influencer": "a.influencer_id",
            "time": "a.ordered_at",
        }
    )
    group = ", a.influencer_id" if by_influencer else ""
    return con.execute(
        f"""
        SELECT a.ordered_at::DATE AS day{group}, count(*) AS orders, sum(a.revenue)::DOUBLE AS revenue,
               count(*) FILTER (WHERE a.is_new_customer) AS new_customers
        FROM attributed_orders a {where} AND a.model_id = ?
        GROUP BY ALL ORDER BY ALL
        """,  # noqa: S608 - where is built from fixed column names with ? parameters
        [*params, model],
    ).pl()


def campaign_posts(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pl.DataFrame:
    """The sponsored posts of the campaigns (to mark them on conversion charts)."""
    where, params = filters.where(
        {
            "brand": "c.brand_id",
            "campaign": "c.campaign_id",
            "influencer": "a.influencer_id",
            "time": "p.posted_at",
            "platform": "a.platform",
        }
    )
    return con.execute(
        f"""
        SELECT p.post_id, p.posted_at, p.campaign_id, a.influencer_id, i.name AS influencer, a.platform,
               a.handle, p.url, p.views, p.likes, p.comments
        FROM posts p JOIN accounts a USING (account_id) JOIN influencers i USING (influencer_id)
        JOIN campaigns c ON c.campaign_id = p.campaign_id
        {where}
        ORDER BY p.posted_at
        """,  # noqa: S608
        params,
    ).pl()


def funnel(
    con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, model_id: str | None = None
) -> pl.DataFrame:
    """Views → engagements → link clicks → orders via the link, for the selected campaigns (one row per stage)."""
    return funnel_of(campaign_summary(con, filters, model_id=model_id))


def funnel_of(summary: pl.DataFrame) -> pl.DataFrame:
    """:func:`funnel` from rows of :func:`campaign_summary` already at hand (no query)."""
    totals = {
        k: int(summary[k].sum()) if summary.height else 0
        for k in ("views", "engagements", "clicks", "link_orders")
    }
    stages = list(totals)  # promo-code orders need no click, so the funnel ends at orders via the link
    values = [totals[s] for s in stages]
    previous = [None, *values[:-1]]
    return pl.DataFrame(
        {
            "stage": stages,
            "count": values,
            "rate_from_previous": [
                None if p in (None, 0) else v / p for v, p in zip(values, previous, strict=True)
            ],
        }
    )


@dataclass(frozen=True)
class Lift:
    campaign_id: int
    metric: str
    observed: float
    expected: float
    lift: float
    ci_low: float
    ci_high: float
    relative_lift: float | None
    window_start: dt.date
    window_end: dt.date
    pre_start: dt.date
    days: int

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class OrderSpan:
    """The days of a brand's first and last order (test orders too) and of its first order that is no test."""

    first_day: dt.date | None
    last_day: dt.date | None
    first_real_day: dt.date | None


def brand_order_span(con: duckdb.DuckDBPyConnection, brand_id: int) -> OrderSpan:
    """The brand's :class:`OrderSpan`, read from the two ends of the orders only.

    ``order_date_bounds`` (models.first_orders) says when the brand's first and last non-test orders were;
    orders are stored in time order, so reading the orders at or before the first and at or after the last
    skips every row group in between (zonemaps). Whenever those rows cannot hold the answer (no bounds for the
    brand, or its first or last order deleted or re-dated since they were refreshed) the brand's orders are
    read in full: the result is the same either way.
    """
    span_sql = (
        "SELECT min(ordered_at), max(ordered_at), min(ordered_at) FILTER (WHERE NOT is_test) "
        "FROM orders WHERE brand_id = ?"
    )
    bounds = con.execute(
        "SELECT min(first_at), max(last_at) FROM order_date_bounds WHERE brand_id = ?", [brand_id]
    ).fetchone()
    row = None
    if bounds and bounds[0] is not None:
        first_at, last_at = bounds
        ends = con.execute(
            span_sql + " AND (ordered_at <= ? OR ordered_at >= ?)", [brand_id, first_at, last_at]
        ).fetchone()
        # the minimum (maximum) of the rows read is everyone's once it lies at or before (after) the bound
        if ends and ends[2] is not None and ends[2] <= first_at and ends[1] >= last_at:
            row = ends
    if row is None:
        row = con.execute(span_sql, [brand_id]).fetchone()
    first, last, first_real = row if row else (None, None, None)
    return OrderSpan(*(None if t is None else t.date() for t in (first, last, first_real)))


def campaign_lift(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    *,
    metric: str = "orders",
    pre_weeks: int = 8,
    as_of: dt.date | None = None,
) -> Lift | None:
    """Lift of the brand's orders (or revenue) in the campaign window over its weekday baseline.

    Baseline per weekday = mean of that weekday over the ``pre_weeks`` weeks before the campaign. Expected =
    Σ of the baseline over the window's days. Variance = Σ_weekday n_wd² · s²_wd / n_pre (uncertainty of the
    means) + Σ_weekday n_wd · s²_wd (day-to-day noise of the window); 95 % interval = lift ± 1.96 · sd.
    Returns None when the campaign has not started or the brand has under two weeks of orders before it.
    """
    return campaign_lifts(con, campaign_id, metrics=(metric,), pre_weeks=pre_weeks, as_of=as_of)[metric]


LIFT_VALUES = {"orders": "count(*)", "revenue": "sum(gross + discount)::DOUBLE"}


def campaign_lifts(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    *,
    metrics: Sequence[str] = ("orders", "revenue"),
    pre_weeks: int = 8,
    as_of: dt.date | None = None,
    span: OrderSpan | None = None,
) -> dict[str, Lift | None]:
    """:func:`campaign_lift` of several metrics from one pass over the brand's orders (``span``: the brand's
    :func:`brand_order_span` when the caller has it)."""
    if any(metric not in LIFT_VALUES for metric in metrics):
        raise ValueError("metric must be 'orders' or 'revenue'")
    none: dict[str, Lift | None] = {metric: None for metric in metrics}
    row = con.execute(
        "SELECT brand_id, start_date, end_date FROM campaigns WHERE campaign_id = ?", [campaign_id]
    ).fetchone()
    if row is None or row[1] is None:
        return none
    brand_id, start, end = row
    span = span or brand_order_span(con, brand_id)
    data_end = as_of or span.last_day
    if data_end is None or start > data_end:
        return none
    end = min(end or data_end, data_end)
    # Days before the brand's first order are not zero-order days, they are days without data: the
    # baseline starts at the first order, and needs at least two weeks of it.
    pre_start = max(start - dt.timedelta(weeks=pre_weeks), span.first_real_day or start)
    if (start - pre_start).days < MIN_PRE_DAYS:
        return none
    values = ", ".join(f"{LIFT_VALUES[m]} AS {m}" for m in metrics)
    shown = ", ".join(f"coalesce(v.{m}, 0) AS {m}" for m in metrics)
    daily = (
        con.execute(
            f"""
        SELECT d.day, {shown}
        FROM (SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 DAY))::DATE AS day) d
        LEFT JOIN (SELECT ordered_at::DATE AS day, {values} FROM orders
                   WHERE brand_id = ? AND NOT is_test AND NOT is_cancelled
                     AND ordered_at >= ? AND ordered_at < ? GROUP BY 1) v USING (day)
        ORDER BY d.day
        """,  # noqa: S608 - the values are fixed expressions (LIFT_VALUES)
            [pre_start, end, brand_id, pre_start, end + dt.timedelta(days=1)],
        )
        .pl()
        .with_columns(weekday=pl.col("day").dt.weekday(), in_window=pl.col("day") >= start)
    )
    return {
        metric: _lift(daily.rename({metric: "value"}), campaign_id, metric, start, end, pre_start)
        for metric in metrics
    }


def _lift(
    daily: pl.DataFrame, campaign_id: int, metric: str, start: dt.date, end: dt.date, pre_start: dt.date
) -> Lift | None:
    """The lift of one metric from its daily values (``value``, ``weekday``, ``in_window``)."""
    pre = daily.filter(~pl.col("in_window"))
    if pre.is_empty() or pre["value"].sum() == 0:
        return None
    base = pre.group_by("weekday").agg(
        mean=pl.col("value").mean(), var=pl.col("value").var(ddof=1), n_pre=pl.len()
    )
    window = daily.filter("in_window").group_by("weekday").agg(n=pl.len(), observed=pl.col("value").sum())
    joined = window.join(base, on="weekday", how="left").fill_null(0)
    observed = float(joined["observed"].sum())
    expected = float((joined["n"] * joined["mean"]).sum())
    variance = float(
        (joined["n"] ** 2 * joined["var"] / joined["n_pre"].clip(1)).sum()
        + (joined["n"] * joined["var"]).sum()
    )
    sd = math.sqrt(max(variance, 0.0))
    lift = observed - expected
    return Lift(
        campaign_id=campaign_id,
        metric=metric,
        observed=observed,
        expected=expected,
        lift=lift,
        ci_low=lift - 1.96 * sd,
        ci_high=lift + 1.96 * sd,
        relative_lift=lift / expected if expected else None,
        window_start=start,
        window_end=end,
        pre_start=pre_start,
        days=int(joined["n"].sum()),
    )


def leakage_flags(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    min_coupon_orders: int = 3,
    min_share: float = 0.10,
    max_reach_conversion: float = 0.02,
) -> pl.DataFrame:
    """Per deal with a promo code: redemptions, coupon-site redemptions without a click, reach, and flags."""
    where, params = filters.where(
        {"brand": "c.brand_id", "campaign": "c.campaign_id", "influencer": "d.influencer_id"}
    )
    coupon_pattern = "|".join(s.replace(".", r"\.") for s in COUPON_SITES)
    # The orders to read, as constants DuckDB pushes into the scan of 20M orders: the codes' brands, and
    # (orders are stored in time order, so whole row groups are skipped) from the earliest campaign start on
    # when every code's campaign has one. Inside the query these were subqueries, evaluated as joins.
    brands, since, code_list = con.execute(
        f"""
        SELECT list(DISTINCT c.brand_id), CASE WHEN count(*) = count(c.start_date) THEN min(c.start_date) END,
               list(DISTINCT pc.code)
        FROM promo_codes pc JOIN deals d ON d.deal_id = pc.deal_id JOIN campaigns c ON c.campaign_id = d.campaign_id
        {where} AND pc.kind = 'influencer'
        """,  # noqa: S608 - the WHERE clause comes from Filters, values are parameters
        params,
    ).fetchone() or ([], None, [])
    brand_list = ", ".join(str(int(b)) for b in brands or []) or "NULL"
    sql = f"""
    WITH codes AS (
        SELECT pc.brand_id, pc.code, d.deal_id, d.campaign_id, d.influencer_id, i.name AS influencer,
               c.name AS campaign, c.start_date
        FROM promo_codes pc JOIN deals d ON d.deal_id = pc.deal_id JOIN campaigns c ON c.campaign_id = d.campaign_id
        JOIN influencers i ON i.influencer_id = d.influencer_id
        {where} AND pc.kind = 'influencer'
    ),
    redemptions AS (
        SELECT k.deal_id, o.order_id, o.referrer, cu.customer_key,
               regexp_matches(lower(coalesce(o.referrer, '')), ?) AS from_coupon_site
        FROM codes k
        JOIN orders o ON o.brand_id = k.brand_id AND upper(o.promo_code) = k.code
        LEFT JOIN customers cu ON cu.customer_id = o.customer_id
        WHERE NOT o.is_test AND NOT o.is_cancelled AND o.promo_code IS NOT NULL
          AND (k.start_date IS NULL OR o.ordered_at >= k.start_date)  -- redemptions since the campaign began
          AND o.brand_id IN ({brand_list}) AND o.ordered_at >= ?  -- the same rows, read cheaply (see above)
          -- and the codes: only the row groups with a redemption have their other columns read
          AND list_contains(?::VARCHAR[], upper(o.promo_code))
    ),
    clicked AS (
        SELECT DISTINCT deal_id, visitor_key FROM link_clicks WHERE deal_id IN (SELECT deal_id FROM codes)
    ),
    per_deal AS (
        SELECT r.deal_id, count(*) AS redemptions,
               count(*) FILTER (WHERE r.from_coupon_site AND cl.visitor_key IS NULL) AS coupon_site_no_click
        FROM redemptions r LEFT JOIN clicked cl ON cl.deal_id = r.deal_id AND cl.visitor_key = r.customer_key
        GROUP BY r.deal_id
    ),
    reach AS (
        SELECT k.deal_id, sum(coalesce(p.views, s.followers * 0.3)) AS reach
        FROM codes k JOIN accounts a ON a.influencer_id = k.influencer_id
        JOIN posts p ON p.account_id = a.account_id AND p.campaign_id = k.campaign_id
        ASOF LEFT JOIN (  -- only the codes' creators' snapshots: the ASOF join sorts its whole right side
            SELECT account_id, snapshot_date, followers FROM account_snapshots
            WHERE account_id IN (SELECT account_id FROM accounts
                                 WHERE influencer_id IN (SELECT influencer_id FROM codes))
        ) s ON s.account_id = p.account_id AND p.posted_at::DATE >= s.snapshot_date
        GROUP BY k.deal_id
    )
    SELECT k.deal_id, k.campaign_id, k.campaign, k.influencer_id, k.influencer, k.code,
           coalesce(pd.redemptions, 0) AS redemptions,
           coalesce(pd.coupon_site_no_click, 0) AS coupon_site_no_click,
           coalesce(r.reach, 0)::DOUBLE AS reach
    FROM codes k LEFT JOIN per_deal pd USING (deal_id) LEFT JOIN reach r USING (deal_id)
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    first_day = dt.datetime.combine(since, dt.time()) if since else dt.datetime(1, 1, 1)
    frame = con.execute(sql, [*params, coupon_pattern, first_day, code_list or []]).pl()
    return (
        frame.with_columns(
            coupon_share=pl.when(pl.col("redemptions") > 0)
            .then(pl.col("coupon_site_no_click") / pl.col("redemptions"))
            .otherwise(None),
            max_plausible=pl.col("reach") * max_reach_conversion,
        )
        .with_columns(
            flag_coupon_site=(pl.col("coupon_site_no_click") >= min_coupon_orders)
            & (pl.col("coupon_share") >= min_share),
            # no sponsored post yet means no reach to compare with: not a flag
            flag_reach=(pl.col("reach") > 0) & (pl.col("redemptions") > pl.col("max_plausible")),
        )
        .with_columns(flagged=pl.col("flag_coupon_site") | pl.col("flag_reach"))
        .sort(["flagged", "coupon_site_no_click", "deal_id"], descending=[True, True, False])
    )


def leakage_evidence(con: duckdb.DuckDBPyConnection, deal_id: int) -> pl.DataFrame:
    """The redemptions of a deal's code that came from coupon sites without a click on the creator's link."""
    return leakage_evidence_of(con, [deal_id]).drop("deal_id")


def leakage_evidence_of(con: duckdb.DuckDBPyConnection, deal_ids: Sequence[int]) -> pl.DataFrame:
    """:func:`leakage_evidence` of several deals in one pass over their brands' orders, with ``deal_id``.

    The redemptions :func:`leakage_flags` counts as coupon-site ones without a click: since the campaign began,
    neither test nor cancelled, a coupon site in the referrer, no click on the deal's link by the customer."""
    coupon_pattern = "|".join(s.replace(".", r"\.") for s in COUPON_SITES)
    ids = [int(d) for d in deal_ids]
    brands, since, code_list = con.execute(
        """
        SELECT list(DISTINCT pc.brand_id), CASE WHEN count(*) = count(c.start_date) THEN min(c.start_date) END,
               list(DISTINCT pc.code)
        FROM promo_codes pc JOIN deals d USING (deal_id) JOIN campaigns c ON c.campaign_id = d.campaign_id
        WHERE list_contains(?, pc.deal_id) AND pc.kind = 'influencer'
        """,
        [ids],
    ).fetchone() or ([], None, [])
    brand_list = ", ".join(str(int(b)) for b in brands or []) or "NULL"
    first_day = dt.datetime.combine(since, dt.time()) if since else dt.datetime(1, 1, 1)
    return con.execute(
        f"""
        WITH codes AS (
            SELECT pc.deal_id, pc.brand_id, pc.code, c.start_date
            FROM promo_codes pc JOIN deals d USING (deal_id) JOIN campaigns c ON c.campaign_id = d.campaign_id
            WHERE list_contains(?, pc.deal_id) AND pc.kind = 'influencer'
        ),
        coupon_redemptions AS (
            SELECT k.deal_id, o.order_id, o.external_order_id, o.ordered_at, o.promo_code, o.referrer, o.gross,
                   o.customer_id
            FROM codes k JOIN orders o ON o.brand_id = k.brand_id AND upper(o.promo_code) = k.code
            WHERE NOT o.is_test AND NOT o.is_cancelled AND o.promo_code IS NOT NULL
              AND (k.start_date IS NULL OR o.ordered_at >= k.start_date)
              -- the same rows, read cheaply: constants DuckDB pushes into the scan (see leakage_flags)
              AND o.brand_id IN ({brand_list}) AND o.ordered_at >= ?
              AND list_contains(?::VARCHAR[], upper(o.promo_code))
              AND regexp_matches(lower(coalesce(o.referrer, '')), ?)
        ),
        clicked AS (
            SELECT DISTINCT deal_id, visitor_key FROM link_clicks WHERE list_contains(?, deal_id)
        )
        SELECT r.deal_id, r.order_id, r.external_order_id, r.ordered_at, r.promo_code, r.referrer, r.gross
        FROM coupon_redemptions r
        LEFT JOIN customers cu ON cu.customer_id = r.customer_id
        ANTI JOIN clicked cl ON cl.deal_id = r.deal_id AND cl.visitor_key = cu.customer_key
        ORDER BY r.deal_id, r.ordered_at, r.order_id
        """,  # noqa: S608 - brand ids are integers from the store; values are parameters
        [ids, first_day, code_list or [], coupon_pattern, ids],
    ).pl()
