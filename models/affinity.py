"""Brand affinity: organic mentions of a brand in an influencer's captions and audience comments.

A *mention* is a caption or comment whose text contains one of the brand's names as a whole word, case
ignored: the brand's name ("Lumen Labs"), the name without spaces ("lumenlabs", which also catches @lumenlabs
and #lumenlabs), and its domain's first label ("lumenlabs" of lumenlabs.example). A mention is **organic**
when nobody paid for it: a caption of a post that is not sponsored and not linked to a campaign, or a comment
under a post that is not part of *that brand's* campaigns. Comments under the brand's own sponsored posts are
counted apart ("prompted"), since the ad invited them.

Per influencer × brand: organic mentions (captions, comments), posts in the window (for the rate), the first
and last mention, days since the last one, and the VADER sentiment of the mentions (captions are scored at
read time with models.sentiment, comments carry their stored score).
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from models.filters import Filters, MetricDefinition
from models.sentiment import label_expr, score_texts
from models.store import Store

DEFINITIONS: dict[str, MetricDefinition] = {
    "mention": MetricDefinition(
        "organic brand mention",
        "a caption of an unsponsored post, or a comment under a post outside the brand's campaigns, whose text "
        "contains the brand's name, its name without spaces, or its domain's first label as a whole word",
        "Case is ignored; @name and #name count. Comments under the brand's own sponsored posts are counted "
        "apart as 'prompted'.",
    ),
    "rate": MetricDefinition(
        "organic mentions per 100 posts",
        "organic caption mentions ÷ the influencer's posts in the date range × 100",
        "How often the creator brings the brand up unpaid.",
    ),
    "sentiment": MetricDefinition(
        "mention sentiment",
        "mean VADER compound score of the organic mentions scored (English and emoji only); share positive = "
        "mentions ≥ 0.05 ÷ mentions scored",
    ),
    "recency": MetricDefinition(
        "days since last mention", "the date range's end − the last organic mention's date"
    ),
}

MENTION_SCHEMA = {
    "brand_id": pl.Int32,
    "brand": pl.String,
    "influencer_id": pl.Int32,
    "influencer": pl.String,
    "source": pl.String,  # caption | comment
    "organic": pl.Boolean,
    "mentioned_at": pl.Datetime("us"),
    "text": pl.String,
    "sentiment": pl.Float64,
    "post_id": pl.Int64,
    "url": pl.String,
}

_META = re.compile(r"([\\.^$|?*+()\[\]{}])")


def brand_aliases(name: str, domain: str | None = None) -> list[str]:
    """Lower-case names a brand goes by in text (at least 3 characters each)."""
    base = " ".join(name.lower().split())
    aliases = {base, base.replace(" ", "")}
    if domain:
        host = domain.lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
        aliases.add(host.split("/")[0].split(".")[0])
    return sorted(a for a in aliases if len(a) >= 3)


def mention_pattern(aliases: list[str]) -> str:
    """A regex (Rust regex syntax, as Polars runs it) matching any alias as a whole word in lower-cased text."""
    escaped = "|".join(
        _META.sub(r"\\\1", a).replace(" ", r"\s+") for a in sorted(aliases, key=len, reverse=True)
    )
    return rf"(^|[^\pL\pN])({escaped})($|[^\pL\pN])"


def _brand_patterns(store: Store, brand_ids: tuple[int, ...] | None) -> pl.DataFrame:
    where, params = Filters(brand_ids=brand_ids).where({"brand": "brand_id"})
    brands = store.query(f"SELECT brand_id, name, domain FROM brands {where} ORDER BY brand_id", params)  # noqa: S608
    aliases = [brand_aliases(n, d) for n, d in brands.select("name", "domain").iter_rows()]
    return pl.DataFrame(
        {
            "brand_id": brands["brand_id"].cast(pl.Int32),
            "brand": brands["name"],
            "pattern": [mention_pattern(a) for a in aliases],
            "aliases": aliases,
        },
        schema={
            "brand_id": pl.Int32,
            "brand": pl.String,
            "pattern": pl.String,
            "aliases": pl.List(pl.String),
        },
    )


def _candidate_pattern(aliases: list[str]) -> str:
    """A regex (RE2, as DuckDB runs it) matching lower-cased text that holds any alias's first word: every
    text :func:`mention_pattern` matches does (its words are the alias's, split by whitespace)."""
    words = sorted({a.split()[0] for a in aliases if a.split()}, key=len, reverse=True)
    return "|".join(_META.sub(r"\\\1", w) for w in words) or "$^"


def brand_mentions(
    store: Store,
    filters: Filters,
    *,
    influencer_ids: tuple[int, ...] | None = None,
    score_prompted: bool = True,
) -> pl.DataFrame:
    """Every caption and comment in the date range that mentions one of the filters' brands, with whether it
    is organic, its text verbatim and its sentiment.

    Captions are scored here (comments were scored when stored); ``score_prompted=False`` leaves sponsored
    captions unscored (NULL), for callers that only read organic mentions' sentiment."""
    patterns = _brand_patterns(store, filters.brand_ids)
    if patterns.is_empty():
        return pl.DataFrame(schema=MENTION_SCHEMA)
    scope = Filters(start=filters.start, end=filters.end, influencer_ids=influencer_ids)
    post_where, post_params = scope.where({"time": "p.posted_at", "influencer": "a.influencer_id"})
    comment_where, comment_params = scope.where({"time": "c.published_at", "influencer": "a.influencer_id"})
    # Only texts holding some alias's first word can match (a superset, matched exactly below): DuckDB drops
    # the rest before they are read into Polars — most captions and comments mention no brand.
    maybe = _candidate_pattern(patterns["aliases"].explode().to_list())
    post_where += " AND regexp_matches(lower(p.caption), ?)"
    comment_where += " AND regexp_matches(lower(c.text), ?)"
    post_params.append(maybe)
    comment_params.append(maybe)
    captions = store.query(
        f"""
        SELECT a.influencer_id, i.name AS influencer, 'caption' AS source, p.is_sponsored, p.campaign_id,
               p.posted_at AS mentioned_at, p.caption AS text, CAST(NULL AS DOUBLE) AS sentiment, p.post_id,
               p.url
        FROM posts p
        JOIN accounts a ON a.account_id = p.account_id
        JOIN influencers i ON i.influencer_id = a.influencer_id
        {post_where} AND p.caption IS NOT NULL
        """,  # noqa: S608
        post_params,
    )
    comments = store.query(
        f"""
        SELECT a.influencer_id, i.name AS influencer, 'comment' AS source, p.is_sponsored, p.campaign_id,
               c.published_at AS mentioned_at, c.text, c.sentiment, p.post_id, p.url
        FROM comments c
        JOIN posts p ON p.post_id = c.post_id
        JOIN accounts a ON a.account_id = p.account_id
        JOIN influencers i ON i.influencer_id = a.influencer_id
        {comment_where}
        """,  # noqa: S608
        comment_params,
    )
    campaign_brand = store.query("SELECT campaign_id, brand_id FROM campaigns")
    texts = pl.concat([captions, comments], how="vertical_relaxed").with_columns(
        lowered=pl.col("text").str.to_lowercase()
    )
    found = []
    for brand_id, brand, pattern, _ in patterns.iter_rows():  # one vectorised regex pass per brand
        hits = texts.filter(pl.col("lowered").str.contains(pattern))
        if not hits.is_empty():
            found.append(hits.with_columns(brand_id=pl.lit(brand_id, pl.Int32), brand=pl.lit(brand)))
    if not found:
        return pl.DataFrame(schema=MENTION_SCHEMA)
    frame = (
        pl.concat(found)
        .join(
            campaign_brand.rename({"brand_id": "campaign_brand"}).cast({"campaign_brand": pl.Int32}),
            on="campaign_id",
            how="left",
        )
        .with_columns(
            organic=pl.when(pl.col("source") == "caption")
            .then(~pl.col("is_sponsored") & pl.col("campaign_id").is_null())
            .otherwise(pl.col("campaign_brand").ne_missing(pl.col("brand_id")))
        )
        .select(list(MENTION_SCHEMA))
        .sort("mentioned_at", descending=True)
    )
    if frame.is_empty():
        return pl.DataFrame(schema=MENTION_SCHEMA)
    frame = frame.cast(MENTION_SCHEMA)  # type: ignore[arg-type]
    captions = frame["source"] == "caption"
    if not score_prompted:
        captions = captions & frame["organic"]
    if captions.any():  # captions have no stored score: score them now (comments were scored at ingest)
        scored = score_texts(frame.filter(captions)["text"].to_list())["sentiment"]
        values = frame["sentiment"].to_list()
        for i, s in zip([i for i, c in enumerate(captions.to_list()) if c], scored.to_list(), strict=True):
            values[i] = s
        frame = frame.with_columns(pl.Series("sentiment", values, dtype=pl.Float64))
    return frame.with_columns(label=label_expr("sentiment"))


def brand_affinity(
    store: Store, filters: Filters, *, influencer_ids: tuple[int, ...] | None = None
) -> pl.DataFrame:
    """Per influencer × brand with at least one mention: organic mentions (captions, comments), prompted
    comments and sponsored captions (counted apart), mentions per 100 posts, first/last mention, days since, sentiment; most organic first."""
    mentions = brand_mentions(store, filters, influencer_ids=influencer_ids, score_prompted=False)
    if mentions.is_empty():
        return pl.DataFrame(
            schema={
                "influencer_id": pl.Int32,
                "influencer": pl.String,
                "brand_id": pl.Int32,
                "brand": pl.String,
                "organic_mentions": pl.UInt32,
                "caption_mentions": pl.UInt32,
                "comment_mentions": pl.UInt32,
                "prompted_comments": pl.UInt32,
                "sponsored_captions": pl.UInt32,
                "posts": pl.Int64,
                "per_100_posts": pl.Float64,
                "first_mention": pl.Datetime("us"),
                "last_mention": pl.Datetime("us"),
                "days_since_last": pl.Int64,
                "scored": pl.UInt32,
                "mean_sentiment": pl.Float64,
                "share_positive": pl.Float64,
                "share_negative": pl.Float64,
            }
        )
    organic = pl.col("organic")
    lab = pl.col("label")
    scored = organic & pl.col("sentiment").is_not_null()
    pairs = mentions.group_by("influencer_id", "influencer", "brand_id", "brand").agg(
        organic_mentions=organic.sum().cast(pl.UInt32),
        caption_mentions=(organic & (pl.col("source") == "caption")).sum().cast(pl.UInt32),
        comment_mentions=(organic & (pl.col("source") == "comment")).sum().cast(pl.UInt32),
        prompted_comments=(~organic & (pl.col("source") == "comment")).sum().cast(pl.UInt32),
        sponsored_captions=(~organic & (pl.col("source") == "caption")).sum().cast(pl.UInt32),
        first_mention=pl.col("mentioned_at").filter(organic).min(),
        last_mention=pl.col("mentioned_at").filter(organic).max(),
        scored=scored.sum().cast(pl.UInt32),
        mean_sentiment=pl.col("sentiment").filter(scored).mean(),
        positive=(scored & (lab == "positive")).sum(),
        negative=(scored & (lab == "negative")).sum(),
    )
    posts = _posts_per_influencer(store, filters, pairs["influencer_id"].unique().to_list())
    end = filters.end or dt.datetime.now(dt.UTC).date()
    return (
        pairs.join(posts, on="influencer_id", how="left")
        .with_columns(
            posts=pl.col("posts").fill_null(0),
            share_positive=pl.when(pl.col("scored") > 0).then(pl.col("positive") / pl.col("scored")),
            share_negative=pl.when(pl.col("scored") > 0).then(pl.col("negative") / pl.col("scored")),
            days_since_last=(pl.lit(end) - pl.col("last_mention").dt.date()).dt.total_days(),
        )
        .with_columns(
            per_100_posts=pl.when(pl.col("posts") > 0).then(
                pl.col("caption_mentions") / pl.col("posts") * 100
            )
        )
        .drop("positive", "negative")
        .sort(
            ["organic_mentions", "last_mention", "influencer_id"],
            descending=[True, True, False],
            nulls_last=True,
        )
    )


def _posts_per_influencer(store: Store, filters: Filters, influencer_ids: list[int]) -> pl.DataFrame:
    if not influencer_ids:
        return pl.DataFrame(schema={"influencer_id": pl.Int32, "posts": pl.Int64})
    scope = Filters(start=filters.start, end=filters.end, influencer_ids=tuple(influencer_ids))
    where, params = scope.where({"time": "p.posted_at", "influencer": "a.influencer_id"})
    return store.query(
        f"SELECT a.influencer_id, count(*) AS posts FROM posts p JOIN accounts a USING (account_id) {where} "  # noqa: S608
        "GROUP BY 1",
        params,
    ).cast({"influencer_id": pl.Int32, "posts": pl.Int64})
