"""Chart-ready views of influencer profiles, for the Profiles page: built on :mod:`models.profile`.

Everything here derives from the frames :func:`models.profile.influencer_profile` and
:func:`models.profile.roster_metrics` return, so a chart and the KPI above it come from the same posts and
snapshots. The definitions the page shows next to each chart are in :data:`DEFINITIONS`.

* **Rolling median ER** — for each post, the median per-post ER by followers of that post and the ones
  before it, over the last :data:`ROLLING_POSTS` posts (the profile window's post count), with the bootstrap
  95 % interval of that median (:func:`models.profile.bootstrap_median_interval`, same seed and resamples as
  the profile's interval); drawn from :data:`ROLLING_MIN_POSTS` posts with a known ER.
* **Posts per week** — posts counted per ISO week (Monday first), weeks without posts as 0.
* **Followers over time** — per account, the latest snapshot on or before each day (as-of), summed over the
  accounts whose count is known on the first day, so an account that starts reporting later does not show
  as growth. **Indexed** = that sum / its value on the first day × 100.
* **Sponsored vs organic** — the window's posts split as the profile splits them, with each side's median
  ER, post count and bootstrap interval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from models.filters import ALL, Filters, MetricDefinition
from models.profile import (
    BOOTSTRAP_MIN_POSTS,
    BOOTSTRAP_RESAMPLES,
    WINDOW_POSTS,
    bootstrap_median_interval,
    follower_history,
    post_engagement,
    resolve_as_of,
    roster_metrics,
)
from models.rate_card import RateCard

ROLLING_POSTS = WINDOW_POSTS
ROLLING_MIN_POSTS = BOOTSTRAP_MIN_POSTS
MAX_COMPARED = 4

DEFINITIONS: dict[str, MetricDefinition] = {
    "rolling_er": MetricDefinition(
        "rolling median ER",
        f"median of per-post ER by followers over each post and the {ROLLING_POSTS - 1} posts before it",
        f"Band: bootstrap 95 % interval of that median ({BOOTSTRAP_RESAMPLES:,} resamples of those posts). "
        f"Drawn from {ROLLING_MIN_POSTS} posts with a known ER; posts whose followers are unknown (hidden "
        "count, no snapshot before the post) have no ER and are left out.",
        {"posts": ROLLING_POSTS},
    ),
    "posts_per_week": MetricDefinition(
        "posts per week",
        "posts of all the influencer's accounts per ISO week (Monday to Sunday)",
        "First and last weeks may be partial: they count only the days in the date range.",
    ),
    "followers_over_time": MetricDefinition(
        "followers",
        "per account, the latest follower snapshot on or before each day",
        "Flagged follower spikes (authenticity signal) are marked; jumps that engagement followed are marked "
        "apart, as explained. Gaps are days with a hidden count.",
    ),
    "followers_indexed": MetricDefinition(
        "follower growth, indexed",
        "followers on the day / followers on the first day of the range × 100",
        "Followers summed over the influencer's accounts known on the first day (latest snapshot on or before "
        "each day), so 110 means 10 % more followers than at the start.",
    ),
    "er_distribution": MetricDefinition(
        "ER distribution",
        "per-post ER by followers = (likes + comments) / followers at posting time, over each influencer's "
        "window",
        "Window: last 12 posts or 90 days, whichever has more posts; the line in a box is the median, the ER "
        "KPI.",
    ),
}


# -- choosing an influencer -------------------------------------------------------------------------------
def influencer_choices(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every influencer with their handles and the brands they have deals with (any stage), by name."""
    return con.execute(
        """
        SELECT i.influencer_id, i.name,
               coalesce((SELECT string_agg('@' || a.handle, ' · ' ORDER BY a.account_id)
                         FROM accounts a WHERE a.influencer_id = i.influencer_id), '') AS handles,
               coalesce((SELECT list(DISTINCT c.brand_id ORDER BY c.brand_id)
                         FROM deals d JOIN campaigns c USING (campaign_id)
                         WHERE d.influencer_id = i.influencer_id), []::INTEGER[]) AS deal_brand_ids
        FROM influencers i
        ORDER BY lower(i.name), i.influencer_id
        """
    ).pl()


