"""Audience voice: what commenters say under an influencer's posts, and how much of it is real.

Every figure is computed from the ``comments`` table (migration 7: text, language guess, VADER compound score,
pseudonymous author key) joined to the posts it sits under, and every one comes with the rows behind it:

* **sentiment** — shares of positive / neutral / negative among the comments *scored* (models.sentiment:
  VADER, English and emoji only), the count not scored shown apart; per week, per post; the most positive
  and most negative comments to read.
* **comment quality** (:func:`quality_signals`) — near-duplicate comments, emoji-only or very short comments,
  and commenters who turn up under most posts (engagement pods); each flagged above a stated threshold and
  shown with the comments that triggered it.
* **logged interactions** (:func:`interaction_sentiment`) — VADER over the summaries the team logged, beside
  the sentiment they logged by hand.

Pure functions over a :class:`~models.store.Store` and Polars frames; no Streamlit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from models.filters import Filters, MetricDefinition
from models.sentiment import DEFINITION as SENTIMENT_DEFINITION
from models.sentiment import SHARE_DEFINITION, label_expr, score_texts
from models.store import Store

# -- thresholds of the comment-quality signals (shown on screen with each signal) -------------------------------
DUPLICATE_SHARE_FLAG = 0.20  # of comments, in near-duplicate groups of 3 or more
DUPLICATE_MIN_GROUP = 3
DUPLICATE_MIN_WORDS = (
    3  # shorter comments ("love it", "❤️") repeat naturally: the low-effort signal covers them
)
LOW_EFFORT_SHARE_FLAG = 0.35  # emoji-only or at most SHORT_WORDS words
SHORT_WORDS = 2
POD_MIN_POSTS = 5  # a pod needs enough posts to tell
POD_POST_SHARE = 0.6  # a commenter under ≥ 60 % of the posts that have comments
POD_COMMENT_SHARE_FLAG = 0.10  # flag when their comments are ≥ 10 % of all comments
MIN_COMMENTS = 20  # fewer comments than this: signals shown but never flagged

COMMENT_COLUMNS = {
    "comment_id": pl.Int64,
    "post_id": pl.Int64,
    "published_at": pl.Datetime("us"),
    "text": pl.String,
    "like_count": pl.Int64,
    "language": pl.String,
    "sentiment": pl.Float64,
    "author_key": pl.String,
    "posted_at": pl.Datetime("us"),
    "caption": pl.String,
    "url": pl.String,
    "is_sponsored": pl.Boolean,
    "platform": pl.String,
    "handle": pl.String,
}

DEFINITIONS: dict[str, MetricDefinition] = {
    "sentiment": SENTIMENT_DEFINITION,
    "shares": SHARE_DEFINITION,
    "mean": MetricDefinition(
        "mean sentiment", "mean of the VADER compound scores of the comments scored", "−1 .. 1; 0 is neutral."
    ),
    "duplicates": MetricDefinition(
        "near-duplicate comments",
        f"comments whose normalised text (lower case, letters and emoji only, repeated characters collapsed) "
        f"is shared by ≥ {DUPLICATE_MIN_GROUP} comments of ≥ {DUPLICATE_MIN_WORDS} words ÷ all comments",
        f"Flagged above {DUPLICATE_SHARE_FLAG:.0%} with at least {MIN_COMMENTS} comments. Bots and pods paste "
        "the same few lines; real audiences rarely repeat each other word for word.",
    ),
    "low_effort": MetricDefinition(
        "emoji-only and very short comments",
        f"comments that are only emoji or have at most {SHORT_WORDS} words ÷ all comments",
        f"Flagged above {LOW_EFFORT_SHARE_FLAG:.0%} with at least {MIN_COMMENTS} comments.",
    ),
    "pods": MetricDefinition(
        "repeat commenters (pods)",
        f"comments by commenters present under ≥ {POD_POST_SHARE:.0%} of the posts with comments ÷ all comments",
        f"Needs ≥ {POD_MIN_POSTS} posts with comments; flagged above {POD_COMMENT_SHARE_FLAG:.0%}. Commenters are "
        "known only by a keyed hash of their platform id, never by name.",
    ),
}


def _where_influencer(influencer_id: int, filters: Filters) -> tuple[str, list[object]]:
    scope = Filters(start=filters.start, end=filters.end, platforms=filters.platforms)
    where, params = scope.where({"time": "c.published_at", "platform": "a.platform"})
    return where + " AND a.influencer_id = ?", [*params, influencer_id]


def influencer_comments(store: Store, influencer_id: int, filters: Filters) -> pl.DataFrame:
    """Every comment under the influencer's posts published in the filters' dates, with its post and label.

    Only the dates (and platforms) of ``filters`` apply: an audience's voice belongs to the influencer, not to
    a brand. Comments are dated by when they were written, not when the post went up.
    """
    where, params = _where_influencer(influencer_id, filters)
    frame = store.query(
        f"""
        SELECT c.comment_id, c.post_id, c.published_at, c.text, c.like_count, c.language, c.sentiment,
               c.author_key, p.posted_at, p.caption, p.url, p.is_sponsored, a.platform, a.handle
        FROM comments c
        JOIN posts p USING (post_id)
        JOIN accounts a ON a.account_id = p.account_id
        {where}
        ORDER BY c.published_at
        """,  # noqa: S608
        params,
    )
    if frame.is_empty():
        frame = pl.DataFrame(schema=COMMENT_COLUMNS)
    return frame.cast(COMMENT_COLUMNS).with_columns(label=label_expr("sentiment"))


@dataclass(frozen=True)
class VoiceSummary:
    comments: int
    scored: int
    positive: int
    neutral: int
    negative: int
    mean_sentiment: float | None
    posts: int
    commenters: int
    languages: pl.DataFrame  # language, comments, share

    @property
    def not_scored(self) -> int:
        return self.comments - self.scored

    def share(self, label: str) -> float | None:
        count = {"positive": self.positive, "neutral": self.neutral, "negative": self.negative}[label]
        return count / self.scored if self.scored else None

    @property
    def scored_share(self) -> float | None:
        return self.scored / self.comments if self.comments else None


def voice_summary(comments: pl.DataFrame) -> VoiceSummary:
    """Counts and shares of the labels, the mean score, and the languages of ``comments``."""
    labels = comments["label"].value_counts() if comments.height else pl.DataFrame({"label": [], "count": []})
    counts = dict(zip(labels["label"].to_list(), labels["count"].to_list(), strict=True))
    scored = comments.filter(pl.col("sentiment").is_not_null())
    languages = (
        comments.group_by("language")
        .agg(comments=pl.len())
        .with_columns(share=pl.col("comments") / max(1, comments.height))
        .sort(["comments", "language"], descending=[True, False])
    )
    return VoiceSummary(
        comments=comments.height,
        scored=scored.height,
        positive=counts.get("positive", 0),
        neutral=counts.get("neutral", 0),
        negative=counts.get("negative", 0),
        mean_sentiment=scored["sentiment"].mean() if scored.height else None,  # type: ignore[arg-type]
        posts=comments["post_id"].n_unique(),
        commenters=comments["author_key"].drop_nulls().n_unique(),
        languages=languages,
    )


def sentiment_over_time(comments: pl.DataFrame, every: str = "1w") -> pl.DataFrame:
    """Per period (weeks start on Monday): comments, scored, each label's count and share, mean score."""
    if comments.is_empty():
        return pl.DataFrame(
            schema={
                "period": pl.Datetime("us"),
                "comments": pl.UInt32,
                "scored": pl.UInt32,
                "positive": pl.UInt32,
                "neutral": pl.UInt32,
                "negative": pl.UInt32,
                "share_positive": pl.Float64,
                "share_negative": pl.Float64,
                "mean_sentiment": pl.Float64,
            }
        )
    label = pl.col("label")
    return (
        comments.sort("published_at")
        .group_by_dynamic("published_at", every=every)
        .agg(
            comments=pl.len(),
            scored=pl.col("sentiment").is_not_null().sum().cast(pl.UInt32),
            positive=(label == "positive").sum().cast(pl.UInt32),
            neutral=(label == "neutral").sum().cast(pl.UInt32),
            negative=(label == "negative").sum().cast(pl.UInt32),
            mean_sentiment=pl.col("sentiment").mean(),
        )
        .rename({"published_at": "period"})
        .with_columns(
            share_positive=pl.when(pl.col("scored") > 0).then(pl.col("positive") / pl.col("scored")),
            share_negative=pl.when(pl.col("scored") > 0).then(pl.col("negative") / pl.col("scored")),
        )
        .select(
            "period",
            "comments",
            "scored",
            "positive",
            "neutral",
            "negative",
            "share_positive",
            "share_negative",
            "mean_sentiment",
        )
    )


