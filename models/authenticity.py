"""Authenticity signals (METRICS.md): each returns the rows that triggered it, so a page can show the evidence.

Signals, per account (an influencer is flagged on a signal when any of their accounts is):

* **follower spike** — a snapshot's follower change, per day, has a robust z-score > 4 against the account's
  own changes of the trailing 60 days, *and* engagement did not rise with it.

  - change per day = (followers / previous snapshot's followers − 1) / days between the two snapshots (weekly
    snapshots spread a change over the week; hidden counts are skipped);
  - z = (change per day − median) / max(1.4826 × MAD, 0.25 % / √days between snapshots), median and MAD
    (median absolute deviation; × 1.4826 makes it estimate the standard deviation of normal noise) over the
    account's changes dated in the 60 days before; at least 5 such changes are needed. The floor keeps the
    ordinary noise of steady or tiny accounts (a MAD near 0: 3 new followers on 400) from passing for a
    spike; it is the noise of a random walk with 0.25 % daily steps, averaged over the gap;
  - engagement rises with it when the mean likes + comments per post of the account's posts from 3 days
    before the jump to 3 days after it is at least (1 + the follower jump) × the mean of its posts in the 60
    days before that: new followers who are people engage like the old ones, and organic jumps usually come
    with a post far above the usual. No posts around the jump, or none before it to compare with, is no rise.
    (The mean, not the median, so that one viral post among a few ordinary ones counts.)
* **engagement below tier** — the account's ER by followers (median over its window: last 12 posts or 90
  days, whichever has more posts) is below the 10th percentile of the accounts of the same platform and
  follower tier (<10k, 10k–100k, 100k–1M, >1M) in the whole store (groups of at least 10 accounts).
* **following/follower ratio** — following / followers > 1 on the latest snapshot, for accounts with more than
  5,000 followers.
* **comment/like ratio** — Σ comments / Σ likes over the account's window outside the 1st–99th percentile of
  the accounts of the same platform and tier (groups of at least 10 accounts).

The authenticity score is the share of the signals evaluated that did not fire; the report always lists
which fired. A signal is "not evaluated" (NULL) when the data cannot answer it (hidden follower count, too
little history, too few peers), and then counts in neither part of the share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import polars as pl

from models.filters import ALL, Filters, MetricDefinition
from models.profile import TIER_LABELS, _account_followers, _account_scope, account_metrics, resolve_as_of
from models.rate_card import RateCard

# -- settings ---------------------------------------------------------------------------------------------------
SPIKE_Z = 4.0
SPIKE_TRAILING_DAYS = 60
MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of the standard deviation for normal data
SPIKE_MIN_HISTORY = 5  # earlier changes needed within the trailing window
SPIKE_MIN_SCALE = 0.0025  # floor of the robust scale: 0.25 % of followers per day (÷ √days between snapshots)
ENGAGEMENT_AROUND_DAYS = 3
ENGAGEMENT_BASELINE_DAYS = 60
ENGAGEMENT_FOLLOW_SHARE = 1.0  # engagement "rises with it" when it rose by at least this share of the jump
BELOW_TIER_QUANTILE = 0.10
COMMENT_LIKE_QUANTILES = (0.01, 0.99)
MIN_TIER_GROUP = 10
FOLLOWING_RATIO = 1.0
FOLLOWING_MIN_FOLLOWERS = 5_000

SIGNALS = ("follower_spike", "engagement_below_tier", "following_ratio", "comment_like_ratio")
SIGNAL_LABELS = {
    "follower_spike": "follower spike",
    "engagement_below_tier": "engagement below tier",
    "following_ratio": "following/follower ratio",
    "comment_like_ratio": "comment/like ratio",
}

DEFINITIONS: dict[str, MetricDefinition] = {
    "follower_spike": MetricDefinition(
        "follower spike",
        "a day's follower change has robust z-score > 4 against the account's own trailing 60 days, and the same "
        "days' engagement does not rise with it",
        "z = (change per day − trailing median) / max(1.4826 × trailing MAD, 0.25 % / √days between snapshots); "
        "changes between snapshots days apart are spread over those days; needs ≥ 5 earlier changes in the 60 "
        "days. Engagement rises with it when the mean likes + comments per post from 3 days before to 3 days "
        "after the jump is at least (1 + the jump) × the mean of the 60 days before; no posts around the jump "
        "counts as no rise.",
        {
            "z": SPIKE_Z,
            "trailing": f"{SPIKE_TRAILING_DAYS} days",
            "MAD scale": MAD_SCALE,
            "min history": f"{SPIKE_MIN_HISTORY} changes",
            "scale floor": f"{SPIKE_MIN_SCALE:.2%} per day",
            "posts around the jump": f"±{ENGAGEMENT_AROUND_DAYS} days",
        },
    ),
    "engagement_below_tier": MetricDefinition(
        "engagement below tier",
        "ER by followers below the 10th percentile of accounts in the same platform and follower tier "
        "(<10k, 10–100k, 100k–1M, >1M)",
        "The account's ER is the median per-post ER over its window; percentiles over every account in the "
        f"store; groups of fewer than {MIN_TIER_GROUP} accounts are not judged.",
        {"percentile": "10th", "window": "last 12 posts or 90 days, whichever has more posts"},
    ),
    "following_ratio": MetricDefinition(
        "following/follower ratio",
        "following / followers > 1 for accounts with > 5k followers",
        "On the latest snapshot on or before the as-of date.",
        {"ratio": FOLLOWING_RATIO, "min followers": f"{FOLLOWING_MIN_FOLLOWERS:,}"},
    ),
    "comment_like_ratio": MetricDefinition(
        "comment/like ratio",
        "comments / likes outside the tier's 1st–99th percentile",
        "Σ comments / Σ likes over the account's window; percentiles per platform and tier over every account "
        f"in the store; groups of fewer than {MIN_TIER_GROUP} accounts are not judged.",
        {"percentiles": "1st–99th", "window": "last 12 posts or 90 days, whichever has more posts"},
    ),
    "score": MetricDefinition(
        "authenticity score",
        "share of the signals evaluated that did not fire",
        "The signals that fired are always listed; a signal the data cannot answer (hidden follower count, too "
        "little history, too few peers) is left out of the share.",
    ),
}


# -- follower spikes -----------------------------------------------------------------------------------------
def _follower_changes(
    con: duckdb.DuckDBPyConnection, filters: Filters, day: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(changes with z > threshold, per account: number of changes that had enough history to be scored)."""
    scope, params = _account_scope(filters)
    # The trailing median and MAD are only needed where z could exceed the threshold. The scale is at least the
    # floor, and the median at least the window's minimum, so a change less than z × floor above the trailing
    # minimum can never score > z: a cheap windowed min and count pick the candidates, and their median and
    # MAD are then computed exactly over their own trailing window (a windowed median over every snapshot of
    # a large roster takes seconds; this takes a fraction).
    params += [day, SPIKE_MIN_HISTORY, SPIKE_Z, SPIKE_MIN_SCALE, SPIKE_MIN_SCALE, SPIKE_Z, SPIKE_MIN_HISTORY]
    frame = con.execute(
        f"""
        WITH acc AS (
            SELECT a.account_id, a.influencer_id, a.platform, a.handle FROM accounts a {scope}
        ),
        snaps AS (
            SELECT s.account_id, s.snapshot_date, s.followers,
                   lag(s.snapshot_date) OVER w AS prev_snapshot_date, lag(s.followers) OVER w AS prev_followers
            FROM account_snapshots s JOIN acc USING (account_id)
            WHERE s.snapshot_date <= ? AND s.followers IS NOT NULL
            WINDOW w AS (PARTITION BY s.account_id ORDER BY s.snapshot_date)
        ),
        changes AS MATERIALIZED (
            SELECT *, followers / prev_followers - 1 AS change,
                   date_diff('day', prev_snapshot_date, snapshot_date) AS gap_days,
                   (followers / prev_followers - 1) / date_diff('day', prev_snapshot_date, snapshot_date)
                       AS change_per_day
            FROM snaps WHERE prev_followers > 0
        ),
        framed AS MATERIALIZED (
            SELECT *, count(*) OVER h AS history_changes, min(change_per_day) OVER h AS trailing_min
            FROM changes
            WINDOW h AS (PARTITION BY account_id ORDER BY snapshot_date
                         RANGE BETWEEN INTERVAL {SPIKE_TRAILING_DAYS} DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING)
        ),
        candidates AS MATERIALIZED (
            SELECT * FROM framed
            WHERE history_changes >= ? AND change_per_day - trailing_min > ? * ? / sqrt(gap_days)
        ),
        lookback AS MATERIALIZED (  -- each candidate's changes of the 60 days before it
            SELECT k.account_id, k.snapshot_date, c.change_per_day AS x
            FROM candidates k JOIN changes c
              ON c.account_id = k.account_id
             AND c.snapshot_date >= k.snapshot_date - INTERVAL {SPIKE_TRAILING_DAYS} DAYS
             AND c.snapshot_date < k.snapshot_date
        ),
        medians AS (
            SELECT account_id, snapshot_date, median(x) AS trailing_median FROM lookback GROUP BY ALL
        ),
        mads AS (
            SELECT t.account_id, t.snapshot_date, m.trailing_median,
                   median(abs(t.x - m.trailing_median)) AS trailing_mad
            FROM lookback t JOIN medians m USING (account_id, snapshot_date)
            GROUP BY ALL
        ),
        z AS (
            SELECT k.*, m.trailing_median, m.trailing_mad,
                   (k.change_per_day - m.trailing_median)
                       / greatest({MAD_SCALE} * m.trailing_mad, ? / sqrt(k.gap_days)) AS robust_z
            FROM candidates k JOIN mads m USING (account_id, snapshot_date)
        )
        SELECT 'jump' AS kind, z.account_id, acc.influencer_id, acc.platform, acc.handle, z.prev_snapshot_date,
               z.snapshot_date, z.prev_followers, z.followers, z.change, z.change_per_day, z.trailing_median,
               z.trailing_mad, z.history_changes, z.robust_z, NULL::BIGINT AS scored_changes
        FROM z JOIN acc USING (account_id) WHERE z.robust_z > ?
        UNION ALL
        SELECT 'account', account_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               count(*) FILTER (WHERE history_changes >= ?)
        FROM framed GROUP BY account_id
        """,  # noqa: S608 - scope from Filters.where with ? parameters; constants are module settings
        params,
    ).pl()
    jumps = frame.filter(pl.col("kind") == "jump").drop("kind", "scored_changes")
    if filters.start is not None:
        jumps = jumps.filter(pl.col("snapshot_date") >= filters.start)
    scored = frame.filter(pl.col("kind") == "account").select("account_id", "scored_changes")
    return jumps.sort("account_id", "snapshot_date"), scored


