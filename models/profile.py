"""Influencer profile metrics (METRICS.md, "Influencer profile"), for one influencer or the whole roster.

Every figure is computed for the whole roster at once (DuckDB SQL for the joins and windows, Polars for the
aggregates, NumPy for the bootstrap), and the single-influencer profile is the same computation restricted to
one influencer, so a profile page and the roster table always show the same numbers.

Definitions in use (the pages show them next to the numbers, see :data:`DEFINITIONS`):

* **Followers at posting time** = the account's latest snapshot dated on or before the post's day (as-of
  join; a snapshot dated D counts for posts made on D). No such snapshot, or a hidden count (NULL), gives a
  NULL engagement rate, never 0 and never a division by zero.
* **The window**, as of a date A (default: the day of the latest post in the store, or ``Filters.end``): an
  influencer's last 12 posts up to A, or the posts of the 90 days ending on A, whichever has more posts.
  (Equivalently: a post is in the window if it is among the last 12 or was posted in those 90 days.)
  A ``Filters.start`` date clips the window (earlier posts are not considered).
* Influencer-level figures pool the posts of all the influencer's accounts in scope (a platform filter
  narrows them); per-account figures (:func:`account_metrics`) use each account's own window.
* Brand / campaign filters narrow the roster to influencers with a deal (any stage) in those brands or
  campaigns, and the fees used for the price to those deals.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from models.filters import ALL, Filters, MetricDefinition
from models.rate_card import RATE_CARD_ENV, RateCard, load_rate_card
from models.schema import PLATFORMS

log = logging.getLogger(__name__)

# -- settings (METRICS.md defaults) ---------------------------------------------------------------------
WINDOW_POSTS = 12
WINDOW_DAYS = 90
CADENCE_DAYS = 90
GROWTH_DAYS = (30, 90)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_MIN_POSTS = 5
BOOTSTRAP_LEVEL = 0.95
BOOTSTRAP_SEED = 20_240_601
PRICE_RANGE = (0.5, 1.5)
PAID_STAGES = ("contracted", "live", "completed")
VIDEO_PLATFORMS = ("youtube", "tiktok")

# Follower tiers (METRICS.md): lower bounds inclusive, so 10,000 followers is "10k–100k".
TIER_LABELS = ("<10k", "10k–100k", "100k–1M", ">1M")
TIER_BOUNDS = (10_000, 100_000, 1_000_000)
Tier = pl.Enum(list(TIER_LABELS))

_WINDOW_KEYS = {"influencer": "influencer_id", "account": "account_id"}


class UnknownInfluencerError(LookupError):
    """The influencer id is not in the store (or not in the filtered roster)."""


def follower_tier(followers: pl.Expr) -> pl.Expr:
    """The follower tier of a follower count (NULL when the count is unknown)."""
    return (
        pl.when(followers.is_null())
        .then(None)
        .when(followers < TIER_BOUNDS[0])
        .then(pl.lit(TIER_LABELS[0]))
        .when(followers < TIER_BOUNDS[1])
        .then(pl.lit(TIER_LABELS[1]))
        .when(followers < TIER_BOUNDS[2])
        .then(pl.lit(TIER_LABELS[2]))
        .otherwise(pl.lit(TIER_LABELS[3]))
        .cast(Tier)
    )


_WINDOW_TEXT = f"last {WINDOW_POSTS} posts or {WINDOW_DAYS} days, whichever has more posts"

DEFINITIONS: dict[str, MetricDefinition] = {
    "followers": MetricDefinition(
        "followers",
        "Σ over the influencer's accounts of the latest follower count on or before the as-of date",
        "Accounts with a hidden count (e.g. YouTube's hiddenSubscriberCount) are left out; followers_<platform> "
        "is the same per platform; the primary platform is the account with the most followers.",
    ),
    "tier": MetricDefinition(
        "follower tier",
        "the tier of the influencer's largest account: <10k, 10k–100k, 100k–1M, >1M followers",
        "Lower bounds inclusive (10,000 followers is 10k–100k).",
    ),
    "er_post": MetricDefinition(
        "ER by followers (per post)",
        "(likes + comments) / followers at posting time",
        "Followers at posting time = the account's latest snapshot dated on or before the post's day (as-of "
        "join). Unknown (hidden) followers give no ER, not 0.",
    ),
    "er_median": MetricDefinition(
        "ER by followers",
        "median of per-post ER by followers over the window",
        "Posts of all the influencer's accounts are pooled.",
        {"window": _WINDOW_TEXT},
    ),
    "er_mean": MetricDefinition(
        "ER by followers (mean)",
        "mean of per-post ER by followers over the window",
        "",
        {"window": _WINDOW_TEXT},
    ),
    "er_ci": MetricDefinition(
        "ER confidence interval",
        "bootstrap 95 % percentile interval of the median per-post ER, resampling the posts in the window",
        f"Shown only with ≥ {BOOTSTRAP_MIN_POSTS} posts with a known ER; seeded, so the same data give the "
        "same interval.",
        {"resamples": f"{BOOTSTRAP_RESAMPLES:,}", "window": _WINDOW_TEXT},
    ),
    "er_views": MetricDefinition(
        "ER by views",
        "median over the window of (likes + comments) / views",
        f"For video platforms ({', '.join(VIDEO_PLATFORMS)}) and any other post that reports views.",
        {"window": _WINDOW_TEXT},
    ),
    "full_er": MetricDefinition(
        "full ER",
        "median over the window of (likes + comments + shares + saves) / followers at posting time",
        "Only for posts whose platform gives shares or saves (a count the platform does not give counts 0).",
        {"window": _WINDOW_TEXT},
    ),
    "growth_30d": MetricDefinition(
        "follower growth (30 d)",
        "(followers_t − followers_{t−30d}) / followers_{t−30d}",
        "Each count is the latest snapshot on or before that day, summed over the accounts known on both days; "
        "no value when both days fall on the same snapshot.",
        {"t": "the as-of date"},
    ),
    "growth_90d": MetricDefinition(
        "follower growth (90 d)",
        "(followers_t − followers_{t−90d}) / followers_{t−90d}",
        "As the 30-day growth, over 90 days.",
        {"t": "the as-of date"},
    ),
    "cadence": MetricDefinition(
        "posting cadence",
        f"posts per week over the {CADENCE_DAYS} days ending on the as-of date (posts / {CADENCE_DAYS / 7:.2f})",
        "",
        {"window": f"{CADENCE_DAYS} days"},
    ),
    "sponsored_er": MetricDefinition(
        "sponsored ER",
        "median ER by followers of the window's posts linked to a campaign or flagged as paid partnership",
        "With the number of such posts: few posts make a noisy median.",
        {"window": _WINDOW_TEXT},
    ),
    "organic_er": MetricDefinition(
        "organic ER",
        "median ER by followers of the window's posts not linked to a campaign nor flagged as paid partnership",
        "",
        {"window": _WINDOW_TEXT},
    ),
    "emv": MetricDefinition(
        "EMV",
        "Σ over the window's posts of (likes × v_like + comments × v_comment + shares × v_share + saves × v_save "
        "+ views/1000 × v_kview)",
        "Values from the editable rate card per platform (v_save is 0 by default); a count the platform does "
        "not give counts 0; posts of a platform missing from the card have no EMV.",
        {"rate card": f"data/rate_card.csv or ${RATE_CARD_ENV}", "window": _WINDOW_TEXT},
    ),
    "price": MetricDefinition(
        "estimated price",
        f"the fees actually paid (min–max fee of the influencer's deals with fee > 0 at stage "
        f"{', '.join(PAID_STAGES)}) when there are any, else median EMV per post × "
        f"[{PRICE_RANGE[0]}, {PRICE_RANGE[1]}]",
        "price_basis says which ('fees' or 'emv'). Fees are taken in the influencer's most used deal currency.",
        {"window": _WINDOW_TEXT},
    ),
}


# -- as-of date and scope ---------------------------------------------------------------------------------
def default_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The day of the latest post in the store (else of the latest snapshot, else today, UTC)."""
    row = con.execute(
        "SELECT coalesce((SELECT max(posted_at)::DATE FROM posts), (SELECT max(snapshot_date) FROM account_snapshots))"
    ).fetchone()
    if row and row[0] is not None:
        return row[0]
    return dt.datetime.now(dt.UTC).date()


