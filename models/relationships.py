"""The three relationships between brands, influencers and customers, as frames the pages can draw.

* **Influencer–brand** (:func:`influencer_brand`): collaborations, deliverables on time, fees, attributed
  orders and revenue, ROAS (from :func:`models.campaigns.deal_performance`), sponsored ER, contact history
  and a documented 0–100 *relationship health* whose components are returned as columns.
* **Customer–influencer** (:func:`customer_influencer`, :func:`buyer_overlap`, :func:`overlap_matrix`,
  :func:`exclusive_share`, :func:`three_way_flows`): customers acquired and reached, their later value,
  buyer overlap (Jaccard of attributed customer sets) and the brand ← influencer ← customer flows.
* **Fit** (:func:`fit_score`): an explainable 0–100 score of each influencer for one brand, built from
  components in [0, 1] with the weights in :data:`FIT_WEIGHTS`; missing components are left out and the
  remaining weights renormalised, and a text column names the top reasons.

Every conversion figure reads the materialised attribution of one model (the default one unless
``model_id`` is given). A customer is a customer *of one brand* (``customers.customer_id`` is derived from
the brand and the customer key), so customer sets of different brands never intersect. Definitions follow
METRICS.md; :data:`DEFINITIONS` holds the one-line text the pages show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import duckdb
import polars as pl

from models.attribution import default_model_id
from models.campaigns import ACTIVE_STAGES, deal_performance
from models.filters import Filters, MetricDefinition

# -- settings --------------------------------------------------------------------------------------------
CONTACT_WINDOW_DAYS = 90  # "interactions in the last 90 days"
RECENCY_HALF_LIFE_DAYS = 30  # contact recency component halves every 30 days without contact
FREQUENCY_TARGET = 6  # contacts in the window that earn full marks (about one a fortnight)

# Relationship health = 100 × Σ weight × component / Σ weight of the components present.
HEALTH_WEIGHTS: dict[str, float] = {
    "recency": 0.30,
    "frequency": 0.20,
    "on_time": 0.30,
    "sentiment": 0.20,
}

# Fit score = 100 × Σ weight × component / Σ weight of the components present.
FIT_WEIGHTS: dict[str, float] = {
    "niche_match": 0.20,
    "audience_match": 0.15,
    "results_with_brand": 0.20,
    "results_with_similar_brands": 0.10,
    "engagement_quality": 0.15,
    "reliability": 0.05,
    "contact_recency": 0.05,
    "contact_frequency": 0.05,
    "contact_sentiment": 0.05,
}
FIT_REASONS = 3  # how many reasons the text column names
MIN_AUDIENCE_BUYERS = 5  # fewer attributed buyers with a country: use the influencer's home country
MIN_TIER_ACCOUNTS = 5  # fewer accounts in a platform × follower tier: no tier median, no ER component
ER_POSTS = 12  # ER window: the last 12 posts or 90 days, whichever has more posts (METRICS.md)
ER_WINDOW_DAYS = 90

# How well an influencer's niche fits a brand category (1 = the same audience interest). Data, not code:
# a niche not listed for a category scores 0; a category not listed scores 1 for a niche of the same
# name and is otherwise unknown (component missing).
CATEGORY_NICHE_FIT: dict[str, dict[str, float]] = {
    "beauty": {"beauty": 1.0, "fashion": 0.7, "lifestyle": 0.6},
    "fashion": {"fashion": 1.0, "beauty": 0.7, "lifestyle": 0.6, "travel": 0.4, "music": 0.3},
    "fitness": {"fitness": 1.0, "outdoors": 0.6, "food": 0.4, "lifestyle": 0.4},
    "health": {"fitness": 0.9, "food": 0.7, "lifestyle": 0.5, "beauty": 0.4, "parenting": 0.4},
    "food & drink": {"food": 1.0, "lifestyle": 0.6, "travel": 0.5, "parenting": 0.4},
    "gaming": {"gaming": 1.0, "tech": 0.7, "music": 0.4},
    "tech": {"tech": 1.0, "gaming": 0.7, "finance": 0.4, "music": 0.3},
    "home": {"lifestyle": 0.9, "parenting": 0.7, "food": 0.5},
    "outdoors": {"outdoors": 1.0, "travel": 0.8, "fitness": 0.7},
    "pets": {"lifestyle": 0.6, "parenting": 0.5, "outdoors": 0.5},
    "media": {"music": 0.8, "lifestyle": 0.6, "tech": 0.4, "gaming": 0.4, "finance": 0.3},
}

FOLLOWER_TIERS = ("<10k", "10k–100k", "100k–1M", ">1M")

SEGMENT_LABELS = {"new": "New customers", "returning": "Returning customers"}

DEFINITIONS: dict[str, MetricDefinition] = {
    # influencer–brand
    "deals": MetricDefinition("deals", "deals of the influencer with the brand's campaigns, at any stage"),
    "collaborations": MetricDefinition(
        "collaborations",
        "deals past 'negotiating' (contracted, live or completed) of the influencer with the brand",
        "Campaigns counts the distinct campaigns of those deals (one deal per campaign and influencer).",
    ),
    "campaigns": MetricDefinition("campaigns", "distinct campaigns of the collaborations"),
    "deliverables_due": MetricDefinition(
        "deliverables due",
        "deliverables whose due date has passed (before the as-of day) or that are already published",
        "Cancelled deliverables, those without a due date and published ones without a delivery time are "
        "left out.",
    ),
    "deliverables_on_time": MetricDefinition(
        "deliverables on time", "published deliverables delivered by the end of their due date (UTC)"
    ),
    "on_time_rate": MetricDefinition("on-time rate", "deliverables on time / deliverables due"),
    "overdue_now": MetricDefinition(
        "overdue now", "deliverables still pending or submitted whose due date is before the as-of day"
    ),
    "total_fees": MetricDefinition(
        "total fees", "Σ fees of the collaborations (contracted, live, completed)"
    ),
    "spend": MetricDefinition(
        "spend", "fees + product cost of seeded goods + commission on attributed revenue (per deal)"
    ),
    "attributed_orders": MetricDefinition(
        "attributed orders", "orders attributed to the influencer's deals with the brand"
    ),
    "attributed_revenue": MetricDefinition(
        "attributed revenue", "Σ gross sales of attributed orders (before discounts and refunds)"
    ),
    "roas": MetricDefinition("ROAS", "attributed revenue / spend"),
    "sponsored_er": MetricDefinition(
        "sponsored ER",
        "median ER by followers of the influencer's posts linked to the brand's campaigns; ER by followers "
        "= (likes + comments) / followers at posting time (latest snapshot at or before the post)",
        "The platform filter applies here only.",
    ),
    "sponsored_posts": MetricDefinition(
        "sponsored posts", "posts of the influencer linked to the brand's campaigns (platform filter applies)"
    ),
    "last_contact_at": MetricDefinition(
        "last contact",
        "time of the latest interaction with the influencer about the brand, up to the as-of day",
    ),
    "interactions": MetricDefinition(
        "interactions", "interactions with the influencer about the brand up to the as-of day"
    ),
    "days_since_last_contact": MetricDefinition(
        "days since last contact",
        "as-of day − day of the latest interaction with the influencer about the brand",
        "Interactions after the as-of day and those without a brand are not counted.",
    ),
    "interactions_90d": MetricDefinition(
        "interactions (90 days)",
        "interactions with the influencer about the brand in the 90 days ending on the as-of day",
        parameters={"window": f"{CONTACT_WINDOW_DAYS} days"},
    ),
    "mean_sentiment": MetricDefinition(
        "mean sentiment", "mean sentiment (−1 … 1) of the interactions up to the as-of day"
    ),
    "health_recency": MetricDefinition(
        "health: recency",
        f"0.5^(days since last contact / {RECENCY_HALF_LIFE_DAYS}); 0 if never contacted",
        parameters={"half-life": f"{RECENCY_HALF_LIFE_DAYS} days"},
    ),
    "health_frequency": MetricDefinition(
        "health: frequency",
        f"min(interactions in {CONTACT_WINDOW_DAYS} days / {FREQUENCY_TARGET}, 1)",
        parameters={"full marks at": f"{FREQUENCY_TARGET} interactions"},
    ),
    "health_on_time": MetricDefinition("health: on-time", "on-time rate; missing when nothing is due"),
    "health_sentiment": MetricDefinition(
        "health: sentiment", "(mean sentiment + 1) / 2; missing when no sentiment is logged"
    ),
    "health": MetricDefinition(
        "relationship health",
        "100 × Σ weight × component / Σ weight of the components present; components: recency = "
        f"0.5^(days since last contact / {RECENCY_HALF_LIFE_DAYS}) (0 if never contacted), frequency = "
        f"min(interactions in {CONTACT_WINDOW_DAYS} days / {FREQUENCY_TARGET}, 1), on-time = on-time rate, "
        "sentiment = (mean sentiment + 1) / 2",
        "A component without data (no deliverable due, no sentiment logged) is left out and the other "
        "weights renormalised. Contact metrics ignore the date range: they are measured on the as-of day "
        "(default today) over all interactions up to it.",
        {k: f"{v:.0%}" for k, v in HEALTH_WEIGHTS.items()},
    ),
    # customer–influencer
    "customers_acquired": MetricDefinition(
        "customers acquired",
        "customers whose first order with the brand is attributed to the influencer",
    ),
    "returning_customers": MetricDefinition(
        "returning customers reached",
        "distinct customers of attributed orders who had ordered from the brand before",
    ),
    "attributed_customers": MetricDefinition(
        "attributed customers",
        "distinct customers of the influencer's attributed orders (guest orders left out)",
    ),
    "repeat_customers": MetricDefinition(
        "repeat customers", "acquired customers with at least one later order (attributed or not)"
    ),
    "later_orders": MetricDefinition(
        "later orders", "orders of the acquired customers after the acquiring order (not test, not cancelled)"
    ),
    "later_ltv_per_customer": MetricDefinition("later LTV per customer", "later LTV / customers acquired"),
    "later_ltv": MetricDefinition(
        "later LTV",
        "Σ (gross − refunded) of the acquired customers' orders after the acquiring order, attributed or "
        "not, excluding test and cancelled orders",
        "Net of discounts and refunds (what the customers paid and kept paying), unlike attributed revenue; "
        "grows with the age of the cohort. Per customer: later LTV / customers acquired.",
    ),
    "repeat_rate": MetricDefinition(
        "repeat rate", "share of the acquired customers with at least one later order"
    ),
    "buyer_overlap": MetricDefinition(
        "buyer overlap",
        "Jaccard of the two influencers' attributed customer sets = |A ∩ B| / |A ∪ B|",
        "Customers are per brand, so overlap arises within a brand.",
    ),
    "exclusive_share": MetricDefinition(
        "exclusive share",
        "share of the influencer's attributed customers whom no other influencer in the set reached",
    ),
    "flows": MetricDefinition(
        "customer flows",
        "attributed orders (or revenue) from each customer segment (new or returning) through each "
        "influencer to each brand",
    ),
    # fit
    "fit_score": MetricDefinition(
        "fit score",
        "100 × Σ weight × component / Σ weight of the components present; each component in [0, 1]",
        "Components without data are left out and the remaining weights renormalised; the reasons column "
        "names the largest weighted contributions.",
        {k: f"{v:.0%}" for k, v in FIT_WEIGHTS.items()},
    ),
    "niche_match": MetricDefinition(
        "niche match", "fit of the influencer's niche with the brand's category, from a fixed mapping table"
    ),
    "audience_match": MetricDefinition(
        "audience match",
        "overlap of two country distributions, Σ min(p, q): the influencer's attributed buyers (all brands) "
        "and the brand's customers",
        f"With fewer than {MIN_AUDIENCE_BUYERS} buyers with a country, the influencer's home country stands "
        "in for the audience.",
    ),
    "results_with_brand": MetricDefinition(
        "results with the brand", "ROAS / (ROAS + 1) over the influencer's deals with the brand (1× → 0.5)"
    ),
    "results_with_similar_brands": MetricDefinition(
        "results with similar brands",
        "ROAS / (ROAS + 1) over the influencer's deals with other brands of the same category",
    ),
    "engagement_quality": MetricDefinition(
        "engagement quality",
        "min(ER / tier median ER / 2, 1): 0.5 at the median of the platform × follower tier, 1 at twice it",
        "ER by followers of the influencer's largest account, median over the last 12 posts or 90 days "
        f"(whichever has more posts); tiers <10k, 10–100k, 100k–1M, >1M; a tier needs {MIN_TIER_ACCOUNTS} "
        "accounts.",
    ),
    "reliability": MetricDefinition(
        "reliability", "on-time rate of the influencer's deliverables with every brand"
    ),
    "contact_recency": MetricDefinition(
        "contact recency", f"0.5^(days since last contact about the brand / {RECENCY_HALF_LIFE_DAYS})"
    ),
    "contact_frequency": MetricDefinition(
        "contact frequency",
        f"min(interactions about the brand in {CONTACT_WINDOW_DAYS} days / {FREQUENCY_TARGET}, 1)",
    ),
    "contact_sentiment": MetricDefinition(
        "contact sentiment", "(mean sentiment of the interactions about the brand + 1) / 2"
    ),
}


# -- helpers ---------------------------------------------------------------------------------------------
def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` (timestamps are naive UTC)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def _deal_where(filters: Filters) -> tuple[str, list[object]]:
    """The deal selection of :func:`models.campaigns.deal_performance`: brand, campaign, influencer, and
    campaigns overlapping the date range (whole results). Aliases: ``d`` deals, ``c`` campaigns."""
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


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None)


def _weighted_score(weights: dict[str, float], prefix: str) -> pl.Expr:
    """100 × Σ w·c / Σ w over the components ``{prefix}{name}`` that are not null (None if none are)."""
    num = pl.sum_horizontal(pl.col(f"{prefix}{k}").fill_null(0.0) * w for k, w in weights.items())
    den = pl.sum_horizontal(
        pl.col(f"{prefix}{k}").is_not_null().cast(pl.Float64) * w for k, w in weights.items()
    )
    return pl.when(den > 0).then(100.0 * num / den).otherwise(None)


def _recency(days: pl.Expr, *, never: float | None) -> pl.Expr:
    return (
        pl.when(days.is_null())
        .then(pl.lit(never, dtype=pl.Float64))
        .otherwise(pl.lit(0.5).pow(days.cast(pl.Float64).clip(lower_bound=0) / RECENCY_HALF_LIFE_DAYS))
    )


def _frequency(count: pl.Expr) -> pl.Expr:
    return (count.cast(pl.Float64) / FREQUENCY_TARGET).clip(upper_bound=1.0)


def _sentiment(mean: pl.Expr) -> pl.Expr:
    return ((mean.cast(pl.Float64) + 1.0) / 2.0).clip(0.0, 1.0)


def with_health(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the health components (``health_recency`` … ``health_sentiment``, each in [0, 1]) and ``health``.

    Needs ``days_since_last_contact``, ``interactions_90d``, ``on_time_rate`` and ``mean_sentiment``. Never
    contacted = recency 0 and frequency 0 (a real signal); no deliverable due or no sentiment = missing.
    """
    return frame.with_columns(
        health_recency=_recency(pl.col("days_since_last_contact"), never=0.0),
        health_frequency=_frequency(pl.col("interactions_90d").fill_null(0)),
        health_on_time=pl.col("on_time_rate").cast(pl.Float64).clip(0.0, 1.0),
        health_sentiment=_sentiment(pl.col("mean_sentiment")),
    ).with_columns(health=_weighted_score(HEALTH_WEIGHTS, "health_"))


