"""What a user would otherwise write: campaign conversion summary, ER per influencer and RFM in pandas.

Each pandas version reads the tables it needs from DuckDB into pandas (money cast to DOUBLE on the way, as a
user would, since DECIMAL arrives as Python objects), then computes with pandas only, following the same
definitions as the Triad model (METRICS.md). The suite checks the two agree on a few numbers and prints
whether they do; the ratio Triad/pandas is of wall time (below 1: Triad is faster).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from benchmarks.common import Report, median_seconds, ratio
from models import campaigns, customers, profile
from models.attribution import default_model_id
from models.filters import Filters

PandasFrames = dict[str, pd.DataFrame]


def _read(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> PandasFrames:
    return {name: con.execute(sql).df() for name, sql in queries.items()}


# -- campaign conversion summary -----------------------------------------------------------------------------
CAMPAIGN_TABLES = {
    "deals": "SELECT deal_id, campaign_id, influencer_id, stage, fee::DOUBLE AS fee, "
    "product_cost::DOUBLE AS product_cost, commission_rate FROM deals",
    "campaigns": "SELECT campaign_id, brand_id, name, status, start_date, end_date, currency FROM campaigns",
    "attributed": "SELECT model_id, deal_id, customer_id, is_new_customer, method, revenue::DOUBLE AS revenue, "
    "discount::DOUBLE AS discount, refunded::DOUBLE AS refunded, cost_of_goods::DOUBLE AS cost_of_goods "
    "FROM attributed_orders",
    "accounts": "SELECT account_id, influencer_id FROM accounts",
    "posts": "SELECT account_id, campaign_id, post_id, views, likes, comments, shares, saves FROM posts",
    "clicks": "SELECT deal_id FROM link_clicks",
}


def pandas_campaign_summary(t: PandasFrames, model_id: str) -> pd.DataFrame:
    """Per campaign: orders, revenue, new customers, views, engagements, clicks, spend, ROAS, CPA."""
    att = t["attributed"][t["attributed"]["model_id"] == model_id]
    conv = (
        att.assign(
            cost_of_goods=att["cost_of_goods"].fillna(0),
            link=att["method"].eq("link"),
            code=att["method"].eq("code"),
        )
        .groupby("deal_id")
        .agg(
            orders=("deal_id", "size"),
            revenue=("revenue", "sum"),
            discounts=("discount", "sum"),
            refunds=("refunded", "sum"),
            cost_of_goods=("cost_of_goods", "sum"),
            new_customers=("is_new_customer", "sum"),
            link_orders=("link", "sum"),
            code_orders=("code", "sum"),
        )
    )
    returning = (
        att[~att["is_new_customer"]].groupby("deal_id")["customer_id"].nunique().rename("returning_customers")
    )
    posts = t["deals"][["deal_id", "campaign_id", "influencer_id"]].merge(t["accounts"], on="influencer_id")
    posts = posts.merge(t["posts"], on=["account_id", "campaign_id"])
    posts["engagements"] = posts[["likes", "comments", "shares", "saves"]].fillna(0).sum(axis=1)
    reach = posts.groupby("deal_id").agg(
        posts=("post_id", "count"), views=("views", "sum"), engagements=("engagements", "sum")
    )
    clicks = t["clicks"].groupby("deal_id").size().rename("clicks")
    deals = t["deals"].set_index("deal_id").join([conv, returning, reach, clicks])
    counts = [*conv.columns, "returning_customers", "posts", "views", "engagements", "clicks"]
    deals[counts] = deals[counts].fillna(0)
    active = deals["stage"].isin(campaigns.ACTIVE_STAGES)
    deals["spend"] = np.where(
        active, deals["fee"] + deals["product_cost"] + deals["commission_rate"] * deals["revenue"], 0.0
    )
    per_campaign = deals.groupby("campaign_id")[[*counts, "spend"]].sum()
    out = t["campaigns"].set_index("campaign_id").join(per_campaign)
    out[[*counts, "spend"]] = out[[*counts, "spend"]].fillna(0)
    spend = out["spend"].where(out["spend"] > 0)
    out["roas"] = out["revenue"] / spend
    out["cpa"] = out["spend"] / out["orders"].where(out["orders"] > 0)
    return out.reset_index()


def _campaigns_agree(triad: pl.DataFrame, baseline: pd.DataFrame) -> bool:
    cols = ["orders", "revenue", "spend", "views", "clicks", "new_customers", "returning_customers"]
    left = triad.select("campaign_id", *cols).sort("campaign_id").to_pandas().set_index("campaign_id")
    right = baseline.set_index("campaign_id")[cols].sort_index().astype(float)
    return left.shape == right.shape and np.allclose(
        left.astype(float).to_numpy(), right.to_numpy(), rtol=1e-9
    )


# -- engagement rate per influencer --------------------------------------------------------------------------
ER_TABLES = {
    "posts": "SELECT post_id, account_id, posted_at, likes, comments FROM posts",
    "accounts": "SELECT account_id, influencer_id FROM accounts",
    "snapshots": "SELECT account_id, snapshot_date, followers FROM account_snapshots",
}


def pandas_er(t: PandasFrames) -> pd.Series:
    """Median ER by followers (likes + comments over followers at posting time) of each influencer's window:
    the last 12 posts or the last 90 days, whichever holds more, up to the day of the latest post."""
    posts = t["posts"].merge(t["accounts"], on="account_id")
    end = posts["posted_at"].max().normalize() + pd.Timedelta(days=1)
    posts = posts[posts["posted_at"] < end]
    posts = posts.assign(day=posts["posted_at"].dt.normalize()).sort_values("day")
    snaps = t["snapshots"].assign(snapshot_date=pd.to_datetime(t["snapshots"]["snapshot_date"]))
    snaps = snaps.sort_values("snapshot_date")
    joined = pd.merge_asof(
        posts, snaps, left_on="day", right_on="snapshot_date", by="account_id", direction="backward"
    )
    joined = joined.sort_values(["influencer_id", "posted_at", "post_id"], ascending=[True, False, False])
    rank = joined.groupby("influencer_id").cumcount() + 1
    window = joined[(rank <= profile.WINDOW_POSTS) | (joined["posted_at"] >= end - pd.Timedelta(days=90))]
    followers = window["followers"].where(window["followers"] > 0)
    er = (window["likes"] + window["comments"]) / followers
    return er.groupby(window["influencer_id"]).median().rename("er_median")


def triad_er(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Triad's path to the same figure: the window's posts from the model, then the median per influencer."""
    posts = profile.post_engagement(con, window_by="influencer", window_only=True)
    return posts.group_by("influencer_id").agg(er_median=pl.col("er_followers").median())


