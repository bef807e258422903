"""The Data & sync screen's numbers: connector runs, their per-account outcomes, and each account's freshness.

Runs come from ``sync_runs`` (connectors write one per run; ``details`` JSON carries accounts ok/failed,
quota units and requests, and one entry per account). Freshness is when an account was last synced
(``sync_state.last_synced_at`` of its platform connector) or, for accounts no sync has touched (the demo,
imports), its latest follower snapshot. Pure functions over a store or a connection; no Streamlit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from models.schema import PLATFORMS
from models.store import Store

Source = Store | duckdb.DuckDBPyConnection

SOCIAL_CONNECTORS = PLATFORMS  # youtube, instagram, tiktok, x, twitch: one connector per platform
CONNECTOR_LABELS = {
    "youtube": "YouTube",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": "X",
    "twitch": "Twitch",
}
STATUS_LABELS = {
    "succeeded": "✅ succeeded",
    "partial": "⚠️ partial",
    "failed": "❌ failed",
    "running": "⏳ running",
}
RUN_STATUSES = ("running", "succeeded", "partial", "failed")
FRESH_DAYS = 1  # synced within a day: fresh
STALE_DAYS = 7  # within a week: stale; older: old
FRESHNESS_ORDER = ("fresh", "stale", "old", "never")

DEFINITIONS = {
    "freshness": (
        f"Fresh: synced within {FRESH_DAYS} day; stale: within {STALE_DAYS} days; old: longer ago; never: "
        "no sync and no follower snapshot yet. Accounts no connector has synced count from their latest "
        "follower snapshot."
    ),
    "rows_written": "Rows a run inserted or changed (accounts, snapshots, posts); a re-run with nothing new writes 0.",
    "quota_units": "YouTube Data API quota units the run spent (10,000 a day by default per Google Cloud project).",
}

_RUN_SCHEMA = {
    "run_id": pl.Int64,
    "connector": pl.String,
    "target": pl.String,
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "duration_s": pl.Float64,
    "status": pl.String,
    "rows_written": pl.Int64,
    "accounts_ok": pl.Int64,
    "accounts_failed": pl.Int64,
    "quota_units": pl.Int64,
    "requests": pl.Int64,
    "message": pl.String,
}


@contextlib.contextmanager
def _cursor(source: Source) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(source, Store):
        with source.connect() as cur:
            yield cur
    else:
        yield source


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def sync_runs(
    source: Source,
    *,
    connectors: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 200,
) -> pl.DataFrame:
    """The latest runs, newest first, with the counts their ``details`` hold (NULL when a run kept none)."""
    with _cursor(source) as cur:
        frame = cur.execute(
            """
            SELECT run_id, connector, target, started_at, finished_at,
                   epoch(finished_at) - epoch(started_at) AS duration_s,
                   status, rows_written,
                   TRY_CAST(details ->> 'accounts_ok' AS BIGINT) AS accounts_ok,
                   TRY_CAST(details ->> 'accounts_failed' AS BIGINT) AS accounts_failed,
                   TRY_CAST(details ->> 'quota_units' AS BIGINT) AS quota_units,
                   TRY_CAST(details ->> 'requests' AS BIGINT) AS requests,
                   message
            FROM sync_runs
            WHERE ($connectors::VARCHAR[] IS NULL OR list_contains($connectors::VARCHAR[], connector))
              AND ($statuses::VARCHAR[] IS NULL OR list_contains($statuses::VARCHAR[], status))
            ORDER BY started_at DESC, run_id DESC
            LIMIT $limit
            """,
            {
                "connectors": None if connectors is None else list(connectors),
                "statuses": None if statuses is None else list(statuses),
                "limit": limit,
            },
        ).pl()
    return frame.cast(_RUN_SCHEMA)  # type: ignore[arg-type]


def connector_overview(source: Source, *, now: dt.datetime | None = None) -> pl.DataFrame:
    """One row per connector that has run, plus every social connector that never has.

    Columns: connector, last_status, last_started_at, last_finished_at, last_success_at, runs_7d,
    failed_7d, rows_7d, last_message.
    """
    now = now or _now()
    with _cursor(source) as cur:
        ran = cur.execute(
            """
            SELECT connector,
                   arg_max(status, started_at) AS last_status,
                   max(started_at) AS last_started_at,
                   arg_max(finished_at, started_at) AS last_finished_at,
                   max(finished_at) FILTER (WHERE status = 'succeeded') AS last_success_at,
                   count(*) FILTER (WHERE started_at >= $since) AS runs_7d,
                   count(*) FILTER (WHERE started_at >= $since AND status IN ('failed', 'partial')) AS failed_7d,
                   coalesce(sum(rows_written) FILTER (WHERE started_at >= $since), 0) AS rows_7d,
                   arg_max(message, started_at) AS last_message
            FROM sync_runs GROUP BY connector
            """,
            {"since": now - dt.timedelta(days=7)},
        ).pl()
    missing = [c for c in SOCIAL_CONNECTORS if c not in set(ran["connector"].to_list())]
    never = pl.DataFrame({"connector": missing}, schema={"connector": pl.String})
    frame = pl.concat([ran, never], how="diagonal_relaxed")
    return frame.with_columns(
        pl.col("runs_7d", "failed_7d", "rows_7d").fill_null(0).cast(pl.Int64),
        pl.col("last_status").fill_null("never run"),
    ).sort(pl.col("last_started_at").is_null(), "connector")


def run_accounts(source: Source, run_id: int) -> pl.DataFrame:
    """The per-account outcomes a run kept in its details (empty for runs that kept none)."""
    with _cursor(source) as cur:
        row = cur.execute("SELECT details FROM sync_runs WHERE run_id = ?", [run_id]).fetchone()
    schema = {
        "target": pl.String,
        "account_id": pl.Int64,
        "status": pl.String,
        "posts_new": pl.Int64,
        "posts_updated": pl.Int64,
        "rows_written": pl.Int64,
        "created": pl.Boolean,
        "error": pl.String,
    }
    details = json.loads(row[0]) if row and row[0] else {}
    accounts = details.get("accounts") or []
    return pl.DataFrame([{k: a.get(k) for k in schema} for a in accounts], schema=schema)


def account_freshness(
    source: Source, *, platforms: Sequence[str] | None = None, now: dt.datetime | None = None
) -> pl.DataFrame:
    """Every account with when it was last synced, its latest snapshot and post, and a freshness label.

    Columns: account_id, influencer, platform, handle, url, last_synced_at, latest_snapshot, followers,
    latest_post_at, posts, age_days, freshness (fresh | stale | old | never).
    """
    now = now or _now()
    with _cursor(source) as cur:
        frame = cur.execute(
            """
            WITH synced AS (
                SELECT connector AS platform, TRY_CAST(target AS INTEGER) AS account_id,
                       TRY_CAST(state_value AS TIMESTAMP) AS last_synced_at
                FROM sync_state WHERE state_key = 'last_synced_at'
            ),
            snaps AS (
                SELECT account_id, max(snapshot_date) AS latest_snapshot,
                       arg_max(followers, snapshot_date) AS followers
                FROM account_snapshots GROUP BY account_id
            ),
            post_stats AS (
                SELECT account_id, max(posted_at) AS latest_post_at, count(*) AS posts
                FROM posts GROUP BY account_id
            )
            SELECT a.account_id, i.name AS influencer, a.platform, a.handle, a.url,
                   s.last_synced_at, sn.latest_snapshot, sn.followers, p.latest_post_at,
                   coalesce(p.posts, 0) AS posts
            FROM accounts a
            LEFT JOIN influencers i USING (influencer_id)
            LEFT JOIN synced s ON s.platform = a.platform AND s.account_id = a.account_id
            LEFT JOIN snaps sn ON sn.account_id = a.account_id
            LEFT JOIN post_stats p ON p.account_id = a.account_id
            WHERE $platforms::VARCHAR[] IS NULL OR list_contains($platforms::VARCHAR[], a.platform)
            """,
            {"platforms": None if platforms is None else list(platforms)},
        ).pl()
    seen = pl.coalesce(pl.col("last_synced_at"), pl.col("latest_snapshot").cast(pl.Datetime("us")))
    age = (pl.lit(now, dtype=pl.Datetime("us")) - seen).dt.total_seconds() / 86400
    return (
        frame.with_columns(age.alias("age_days"))
        .with_columns(
            pl.when(pl.col("age_days").is_null())
            .then(pl.lit("never"))
            .when(pl.col("age_days") <= FRESH_DAYS)
            .then(pl.lit("fresh"))
            .when(pl.col("age_days") <= STALE_DAYS)
            .then(pl.lit("stale"))
            .otherwise(pl.lit("old"))
            .alias("freshness")
        )
        .sort(
            pl.col("age_days").fill_null(float("inf")), "platform", "handle", descending=[True, False, False]
        )
    )


@dataclass(frozen=True)
class FreshnessSummary:
    total: int
    by_label: dict[str, int]

    @property
    def oldest_first(self) -> list[tuple[str, int]]:
        return [(label, self.by_label.get(label, 0)) for label in FRESHNESS_ORDER]


def freshness_summary(freshness: pl.DataFrame) -> FreshnessSummary:
    counts = dict(freshness.group_by("freshness").len().iter_rows()) if freshness.height else {}
    return FreshnessSummary(total=freshness.height, by_label={k: int(v) for k, v in counts.items()})


def roster_handles(source: Source, platform: str) -> list[str]:
    """The platform's handles in the roster, for the page's account picker."""
    with _cursor(source) as cur:
        rows = cur.execute(
            "SELECT handle FROM accounts WHERE platform = ? ORDER BY lower(handle)", [platform]
        ).fetchall()
    return [r[0] for r in rows]
