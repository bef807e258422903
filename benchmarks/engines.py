"""Each model beside the fastest single-engine query for the same result (issue 8: within 1.5×).

For five results the pages show — campaign conversion summary, ER per influencer, RFM of one brand, buyer
overlap of the top 50 influencers, conversions per day of one campaign — the suite times, in the same run and
on the same store:

* **Triad**: the model function the page calls (DuckDB SQL plus Polars where the model uses it);
* **DuckDB**: one plain SQL statement a user would write for the same numbers, fetched as a Polars frame;
* **Polars**: the columns read from the store as Arrow (``.pl()``, no filter pushed into DuckDB), then plain
  Polars; its read and its compute are reported apart, the comparison uses read + compute (the data lives
  in the store).

``triad_over_fastest`` is Triad's median time over the fastest of the two (target ≤ 1.5). The three (and the
Polars read alone) run in turns after a warm-up call each, at least ``--repeat`` turns and more for quick
results (see :func:`interleaved_medians`). ``results_agree`` checks the headline column of each against
Triad's.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from collections.abc import Callable

import duckdb
import polars as pl

from benchmarks.common import Report, ratio
from models import campaigns, customers, profile, relationships
from models.attribution import default_model_id
from models.filters import Filters

ACTIVE = campaigns.ACTIVE_STAGES


# -- campaign conversion summary ------------------------------------------------------------------------------
CAMPAIGN_SQL = f"""
WITH conv AS (
    SELECT deal_id, count(*) AS orders, sum(revenue) AS revenue,
           count(*) FILTER (WHERE is_new_customer) AS new_customers,
           count(DISTINCT customer_id) FILTER (WHERE NOT is_new_customer) AS returning_customers
    FROM attributed_orders WHERE model_id = $model GROUP BY deal_id
),
reach AS (
    SELECT d.deal_id, sum(p.views) AS views
    FROM deals d JOIN accounts a USING (influencer_id) JOIN posts p ON p.account_id = a.account_id
                                                            AND p.campaign_id = d.campaign_id
    GROUP BY d.deal_id
),
clicks AS (SELECT deal_id, count(*) AS clicks FROM link_clicks GROUP BY deal_id)
SELECT d.campaign_id, sum(coalesce(orders, 0)) AS orders, sum(coalesce(revenue, 0))::DOUBLE AS revenue,
       sum(CASE WHEN d.stage IN {ACTIVE!r}
                THEN d.fee + d.product_cost + d.commission_rate * coalesce(revenue, 0) ELSE 0 END)::DOUBLE AS spend,
       sum(coalesce(views, 0)) AS views, sum(coalesce(clicks, 0)) AS clicks,
       sum(coalesce(new_customers, 0)) AS new_customers, sum(coalesce(returning_customers, 0)) AS returning