def top_comments(comments: pl.DataFrame, label: str, n: int = 5) -> pl.DataFrame:
    """The ``n`` most clearly ``label`` comments (by score, then likes), with their post, to read verbatim.

    Near-duplicates (same :func:`normalise_comment` key) are shown once, with ``copies`` saying how many there
    are, so a pod's pasted praise does not fill the list."""
    descending = label != "negative"
    rows = comments.filter(pl.col("label") == label).with_columns(
        key=pl.col("text").map_elements(normalise_comment, return_dtype=pl.String)
    )
    return (
        rows.with_columns(copies=pl.len().over("key"))
        .sort(
            ["sentiment", "like_count", "published_at"], descending=[descending, True, True], nulls_last=True
        )
        .unique("key", keep="first", maintain_order=True)
        .head(n)
        .select("published_at", "text", "copies", "sentiment", "like_count", "platform", "caption", "url")
    )


def per_post(comments: pl.DataFrame) -> pl.DataFrame:
    """Per post: comments read, scored, share positive / negative, mean score; newest post first."""
    label = pl.col("label")
    return (
        comments.group_by("post_id")
        .agg(
            posted_at=pl.col("posted_at").first(),
            platform=pl.col("platform").first(),
            caption=pl.col("caption").first(),
            url=pl.col("url").first(),
            sponsored=pl.col("is_sponsored").first(),
            comments=pl.len(),
            scored=pl.col("sentiment").is_not_null().sum(),
            positive=(label == "positive").sum(),
            negative=(label == "negative").sum(),
            mean_sentiment=pl.col("sentiment").mean(),
        )
        .with_columns(
            share_positive=pl.when(pl.col("scored") > 0).then(pl.col("positive") / pl.col("scored")),
            share_negative=pl.when(pl.col("scored") > 0).then(pl.col("negative") / pl.col("scored")),
        )
        .sort("posted_at", descending=True)
    )