def resolve_as_of(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, as_of: dt.date | None = None
) -> dt.date:
    """``as_of`` if given, else the filter's end date, else :func:`default_as_of`."""
    if as_of is not None:
        return as_of
    if filters.end is not None:
        return filters.end
    return default_as_of(con)


def _deal_exists(filters: Filters, influencer_column: str) -> tuple[str, list[object]]:
    """` AND EXISTS (a deal of the influencer in the filtered brands/campaigns)`, or nothing."""
    if filters.brand_ids is None and filters.campaign_ids is None:
        return "", []
    where, params = filters.where({"brand": "c.brand_id", "campaign": "c.campaign_id"})
    clause = (
        f" AND EXISTS (SELECT 1 FROM deals d JOIN campaigns c USING (campaign_id) {where} "  # noqa: S608
        f"AND d.influencer_id = {influencer_column})"
    )  # fixed column names; values go in as ? parameters
    return clause, params


def _account_scope(filters: Filters) -> tuple[str, list[object]]:
    """WHERE clause over ``accounts a`` for the platform, influencer, brand and campaign filters."""
    where, params = filters.where({"platform": "a.platform", "influencer": "a.influencer_id"})
    extra, extra_params = _deal_exists(filters, "a.influencer_id")
    return where + extra, params + extra_params


def _influencer_scope(filters: Filters) -> tuple[str, list[object]]:
    """WHERE clause over ``influencers i``: influencer, brand/campaign (a deal) and platform (an account)."""
    where, params = filters.where({"influencer": "i.influencer_id"})
    extra, extra_params = _deal_exists(filters, "i.influencer_id")
    where, params = where + extra, params + extra_params
    if filters.platforms is not None:
        plat_where, plat_params = filters.where({"platform": "a.platform"})
        where += f" AND EXISTS (SELECT 1 FROM accounts a {plat_where} AND a.influencer_id = i.influencer_id)"  # noqa: S608
        params += plat_params
    return where, params


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