# -- influencer–brand ------------------------------------------------------------------------------------
def influencer_brand(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    model_id: str | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """One row per influencer × brand with a deal or an interaction: the relationship in numbers.

    The brand, campaign, influencer filters and the date range (campaigns overlapping it) select the deals,
    exactly as :func:`~models.campaigns.deal_performance` does; the platform filter applies to sponsored ER.
    Contact metrics and overdue deliverables are measured on ``as_of`` (default today, UTC).
    """
    as_of = as_of or _today()
    as_of_end = _end_of(as_of)
    deal_where, deal_params = _deal_where(filters)
    contact_where, contact_params = filters.where({"brand": "x.brand_id", "influencer": "x.influencer_id"})
    platform_where, platform_params = filters.where({"platform": "a.platform"})
    # With a campaign filter, the rows are the deals' pairs only (interactions have no campaign).
    contact_pairs = (
        "" if filters.campaign_ids is not None else "UNION SELECT influencer_id, brand_id FROM contact"
    )
    sql = f"""
    WITH sel AS (
        SELECT d.deal_id, d.campaign_id, d.influencer_id, c.brand_id
        FROM deals d JOIN campaigns c USING (campaign_id)
        {deal_where}
    ),
    deliv AS (
        SELECT s.influencer_id, s.brand_id,
               count(*) FILTER (WHERE x.settled) AS deliverables_due,
               count(*) FILTER (WHERE x.settled AND x.on_time) AS deliverables_on_time,
               count(*) FILTER (WHERE x.status IN ('pending', 'submitted') AND x.due_date < ?) AS overdue_now
        FROM sel s
        JOIN (SELECT deal_id, status, due_date,
                     coalesce(status = 'published' AND delivered_at < due_date + INTERVAL 1 DAY, false) AS on_time,
                     status <> 'cancelled' AND due_date IS NOT NULL
                       AND NOT (status = 'published' AND delivered_at IS NULL)
                       AND (due_date < ? OR status = 'published') AS settled
              FROM deliverables) x USING (deal_id)
        GROUP BY ALL
    ),
    contact AS (
        SELECT x.influencer_id, x.brand_id, count(*) AS interactions,
               count(*) FILTER (WHERE x.occurred_at >= ?) AS interactions_90d,
               max(x.occurred_at) AS last_contact_at, avg(x.sentiment) AS mean_sentiment
        FROM interactions x
        {contact_where} AND x.brand_id IS NOT NULL AND x.occurred_at < ?
        GROUP BY ALL
    ),
    sponsored_posts AS (
        SELECT sl.influencer_id, sl.brand_id, p.post_id, p.account_id, p.posted_at::DATE AS day,
               p.likes + p.comments AS interactions
        FROM posts p
        JOIN accounts a USING (account_id)
        JOIN (SELECT DISTINCT campaign_id, influencer_id, brand_id FROM sel) sl
          ON sl.campaign_id = p.campaign_id AND sl.influencer_id = a.influencer_id
        {platform_where}
    ),
    -- followers when posted: the snapshot of the post's day (daily snapshots: a hash join), else the latest
    -- earlier one (an ASOF join over those posts' accounts only — it sorts its whole right side)
    same_day AS (
        SELECT q.post_id, sn.followers
        FROM sponsored_posts q JOIN account_snapshots sn ON sn.account_id = q.account_id AND sn.snapshot_date = q.day
    ),
    other_day AS (
        SELECT q.post_id, sn.followers
        FROM (SELECT * FROM sponsored_posts ANTI JOIN same_day USING (post_id)) q
        ASOF LEFT JOIN (
            SELECT account_id, snapshot_date, followers FROM account_snapshots
            WHERE account_id IN (SELECT account_id FROM sponsored_posts ANTI JOIN same_day USING (post_id))
        ) sn ON sn.account_id = q.account_id AND q.day >= sn.snapshot_date
    ),
    sponsored AS (
        SELECT q.influencer_id, q.brand_id, count(*) AS sponsored_posts,
               median(q.interactions::DOUBLE / nullif(f.followers, 0)) AS sponsored_er
        FROM sponsored_posts q JOIN (SELECT * FROM same_day UNION ALL SELECT * FROM other_day) f USING (post_id)
        GROUP BY ALL
    ),
    pairs AS (
        SELECT influencer_id, brand_id FROM sel
        {contact_pairs}
    )
    SELECT pr.influencer_id, i.name AS influencer, pr.brand_id, b.name AS brand, b.currency,
           coalesce(dv.deliverables_due, 0) AS deliverables_due,
           coalesce(dv.deliverables_on_time, 0) AS deliverables_on_time,
           coalesce(dv.overdue_now, 0) AS overdue_now,
           coalesce(sp.sponsored_posts, 0) AS sponsored_posts, sp.sponsored_er,
           ct.last_contact_at, date_diff('day', ct.last_contact_at::DATE, ?::DATE) AS days_since_last_contact,
           coalesce(ct.interactions, 0) AS interactions, coalesce(ct.interactions_90d, 0) AS interactions_90d,
           ct.mean_sentiment
    FROM (SELECT DISTINCT influencer_id, brand_id FROM pairs) pr
    JOIN influencers i USING (influencer_id)
    JOIN brands b USING (brand_id)
    LEFT JOIN deliv dv USING (influencer_id, brand_id)
    LEFT JOIN contact ct USING (influencer_id, brand_id)
    LEFT JOIN sponsored sp USING (influencer_id, brand_id)
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    params = [
        *deal_params,
        as_of,
        as_of,
        as_of_end - dt.timedelta(days=CONTACT_WINDOW_DAYS),
        *contact_params,
        as_of_end,
        *platform_params,
        as_of,
    ]
    pairs = con.execute(sql, params).pl()

    perf = deal_performance(con, filters, model_id=model_id)
    active = pl.col("stage").is_in(ACTIVE_STAGES)
    deals = perf.group_by("influencer_id", "brand_id").agg(
        deals=pl.len().cast(pl.Int64),
        collaborations=active.sum().cast(pl.Int64),
        campaigns=pl.col("campaign_id").filter(active).n_unique().cast(pl.Int64),
        total_fees=pl.col("fee").cast(pl.Float64).filter(active).sum(),
        spend=pl.col("spend").cast(pl.Float64).sum(),
        attributed_orders=pl.col("orders").sum().cast(pl.Int64),
        attributed_revenue=pl.col("revenue").cast(pl.Float64).sum(),
    )
    counts = ["deals", "collaborations", "campaigns", "attributed_orders"]
    money = ["total_fees", "spend", "attributed_revenue"]
    out = (
        pairs.join(deals, on=["influencer_id", "brand_id"], how="left")
        .with_columns(
            *[pl.col(c).fill_null(0) for c in counts],
            *[pl.col(c).fill_null(0.0) for c in money],
        )
        .with_columns(
            roas=_ratio(pl.col("attributed_revenue"), pl.col("spend")),
            on_time_rate=_ratio(
                pl.col("deliverables_on_time").cast(pl.Float64), pl.col("deliverables_due").cast(pl.Float64)
            ),
        )
    )
    out = with_health(out)
    columns = [
        "influencer_id",
        "influencer",
        "brand_id",
        "brand",
        "currency",
        "deals",
        "collaborations",
        "campaigns",
        "deliverables_due",
        "deliverables_on_time",
        "on_time_rate",
        "overdue_now",
        "total_fees",
        "spend",
        "attributed_orders",
        "attributed_revenue",
        "roas",
        "sponsored_posts",
        "sponsored_er",
        "last_contact_at",
        "days_since_last_contact",
        "interactions",
        "interactions_90d",
        "mean_sentiment",
        "health_recency",
        "health_frequency",
        "health_on_time",
        "health_sentiment",
        "health",
    ]
    return out.select(columns).sort(
        ["health", "brand_id", "influencer_id"], descending=[True, False, False], nulls_last=True
    )


# -- customer–influencer ---------------------------------------------------------------------------------
def _attributed_where(filters: Filters, *, influencer: bool = True) -> tuple[str, list[object]]:
    columns = {"brand": "a.brand_id", "campaign": "a.campaign_id", "time": "a.ordered_at"}
    if influencer:
        columns["influencer"] = "a.influencer_id"
    return filters.where(columns)


def customer_influencer(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    model_id: str | None = None,
    *,
    by_brand: bool = True,
) -> pl.DataFrame:
    """One row per influencer × brand (or per influencer): customers acquired and reached, later value.

    The date range selects attributed orders (the acquiring order for acquisitions); later orders count
    whenever they came. Guest orders (no customer) count as orders but not as customers.
    """
    model = model_id or default_model_id(con)
    where, params = _attributed_where(filters)
    sql = f"""
    WITH att AS (
        SELECT a.* FROM attributed_orders a {where} AND a.model_id = ?
    ),
    per_pair AS (
        SELECT influencer_id, brand_id, count(*) AS attributed_orders,
               count(DISTINCT customer_id) AS attributed_customers,
               count(DISTINCT customer_id) FILTER (WHERE is_new_customer) AS customers_acquired,
               count(DISTINCT customer_id) FILTER (WHERE NOT is_new_customer) AS returning_customers
        FROM att GROUP BY ALL
    ),
    acquired AS (
        SELECT influencer_id, brand_id, customer_id, min(ordered_at) AS acquired_at
        FROM att WHERE is_new_customer AND customer_id IS NOT NULL
        GROUP BY ALL
    ),
    later AS (
        SELECT q.influencer_id, q.brand_id, q.customer_id, count(*) AS later_orders,
               sum(o.gross - o.refunded) AS later_value
        FROM acquired q
        JOIN orders o ON o.customer_id = q.customer_id AND o.brand_id = q.brand_id
                     AND o.ordered_at > q.acquired_at
        WHERE NOT o.is_test AND NOT o.is_cancelled
        GROUP BY ALL
    ),
    later_pair AS (
        SELECT influencer_id, brand_id, count(*) AS repeat_customers, sum(later_orders) AS later_orders,
               sum(later_value)::DOUBLE AS later_ltv
        FROM later GROUP BY ALL
    )
    SELECT p.influencer_id, i.name AS influencer, p.brand_id, b.name AS brand,
           p.attributed_orders, p.attributed_customers, p.customers_acquired, p.returning_customers,
           coalesce(l.repeat_customers, 0) AS repeat_customers, coalesce(l.later_orders, 0) AS later_orders,
           coalesce(l.later_ltv, 0) AS later_ltv
    FROM per_pair p
    JOIN influencers i USING (influencer_id)
    JOIN brands b USING (brand_id)
    LEFT JOIN later_pair l USING (influencer_id, brand_id)
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    out = con.execute(sql, [*params, model]).pl()
    counts = [
        "attributed_orders",
        "attributed_customers",
        "customers_acquired",
        "returning_customers",
        "repeat_customers",
        "later_orders",
    ]
    out = out.with_columns(*[pl.col(c).cast(pl.Int64) for c in counts], pl.col("later_ltv").cast(pl.Float64))
    keys = ["influencer_id", "influencer", "brand_id", "brand"]
    if not by_brand:
        # customers are per brand, so per-brand counts add up to the influencer's
        keys = ["influencer_id", "influencer"]
        out = out.group_by(keys).agg(pl.col(c).sum() for c in [*counts, "later_ltv"])
    out = out.with_columns(
        repeat_rate=_ratio(pl.col("repeat_customers").cast(pl.Float64), pl.col("customers_acquired")),
        later_ltv_per_customer=_ratio(pl.col("later_ltv"), pl.col("customers_acquired")),
    )
    return out.select(
        *keys,
        *counts[:4],
        "repeat_customers",
        "repeat_rate",
        "later_orders",
        "later_ltv",
        "later_ltv_per_customer",
    ).sort(["customers_acquired", *keys], descending=[True] + [False] * len(keys))


@dataclass(frozen=True)
class BuyerOverlap:
    """Buyer overlap between two influencers: their attributed customer sets A and B."""

    influencer_a: int
    influencer_b: int
    customers_a: int
    customers_b: int
    shared: int

    @property
    def union(self) -> int:
        return self.customers_a + self.customers_b - self.shared

    @property
    def jaccard(self) -> float | None:
        """|A ∩ B| / |A ∪ B|; None when neither influencer has an attributed customer."""
        return self.shared / self.union if self.union else None


def _customer_sets_sql(where: str) -> str:
    return f"""
        SELECT DISTINCT a.influencer_id, a.customer_id
        FROM attributed_orders a
        {where} AND a.model_id = ? AND a.customer_id IS NOT NULL
          AND list_contains(?::INTEGER[], a.influencer_id)
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters


def buyer_overlap(
    con: duckdb.DuckDBPyConnection,
    influencer_a: int,
    influencer_b: int,
    filters: Filters = Filters(),
    model_id: str | None = None,
) -> BuyerOverlap:
    """Sizes, intersection and Jaccard of two influencers' attributed customer sets (filters: brand,
    campaign, date range of the orders; the influencer filter is ignored)."""
    model = model_id or default_model_id(con)
    where, params = _attributed_where(filters, influencer=False)
    sql = f"""
    WITH s AS ({_customer_sets_sql(where)})
    SELECT (SELECT count(*) FROM s WHERE influencer_id = ?),
           (SELECT count(*) FROM s WHERE influencer_id = ?),
           (SELECT count(*) FROM (SELECT customer_id FROM s WHERE influencer_id = ?
                                  INTERSECT SELECT customer_id FROM s WHERE influencer_id = ?))
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    ids = [influencer_a, influencer_b]
    row = con.execute(sql, [*params, model, ids, *ids, *ids]).fetchone()
    size_a, size_b, shared = (int(v) for v in row) if row else (0, 0, 0)
    return BuyerOverlap(influencer_a, influencer_b, size_a, size_b, shared)