FROM deals d LEFT JOIN conv USING (deal_id) LEFT JOIN reach USING (deal_id) LEFT JOIN clicks USING (deal_id)
GROUP BY d.campaign_id ORDER BY d.campaign_id
"""  # noqa: S608 - fixed stage names


def polars_campaign_summary(con: duckdb.DuckDBPyConnection, model_id: str) -> pl.DataFrame:
    att = con.execute(
        "SELECT model_id, deal_id, customer_id, is_new_customer, revenue::DOUBLE AS revenue FROM attributed_orders"
    ).pl()
    deals = con.execute(
        "SELECT deal_id, campaign_id, influencer_id, stage, fee::DOUBLE AS fee, product_cost::DOUBLE AS product_cost, "
        "commission_rate FROM deals"
    ).pl()
    accounts = con.execute("SELECT account_id, influencer_id FROM accounts").pl()
    posts = con.execute("SELECT account_id, campaign_id, views FROM posts").pl()
    clicks = con.execute("SELECT deal_id FROM link_clicks").pl()
    conv = (
        att.filter(pl.col("model_id") == model_id)
        .group_by("deal_id")
        .agg(
            orders=pl.len(),
            revenue=pl.col("revenue").sum(),
            new_customers=pl.col("is_new_customer").sum(),
            returning=pl.col("customer_id").filter(~pl.col("is_new_customer")).n_unique(),
        )
    )
    reach = (
        deals.select("deal_id", "campaign_id", "influencer_id")
        .join(accounts, on="influencer_id")
        .join(posts.filter(pl.col("campaign_id").is_not_null()), on=["account_id", "campaign_id"])
        .group_by("deal_id")
        .agg(views=pl.col("views").sum())
    )
    per_deal = (
        deals.join(conv, on="deal_id", how="left")
        .join(reach, on="deal_id", how="left")
        .join(clicks.group_by("deal_id").agg(clicks=pl.len()), on="deal_id", how="left")
        .with_columns(
            pl.col("orders", "revenue", "new_customers", "returning", "views", "clicks").fill_null(0)
        )
    )
    spend = pl.when(pl.col("stage").is_in(ACTIVE)).then(
        pl.col("fee") + pl.col("product_cost") + pl.col("commission_rate") * pl.col("revenue")
    )
    return (
        per_deal.group_by("campaign_id")
        .agg(
            pl.col("orders", "revenue", "views", "clicks", "new_customers", "returning").sum(),
            spend=spend.otherwise(0.0).sum(),
        )
        .sort("campaign_id")
    )


# -- ER per influencer ----------------------------------------------------------------------------------------
ER_SQL = f"""
WITH p AS (
    SELECT p.post_id, a.influencer_id, p.account_id, p.posted_at, p.likes + p.comments AS interactions
    FROM posts p JOIN accounts a USING (account_id)
    WHERE p.posted_at < $end
),
f AS (
    SELECT p.*, s.followers FROM p ASOF LEFT JOIN account_snapshots s
      ON p.account_id = s.account_id AND CAST(p.posted_at AS DATE) >= s.snapshot_date
),
w AS (
    SELECT *, row_number() OVER (PARTITION BY influencer_id ORDER BY posted_at DESC, post_id DESC) AS rank
    FROM f
)
SELECT influencer_id,
       median(CASE WHEN followers > 0 THEN interactions / followers END) AS er_median