# -- per post ----------------------------------------------------------------------------------------------
def post_engagement(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
    window_by: str = "influencer",
    window_only: bool = False,
) -> pl.DataFrame:
    """One row per post up to the as-of date: followers at posting time, the three ERs, EMV, window flags.

    ``window_by`` ("influencer" or "account") says whose last-12-posts-or-90-days window ``in_window`` marks;
    ``in_cadence`` marks the posts of the cadence period. ``window_only`` returns only the window's posts.
    """
    if window_by not in _WINDOW_KEYS:
        raise ValueError(f"window_by must be one of {tuple(_WINDOW_KEYS)}, not {window_by!r}")
    key = _WINDOW_KEYS[window_by]
    day = resolve_as_of(con, filters, as_of)
    card = rate_card if rate_card is not None else load_rate_card()
    end = _day_start(day + dt.timedelta(days=1))
    scope, params = _account_scope(filters)
    time_clause = "p.posted_at < ?"
    params.append(end)
    if filters.start is not None:
        time_clause += " AND p.posted_at >= ?"
        params.append(_day_start(filters.start))
    window_start = end - dt.timedelta(days=WINDOW_DAYS)
    if window_only:
        params += [WINDOW_POSTS, window_start, end - dt.timedelta(days=CADENCE_DAYS)]
        return _with_emv(con.execute(_window_posts_sql(scope, time_clause, key), params).pl(), card)
    params += [WINDOW_POSTS, window_start, end - dt.timedelta(days=CADENCE_DAYS)]
    frame = con.execute(
        f"""
        WITH acc AS (
            SELECT a.account_id, a.influencer_id, a.platform, a.handle FROM accounts a {scope}
        ),
        p AS (
            SELECT p.post_id, acc.influencer_id, p.account_id, acc.platform, acc.handle, p.posted_at, p.post_type,
                   p.likes, p.comments, p.shares, p.saves, p.views, p.is_sponsored, p.campaign_id,
                   (p.is_sponsored OR p.campaign_id IS NOT NULL) AS sponsored
            FROM posts p JOIN acc USING (account_id)
            WHERE {time_clause}
        ),
        with_followers AS (
            SELECT p.*, s.followers, s.snapshot_date AS followers_date
            FROM p ASOF LEFT JOIN (  -- only the scope's snapshots: the ASOF join sorts its whole right side
                SELECT account_id, snapshot_date, followers FROM account_snapshots
                WHERE account_id IN (SELECT account_id FROM acc)
            ) s ON p.account_id = s.account_id AND CAST(p.posted_at AS DATE) >= s.snapshot_date
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY posted_at DESC, post_id DESC) AS window_rank
            FROM with_followers
        ),
        flagged AS (
            SELECT *, (window_rank <= ? OR posted_at >= ?) AS in_window, posted_at >= ? AS in_cadence FROM ranked
        )
        SELECT post_id, influencer_id, account_id, platform, handle, posted_at, post_type, is_sponsored,
               campaign_id, sponsored, likes, comments, shares, saves, views, followers, followers_date,
               likes + comments AS interactions,
               CASE WHEN followers > 0 THEN (likes + comments) / followers END AS er_followers,
               CASE WHEN views > 0 THEN (likes + comments) / views END AS er_views,
               CASE WHEN followers > 0 AND (shares IS NOT NULL OR saves IS NOT NULL)
                    THEN (likes + comments + coalesce(shares, 0) + coalesce(saves, 0)) / followers END AS full_er,
               window_rank, in_window, in_cadence
        FROM flagged
        {"WHERE in_window" if window_only else ""}
        ORDER BY {key}, posted_at DESC, post_id DESC
        """,  # noqa: S608 - the scope is built by Filters.where with ? parameters; key is a fixed name
        params,
    ).pl()
    return _with_emv(frame, card)


_POST_COLUMNS = """
    post_id, influencer_id, account_id, platform, handle, posted_at, post_type, is_sponsored,
    campaign_id, sponsored, likes, comments, shares, saves, views, followers, followers_date,
    likes + comments AS interactions,
    CASE WHEN followers > 0 THEN (likes + comments) / followers END AS er_followers,
    CASE WHEN views > 0 THEN (likes + comments) / views END AS er_views,
    CASE WHEN followers > 0 AND (shares IS NOT NULL OR saves IS NOT NULL)
         THEN (likes + comments + coalesce(shares, 0) + coalesce(saves, 0)) / followers END AS full_er,
    window_rank, in_window, in_cadence
"""