def _engagement_around(con: duckdb.DuckDBPyConnection, jumps: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Add, per jump, the engagement of the posts around it and before it, and whether it rose with followers.

    Only posts up to the as-of ``day`` count, like everywhere else.
    """
    evidence_schema = {
        "posts_around": pl.Int64,
        "interactions_around": pl.Float64,
        "posts_before": pl.Int64,
        "interactions_before": pl.Float64,
    }
    if jumps.is_empty():
        empty = jumps.with_columns(
            *(pl.lit(None, dtype=t).alias(c) for c, t in evidence_schema.items()),
            engagement_lift=pl.lit(None, dtype=pl.Float64),
            engagement_rose=pl.lit(None, dtype=pl.Boolean),
            reason=pl.lit(None, dtype=pl.String),
        )
        return empty
    jumps = jumps.with_row_index("jump_id").with_columns(
        around_from=pl.col("prev_snapshot_date") + pl.duration(days=1 - ENGAGEMENT_AROUND_DAYS),
        around_to=pl.col("snapshot_date") + pl.duration(days=ENGAGEMENT_AROUND_DAYS),
    )
    jumps = jumps.with_columns(before_from=pl.col("around_from") - pl.duration(days=ENGAGEMENT_BASELINE_DAYS))
    accounts = jumps["account_id"].unique().to_list()
    posts = con.execute(
        """
        SELECT account_id, CAST(posted_at AS DATE) AS post_date, likes + comments AS interactions
        FROM posts
        WHERE list_contains(?, account_id) AND posted_at < ? AND likes IS NOT NULL AND comments IS NOT NULL
        """,
        [accounts, dt.datetime.combine(day + dt.timedelta(days=1), dt.time())],
    ).pl()
    pairs = jumps.select("jump_id", "account_id", "around_from", "around_to", "before_from").join(
        posts, on="account_id", how="inner"
    )
    around = pl.col("post_date").is_between(pl.col("around_from"), pl.col("around_to"))
    before = (pl.col("post_date") >= pl.col("before_from")) & (pl.col("post_date") < pl.col("around_from"))
    stats = pairs.group_by("jump_id").agg(
        posts_around=around.sum().cast(pl.Int64),
        interactions_around=pl.col("interactions").filter(around).mean(),
        posts_before=before.sum().cast(pl.Int64),
        interactions_before=pl.col("interactions").filter(before).mean(),
    )
    out = jumps.join(stats, on="jump_id", how="left").with_columns(
        pl.col("posts_around", "posts_before").fill_null(0),
        pl.col("interactions_around", "interactions_before").cast(pl.Float64),
    )
    lift = pl.when(pl.col("interactions_before") > 0).then(
        pl.col("interactions_around") / pl.col("interactions_before") - 1.0
    )
    out = out.with_columns(engagement_lift=lift).with_columns(
        engagement_rose=(
            (pl.col("engagement_lift") >= ENGAGEMENT_FOLLOW_SHARE * pl.col("change"))
            & pl.col("engagement_lift").is_not_null()
        ).fill_null(False),
    )
    reason = (
        pl.when(pl.col("posts_around") == 0)
        .then(pl.lit(f"no posts within ±{ENGAGEMENT_AROUND_DAYS} days of the jump: engagement did not rise"))
        .when(pl.col("engagement_lift").is_null())
        .then(pl.lit(f"no posts with engagement in the {ENGAGEMENT_BASELINE_DAYS} days before to compare"))
        .otherwise(
            pl.format(
                "likes + comments per post {}{} % while followers rose {} %",
                pl.when(pl.col("engagement_lift") >= 0).then(pl.lit("+")).otherwise(pl.lit("")),
                (pl.col("engagement_lift") * 100).round(1),
                (pl.col("change") * 100).round(1),
            )
        )
    )
    return out.with_columns(reason=reason).drop("jump_id", "around_from", "around_to", "before_from")


def follower_jumps(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Every follower jump with robust z > 4, with the engagement around it and ``flagged`` (did not follow).

    Jumps whose engagement rose with them are kept (``flagged`` false) so a page can show why a jump was let go.
    """
    day = resolve_as_of(con, filters, as_of)
    jumps, _ = _follower_changes(con, filters, day)
    return _engagement_around(con, jumps, day).with_columns(flagged=~pl.col("engagement_rose"))


def follower_spikes(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """The rows that trigger the follower-spike signal: jumps with z > 4 that engagement did not follow."""
    return follower_jumps(con, filters, as_of=as_of).filter(pl.col("flagged"))


# -- account-level signals --------------------------------------------------------------------------------------
def _tier_groups(metrics: pl.DataFrame) -> pl.DataFrame:
    """Per platform × tier over every account: peers and the percentiles the signals compare with."""
    return (
        metrics.filter(pl.col("tier").is_not_null())
        .group_by("platform", "tier")
        .agg(
            er_peers=pl.col("er_median").count().cast(pl.Int64),
            er_p10=pl.col("er_median").quantile(BELOW_TIER_QUANTILE, interpolation="linear"),
            cl_peers=pl.col("comments_per_like").count().cast(pl.Int64),
            cl_p01=pl.col("comments_per_like").quantile(COMMENT_LIKE_QUANTILES[0], interpolation="linear"),
            cl_p99=pl.col("comments_per_like").quantile(COMMENT_LIKE_QUANTILES[1], interpolation="linear"),
        )
    )


def _account_columns() -> list[str]:
    return ["influencer_id", "account_id", "platform", "handle", "followers", "followers_date", "tier"]


_following_per_follower = pl.when(pl.col("followers") > 0).then(pl.col("following") / pl.col("followers"))
# True / False where both counts are known (and followers > 0), NULL otherwise
_following_flag = pl.when(pl.col("following_per_follower").is_not_null()).then(
    (pl.col("followers") > FOLLOWING_MIN_FOLLOWERS) & (pl.col("following_per_follower") > FOLLOWING_RATIO)
)


def _judge_accounts(scoped: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Per account: each account-level signal as True (fired), False (checked, fine) or NULL (not evaluable)."""
    judged = scoped.join(groups, on=["platform", "tier"], how="left")
    below_ok = (pl.col("er_peers") >= MIN_TIER_GROUP) & pl.col("er_median").is_not_null()
    cl_ok = (pl.col("cl_peers") >= MIN_TIER_GROUP) & pl.col("comments_per_like").is_not_null()
    return judged.with_columns(following_per_follower=_following_per_follower).with_columns(
        engagement_below_tier=pl.when(below_ok).then(pl.col("er_median") < pl.col("er_p10")),
        comment_like_ratio=pl.when(cl_ok).then(
            (pl.col("comments_per_like") < pl.col("cl_p01"))
            | (pl.col("comments_per_like") > pl.col("cl_p99"))
        ),
        following_ratio=_following_flag,
    )


def _metrics_for(
    con: duckdb.DuckDBPyConnection, filters: Filters, day: dt.date, rate_card: RateCard | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every account's metrics, for the percentiles; the accounts in scope, judged)."""
    # peers: every account in the store over the same dates; the other filters only choose who is judged
    everyone = account_metrics(  # no ER intervals: the signals use medians and percentiles only
        con,
        Filters(start=filters.start, end=filters.end),
        as_of=day,
        rate_card=rate_card,
        with_interval=False,
    )
    where, params = _account_scope(filters)
    scope = con.execute(f"SELECT a.account_id FROM accounts a {where}", params).pl()  # noqa: S608
    judged = _judge_accounts(everyone.join(scope, on="account_id", how="semi"), _tier_groups(everyone))
    return everyone, judged


def engagement_below_tier(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
) -> pl.DataFrame:
    """Accounts whose ER by followers is below the 10th percentile of their platform × tier peers."""
    day = resolve_as_of(con, filters, as_of)
    _, judged = _metrics_for(con, filters, day, rate_card)
    return _below_tier_evidence(judged)


def _below_tier_evidence(judged: pl.DataFrame) -> pl.DataFrame:
    return judged.filter(pl.col("engagement_below_tier").fill_null(False)).select(
        *_account_columns(), "posts_window", "er_median", "er_p10", "er_peers"
    )


def following_ratio(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Accounts with more than 5,000 followers that follow more accounts than follow them."""
    day = resolve_as_of(con, filters, as_of)
    accounts = _account_followers(con, filters, day)
    judged = accounts.with_columns(following_per_follower=_following_per_follower).with_columns(
        following_ratio=_following_flag
    )
    return _following_evidence(judged)


def _following_evidence(judged: pl.DataFrame) -> pl.DataFrame:
    return judged.filter(pl.col("following_ratio").fill_null(False)).select(
        *_account_columns(), "following", "following_per_follower"
    )


def comment_like_ratio(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
) -> pl.DataFrame:
    """Accounts whose comments per like fall outside the 1st–99th percentile of their platform × tier peers."""
    day = resolve_as_of(con, filters, as_of)
    _, judged = _metrics_for(con, filters, day, rate_card)
    return _comment_like_evidence(judged)


def _comment_like_evidence(judged: pl.DataFrame) -> pl.DataFrame:
    return judged.filter(pl.col("comment_like_ratio").fill_null(False)).select(
        *_account_columns(),
        "posts_window",
        "likes_window",
        "comments_window",
        "comments_per_like",
        "cl_p01",
        "cl_p99",
        "cl_peers",
    )


# -- the report -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthenticityReport:
    """Signals per account and per influencer, the score, and the evidence rows of every signal."""

    as_of: dt.date
    accounts: pl.DataFrame  # one row per account: each signal True / False / NULL, score, fired
    influencers: pl.DataFrame  # one row per influencer: a signal fires when any account fires it
    evidence: dict[str, pl.DataFrame] = field(default_factory=dict)  # signal -> the rows that triggered it
    follower_jumps: pl.DataFrame | None = None  # every z > 4 jump, including those engagement explained


def score_signals(frame: pl.DataFrame) -> pl.DataFrame:
    """Add signals_evaluated, signals_flagged, fired (names, in SIGNALS order) and score from the signal columns."""
    evaluated = pl.sum_horizontal(*(pl.col(s).is_not_null().cast(pl.Int32) for s in SIGNALS))
    flagged = pl.sum_horizontal(*(pl.col(s).fill_null(False).cast(pl.Int32) for s in SIGNALS))
    fired = pl.concat_list(
        *(
            pl.when(pl.col(s).fill_null(False))
            .then(pl.lit([s]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
            for s in SIGNALS
        )
    )
    return frame.with_columns(signals_evaluated=evaluated, signals_flagged=flagged, fired=fired).with_columns(
        score=pl.when(pl.col("signals_evaluated") > 0).then(
            1.0 - pl.col("signals_flagged") / pl.col("signals_evaluated")
        )
    )


def authenticity_report(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    as_of: dt.date | None = None,
    rate_card: RateCard | None = None,
) -> AuthenticityReport:
    """Every signal for every account and influencer in scope, with the score and the evidence frames."""
    day = resolve_as_of(con, filters, as_of)
    _, judged = _metrics_for(con, filters, day, rate_card)
    jumps_raw, scored_changes = _follower_changes(con, filters, day)
    jumps = _engagement_around(con, jumps_raw, day).with_columns(flagged=~pl.col("engagement_rose"))
    spikes = jumps.filter(pl.col("flagged"))
    spiked_accounts = spikes.select("account_id").unique().with_columns(_spiked=pl.lit(True))

    accounts = (
        judged.join(scored_changes, on="account_id", how="left")
        .join(spiked_accounts, on="account_id", how="left")
        .with_columns(
            follower_spike=pl.when(pl.col("_spiked").fill_null(False))
            .then(True)
            .when(pl.col("scored_changes").fill_null(0) > 0)
            .then(False)
        )
    )
    accounts = score_signals(
        accounts.select(*_account_columns(), "following", "er_median", "comments_per_like", *SIGNALS)
    ).sort("influencer_id", "account_id")

    names = con.execute("SELECT influencer_id, name FROM influencers").pl()
    any_true = {
        s: pl.when(pl.col(s).fill_null(False).any())
        .then(True)
        .when(pl.col(s).is_not_null().any())
        .then(False)
        for s in SIGNALS
    }
    influencers = score_signals(
        accounts.group_by("influencer_id")
        .agg(
            accounts=pl.len().cast(pl.Int64),
            accounts_flagged=(pl.col("signals_flagged") > 0).sum().cast(pl.Int64),
            **any_true,
        )
        .join(names, on="influencer_id", how="left")
        .select("influencer_id", "name", "accounts", "accounts_flagged", *SIGNALS)
    ).sort("influencer_id")

    evidence = {
        "follower_spike": spikes,
        "engagement_below_tier": _below_tier_evidence(judged),
        "following_ratio": _following_evidence(judged),
        "comment_like_ratio": _comment_like_evidence(judged),
    }
    return AuthenticityReport(
        as_of=day, accounts=accounts, influencers=influencers, evidence=evidence, follower_jumps=jumps
    )


__all__ = [
    "DEFINITIONS",
    "SIGNALS",
    "SIGNAL_LABELS",
    "TIER_LABELS",
    "AuthenticityReport",
    "authenticity_report",
    "comment_like_ratio",
    "engagement_below_tier",
    "follower_jumps",
    "follower_spikes",
    "following_ratio",
    "score_signals",
]