FROM w
WHERE rank <= {profile.WINDOW_POSTS} OR posted_at >= $since
GROUP BY influencer_id ORDER BY influencer_id
"""  # noqa: S608 - fixed constants


def duckdb_er(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    end = con.execute("SELECT max(posted_at)::DATE + 1 FROM posts").fetchone()[0]
    since = end - dt.timedelta(days=profile.WINDOW_DAYS)
    return con.execute(ER_SQL, {"end": end, "since": since}).pl()


def polars_er(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    posts = con.execute("SELECT post_id, account_id, posted_at, likes, comments FROM posts").pl()
    accounts = con.execute("SELECT account_id, influencer_id FROM accounts").pl()
    snaps = con.execute("SELECT account_id, snapshot_date, followers FROM account_snapshots").pl()
    end = posts["posted_at"].max().date() + dt.timedelta(days=1)
    p = (
        posts.join(accounts, on="account_id")
        .filter(pl.col("posted_at") < pl.lit(end).cast(pl.Datetime("us")))
        .with_columns(day=pl.col("posted_at").dt.date())
        .sort("day")
    )
    joined = p.join_asof(
        snaps.sort("snapshot_date"),
        left_on="day",
        right_on="snapshot_date",
        by="account_id",
        strategy="backward",
        check_sortedness=False,  # both sides are sorted on the join key above; Polars cannot check it with `by`
    )
    ranked = joined.sort(
        ["influencer_id", "posted_at", "post_id"], descending=[False, True, True]
    ).with_columns(rank=pl.int_range(1, pl.len() + 1).over("influencer_id"))
    since = pl.lit(end - dt.timedelta(days=profile.WINDOW_DAYS)).cast(pl.Datetime("us"))
    window = ranked.filter((pl.col("rank") <= profile.WINDOW_POSTS) | (pl.col("posted_at") >= since))
    er = pl.when(pl.col("followers") > 0).then((pl.col("likes") + pl.col("comments")) / pl.col("followers"))
    return window.group_by("influencer_id").agg(er_median=er.median()).sort("influencer_id")


# -- RFM of one brand ------------------------------------------------------------------------------------------
def _score_sql(order: str, value: str) -> str:
    below = f"(rank() OVER (PARTITION BY currency ORDER BY {order}) - 1)"
    tied = f"count(*) OVER (PARTITION BY currency, {value})"
    return f"(1 + (5 * (2 * {below} + {tied})) // (2 * n))::TINYINT"


RFM_SQL = f"""
WITH o AS (
    SELECT * FROM orders
    WHERE brand_id = $brand AND NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL
),
per AS (
    SELECT customer_id, currency, count(*) AS frequency, sum(gross - refunded)::DOUBLE AS monetary_total,
           date_diff('day', max(ordered_at)::DATE, $as_of) AS recency_days
    FROM o GROUP BY customer_id, currency
),
m AS (SELECT *, count(*) OVER (PARTITION BY currency) AS n FROM per)
SELECT customer_id, currency, recency_days, frequency, monetary_total,
       {_score_sql("recency_days DESC", "recency_days")} AS r_score,
       {_score_sql("frequency", "frequency")} AS f_score,
       {_score_sql("monetary_total", "monetary_total")} AS m_score
FROM m ORDER BY customer_id, currency
"""  # noqa: S608 - fixed fragments


def duckdb_rfm(con: duckdb.DuckDBPyConnection, brand_id: int) -> pl.DataFrame:
    as_of = con.execute(
        "SELECT max(ordered_at)::DATE FROM orders WHERE brand_id = ? AND NOT is_test AND NOT is_cancelled "
        "AND customer_id IS NOT NULL",
        [brand_id],
    ).fetchone()[0]
    return con.execute(RFM_SQL, {"brand": brand_id, "as_of": as_of}).pl()


def _polars_score(column: str, *, descending: bool) -> pl.Expr:
    below = pl.col(column).rank("min", descending=descending).over("currency").cast(pl.Int64) - 1
    tied = pl.len().over("currency", column)
    n = pl.len().over("currency")
    return (1 + (5 * (2 * below + tied)) // (2 * n)).cast(pl.Int8)


def polars_rfm(con: duckdb.DuckDBPyConnection, brand_id: int) -> pl.DataFrame:
    o = con.execute(
        "SELECT brand_id, customer_id, currency, ordered_at, gross::DOUBLE AS gross, refunded::DOUBLE AS refunded, "
        "is_test, is_cancelled FROM orders"
    ).pl()
    o = o.filter(
        (pl.col("brand_id") == brand_id)
        & ~pl.col("is_test")
        & ~pl.col("is_cancelled")
        & pl.col("customer_id").is_not_null()
    )
    as_of = o["ordered_at"].max().date()
    per = o.group_by("customer_id", "currency").agg(
        frequency=pl.len(),
        monetary_total=(pl.col("gross") - pl.col("refunded")).sum().round(2),  # cents, as the store sums
        recency_days=(pl.lit(as_of) - pl.col("ordered_at").max().dt.date()).dt.total_days(),
    )
    return per.with_columns(
        r_score=_polars_score("recency_days", descending=True),
        f_score=_polars_score("frequency", descending=False),
        m_score=_polars_score("monetary_total", descending=False),
    ).sort("customer_id", "currency")


# -- buyer overlap of the top 50 ------------------------------------------------------------------------------
OVERLAP_SQL = """
WITH s AS (
    SELECT DISTINCT influencer_id, customer_id FROM attributed_orders
    WHERE model_id = $model AND customer_id IS NOT NULL AND list_contains($ids, influencer_id)
)
SELECT x.influencer_id AS influencer_a, y.influencer_id AS influencer_b, count(*) AS shared
FROM s x JOIN s y ON x.customer_id = y.customer_id
GROUP BY ALL ORDER BY ALL
"""


def polars_overlap(con: duckdb.DuckDBPyConnection, model_id: str, ids: list[int]) -> pl.DataFrame:
    att = con.execute("SELECT model_id, influencer_id, customer_id FROM attributed_orders").pl()
    s = (
        att.filter(
            (pl.col("model_id") == model_id)
            & pl.col("customer_id").is_not_null()
            & pl.col("influencer_id").is_in(ids)
        )
        .select("influencer_id", "customer_id")
        .unique()
    )
    pairs = s.join(s, on="customer_id", suffix="_b").rename({"influencer_id": "influencer_a"})
    return pairs.group_by("influencer_a", "influencer_id_b").agg(shared=pl.len()).sort(pl.all())


# -- conversions per day of one campaign ------------------------------------------------------------------------
DAILY_SQL = """
SELECT ordered_at::DATE AS day, count(*) AS orders, sum(revenue)::DOUBLE AS revenue,
       count(*) FILTER (WHERE is_new_customer) AS new_customers