# -- comment quality ------------------------------------------------------------------------------------------
_REPEATS = re.compile(r"(.)\1+")


def normalise_comment(text: str | None) -> str:
    """The near-duplicate key: lower case, letters and emoji only (spaces, digits, punctuation dropped), runs of
    one character collapsed — so "Great post!! 🔥🔥" and "great post 🔥" are the same."""
    if not text:
        return ""
    kept = "".join(
        c
        for c in unicodedata.normalize("NFKC", text.lower())
        if c.isalpha() or unicodedata.category(c) == "So"
    )
    return _REPEATS.sub(r"\1", kept)


def is_emoji_only(text: str | None) -> bool:
    if not text or not text.strip():
        return False
    chars = [c for c in text if not c.isspace() and c not in "\ufe0f\u200d"]
    return (
        bool(chars)
        and all(unicodedata.category(c) in ("So", "Sk") or c in "!?.," for c in chars)
        and any(unicodedata.category(c) == "So" for c in chars)
    )


def word_count(text: str | None) -> int:
    return len(re.findall(r"[^\W_]+", text or "", re.UNICODE))


@dataclass(frozen=True)
class QualitySignal:
    key: str
    name: str
    value: float | None  # the share, None when there is nothing to measure
    threshold: float
    flagged: bool
    summary: str  # one sentence: what was found
    definition: MetricDefinition
    evidence: pl.DataFrame = field(default_factory=pl.DataFrame)  # the comments that triggered it