# -- per-post ER -------------------------------------------------------------------------------------------
def rolling_er(
    posts: pl.DataFrame, *, window: int = ROLLING_POSTS, min_posts: int = ROLLING_MIN_POSTS
) -> pl.DataFrame:
    """Posts with a known ER, oldest first, with the rolling median ER and its bootstrap interval.

    Columns: post_id, posted_at, platform, handle, sponsored, er_followers, rolling_median, ci_low, ci_high
    (NULL until ``min_posts`` posts are in the trailing window).
    """
    known = (
        posts.filter(pl.col("er_followers").is_not_null() & pl.col("er_followers").is_not_nan())
        .sort("posted_at", "post_id")
        .select("post_id", "posted_at", "platform", "handle", "sponsored", "er_followers")
    )
    values = known["er_followers"].to_numpy().astype(float)
    medians: list[float | None] = []
    lows: list[float | None] = []
    highs: list[float | None] = []
    for end in range(1, values.size + 1):
        trailing = values[max(0, end - window) : end]
        if trailing.size < min_posts:
            medians.append(None)
            lows.append(None)
            highs.append(None)
            continue
        medians.append(float(np.median(trailing)))
        interval = bootstrap_median_interval(trailing, min_values=min_posts)
        lows.append(None if interval is None else interval[0])
        highs.append(None if interval is None else interval[1])
    return known.with_columns(
        rolling_median=pl.Series(medians, dtype=pl.Float64),
        ci_low=pl.Series(lows, dtype=pl.Float64),
        ci_high=pl.Series(highs, dtype=pl.Float64),
    )


def sponsored_vs_organic(window_posts: pl.DataFrame) -> pl.DataFrame:
    """Per kind ("sponsored", "organic"): posts, posts with an ER, median ER and its bootstrap interval."""
    rows = []
    for kind, is_sponsored in (("sponsored", True), ("organic", False)):
        group = window_posts.filter(pl.col("sponsored") == is_sponsored)
        ers = group["er_followers"].drop_nulls().drop_nans().to_numpy().astype(float)
        interval = bootstrap_median_interval(ers)
        rows.append(
            {
                "kind": kind,
                "posts": group.height,
                "er_posts": int(ers.size),
                "er_median": float(np.median(ers)) if ers.size else None,
                "ci_low": interval[0] if interval else None,
                "ci_high": interval[1] if interval else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "posts": pl.Int64,
            "er_posts": pl.Int64,
            "er_median": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
        },
    )