def top_influencers(
    con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), n: int = 50, model_id: str | None = None
) -> list[int]:
    """The ``n`` influencers with the most attributed customers (ties by id), for the overlap matrix."""
    model = model_id or default_model_id(con)
    where, params = _attributed_where(filters)
    rows = con.execute(
        f"""
        SELECT a.influencer_id FROM attributed_orders a {where} AND a.model_id = ?
        GROUP BY a.influencer_id ORDER BY count(DISTINCT a.customer_id) DESC, a.influencer_id LIMIT ?
        """,  # noqa: S608 - fixed SQL fragments; values are ? parameters
        [*params, model, n],
    ).fetchall()
    return [int(r[0]) for r in rows]


def overlap_matrix(
    con: duckdb.DuckDBPyConnection,
    influencer_ids: list[int] | None = None,
    filters: Filters = Filters(),
    model_id: str | None = None,
) -> pl.DataFrame:
    """Buyer overlap of every ordered pair of the influencers (long form, diagonal included, for a heatmap).

    Columns: influencer_a, influencer_b, names, customers_a, customers_b, shared, union, jaccard. One SQL
    self-join on the customer sets computes every intersection. Default set: :func:`top_influencers`.
    """
    model = model_id or default_model_id(con)
    ids = list(
        dict.fromkeys(
            influencer_ids if influencer_ids is not None else top_influencers(con, filters, 50, model)
        )
    )
    where, params = _attributed_where(filters, influencer=False)
    sql = f"""
    WITH ids AS (SELECT DISTINCT unnest(?::INTEGER[]) AS influencer_id),
    s AS ({_customer_sets_sql(where)}),
    sizes AS (
        SELECT ids.influencer_id, count(s.customer_id) AS customers
        FROM ids LEFT JOIN s USING (influencer_id) GROUP BY ids.influencer_id
    ),
    shared AS (
        SELECT x.influencer_id AS influencer_a, y.influencer_id AS influencer_b, count(*) AS shared
        FROM s x JOIN s y ON x.customer_id = y.customer_id AND x.influencer_id < y.influencer_id
        GROUP BY ALL
    )
    SELECT a.influencer_id AS influencer_a, ia.name AS influencer_a_name,
           b.influencer_id AS influencer_b, ib.name AS influencer_b_name,
           a.customers AS customers_a, b.customers AS customers_b,
           CASE WHEN a.influencer_id = b.influencer_id THEN a.customers ELSE coalesce(sh.shared, 0) END AS shared
    FROM sizes a CROSS JOIN sizes b
    LEFT JOIN shared sh ON sh.influencer_a = least(a.influencer_id, b.influencer_id)
                       AND sh.influencer_b = greatest(a.influencer_id, b.influencer_id)
    LEFT JOIN influencers ia ON ia.influencer_id = a.influencer_id
    LEFT JOIN influencers ib ON ib.influencer_id = b.influencer_id
    ORDER BY a.influencer_id, b.influencer_id
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    out = con.execute(sql, [ids, *params, model, ids]).pl()
    return (
        out.with_columns(*[pl.col(c).cast(pl.Int64) for c in ("customers_a", "customers_b", "shared")])
        .with_columns(
            union=pl.col("customers_a") + pl.col("customers_b") - pl.col("shared"),
        )
        .with_columns(jaccard=_ratio(pl.col("shared").cast(pl.Float64), pl.col("union")))
    )


def exclusive_share(
    con: duckdb.DuckDBPyConnection,
    influencer_ids: list[int] | None = None,
    filters: Filters = Filters(),
    model_id: str | None = None,
) -> pl.DataFrame:
    """Per influencer of the set: attributed customers, those no other influencer in the set reached, and
    their share (None without customers)."""
    model = model_id or default_model_id(con)
    ids = list(
        dict.fromkeys(
            influencer_ids if influencer_ids is not None else top_influencers(con, filters, 50, model)
        )
    )
    where, params = _attributed_where(filters, influencer=False)
    sql = f"""
    WITH ids AS (SELECT DISTINCT unnest(?::INTEGER[]) AS influencer_id),
    s AS ({_customer_sets_sql(where)}),
    reach AS (SELECT customer_id, count(*) AS influencers FROM s GROUP BY customer_id)
    SELECT ids.influencer_id, i.name AS influencer, count(s.customer_id) AS customers,
           count(s.customer_id) FILTER (WHERE r.influencers = 1) AS exclusive_customers
    FROM ids
    LEFT JOIN s USING (influencer_id)
    LEFT JOIN reach r USING (customer_id)
    LEFT JOIN influencers i ON i.influencer_id = ids.influencer_id
    GROUP BY ALL
    ORDER BY customers DESC, ids.influencer_id
    """  # noqa: S608 - fixed SQL fragments; values are ? parameters
    out = con.execute(sql, [ids, *params, model, ids]).pl()
    return out.with_columns(
        pl.col("customers").cast(pl.Int64), pl.col("exclusive_customers").cast(pl.Int64)
    ).with_columns(
        exclusive_share=_ratio(pl.col("exclusive_customers").cast(pl.Float64), pl.col("customers"))
    )


def three_way_flows(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    model_id: str | None = None,
    *,
    measure: Literal["orders", "revenue"] = "orders",
    top_n: int = 15,
) -> pl.DataFrame:
    """Sankey links customer segment → influencer → brand (read: brand ← influencer ← customer segment).

    Segment = new (the attributed order was the customer's first with the brand) or returning. Influencers
    beyond the ``top_n`` largest by ``measure`` are merged into one "Other influencers" node. Columns:
    source, target (labels), source_key, target_key (unique node keys), value. Zero links are dropped;
    what flows into an influencer node flows out of it.
    """
    if measure not in ("orders", "revenue"):
        raise ValueError("measure must be 'orders' or 'revenue'")
    model = model_id or default_model_id(con)
    where, params = _attributed_where(filters)
    value = "count(*)::DOUBLE" if measure == "orders" else "sum(a.revenue)::DOUBLE"
    flows = con.execute(
        f"""
        SELECT a.brand_id, b.name AS brand, a.influencer_id, i.name AS influencer,
               CASE WHEN a.is_new_customer THEN 'new' ELSE 'returning' END AS segment, {value} AS value
        FROM attributed_orders a JOIN brands b USING (brand_id) JOIN influencers i USING (influencer_id)
        {where} AND a.model_id = ?
        GROUP BY ALL
        """,  # noqa: S608 - value is one of two fixed expressions; values are ? parameters
        [*params, model],
    ).pl()
    schema = {
        "source": pl.String,
        "target": pl.String,
        "source_key": pl.String,
        "target_key": pl.String,
        "value": pl.Float64,
    }
    if flows.is_empty():
        return pl.DataFrame(schema=schema)
    totals = (
        flows.group_by("influencer_id")
        .agg(pl.col("value").sum())
        .sort(["value", "influencer_id"], descending=[True, False])
    )
    top = totals["influencer_id"].head(top_n).to_list()
    kept = pl.col("influencer_id").is_in(top)
    flows = flows.with_columns(
        influencer_key=pl.when(kept)
        .then(pl.lit("influencer:") + pl.col("influencer_id").cast(pl.String))
        .otherwise(pl.lit("influencer:other")),
        influencer=pl.when(kept).then(pl.col("influencer")).otherwise(pl.lit("Other influencers")),
        brand_key=pl.lit("brand:") + pl.col("brand_id").cast(pl.String),
        segment_key=pl.lit("segment:") + pl.col("segment"),
        segment=pl.col("segment").replace_strict(SEGMENT_LABELS),
    )
    into = flows.group_by("segment", "segment_key", "influencer", "influencer_key").agg(pl.col("value").sum())
    out_of = flows.group_by("influencer", "influencer_key", "brand", "brand_key").agg(pl.col("value").sum())
    links = pl.concat(
        [
            into.select(
                source="segment",
                target="influencer",
                source_key="segment_key",
                target_key="influencer_key",
                value="value",
            ),
            out_of.select(
                source="influencer",
                target="brand",
                source_key="influencer_key",
                target_key="brand_key",
                value="value",
            ),
        ]
    )
    return links.filter(pl.col("value") > 0).sort(["source_key", "value"], descending=[False, True])


# -- fit score -------------------------------------------------------------------------------------------
def _niche_fit(category: str | None, niche: str | None) -> float | None:
    if category is None or niche is None:
        return None
    category, niche = category.strip().lower(), niche.strip().lower()
    table = CATEGORY_NICHE_FIT.get(category)
    if table is None:
        return 1.0 if niche == category else None
    return table.get(niche, 0.0)


def _audience_match(con: duckdb.DuckDBPyConnection, brand_id: int, model: str) -> pl.DataFrame:
    """Per influencer: Σ_country min(p, q) of its audience and the brand's customers, and the source used."""
    sql = """
    WITH brand_c AS (
        SELECT upper(country) AS country, count(*) / sum(count(*)) OVER () AS q
        FROM customers WHERE brand_id = ? AND country IS NOT NULL GROUP BY 1
    ),
    buyers AS (
        SELECT DISTINCT a.influencer_id, a.customer_id, upper(cu.country) AS country
        FROM attributed_orders a JOIN customers cu USING (customer_id)
        WHERE a.model_id = ? AND cu.country IS NOT NULL
    ),
    buyer_counts AS (SELECT influencer_id, count(*) AS buyers FROM buyers GROUP BY ALL),
    audience AS (   -- attributed buyers when there are enough, else the home country
        SELECT b.influencer_id, b.country, count(*) / any_value(bc.buyers) AS p, 'attributed buyers' AS source
        FROM buyers b JOIN buyer_counts bc USING (influencer_id)
        WHERE bc.buyers >= ?
        GROUP BY ALL
        UNION ALL
        SELECT i.influencer_id, upper(i.country), 1.0, 'home country'
        FROM influencers i LEFT JOIN buyer_counts bc USING (influencer_id)
        WHERE i.country IS NOT NULL AND coalesce(bc.buyers, 0) < ?
    )
    SELECT au.influencer_id, any_value(au.source) AS audience_source,
           CASE WHEN (SELECT count(*) FROM brand_c) > 0 THEN sum(least(au.p, coalesce(bc.q, 0))) END
               AS audience_match
    FROM audience au LEFT JOIN brand_c bc USING (country)
    GROUP BY au.influencer_id
    """
    return con.execute(sql, [brand_id, model, MIN_AUDIENCE_BUYERS, MIN_AUDIENCE_BUYERS]).pl()


def _engagement(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """Per influencer (largest account): ER by followers over the METRICS window and its tier's median."""
    sql = f"""
    WITH snap AS (
        SELECT account_id, arg_max(followers, snapshot_date) AS followers
        FROM account_snapshots WHERE followers IS NOT NULL AND snapshot_date <= ? GROUP BY account_id
    ),
    post_er AS (
        SELECT p.account_id, p.posted_at,
               (p.likes + p.comments)::DOUBLE / nullif(s.followers, 0) AS er,
               row_number() OVER (PARTITION BY p.account_id ORDER BY p.posted_at DESC) AS recent_rank
        FROM posts p
        ASOF LEFT JOIN account_snapshots s ON s.account_id = p.account_id AND p.posted_at::DATE >= s.snapshot_date
        WHERE p.posted_at < ?
    ),
    account_er AS (
        SELECT account_id, median(er) AS er, count(er) AS er_posts
        FROM post_er WHERE recent_rank <= ? OR posted_at >= ?
        GROUP BY account_id HAVING count(er) > 0
    ),
    tiered AS (
        SELECT a.account_id, a.influencer_id, a.platform, sn.followers, e.er, e.er_posts,
               CASE WHEN sn.followers < 10000 THEN '{FOLLOWER_TIERS[0]}'
                    WHEN sn.followers < 100000 THEN '{FOLLOWER_TIERS[1]}'
                    WHEN sn.followers < 1000000 THEN '{FOLLOWER_TIERS[2]}'
                    ELSE '{FOLLOWER_TIERS[3]}' END AS tier
        FROM accounts a JOIN snap sn USING (account_id) JOIN account_er e USING (account_id)
    ),
    tiers AS (
        SELECT platform, tier, median(er) AS tier_median_er, count(*) AS tier_accounts
        FROM tiered GROUP BY ALL
    )
    SELECT t.influencer_id, t.platform AS er_platform, t.tier, t.followers, t.er, t.er_posts,
           CASE WHEN tr.tier_accounts >= ? THEN tr.tier_median_er END AS tier_median_er
    FROM tiered t JOIN tiers tr USING (platform, tier)
    QUALIFY row_number() OVER (PARTITION BY t.influencer_id ORDER BY t.followers DESC, t.account_id) = 1
    """  # noqa: S608 - tier labels are module constants; values are ? parameters
    as_of_end = _end_of(as_of)
    return con.execute(
        sql, [as_of, as_of_end, ER_POSTS, as_of_end - dt.timedelta(days=ER_WINDOW_DAYS), MIN_TIER_ACCOUNTS]
    ).pl()


def _roas_component(roas: pl.Expr) -> pl.Expr:
    return roas / (roas + 1.0)


def _reason(name: str, row: dict[str, object], category: str | None) -> str:
    """A short phrase saying why a component scored as it did."""
    v = row[f"fit_{name}"]
    if name == "niche_match":
        return f"niche {row['niche']} fits {category} ({v:.2f})"
    if name == "audience_match":
        return f"{v:.0%} audience-country overlap with the brand's customers ({row['audience_source']})"
    if name == "results_with_brand":
        return f"ROAS {row['roas_with_brand']:.1f}× with this brand"
    if name == "results_with_similar_brands":
        return f"ROAS {row['roas_with_similar_brands']:.1f}× with other {category} brands"
    if name == "engagement_quality":
        return (
            f"ER {row['er']:.2%} vs {row['tier_median_er']:.2%} median of {row['er_platform']} {row['tier']}"
        )
    if name == "reliability":
        return f"{row['on_time_rate_all_brands']:.0%} of deliverables on time"
    if name == "contact_recency":
        return f"last contact {row['days_since_last_contact']} days ago"
    if name == "contact_frequency":
        return f"{row['interactions_90d']} contacts in {CONTACT_WINDOW_DAYS} days"
    return f"mean contact sentiment {row['mean_sentiment']:+.2f}"


_FIT_LABELS = {
    "niche_match": "niche",
    "audience_match": "audience",
    "results_with_brand": "results with this brand",
    "results_with_similar_brands": "results with similar brands",
    "engagement_quality": "engagement",
    "reliability": "reliability",
    "contact_recency": "contact recency",
    "contact_frequency": "contact frequency",
    "contact_sentiment": "contact sentiment",
}


def _reasons(frame: pl.DataFrame, category: str | None) -> list[str]:
    texts = []
    for row in frame.iter_rows(named=True):
        present = [(k, row[f"fit_{k}"] * w) for k, w in FIT_WEIGHTS.items() if row[f"fit_{k}"] is not None]
        present.sort(key=lambda kv: -kv[1])
        top = [_reason(k, row, category) for k, c in present[:FIT_REASONS] if c > 0]
        text = "; ".join(top) if top else "no strengths found"
        missing = [_FIT_LABELS[k] for k in FIT_WEIGHTS if row[f"fit_{k}"] is None]
        if missing:
            text += f" (no data: {', '.join(missing)}; weights renormalised)"
        texts.append(text)
    return texts


def fit_score(
    con: duckdb.DuckDBPyConnection,
    brand_id: int,
    influencer_ids: list[int] | None = None,
    model_id: str | None = None,
    *,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """An explainable 0–100 fit of each influencer (default: the whole roster) for one brand.

    Columns ``fit_<component>`` hold the components in [0, 1] (None = no data, left out with the other
    weights renormalised), the raw figures behind them sit beside them, ``fit_weight_present`` is the share
    of :data:`FIT_WEIGHTS` with data, ``fit_score`` the total and ``reasons`` the top contributions in words.
    """
    as_of = as_of or _today()
    model = model_id or default_model_id(con)
    brand = con.execute("SELECT name, category FROM brands WHERE brand_id = ?", [brand_id]).fetchone()
    if brand is None:
        raise ValueError(f"brand {brand_id} does not exist")
    category = str(brand[1]).strip().lower() if brand[1] is not None else None

    inf_where, inf_params = Filters(
        influencer_ids=tuple(influencer_ids) if influencer_ids is not None else None
    ).where({"influencer": "influencer_id"})
    roster = con.execute(
        f"SELECT influencer_id, name AS influencer, niche, country FROM influencers {inf_where}",  # noqa: S608
        inf_params,
    ).pl()
    roster = roster.with_columns(
        fit_niche_match=pl.Series(
            [_niche_fit(category, n) for n in roster["niche"].to_list()], dtype=pl.Float64
        )
    )

    audience = _audience_match(con, brand_id, model)
    engagement = _engagement(con, as_of)

    # past results, reliability and contact from the influencer–brand relationships (all brands)
    pairs = influencer_brand(
        con,
        Filters(influencer_ids=tuple(influencer_ids) if influencer_ids is not None else None),
        model_id=model,
        as_of=as_of,
    )
    categories = con.execute("SELECT brand_id, lower(trim(category)) AS category FROM brands").pl()
    pairs = pairs.join(categories, on="brand_id", how="left")
    with_brand = pairs.filter(pl.col("brand_id") == brand_id).select(
        "influencer_id",
        roas_with_brand=pl.col("roas"),
        days_since_last_contact="days_since_last_contact",
        interactions_90d="interactions_90d",
        mean_sentiment="mean_sentiment",
    )
    similar = (
        pairs.filter((pl.col("brand_id") != brand_id) & (pl.col("category") == category))
        .group_by("influencer_id")
        .agg(pl.col("attributed_revenue").sum(), pl.col("spend").sum())
        .select(
            "influencer_id",
            roas_with_similar_brands=_ratio(pl.col("attributed_revenue"), pl.col("spend")),
        )
    )
    reliability = (
        pairs.group_by("influencer_id")
        .agg(pl.col("deliverables_on_time").sum(), pl.col("deliverables_due").sum())
        .select(
            "influencer_id",
            on_time_rate_all_brands=_ratio(
                pl.col("deliverables_on_time").cast(pl.Float64), pl.col("deliverables_due").cast(pl.Float64)
            ),
        )
    )

    out = (
        roster.join(audience, on="influencer_id", how="left")
        .join(engagement, on="influencer_id", how="left")
        .join(with_brand, on="influencer_id", how="left")
        .join(similar, on="influencer_id", how="left")
        .join(reliability, on="influencer_id", how="left")
        .with_columns(
            fit_audience_match=pl.col("audience_match").cast(pl.Float64).clip(0.0, 1.0),
            fit_results_with_brand=_roas_component(pl.col("roas_with_brand")),
            fit_results_with_similar_brands=_roas_component(pl.col("roas_with_similar_brands")),
            fit_engagement_quality=pl.when(pl.col("tier_median_er") > 0)
            .then((pl.col("er") / pl.col("tier_median_er") / 2.0).clip(0.0, 1.0))
            .otherwise(None),
            fit_reliability=pl.col("on_time_rate_all_brands"),
            # never contacted about this brand: unknown, not a weakness (a prospect is not penalised)
            fit_contact_recency=_recency(pl.col("days_since_last_contact"), never=None),
            fit_contact_frequency=pl.when(pl.col("days_since_last_contact").is_null())
            .then(None)
            .otherwise(_frequency(pl.col("interactions_90d"))),
            fit_contact_sentiment=_sentiment(pl.col("mean_sentiment")),
        )
        .with_columns(
            fit_weight_present=pl.sum_horizontal(
                pl.col(f"fit_{k}").is_not_null().cast(pl.Float64) * w for k, w in FIT_WEIGHTS.items()
            )
            / sum(FIT_WEIGHTS.values()),
            fit_score=_weighted_score(FIT_WEIGHTS, "fit_"),
        )
    )
    out = out.with_columns(reasons=pl.Series(_reasons(out, category), dtype=pl.String))
    columns = [
        "influencer_id",
        "influencer",
        "niche",
        "country",
        "fit_score",
        "reasons",
        *[f"fit_{k}" for k in FIT_WEIGHTS],
        "fit_weight_present",
        "audience_match",
        "audience_source",
        "roas_with_brand",
        "roas_with_similar_brands",
        "er",
        "tier_median_er",
        "er_platform",
        "tier",
        "followers",
        "on_time_rate_all_brands",
        "days_since_last_contact",
        "interactions_90d",
        "mean_sentiment",
    ]
    return (
        out.select(columns)
        .with_columns(brand_id=pl.lit(brand_id, dtype=pl.Int32))
        .sort(["fit_score", "influencer_id"], descending=[True, False], nulls_last=True)
    )


def fit_breakdown(fit: pl.DataFrame) -> pl.DataFrame:
    """Long form of :func:`fit_score`: per influencer and component the value, its weight, the weight after
    renormalisation over the components present, and its points of the 0–100 total."""
    long = fit.select("influencer_id", *[pl.col(f"fit_{k}").alias(k) for k in FIT_WEIGHTS]).unpivot(
        index="influencer_id", variable_name="component", value_name="value"
    )
    weights = pl.DataFrame({"component": list(FIT_WEIGHTS), "weight": list(FIT_WEIGHTS.values())})
    long = long.join(weights, on="component", how="left")
    present = pl.col("weight").filter(pl.col("value").is_not_null()).sum().over("influencer_id")
    return long.with_columns(
        label=pl.col("component").replace_strict(_FIT_LABELS),
        effective_weight=pl.when(pl.col("value").is_not_null())
        .then(pl.col("weight") / present)
        .otherwise(None),
    ).with_columns(points=100.0 * pl.col("value") * pl.col("effective_weight"))