def quality_signals(comments: pl.DataFrame) -> list[QualitySignal]:
    """Near-duplicates, low-effort comments and pods, each with its share, threshold and evidence rows."""
    total = comments.height
    enough = total >= MIN_COMMENTS
    base = comments.select(
        pl.col("published_at").cast(pl.Datetime("us")),
        *(pl.col(c).cast(pl.String) for c in ("text", "author_key", "caption", "url")),
        pl.col("post_id").cast(pl.Int64),
    ).with_columns(
        key=pl.col("text").map_elements(normalise_comment, return_dtype=pl.String),
        emoji_only=pl.col("text").map_elements(is_emoji_only, return_dtype=pl.Boolean),
        words=pl.col("text").map_elements(word_count, return_dtype=pl.Int64),
    )
    signals: list[QualitySignal] = []

    # near-duplicates
    groups = (
        base.filter((pl.col("key") != "") & (pl.col("words") >= DUPLICATE_MIN_WORDS))
        .group_by("key")
        .agg(copies=pl.len(), posts=pl.col("post_id").n_unique())
    )
    dup_keys = groups.filter(pl.col("copies") >= DUPLICATE_MIN_GROUP)
    dup_rows = (
        base.filter(pl.col("words") >= DUPLICATE_MIN_WORDS)
        .join(dup_keys, on="key")
        .sort(["copies", "key", "published_at"], descending=[True, False, False])
    )
    dup_share = dup_rows.height / total if total else None
    signals.append(
        QualitySignal(
            "duplicates",
            "Near-duplicate comments",
            dup_share,
            DUPLICATE_SHARE_FLAG,
            bool(enough and dup_share is not None and dup_share > DUPLICATE_SHARE_FLAG),
            (
                f"{dup_rows.height:,} of {total:,} comments repeat one of {dup_keys.height:,} texts "
                f"{DUPLICATE_MIN_GROUP}+ times."
                if total
                else "No comments to check."
            ),
            DEFINITIONS["duplicates"],
            dup_rows.select("published_at", "text", "copies", "author_key", "caption", "url"),
        )
    )

    # emoji-only and very short
    low = base.filter(pl.col("emoji_only") | (pl.col("words") <= SHORT_WORDS))
    low_share = low.height / total if total else None
    emoji_n = int(base["emoji_only"].sum()) if total else 0
    signals.append(
        QualitySignal(
            "low_effort",
            "Emoji-only and very short comments",
            low_share,
            LOW_EFFORT_SHARE_FLAG,
            bool(enough and low_share is not None and low_share > LOW_EFFORT_SHARE_FLAG),
            (
                f"{low.height:,} of {total:,} comments are emoji only ({emoji_n:,}) or at most {SHORT_WORDS} words."
                if total
                else "No comments to check."
            ),
            DEFINITIONS["low_effort"],
            low.with_columns(kind=pl.when("emoji_only").then(pl.lit("emoji only")).otherwise(pl.lit("short")))
            .select("published_at", "text", "kind", "caption", "url")
            .sort("published_at", descending=True),
        )
    )

    # pods: the same commenters under most posts
    posts_with_comments = base["post_id"].n_unique()
    authors = (
        base.filter(pl.col("author_key").is_not_null())
        .group_by("author_key")
        .agg(posts=pl.col("post_id").n_unique(), comments=pl.len())
        .with_columns(post_share=pl.col("posts") / max(1, posts_with_comments))
    )
    regulars = (
        authors.filter(pl.col("post_share") >= POD_POST_SHARE)
        if posts_with_comments >= POD_MIN_POSTS
        else authors.clear()
    )
    pod_rows = base.join(regulars.select("author_key", "post_share"), on="author_key")
    pod_share = pod_rows.height / total if total else None
    signals.append(
        QualitySignal(
            "pods",
            "Same commenters under most posts (pods)",
            pod_share,
            POD_COMMENT_SHARE_FLAG,
            bool(enough and pod_share is not None and pod_share > POD_COMMENT_SHARE_FLAG),
            (
                f"Only {posts_with_comments} post(s) with comments: at least {POD_MIN_POSTS} are needed to tell."
                if posts_with_comments < POD_MIN_POSTS
                else f"{regulars.height:,} commenter(s) under ≥ {POD_POST_SHARE:.0%} of {posts_with_comments:,} posts "
                f"wrote {pod_rows.height:,} of {total:,} comments."
            ),
            DEFINITIONS["pods"],
            pod_rows.with_columns(commenter=pl.col("author_key").str.slice(0, 8))
            .select("commenter", "post_share", "published_at", "text", "caption", "url")
            .sort(["commenter", "published_at"]),
        )
    )
    return signals


# -- logged interactions ------------------------------------------------------------------------------------------
def interaction_sentiment(store: Store, influencer_id: int, filters: Filters) -> pl.DataFrame:
    """The team's logged contacts with this influencer: the sentiment logged by hand beside VADER over the
    summary text. Team notes are taken as English unless they read as another language (then None)."""
    scope = Filters(start=filters.start, end=filters.end, brand_ids=filters.brand_ids)
    where, params = scope.where({"time": "i.occurred_at", "brand": "i.brand_id"})
    frame = store.query(
        f"""
        SELECT i.occurred_at, b.name AS brand, i.channel, i.direction, i.summary, i.sentiment AS logged
        FROM interactions i LEFT JOIN brands b USING (brand_id)
        {where} AND i.influencer_id = ?
        ORDER BY i.occurred_at DESC
        """,  # noqa: S608
        [*params, influencer_id],
    )
    if frame.is_empty():
        return frame.with_columns(text_score=pl.lit(None, pl.Float64), text_label=pl.lit(None, pl.String))
    scored = score_texts(frame["summary"].to_list(), assume_english=True)
    return frame.with_columns(text_score=scored["sentiment"]).with_columns(
        text_label=label_expr("text_score")
    )