# -- cadence ---------------------------------------------------------------------------------------------
def posts_per_week(posts: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``period`` (Monday of the week), ``value`` (posts that week) for every week from start to end."""
    first = start - dt.timedelta(days=start.weekday())
    weeks = pl.DataFrame({"period": pl.date_range(first, end, interval="1w", eager=True)})
    in_range = posts.filter(pl.col("posted_at").dt.date().is_between(start, end))
    counts = in_range.group_by(period=pl.col("posted_at").dt.date().dt.truncate("1w")).agg(
        value=pl.len().cast(pl.Int64)
    )
    return weeks.join(counts, on="period", how="left").with_columns(pl.col("value").fill_null(0))


# -- followers over time -----------------------------------------------------------------------------------
def followers_by_day(history: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per account and day from start to end: the latest snapshot's followers on or before that day.

    ``history`` is :func:`models.profile.follower_history` (every snapshot up to ``end``, earlier ones too,
    so the first day has a value). Columns: account_id, platform, handle, day, followers (NULL = unknown).
    """
    schema = {
        "account_id": pl.Int32,
        "platform": pl.String,
        "handle": pl.String,
        "day": pl.Date,
        "followers": pl.Int64,
    }
    if history.is_empty() or start > end:
        return pl.DataFrame(schema=schema)
    days = pl.DataFrame({"day": pl.date_range(start, end, interval="1d", eager=True)})
    accounts = history.select("account_id", "platform", "handle").unique().sort("account_id")
    grid = accounts.join(days, how="cross").sort("account_id", "day")
    snaps = (
        history.select("account_id", pl.col("snapshot_date").alias("day"), "followers")
        .filter(pl.col("day") <= end)
        .sort("account_id", "day")
    )
    # both sides are sorted by account and day (asserted by the sorts above), which the per-group join needs
    filled = grid.join_asof(snaps, on="day", by="account_id", strategy="backward", check_sortedness=False)
    return filled.select(
        pl.col("account_id").cast(pl.Int32),
        "platform",
        "handle",
        "day",
        pl.col("followers").cast(pl.Int64),
    )


def indexed_followers(by_day: pl.DataFrame) -> pl.DataFrame:
    """Day, followers (sum over the accounts known on the first day) and index (first day = 100).

    Empty when no account has a known count on the first day (nothing to index against).
    """
    schema = {"day": pl.Date, "followers": pl.Int64, "index": pl.Float64}
    if by_day.is_empty():
        return pl.DataFrame(schema=schema)
    first_day = by_day["day"].min()
    base_accounts = by_day.filter(
        (pl.col("day") == first_day) & pl.col("followers").is_not_null() & (pl.col("followers") > 0)
    )["account_id"]
    if base_accounts.is_empty():
        return pl.DataFrame(schema=schema)
    totals = (
        by_day.filter(pl.col("account_id").is_in(base_accounts.implode()))
        .group_by("day")
        .agg(
            followers=pl.when(pl.col("followers").is_null().any())
            .then(None)
            .otherwise(pl.col("followers").sum())
            .cast(pl.Int64)
        )
        .sort("day")
    )
    base = totals["followers"][0]
    return totals.with_columns(index=pl.col("followers").cast(pl.Float64) * 100.0 / base)


# -- comparing influencers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """The same profile figures for up to four influencers, and the frames of their aligned charts."""

    as_of: dt.date
    start: dt.date
    metrics: pl.DataFrame  # roster_metrics rows, in the order asked for
    window_posts: pl.DataFrame  # influencer_id, name, posted_at, er_followers: each influencer's window
    followers: pl.DataFrame  # influencer_id, name, day, followers, index (first day = 100)


def compare_influencers(
    con: duckdb.DuckDBPyConnection,
    influencer_ids: list[int] | tuple[int, ...],
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
) -> Comparison:
    """roster_metrics for the chosen influencers (at most :data:`MAX_COMPARED`) and their aligned series.

    The follower index starts at ``filters.start`` (default: 90 days before the as-of date).
    """
    ids = tuple(dict.fromkeys(influencer_ids))
    if len(ids) > MAX_COMPARED:
        raise ValueError(f"compare at most {MAX_COMPARED} influencers, not {len(ids)}")
    day = resolve_as_of(con, filters, as_of)
    start = filters.start or day - dt.timedelta(days=90)
    scoped = Filters(start=filters.start, end=day, platforms=filters.platforms, influencer_ids=ids)
    metrics = roster_metrics(con, scoped, as_of=day, rate_card=rate_card)
    order = pl.DataFrame(
        {"influencer_id": list(ids)}, schema={"influencer_id": metrics["influencer_id"].dtype}
    )
    metrics = order.join(metrics, on="influencer_id", how="inner", maintain_order="left")
    names = metrics.select("influencer_id", "name")
    posts = (
        post_engagement(con, scoped, as_of=day, rate_card=rate_card, window_only=True)
        .join(names, on="influencer_id", how="inner")
        .select("influencer_id", "name", "posted_at", "platform", "er_followers")
    )
    series = []
    for influencer_id in metrics["influencer_id"].to_list():
        history = follower_history(con, influencer_id, Filters(platforms=filters.platforms, end=day))
        indexed = indexed_followers(followers_by_day(history, start, day))
        series.append(indexed.with_columns(influencer_id=pl.lit(influencer_id, dtype=pl.Int32)))
    followers = (
        pl.concat(series).join(names, on="influencer_id", how="left")
        if series
        else pl.DataFrame(
            schema={
                "day": pl.Date,
                "followers": pl.Int64,
                "index": pl.Float64,
                "influencer_id": pl.Int32,
                "name": pl.String,
            }
        )
    )
    return Comparison(as_of=day, start=start, metrics=metrics, window_posts=posts, followers=followers)


__all__ = [
    "DEFINITIONS",
    "MAX_COMPARED",
    "ROLLING_MIN_POSTS",
    "ROLLING_POSTS",
    "Comparison",
    "compare_influencers",
    "followers_by_day",
    "indexed_followers",
    "influencer_choices",
    "posts_per_week",
    "rolling_er",
    "sponsored_vs_organic",
]