def _window_posts_sql(scope: str, time_clause: str, key: str) -> str:
    """:func:`post_engagement` with ``window_only``: the window's posts are picked first, from the posts' ids and
    dates alone, and only they are read in full and joined to the follower snapshots (a quarter of the
    roster's posts on the large store). Parameters: the scope's, the time clause's, the window's post count
    and start, the cadence start."""
    return f"""
        WITH acc AS (
            SELECT a.account_id, a.influencer_id, a.platform, a.handle FROM accounts a {scope}
        ),
        ranks AS (
            SELECT p.post_id, row_number() OVER (PARTITION BY {key} ORDER BY p.posted_at DESC, p.post_id DESC)
                       AS window_rank
            FROM posts p JOIN acc USING (account_id)
            WHERE {time_clause}
            QUALIFY window_rank <= ? OR p.posted_at >= ?
        ),
        p AS (
            SELECT p.post_id, acc.influencer_id, p.account_id, acc.platform, acc.handle, p.posted_at, p.post_type,
                   p.likes, p.comments, p.shares, p.saves, p.views, p.is_sponsored, p.campaign_id,
                   (p.is_sponsored OR p.campaign_id IS NOT NULL) AS sponsored, r.window_rank
            FROM posts p JOIN acc USING (account_id) JOIN ranks r USING (post_id)
        ),
        first_days AS (SELECT account_id, min(posted_at)::DATE AS first_day FROM p GROUP BY account_id),
        snapshots AS (  -- the latest snapshot on or before a post: from the account's first window post on,
                        -- or the account's last one before it (the ASOF join sorts only these)
            SELECT s.account_id, s.snapshot_date, s.followers
            FROM account_snapshots s JOIN first_days f USING (account_id)
            WHERE s.snapshot_date >= f.first_day
            UNION ALL
            SELECT s.account_id, max(s.snapshot_date), arg_max(s.followers, s.snapshot_date)
            FROM account_snapshots s JOIN first_days f USING (account_id)
            WHERE s.snapshot_date < f.first_day
            GROUP BY s.account_id
        ),
        same_day AS (  -- daily snapshots: most posts have one from their own day (a hash join, no sort)
            SELECT p.post_id, s.followers, s.snapshot_date
            FROM p JOIN snapshots s ON s.account_id = p.account_id AND s.snapshot_date = CAST(p.posted_at AS DATE)
        ),
        other_day AS (  -- the rest take the latest earlier snapshot
            SELECT r.post_id, s.followers, s.snapshot_date
            FROM (SELECT post_id, account_id, posted_at FROM p ANTI JOIN same_day USING (post_id)) r
            ASOF LEFT JOIN (
                SELECT * FROM snapshots
                WHERE account_id IN (SELECT account_id FROM p ANTI JOIN same_day USING (post_id))
            ) s ON r.account_id = s.account_id AND CAST(r.posted_at AS DATE) >= s.snapshot_date
        ),
        with_followers AS (
            SELECT p.*, f.followers, f.snapshot_date AS followers_date, true AS in_window,
                   p.posted_at >= ? AS in_cadence
            FROM p JOIN (SELECT * FROM same_day UNION ALL SELECT * FROM other_day) f USING (post_id)
        )
        SELECT {_POST_COLUMNS}
        FROM with_followers
        ORDER BY {key}, posted_at DESC, post_id DESC
    """  # noqa: S608 - the scope is built by Filters.where with ? parameters; key is a fixed name


def _with_emv(posts: pl.DataFrame, card: RateCard) -> pl.DataFrame:
    """Add the EMV of each post from the rate card (NULL for a platform the card does not list)."""
    missing = set(posts["platform"].unique().to_list()) - set(card.platforms)
    if missing:
        log.warning(
            "the rate card %s has no values for %s: their posts get no EMV", card.source, sorted(missing)
        )

    def term(count: str, value: str, per: float = 1.0) -> pl.Expr:
        return pl.col(count).fill_null(0).cast(pl.Float64) / per * pl.col(value)

    emv = (
        term("likes", "v_like")
        + term("comments", "v_comment")
        + term("shares", "v_share")
        + term("saves", "v_save")
        + term("views", "v_kview", 1000.0)
    )
    return (
        posts.join(card.values, on="platform", how="left", maintain_order="left")
        .with_columns(emv=emv)
        .drop("v_like", "v_comment", "v_share", "v_save", "v_kview")
    )