def _er_agree(triad: pl.DataFrame, baseline: pd.Series) -> bool:
    left = triad.to_pandas().set_index("influencer_id")["er_median"].sort_index()
    right = baseline.sort_index()
    return left.index.equals(right.index) and np.allclose(left, right, rtol=1e-9, equal_nan=True)


# -- RFM -----------------------------------------------------------------------------------------------------
RFM_TABLES = {
    "orders": "SELECT brand_id, customer_id, currency, ordered_at, gross::DOUBLE AS gross, "
    "refunded::DOUBLE AS refunded, is_test, is_cancelled FROM orders",
}


def _mid_rank_score(frame: pd.DataFrame, column: str, *, worst_first_ascending: bool) -> pd.Series:
    """1 + ⌊5 (2·below + tied) / (2n)⌋ per currency, as the Triad model (exact mid-rank quintiles)."""
    by = frame.groupby("currency")[column]
    below = by.rank(method="min", ascending=worst_first_ascending).astype("int64") - 1
    tied = frame.groupby(["currency", column])[column].transform("size")
    n = by.transform("size")
    return (1 + (5 * (2 * below + tied)) // (2 * n)).astype("int8")


def pandas_rfm(t: PandasFrames, brand_id: int) -> pd.DataFrame:
    """RFM of one brand's customers as of the day of its latest valid order."""
    o = t["orders"]
    o = o[(o["brand_id"] == brand_id) & ~o["is_test"] & ~o["is_cancelled"] & o["customer_id"].notna()]
    as_of = o["ordered_at"].max().normalize()
    o = o[o["ordered_at"] < as_of + pd.Timedelta(days=1)]
    per = (
        o.assign(net=o["gross"] - o["refunded"])
        .groupby(["customer_id", "currency"])
        .agg(
            last_order_at=("ordered_at", "max"),
            frequency=("ordered_at", "size"),
            monetary_total=("net", "sum"),
        )
        .reset_index()
    )
    per["monetary_total"] = per["monetary_total"].round(2)  # cents: the sums were exact decimals in the store
    per["recency_days"] = (as_of - per["last_order_at"].dt.normalize()).dt.days
    per["r_score"] = _mid_rank_score(per, "recency_days", worst_first_ascending=False)
    per["f_score"] = _mid_rank_score(per, "frequency", worst_first_ascending=True)
    per["m_score"] = _mid_rank_score(per, "monetary_total", worst_first_ascending=True)
    per["at_risk_of_churning"] = per["recency_days"] >= customers.CHURN_DAYS
    return per


def _rfm_agree(triad: pl.DataFrame, baseline: pd.DataFrame) -> bool:
    keys = ["customer_id", "currency"]
    cols = ["recency_days", "frequency", "r_score", "f_score", "m_score"]
    left = triad.select(*keys, *cols).to_pandas().sort_values(keys).reset_index(drop=True)
    right = baseline[[*keys, *cols]].sort_values(keys).reset_index(drop=True)
    return left.shape == right.shape and bool((left.astype("int64", errors="ignore") == right).all().all())


# -- the suite -----------------------------------------------------------------------------------------------
def _compare(
    report: Report,
    name: str,
    repeat: int,
    triad: Callable[[], object],
    read: Callable[[], PandasFrames],
    compute: Callable[[PandasFrames], object],
    agree: Callable[[object, object], bool],
) -> float | None:
    triad_s = median_seconds(triad, repeat)
    frames = read()
    read_s = median_seconds(read, repeat)
    compute_s = median_seconds(lambda: compute(frames), repeat)
    pandas_s = read_s + compute_s
    same = agree(triad(), compute(frames))
    report.add("baseline", f"baseline.{name}.triad_s", triad_s, "s")
    report.add("baseline", f"baseline.{name}.pandas_read_s", read_s, "s", "DuckDB → pandas")
    report.add("baseline", f"baseline.{name}.pandas_compute_s", compute_s, "s")
    report.add(
        "baseline", f"baseline.{name}.triad_over_pandas", ratio(triad_s, pandas_s), "ratio", "read + compute"
    )
    report.add("baseline", f"baseline.{name}.results_agree", same, "bool")
    return ratio(triad_s, pandas_s)


def run(report: Report, db: str, repeat: int) -> None:
    con = duckdb.connect(db, read_only=True)
    model_id = default_model_id(con)
    brand = int(
        con.execute("SELECT brand_id FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    )
    ratios = [
        _compare(
            report,
            "campaign_summary",
            repeat,
            lambda: campaigns.campaign_summary(con),
            lambda: _read(con, CAMPAIGN_TABLES),
            lambda t: pandas_campaign_summary(t, model_id),
            _campaigns_agree,
        ),
        _compare(
            report,
            "er_per_influencer",
            repeat,
            lambda: triad_er(con),
            lambda: _read(con, ER_TABLES),
            pandas_er,
            _er_agree,
        ),
        _compare(
            report,
            "rfm_biggest_brand",
            repeat,
            lambda: customers.rfm(con, Filters(brand_ids=(brand,))),
            lambda: _read(con, RFM_TABLES),
            lambda t: pandas_rfm(t, brand),
            _rfm_agree,
        ),
    ]
    con.close()
    known = [r for r in ratios if r]
    if known:
        geo = math.exp(sum(math.log(r) for r in known) / len(known))
        report.add(
            "baseline",
            "baseline.geomean_pandas_over_triad",
            1 / geo,
            "x",
            "speed-up: pandas time / Triad time",
        )
