"""Comments fetched by the social connectors: the normalised record, how many to read, and the write.

Reading comments costs requests (YouTube: one quota unit per page of 100 threads per video), so a sync reads
them only when asked: ``TRIAD_SYNC_COMMENT_POSTS`` = how many of an account's newest posts (among those the
run fetched) get their comments read (default 0: off), ``TRIAD_SYNC_COMMENT_PAGES`` = pages per post (default
2). Incremental like posts: the account's sync state keeps ``comments_synced_at``; the next run stops paging a
post (newest first) once it reaches comments older than that minus the refresh days.

Commenters are people who never dealt with the agency: the store keeps a keyed hash of the author's platform
id (HMAC-SHA256 with the workspace secret, as for customers; models.privacy), never a handle or display
name. Each comment gets a language guess and a VADER score at write (models.sentiment).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.ids import stable_id
from models.privacy import KEY_HEX_DIGITS, workspace_secret
from models.sentiment import METHOD, score_texts
from models.store import upsert

POSTS_ENV = "TRIAD_SYNC_COMMENT_POSTS"
PAGES_ENV = "TRIAD_SYNC_COMMENT_PAGES"
DEFAULT_PAGES = 2
STATE_KEY = "comments_synced_at"
REFRESH = dt.timedelta(days=7)

COMMENT_FIELDS = ("text", "like_count", "reply_count", "updated_at")
_SCHEMA = {
    "comment_id": pl.Int64,
    "post_id": pl.Int64,
    "platform_comment_id": pl.String,
    "parent_id": pl.Int64,
    "author_key": pl.String,
    "text": pl.String,
    "like_count": pl.Int64,
    "reply_count": pl.Int64,
    "published_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "language": pl.String,
    "sentiment": pl.Float64,
    "sentiment_method": pl.String,
    "fetched_at": pl.Datetime("us"),
}


@dataclass
class Comment:
    platform_comment_id: str
    post_platform_id: str  # the platform's id of the post commented on
    text: str
    published_at: dt.datetime
    author_id: str | None = None  # the platform's author id; hashed before it reaches the store
    like_count: int | None = None
    reply_count: int | None = None
    updated_at: dt.datetime | None = None
    parent_platform_id: str | None = None


@dataclass(frozen=True)
class CommentPlan:
    """How many posts get their comments read, how many pages each, and the incremental cut-off."""

    posts: int
    pages: int
    since: dt.datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.posts > 0 and self.pages > 0

    def wants(self, published_at: dt.datetime | None) -> bool:
        return published_at is not None and (self.since is None or published_at >= self.since)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return max(0, int(raw)) if raw else default
    except ValueError:
        return default


def comment_plan(state: dict[str, str], *, posts: int | None = None, pages: int | None = None) -> CommentPlan:
    """The plan for one account: arguments, else the environment, else off; ``since`` from its state."""
    from connectors.social import parse_timestamp  # late: social imports this module's write

    last = parse_timestamp(state.get(STATE_KEY))
    return CommentPlan(
        posts=_env_int(POSTS_ENV, 0) if posts is None else posts,
        pages=_env_int(PAGES_ENV, DEFAULT_PAGES) if pages is None else pages,
        since=None if last is None else last - REFRESH,
    )


def author_key(secret: bytes, platform: str, author_id: str | None) -> str | None:
    """The pseudonymous key of a commenter (None when the platform did not say who wrote it)."""
    if not author_id:
        return None
    message = f"commenter:{platform}:{author_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:KEY_HEX_DIGITS]


def write_comments(
    cur: duckdb.DuckDBPyConnection,
    platform: str,
    comments: Sequence[Comment],
    fetched_at: dt.datetime,
    store_path: str | os.PathLike[str] | Path,
) -> int:
    """Insert new comments and update those whose text, likes or replies changed; return rows written.

    Comments of posts that are not in the store are dropped (the post is written first in the same
    transaction, so that only happens for posts outside the run's window).
    """
    if not comments:
        return 0
    secret = workspace_secret(store_path)
    frame = pl.DataFrame(
        [
            {
                "comment_id": stable_id("comment", platform, c.platform_comment_id),
                "post_id": stable_id("post", platform, c.post_platform_id),
                "platform_comment_id": c.platform_comment_id,
                "parent_id": None
                if c.parent_platform_id is None
                else stable_id("comment", platform, c.parent_platform_id),
                "author_key": author_key(secret, platform, c.author_id),
                "text": c.text,
                "like_count": c.like_count,
                "reply_count": c.reply_count,
                "published_at": c.published_at,
                "updated_at": c.updated_at,
                "fetched_at": fetched_at,
            }
            for c in comments
        ],
        schema={k: v for k, v in _SCHEMA.items() if k not in ("language", "sentiment", "sentiment_method")},
    ).unique("comment_id", keep="last", maintain_order=True)
    name = f"_incoming_comments_{os.getpid()}"
    cur.register(name, frame.select("comment_id", "post_id").to_arrow())
    try:
        known = f'SELECT DISTINCT i.post_id FROM "{name}" i JOIN posts p USING (post_id)'  # noqa: S608
        known_posts = cur.execute(known).pl()
        existing = cur.execute(
            f'SELECT c.comment_id, c.text, c.like_count, c.reply_count, c.updated_at FROM comments c JOIN "{name}" i '  # noqa: S608
            "USING (comment_id)"
        ).pl()
    finally:
        cur.unregister(name)
    frame = frame.filter(pl.col("post_id").is_in(known_posts["post_id"].to_list()))
    if not existing.is_empty():
        existing = existing.cast({"comment_id": pl.Int64, "updated_at": pl.Datetime("us")})
        joined = frame.join(existing, on="comment_id", how="left", suffix="_old")
        is_new = pl.col("text_old").is_null()
        differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in COMMENT_FIELDS])
        frame = joined.filter(is_new | differs).select(frame.columns)
    if frame.is_empty():
        return 0
    scored = score_texts(frame["text"].to_list())
    frame = frame.with_columns(
        language=scored["language"], sentiment=scored["sentiment"], sentiment_method=pl.lit(METHOD)
    ).select(list(_SCHEMA))
    upsert(cur, "comments", frame, ["comment_id"])
    return frame.height