# -- bootstrap -------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _median_order_statistics(n: int, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``resamples`` resamples (with replacement) of n sorted values: the positions of the two middle ones.

    The median of a resample of sorted values x is (x[lo] + x[hi]) / 2 with lo, hi the middle order
    statistics of the resampled *positions*, so one index matrix per sample size serves every group of that
    size. Seeded by (seed, n): an influencer's interval does not depend on the rest of the roster.
    """
    rng = np.random.default_rng([seed, n])
    positions = rng.integers(0, n, size=(resamples, n))
    positions.sort(axis=1)
    lo, hi = positions[:, (n - 1) // 2].copy(), positions[:, n // 2].copy()
    lo.flags.writeable = hi.flags.writeable = False
    return lo, hi


def _percentile_bounds(level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    return tail, 100.0 - tail


def bootstrap_median_interval(
    values: np.ndarray | list[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = BOOTSTRAP_SEED,
    min_values: int = BOOTSTRAP_MIN_POSTS,
) -> tuple[float, float] | None:
    """Bootstrap percentile interval of the median of ``values`` (NaNs dropped); None below ``min_values``."""
    x = np.asarray(values, dtype=float)
    x = np.sort(x[~np.isnan(x)])
    if x.size < max(min_values, 1):
        return None
    lo, hi = _median_order_statistics(x.size, resamples, seed)
    medians = (x[lo] + x[hi]) / 2.0
    low, high = np.percentile(medians, _percentile_bounds(level))
    return float(low), float(high)


def bootstrap_by_group(
    frame: pl.DataFrame,
    key: str,
    value: str,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = BOOTSTRAP_SEED,
    min_values: int = BOOTSTRAP_MIN_POSTS,
) -> pl.DataFrame:
    """:func:`bootstrap_median_interval` for every group of ``frame`` at once: key, ci_low, ci_high.

    Vectorised: groups are stacked into one matrix per group size, so the cost is one NumPy pass per distinct
    size, not one per group. Groups with fewer than ``min_values`` non-null values are left out.
    """
    data = frame.select(key, value).drop_nulls().filter(pl.col(value).is_not_nan()).sort(key, value)
    schema = {key: data.schema[key], "ci_low": pl.Float64, "ci_high": pl.Float64}
    if data.is_empty():
        return pl.DataFrame(schema=schema)
    keys = data[key].to_numpy()
    x = data[value].to_numpy().astype(float)
    group_keys, starts, sizes = np.unique(keys, return_index=True, return_counts=True)
    low = np.full(group_keys.size, np.nan)
    high = np.full(group_keys.size, np.nan)
    bounds = _percentile_bounds(level)
    chunk = max(1, 2_000_000 // resamples)
    for n in np.unique(sizes[sizes >= max(min_values, 1)]):
        lo, hi = _median_order_statistics(int(n), resamples, seed)
        members = np.flatnonzero(sizes == n)
        for first in range(0, members.size, chunk):
            part = members[first : first + chunk]
            matrix = x[starts[part][:, None] + np.arange(n)[None, :]]  # groups × n, each row sorted
            medians = (matrix[:, lo] + matrix[:, hi]) / 2.0  # groups × resamples
            low[part], high[part] = np.percentile(medians, bounds, axis=1)
    keep = ~np.isnan(low)
    return pl.DataFrame({key: group_keys[keep], "ci_low": low[keep], "ci_high": high[keep]}, schema=schema)


# -- aggregates ----------------------------------------------------------------------------------------------
def _summarise(posts: pl.DataFrame, key: str, *, with_interval: bool = True) -> pl.DataFrame:
    """Window aggregates per ``key`` from the posts of the window (``in_window`` already applied).

    ``with_interval=False`` leaves the bootstrap interval of the median ER out (NULL): 2,000 resamples per
    group, for views that do not show it."""
    er = pl.col("er_followers")
    summary = posts.group_by(key).agg(
        posts_window=pl.len().cast(pl.Int64),
        er_posts=er.count().cast(pl.Int64),
        er_median=er.median(),
        er_mean=er.mean(),
        er_views_median=pl.col("er_views").median(),
        full_er_median=pl.col("full_er").median(),
        sponsored_er=er.filter(pl.col("sponsored")).median(),
        organic_er=er.filter(~pl.col("sponsored")).median(),
        sponsored_posts_window=pl.col("sponsored").sum().cast(pl.Int64),
        organic_posts_window=(~pl.col("sponsored")).sum().cast(pl.Int64),
        posts_cadence=pl.col("in_cadence").sum().cast(pl.Int64),
        likes_window=pl.col("likes").sum(),
        comments_window=pl.col("comments").sum(),
        emv_window=pl.when(pl.col("emv").count() > 0).then(pl.col("emv").sum()),
        emv_median_post=pl.col("emv").median(),
    )
    if with_interval:
        ci = bootstrap_by_group(posts, key, "er_followers").rename(
            {"ci_low": "er_ci_low", "ci_high": "er_ci_high"}
        )
        summary = summary.join(ci, on=key, how="left")
    else:
        summary = summary.with_columns(
            er_ci_low=pl.lit(None, pl.Float64), er_ci_high=pl.lit(None, pl.Float64)
        )
    return summary.with_columns(
        cadence_per_week=pl.col("posts_cadence") / (CADENCE_DAYS / 7.0),
        comments_per_like=pl.when(pl.col("likes_window") > 0).then(
            pl.col("comments_window") / pl.col("likes_window")
        ),
    )


RECENT_SNAPSHOT_DAYS = 14  # a snapshot this close before a target date is the one an ASOF join would pick


def _snapshots_at(
    con: duckdb.DuckDBPyConnection, scope: str, params: list[object], targets: list[object], values: str
) -> pl.DataFrame:
    """Each account in scope at each (lag, target date): the latest snapshot on or before that date.

    An ASOF join sorts its whole right side (millions of snapshots); first it runs against the snapshots of the
    few days before each target, which hold the answer whenever the account has a snapshot that recent. The
    rows without one are joined again against every snapshot of their accounts, so the result is exact.
    """
    sql = """
        WITH acc AS (
            SELECT a.account_id, a.influencer_id, a.platform, a.handle FROM accounts a {scope}
        ),
        targets AS (
            SELECT acc.*, t.lag_days, t.target_date FROM acc CROSS JOIN (VALUES {values}) t(lag_days, target_date)
            {only}
        ),
        snaps AS (
            SELECT s.account_id, s.snapshot_date, s.followers, s.following FROM account_snapshots s
            WHERE s.account_id IN (SELECT account_id FROM targets) {recent}
        )
        SELECT targets.account_id, targets.influencer_id, targets.platform, targets.handle, targets.lag_days,
               targets.target_date, s.snapshot_date, s.followers, s.following
        FROM targets ASOF LEFT JOIN snaps s
          ON targets.account_id = s.account_id AND targets.target_date >= s.snapshot_date
    """
    dates = sorted({d for d in targets[1::2]})
    recent = (
        "AND ("
        + " OR ".join(f"s.snapshot_date BETWEEN ?::DATE - {RECENT_SNAPSHOT_DAYS} AND ?::DATE" for _ in dates)
        + ")"
    )
    first = con.execute(
        sql.format(scope=scope, values=values, only="", recent=recent),  # noqa: S608 - fixed fragments
        params + targets + [d for d in dates for _ in (0, 1)],
    ).pl()
    fresh = pl.col("snapshot_date") >= pl.col("target_date") - pl.duration(days=RECENT_SNAPSHOT_DAYS)
    good = first.filter(fresh.fill_null(False))
    missing = first.filter(~fresh.fill_null(False)).select("account_id").unique()
    if missing.height:
        con.register("_stale_accounts", missing.to_arrow())
        try:
            rest = con.execute(
                sql.format(  # noqa: S608 - fixed fragments
                    scope=scope,
                    values=values,
                    only="WHERE acc.account_id IN (SELECT account_id FROM _stale_accounts)",
                    recent="",
                ),
                params + targets,
            ).pl()
        finally:
            con.unregister("_stale_accounts")
        keys = ["account_id", "lag_days"]
        good = pl.concat([good.join(rest.select(keys), on=keys, how="anti"), rest])
    return good.drop("target_date")


def _account_followers(con: duckdb.DuckDBPyConnection, filters: Filters, day: dt.date) -> pl.DataFrame:
    """Per account in scope: followers and following as of ``day`` and followers 30 and 90 days before."""
    scope, params = _account_scope(filters)
    lags = (0, *GROWTH_DAYS)
    values = ", ".join("(?, ?::DATE)" for _ in lags)
    targets: list[object] = []
    for lag in lags:
        targets += [lag, day - dt.timedelta(days=lag)]
    long = _snapshots_at(con, scope, params, targets, values)
    base = long.filter(pl.col("lag_days") == 0).select(
        "account_id",
        "influencer_id",
        "platform",
        "handle",
        "followers",
        "following",
        followers_date="snapshot_date",
    )
    for lag in GROWTH_DAYS:
        past = long.filter(pl.col("lag_days") == lag).select(
            "account_id",
            pl.col("followers").alias(f"followers_{lag}d_ago"),
            pl.col("snapshot_date").alias(f"followers_{lag}d_ago_date"),
        )
        base = base.join(past, on="account_id", how="left")
        # both ends known, positive, and on different snapshots; else the growth is unknown
        usable = (
            pl.col("followers").is_not_null()
            & (pl.col(f"followers_{lag}d_ago") > 0)
            & (pl.col("followers_date") != pl.col(f"followers_{lag}d_ago_date"))
        )
        base = base.with_columns(
            pl.when(usable)
            .then(pl.col(f"followers_{lag}d_ago"))
            .otherwise(None)
            .alias(f"followers_{lag}d_ago")
        ).with_columns(
            (pl.col("followers") / pl.col(f"followers_{lag}d_ago") - 1.0).alias(f"growth_{lag}d"),
        )
    return base.with_columns(tier=follower_tier(pl.col("followers"))).sort("account_id")


# -- per account -------------------------------------------------------------------------------------------
def account_metrics(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
    with_interval: bool = True,
) -> pl.DataFrame:
    """One row per account: followers, tier, growth, and the window figures over the account's own window.

    ``with_interval=False``: ``er_ci_low``/``er_ci_high`` are NULL (peer percentiles do not need them)."""
    day = resolve_as_of(con, filters, as_of)
    card = rate_card if rate_card is not None else load_rate_card()
    posts = post_engagement(con, filters, as_of=day, rate_card=card, window_by="account", window_only=True)
    followers = _account_followers(con, filters, day)
    summary = _summarise(posts, "account_id", with_interval=with_interval)
    out = followers.join(summary, on="account_id", how="left").with_columns(
        pl.col("posts_window", "posts_cadence", "sponsored_posts_window", "organic_posts_window").fill_null(
            0
        ),
        cadence_per_week=pl.col("cadence_per_week").fill_null(0.0),
        as_of=pl.lit(day),
    )
    return out.sort("influencer_id", "account_id")


# -- per influencer (roster) -------------------------------------------------------------------------------
def _paid_fees(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Deals with a fee > 0 at a paid stage, per influencer in scope (brand/campaign filters applied)."""
    inf_where, params = _influencer_scope(filters)
    deal_where, deal_params = filters.where({"brand": "c.brand_id", "campaign": "c.campaign_id"})
    stages = ", ".join("?" for _ in PAID_STAGES)
    return con.execute(
        f"""
        SELECT d.deal_id, d.influencer_id, d.campaign_id, c.brand_id, c.name AS campaign, d.stage,
               d.fee::DOUBLE AS fee, d.currency
        FROM deals d JOIN campaigns c USING (campaign_id)
        {deal_where} AND d.fee > 0 AND d.stage IN ({stages})
          AND d.influencer_id IN (SELECT i.influencer_id FROM influencers i {inf_where})
        ORDER BY d.influencer_id, d.deal_id
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
        deal_params + list(PAID_STAGES) + params,
    ).pl()


def _price_from_fees(fees: pl.DataFrame, card_currency: str) -> pl.DataFrame:
    """Per influencer: min–max fee in their most used deal currency (the card's currency wins a tie)."""
    if fees.is_empty():
        return pl.DataFrame(
            schema={
                "influencer_id": pl.Int32,
                "fee_low": pl.Float64,
                "fee_high": pl.Float64,
                "fee_currency": pl.String,
                "fee_deals": pl.Int64,
            }
        )
    per_currency = fees.group_by("influencer_id", "currency").agg(
        fee_low=pl.col("fee").min(), fee_high=pl.col("fee").max(), fee_deals=pl.len().cast(pl.Int64)
    )
    return (
        per_currency.sort(
            ["influencer_id", "fee_deals", pl.col("currency") == card_currency, "currency"],
            descending=[False, True, True, False],
        )
        .group_by("influencer_id", maintain_order=True)
        .first()
        .rename({"currency": "fee_currency"})
    )


def roster_metrics(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
    with_interval: bool = True,
) -> pl.DataFrame:
    """One row per influencer in scope with every profile metric (see :data:`DEFINITIONS`).

    Influencers without posts or snapshots are listed with NULL figures (and a cadence of 0).
    ``with_interval=False``: ``er_ci_low``/``er_ci_high`` are NULL (the roster table does not show them).
    """
    day = resolve_as_of(con, filters, as_of)
    card = rate_card if rate_card is not None else load_rate_card()
    inf_where, params = _influencer_scope(filters)
    roster = con.execute(
        f"SELECT i.influencer_id, i.name FROM influencers i {inf_where} ORDER BY i.influencer_id",  # noqa: S608
        params,
    ).pl()
    posts = post_engagement(con, filters, as_of=day, rate_card=card, window_by="influencer", window_only=True)
    summary = _summarise(posts, "influencer_id", with_interval=with_interval)
    accounts = _account_followers(con, filters, day)

    known = pl.col("followers").is_not_null()
    totals = accounts.group_by("influencer_id").agg(
        followers=pl.when(known.any()).then(pl.col("followers").sum()),
        **{
            f"_f{lag}_now": pl.col("followers").filter(pl.col(f"followers_{lag}d_ago").is_not_null()).sum()
            for lag in GROWTH_DAYS
        },
        **{
            f"_f{lag}_then": pl.when(pl.col(f"followers_{lag}d_ago").is_not_null().any()).then(
                pl.col(f"followers_{lag}d_ago").sum()
            )
            for lag in GROWTH_DAYS
        },
    )
    totals = totals.with_columns(
        (pl.col(f"_f{lag}_now") / pl.col(f"_f{lag}_then") - 1.0).alias(f"growth_{lag}d")
        for lag in GROWTH_DAYS
    ).select("influencer_id", "followers", *(f"growth_{lag}d" for lag in GROWTH_DAYS))
    primary = (
        accounts.filter(known)
        .sort(["influencer_id", "followers", "account_id"], descending=[False, True, False])
        .group_by("influencer_id", maintain_order=True)
        .first()
        .select("influencer_id", primary_platform="platform", primary_followers="followers")
    )
    per_platform = (
        accounts.filter(known)
        .group_by("influencer_id")
        .agg(
            pl.col("followers").filter(pl.col("platform") == p).sum().alias(f"followers_{p}")
            for p in PLATFORMS
        )
    )
    has_platform = (
        accounts.filter(known)
        .group_by("influencer_id")
        .agg((pl.col("platform") == p).any().alias(f"_has_{p}") for p in PLATFORMS)
    )
    per_platform = per_platform.join(has_platform, on="influencer_id").select(
        "influencer_id",
        *(
            pl.when(pl.col(f"_has_{p}")).then(pl.col(f"followers_{p}")).alias(f"followers_{p}")
            for p in PLATFORMS
        ),
    )
    price = _price_from_fees(_paid_fees(con, filters), card.currency)

    out = (
        roster.join(primary, on="influencer_id", how="left")
        .join(totals, on="influencer_id", how="left")
        .join(per_platform, on="influencer_id", how="left")
        .join(summary, on="influencer_id", how="left")
        .join(price, on="influencer_id", how="left")
    )
    emv_price = pl.col("emv_median_post").is_not_null() & pl.col("fee_low").is_null()
    out = out.with_columns(
        tier=follower_tier(pl.col("primary_followers")),
        posts_window=pl.col("posts_window").fill_null(0),
        er_posts=pl.col("er_posts").fill_null(0),
        sponsored_posts_window=pl.col("sponsored_posts_window").fill_null(0),
        organic_posts_window=pl.col("organic_posts_window").fill_null(0),
        cadence_per_week=pl.col("cadence_per_week").fill_null(0.0),
        emv_currency=pl.lit(card.currency),
        price_basis=pl.when(pl.col("fee_low").is_not_null())
        .then(pl.lit("fees"))
        .when(emv_price)
        .then(pl.lit("emv")),
        price_low=pl.when(pl.col("fee_low").is_not_null())
        .then(pl.col("fee_low"))
        .when(emv_price)
        .then(pl.col("emv_median_post") * PRICE_RANGE[0]),
        price_high=pl.when(pl.col("fee_low").is_not_null())
        .then(pl.col("fee_high"))
        .when(emv_price)
        .then(pl.col("emv_median_post") * PRICE_RANGE[1]),
        price_currency=pl.when(pl.col("fee_low").is_not_null())
        .then(pl.col("fee_currency"))
        .when(emv_price)
        .then(pl.lit(card.currency)),
        price_deals=pl.col("fee_deals").fill_null(0),
        as_of=pl.lit(day),
    )
    return out.select(
        "influencer_id",
        "name",
        "tier",
        "primary_platform",
        "primary_followers",
        "followers",
        *(f"followers_{p}" for p in PLATFORMS),
        "posts_window",
        "er_posts",
        "er_median",
        "er_mean",
        "er_ci_low",
        "er_ci_high",
        "er_views_median",
        "full_er_median",
        "growth_30d",
        "growth_90d",
        "cadence_per_week",
        "sponsored_er",
        "organic_er",
        "sponsored_posts_window",
        "organic_posts_window",
        "comments_per_like",
        "emv_window",
        "emv_median_post",
        "emv_currency",
        "price_low",
        "price_high",
        "price_currency",
        "price_basis",
        "price_deals",
        "as_of",
    ).sort("influencer_id")


# -- one influencer ------------------------------------------------------------------------------------------
def follower_history(
    con: duckdb.DuckDBPyConnection, influencer_id: int, filters: Filters = ALL
) -> pl.DataFrame:
    """Every follower snapshot of the influencer's accounts (platform and date filters apply), oldest first."""
    where, params = filters.where({"platform": "a.platform", "time": "s.snapshot_date"})
    return con.execute(
        f"""
        SELECT a.account_id, a.platform, a.handle, s.snapshot_date, s.followers, s.following, s.posts_count,
               s.total_views
        FROM account_snapshots s JOIN accounts a USING (account_id)
        {where} AND a.influencer_id = ?
        ORDER BY a.account_id, s.snapshot_date
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
        [*params, influencer_id],
    ).pl()


@dataclass(frozen=True)
class InfluencerProfile:
    """Everything the profile page shows for one influencer, computed like the roster row."""

    influencer_id: int
    name: str
    as_of: dt.date
    metrics: dict[str, object]  # the influencer's roster_metrics row
    accounts: pl.DataFrame  # account_metrics rows (each account's own window)
    posts: pl.DataFrame  # post_engagement rows up to as_of; in_window marks the influencer's window
    follower_history: pl.DataFrame
    fees: pl.DataFrame  # paid deals (fee > 0, paid stage) that a fee-based price uses
    rate_card: RateCard

    @property
    def window_posts(self) -> pl.DataFrame:
        return self.posts.filter(pl.col("in_window"))


def influencer_profile(
    con: duckdb.DuckDBPyConnection,
    influencer_id: int,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
) -> InfluencerProfile:
    """The profile of one influencer: the roster metrics restricted to them, plus the frames behind them."""
    day = resolve_as_of(con, filters, as_of)
    card = rate_card if rate_card is not None else load_rate_card()
    one = Filters(
        brand_ids=filters.brand_ids,
        campaign_ids=filters.campaign_ids,
        start=filters.start,
        end=filters.end,
        platforms=filters.platforms,
        influencer_ids=(influencer_id,),
    )
    row = roster_metrics(con, one, as_of=day, rate_card=card)
    if row.is_empty():
        raise UnknownInfluencerError(
            f"Influencer {influencer_id} is not in this workspace (or not in the current filter)."
        )
    metrics = row.row(0, named=True)
    return InfluencerProfile(
        influencer_id=influencer_id,
        name=str(metrics["name"]),
        as_of=day,
        metrics=metrics,
        accounts=account_metrics(con, one, as_of=day, rate_card=card),
        posts=post_engagement(con, one, as_of=day, rate_card=card),
        follower_history=follower_history(con, influencer_id, Filters(platforms=filters.platforms, end=day)),
        fees=_paid_fees(con, one),
        rate_card=card,
    )


__all__ = [
    "DEFINITIONS",
    "TIER_LABELS",
    "InfluencerProfile",
    "UnknownInfluencerError",
    "account_metrics",
    "bootstrap_by_group",
    "bootstrap_median_interval",
    "default_as_of",
    "follower_history",
    "follower_tier",
    "influencer_profile",
    "post_engagement",
    "resolve_as_of",
    "roster_metrics",
]