FROM attributed_orders WHERE model_id = $model AND campaign_id = $campaign
GROUP BY ALL ORDER BY ALL
"""


def polars_daily(con: duckdb.DuckDBPyConnection, model_id: str, campaign_id: int) -> pl.DataFrame:
    att = con.execute(
        "SELECT model_id, campaign_id, ordered_at, revenue::DOUBLE AS revenue, is_new_customer FROM attributed_orders"
    ).pl()
    return (
        att.filter((pl.col("model_id") == model_id) & (pl.col("campaign_id") == campaign_id))
        .group_by(day=pl.col("ordered_at").dt.date())
        .agg(orders=pl.len(), revenue=pl.col("revenue").sum(), new_customers=pl.col("is_new_customer").sum())
        .sort("day")
    )


# -- the suite -----------------------------------------------------------------------------------------------
def _same(a: pl.Series, b: pl.Series) -> bool:
    if a.len() != b.len():
        return False
    x = a.cast(pl.Float64).fill_null(0.0).to_numpy()
    y = b.cast(pl.Float64).fill_null(0.0).to_numpy()
    return bool(((abs(x - y) <= 1e-6 * (1 + abs(y))) | ((x != x) & (y != y))).all())


def interleaved_medians(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Median wall time of each function, run in turns (a, b, c, a, b, c, …) after one warm-up call each, so
    that a busy moment of the machine falls on all of them alike. Quick functions get more turns — until the
    slowest has had about a second, at most 25 — because a few milliseconds' noise would otherwise decide a
    ratio of two millisecond timings."""
    warm = []
    for fn in fns:
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    turns = max(1, repeat, min(25, math.ceil(1.0 / max(max(warm), 1e-3))))
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(turns):
        for fn, times in zip(fns, runs, strict=True):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return [statistics.median(times) for times in runs]


def _case(
    report: Report,
    name: str,
    repeat: int,
    triad: Callable[[], pl.DataFrame],
    duck: Callable[[], pl.DataFrame],
    polars_read: Callable[[], object],
    polars_all: Callable[[], pl.DataFrame],
    headline: Callable[[pl.DataFrame], pl.Series],
) -> float | None:
    triad_s, duck_s, polars_s, read_s = interleaved_medians([triad, duck, polars_all, polars_read], repeat)
    fastest = min(duck_s, polars_s)
    reference = headline(duck())
    same = _same(headline(triad()), reference) and _same(headline(polars_all()), reference)
    report.add("engines", f"engines.{name}.triad_s", triad_s, "s", "the model function")
    report.add("engines", f"engines.{name}.duckdb_s", duck_s, "s", "one plain SQL statement")
    report.add("engines", f"engines.{name}.polars_s", polars_s, "s", f"read {read_s:.3f} s + compute")
    report.add(
        "engines",
        f"engines.{name}.triad_over_fastest",
        ratio(triad_s, fastest),
        "ratio",
        "fastest: " + ("DuckDB" if duck_s <= polars_s else "Polars"),
    )
    report.add("engines", f"engines.{name}.results_agree", same, "bool")
    return ratio(triad_s, fastest)


def run(report: Report, db: str, repeat: int) -> None:
    con = duckdb.connect(db, read_only=True)
    model = default_model_id(con)
    brand = int(
        con.execute("SELECT brand_id FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    )
    campaign = int(
        con.execute(
            "SELECT campaign_id FROM attributed_orders WHERE model_id = ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            [model],
        ).fetchone()[0]
    )
    top50 = relationships.top_influencers(con, Filters(), n=50)

    def by_campaign(frame: pl.DataFrame) -> pl.Series:
        return frame.sort("campaign_id")["revenue"]

    def triad_overlap() -> pl.DataFrame:
        out = relationships.overlap_matrix(con, top50)
        return out.filter(pl.col("shared") > 0).select("influencer_a", "influencer_b", "shared")

    _case(
        report,
        "campaign_summary",
        repeat,
        lambda: campaigns.campaign_summary(con),
        lambda: con.execute(CAMPAIGN_SQL, {"model": model}).pl(),
        lambda: con.execute(
            "SELECT model_id, deal_id, customer_id, is_new_customer, revenue FROM attributed_orders"
        ).fetch_arrow_table(),
        lambda: polars_campaign_summary(con, model),
        by_campaign,
    )
    _case(
        report,
        "er_per_influencer",
        repeat,
        lambda: (
            profile.post_engagement(con, window_by="influencer", window_only=True)
            .group_by("influencer_id")
            .agg(er_median=pl.col("er_followers").median())
            .sort("influencer_id")
        ),
        lambda: duckdb_er(con),
        lambda: con.execute(
            "SELECT post_id, account_id, posted_at, likes, comments FROM posts"
        ).fetch_arrow_table(),
        lambda: polars_er(con),
        lambda f: f.sort("influencer_id")["er_median"],
    )
    _case(
        report,
        "rfm_biggest_brand",
        repeat,
        lambda: customers.rfm(con, Filters(brand_ids=(brand,))),
        lambda: duckdb_rfm(con, brand),
        lambda: con.execute(
            "SELECT brand_id, customer_id, currency, ordered_at, gross, refunded FROM orders"
        ).fetch_arrow_table(),
        lambda: polars_rfm(con, brand),
        lambda f: f.sort("customer_id", "currency")["m_score"],
    )
    _case(
        report,
        "overlap_top50",
        repeat,
        triad_overlap,
        lambda: con.execute(OVERLAP_SQL, {"model": model, "ids": top50}).pl(),
        lambda: con.execute(
            "SELECT model_id, influencer_id, customer_id FROM attributed_orders"
        ).fetch_arrow_table(),
        lambda: polars_overlap(con, model, top50),
        lambda f: f.sort(f.columns[:2])["shared"],
    )
    _case(
        report,
        "conversions_per_day",
        repeat,
        lambda: campaigns.conversions_per_day(con, Filters(campaign_ids=(campaign,))),
        lambda: con.execute(DAILY_SQL, {"model": model, "campaign": campaign}).pl(),
        lambda: con.execute(
            "SELECT model_id, campaign_id, ordered_at, revenue FROM attributed_orders"
        ).fetch_arrow_table(),
        lambda: polars_daily(con, model, campaign),
        lambda f: f.sort("day")["revenue"],
    )
    con.close()
