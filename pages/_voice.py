"""Audience voice on the pages: the Voice tab of a profile and the brand-affinity section of Relationships.

Numbers come from models.comments (sentiment, comment quality, logged interactions) and models.affinity
(organic brand mentions) through the cached loaders below, which take the store's (path, version) first
like every loader. Comment text is user content: it is only ever shown inside st.dataframe cells, which
render text as text, never as Markdown or HTML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from models import affinity
from models import comments as voice
from models.filters import Filters
from models.formatting import MISSING, fmt_number, fmt_pct
from pages import _shared as shared
from pages.theme import COLORS, TEMPLATE, nice_ticks, register

CHART_CONFIG = {"displayModeBar": False}
LABEL_COLORS = {"positive": COLORS[2], "neutral": "#9ca3af", "negative": COLORS[5], "not scored": "#e5e7eb"}


@dataclass(frozen=True)
class VoiceData:
    comments: pl.DataFrame
    summary: voice.VoiceSummary
    weekly: pl.DataFrame
    per_post: pl.DataFrame
    signals: list[voice.QualitySignal]


# -- cached loaders ----------------------------------------------------------------------------------------
@st.cache_data(**shared.CACHE)
def load_voice(path: str, version: tuple[int, ...], influencer_id: int, window: Filters) -> VoiceData:
    comments = voice.influencer_comments(shared._store_at(path), influencer_id, window)
    return VoiceData(
        comments=comments,
        summary=voice.voice_summary(comments),
        weekly=voice.sentiment_over_time(comments),
        per_post=voice.per_post(comments),
        signals=voice.quality_signals(comments),
    )


@st.cache_data(**shared.CACHE)
def load_interactions(
    path: str, version: tuple[int, ...], influencer_id: int, filters: Filters
) -> pl.DataFrame:
    return voice.interaction_sentiment(shared._store_at(path), influencer_id, filters)


@st.cache_data(**shared.CACHE)
def load_affinity(
    path: str, version: tuple[int, ...], filters: Filters, influencer_ids: tuple[int, ...] | None
) -> pl.DataFrame:
    return affinity.brand_affinity(shared._store_at(path), filters, influencer_ids=influencer_ids)


@st.cache_data(**shared.CACHE)
def load_mentions(
    path: str, version: tuple[int, ...], filters: Filters, influencer_ids: tuple[int, ...] | None
) -> pl.DataFrame:
    return affinity.brand_mentions(shared._store_at(path), filters, influencer_ids=influencer_ids)


# -- formatting ----------------------------------------------------------------------------------------------
def _day(value: dt.date | dt.datetime | None) -> str:
    return MISSING if value is None else f"{value:%d %b %Y}"


def _score(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.2f}"


def _fmt(column: str, fn, name: str) -> pl.Expr:  # noqa: ANN001 - a formatter from models.formatting
    return pl.col(column).map_elements(fn, return_dtype=pl.String, skip_nulls=False).alias(name)


COMMENT_COLUMNS = {
    "Comment": st.column_config.TextColumn(width="large"),
    "Post": st.column_config.LinkColumn(display_text="open"),
}


def _comment_table(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.col("text").alias("Comment"),
        _fmt("sentiment", _score, "Score"),
        pl.col("copies").alias("Times"),
        pl.col("like_count").fill_null(0).alias("Likes"),
        _fmt("published_at", _day, "Written"),
        pl.col("url").alias("Post"),
    )


# -- the Voice tab -------------------------------------------------------------------------------------------
def voice_tab(path: str, version: tuple[int, ...], influencer_id: int, filters: Filters) -> None:
    """What the audience says: sentiment KPIs and trend, comments to read, quality flags, brand mentions."""
    window = Filters(start=filters.start, end=filters.end)
    data = load_voice(path, version, influencer_id, window)
    summary = data.summary
    span = (
        f"between {_day(filters.start)} and {_day(filters.end)}"
        if filters.start
        else f"up to {_day(filters.end)}"
    )
    if summary.comments == 0:
        st.info(
            f"**No comments {span}.** Comments come from syncs that read them (set `TRIAD_SYNC_COMMENT_POSTS`, "
            "e.g. to 10, before `triad sync youtube` or `triad sync instagram` for accounts connected to the "
            "agency's app) or from the demo workspace. Widen the date range in the sidebar if there should be some.",
            icon=":material/forum:",
        )
    else:
        _kpis(summary)
        st.caption(
            f"{fmt_number(summary.comments)} comments written {span} under {fmt_number(summary.posts)} posts by "
            f"{fmt_number(summary.commenters)} distinct commenters (known by a keyed hash only). "
            + _language_note(summary)
        )
        _weekly_chart(data.weekly)
        _top_comments(data.comments)
        _quality(data.signals)
        with st.expander("Per post", icon=":material/view_list:"):
            _per_post(data.per_post)
    _mentions_of_influencer(path, version, influencer_id, filters)
    _interactions(path, version, influencer_id, filters)
    with st.expander("Definitions", icon=":material/functions:"):
        for definition in (*voice.DEFINITIONS.values(), *affinity.DEFINITIONS.values()):
            st.caption(definition.text())


def _kpis(summary: voice.VoiceSummary) -> None:
    cards = [
        {
            "label": "Comments read",
            "value": fmt_number(summary.comments),
            "help": f"{fmt_number(summary.scored)} scored ({fmt_pct(summary.scored_share, digits=0)}); "
            f"{fmt_number(summary.not_scored)} not scored (not English). {voice.DEFINITIONS['sentiment'].text()}",
        },
        {
            "label": "Positive",
            "value": fmt_pct(summary.share("positive"), digits=0),
            "help": f"{fmt_number(summary.positive)} of {fmt_number(summary.scored)} scored. "
            + voice.DEFINITIONS["shares"].text(),
        },
        {
            "label": "Negative",
            "value": fmt_pct(summary.share("negative"), digits=0),
            "help": f"{fmt_number(summary.negative)} of {fmt_number(summary.scored)} scored. "
            + voice.DEFINITIONS["shares"].text(),
        },
        {
            "label": "Mean sentiment",
            "value": _score(summary.mean_sentiment),
            "help": voice.DEFINITIONS["mean"].text(),
        },
    ]
    for column, card in zip(st.columns(4), cards, strict=True):
        with column:
            st.metric(**card)


def _language_note(summary: voice.VoiceSummary) -> str:
    if summary.not_scored == 0:
        return "Every comment was scored."
    others = summary.languages.filter(~pl.col("language").is_in(["en", "emoji"]))
    parts = ", ".join(f"{row['language']} {fmt_number(row['comments'])}" for row in others.head(6).to_dicts())
    return (
        f"{fmt_number(summary.not_scored)} comments ({fmt_pct(1 - (summary.scored_share or 0), digits=0)}) are not "
        f"scored: VADER reads English only ({parts})."
    )


def _weekly_chart(weekly: pl.DataFrame) -> None:
    if weekly.is_empty():
        return
    register()
    st.markdown("**Comments per week by sentiment**", help=voice.DEFINITIONS["sentiment"].text())
    fig = go.Figure(layout={"template": TEMPLATE, "height": 300, "barmode": "stack"})
    weekly = weekly.with_columns(not_scored=pl.col("comments") - pl.col("scored"))
    for label, column in (
        ("positive", "positive"),
        ("neutral", "neutral"),
        ("negative", "negative"),
        ("not scored", "not_scored"),
    ):
        fig.add_trace(
            go.Bar(
                x=weekly["period"].to_list(),
                y=weekly[column].to_list(),
                name=label,
                marker={"color": LABEL_COLORS[label]},
                hovertemplate="%{y:,} " + label + "<extra></extra>",
            )
        )
    ticks = nice_ticks(float(weekly["comments"].max() or 0), integer=True)
    fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=[fmt_number(t) for t in ticks])
    fig.update_layout(xaxis_hoverformat="Week of %d %b %Y", showlegend=True)
    st.plotly_chart(fig, theme=None, key="voice_weekly", config=CHART_CONFIG)


def _top_comments(comments: pl.DataFrame) -> None:
    left, right = st.columns(2)
    for column, label, title in (
        (left, "positive", "Most positive comments"),
        (right, "negative", "Most negative comments"),
    ):
        with column:
            st.markdown(
                f"**{title}**", help="Highest (or lowest) VADER score first, then most liked; verbatim."
            )
            rows = voice.top_comments(comments, label, 5)
            if rows.is_empty():
                st.caption(f"No {label} comment among those scored.")
            else:
                st.dataframe(
                    _comment_table(rows), hide_index=True, width="stretch", column_config=COMMENT_COLUMNS
                )


def _quality(signals: list[voice.QualitySignal]) -> None:
    st.markdown(
        "**Comment quality**",
        help="Signals of bought or coordinated comments; each flagged above the threshold shown, with the "
        f"comments that triggered it. Never flagged below {voice.MIN_COMMENTS} comments.",
    )
    for signal in signals:
        value = MISSING if signal.value is None else fmt_pct(signal.value, digits=0)
        state = "flagged" if signal.flagged else "not flagged"
        icon = ":material/warning:" if signal.flagged else ":material/check_circle:"
        title = f"{signal.name}: {value} (flag above {fmt_pct(signal.threshold, digits=0)}) — {state}"
        with st.expander(title, icon=icon, expanded=signal.flagged):
            st.caption(signal.definition.text())
            st.caption(signal.summary)
            if signal.evidence.is_empty():
                st.caption("No comment triggered this signal.")
                continue
            st.dataframe(
                _evidence(signal.key, signal.evidence.head(200)),
                hide_index=True,
                width="stretch",
                column_config=COMMENT_COLUMNS,
            )
            if signal.evidence.height > 200:
                st.caption(f"The first 200 of {fmt_number(signal.evidence.height)} comments.")


def _evidence(key: str, rows: pl.DataFrame) -> pl.DataFrame:
    extra = {
        "duplicates": [pl.col("copies").alias("Copies")],
        "low_effort": [pl.col("kind").alias("Kind")],
        "pods": [
            pl.col("commenter").alias("Commenter"),
            _fmt("post_share", lambda v: fmt_pct(v, digits=0), "Under posts"),
        ],
    }[key]
    return rows.select(
        *extra,
        _fmt("published_at", _day, "Written"),
        pl.col("text").alias("Comment"),
        pl.col("url").alias("Post"),
    )


def _per_post(posts: pl.DataFrame) -> None:
    st.dataframe(
        posts.select(
            _fmt("posted_at", _day, "Posted"),
            pl.col("platform").alias("Platform"),
            pl.col("caption").alias("Caption"),
            pl.when(pl.col("sponsored")).then(pl.lit("sponsored")).otherwise(pl.lit("")).alias("Kind"),
            pl.col("comments").alias("Comments"),
            pl.col("scored").alias("Scored"),
            _fmt("share_positive", lambda v: fmt_pct(v, digits=0), "Positive"),
            _fmt("share_negative", lambda v: fmt_pct(v, digits=0), "Negative"),
            _fmt("mean_sentiment", _score, "Mean score"),
            pl.col("url").alias("Post"),
        ),
        hide_index=True,
        width="stretch",
        column_config={"Post": st.column_config.LinkColumn(display_text="open")},
    )


def _mentions_of_influencer(
    path: str, version: tuple[int, ...], influencer_id: int, filters: Filters
) -> None:
    st.markdown("**Brand mentions**", help=affinity.DEFINITIONS["mention"].text())
    table = load_affinity(path, version, filters, (influencer_id,))
    brands = shared.brand_names(filters)
    if table.is_empty():
        st.caption(f"No caption or comment mentions {brands} {_span(filters)}.")
        return
    st.dataframe(affinity_table(table, with_influencer=False), hide_index=True, width="stretch")
    mentions = load_mentions(path, version, filters, (influencer_id,))
    with st.expander(f"The {fmt_number(mentions.height)} mentions, verbatim", icon=":material/format_quote:"):
        st.dataframe(mention_table(mentions), hide_index=True, width="stretch", column_config=COMMENT_COLUMNS)


def _span(filters: Filters) -> str:
    return (
        f"between {_day(filters.start)} and {_day(filters.end)}"
        if filters.start
        else f"up to {_day(filters.end)}"
    )


def _interactions(path: str, version: tuple[int, ...], influencer_id: int, filters: Filters) -> None:
    st.markdown(
        "**Logged interactions**",
        help="The team's contact log with this influencer (sidebar brands and dates): the sentiment logged by "
        "hand beside VADER over the summary text. " + voice.DEFINITIONS["sentiment"].text(),
    )
    rows = load_interactions(path, version, influencer_id, filters)
    if rows.is_empty():
        st.caption(f"No contact logged with {shared.brand_names(filters)} {_span(filters)}.")
        return
    logged, text = rows["logged"].drop_nulls(), rows["text_score"].drop_nulls()
    st.caption(
        f"{fmt_number(rows.height)} contacts; mean logged sentiment {_score(logged.mean() if logged.len() else None)}, "
        f"mean text score {_score(text.mean() if text.len() else None)} over {fmt_number(text.len())} summaries scored."
    )
    st.dataframe(
        rows.select(
            _fmt("occurred_at", _day, "When"),
            pl.col("brand").alias("Brand"),
            pl.col("channel").alias("Channel"),
            pl.col("direction").alias("Direction"),
            pl.col("summary").alias("Summary"),
            _fmt("logged", _score, "Logged sentiment"),
            _fmt("text_score", _score, "Text score (VADER)"),
            pl.col("text_label").alias("Text label"),
        ),
        hide_index=True,
        width="stretch",
    )


# -- brand affinity (Relationships) ---------------------------------------------------------------------------
def affinity_table(table: pl.DataFrame, *, with_influencer: bool = True) -> pl.DataFrame:
    first = [pl.col("influencer").alias("Influencer")] if with_influencer else []
    return table.select(
        *first,
        pl.col("brand").alias("Brand"),
        pl.col("organic_mentions").alias("Organic mentions"),
        pl.col("caption_mentions").alias("In captions"),
        pl.col("comment_mentions").alias("In comments"),
        _fmt("per_100_posts", lambda v: MISSING if v is None else f"{v:.1f}", "Per 100 posts"),
        _fmt("last_mention", _day, "Last mention"),
        pl.col("days_since_last").alias("Days since"),
        _fmt("mean_sentiment", _score, "Mean sentiment"),
        _fmt("share_positive", lambda v: fmt_pct(v, digits=0), "Positive"),
        _fmt("share_negative", lambda v: fmt_pct(v, digits=0), "Negative"),
        pl.col("prompted_comments").alias("Prompted (under its ads)"),
    )


def mention_table(mentions: pl.DataFrame) -> pl.DataFrame:
    return mentions.select(
        _fmt("mentioned_at", _day, "When"),
        pl.col("influencer").alias("Influencer"),
        pl.col("brand").alias("Brand"),
        pl.col("source").alias("Where"),
        pl.when(pl.col("organic")).then(pl.lit("organic")).otherwise(pl.lit("prompted / paid")).alias("Kind"),
        pl.col("text").alias("Comment"),
        _fmt("sentiment", _score, "Score"),
        pl.col("url").alias("Post"),
    )


def brand_affinity_section(path: str, version: tuple[int, ...], filters: Filters) -> None:
    """Per influencer × brand: organic mentions of the sidebar's brands, with the mentions to read."""
    st.markdown("#### Brand affinity: organic mentions", help=affinity.DEFINITIONS["mention"].text())
    brands = shared.brand_names(filters)
    st.caption(
        f"Who brings up {brands} without being paid to, {_span(filters)}: captions of unsponsored posts and "
        "audience comments outside the brand's own campaigns. " + affinity.DEFINITIONS["rate"].text()
    )
    with st.spinner("Looking for mentions in captions and comments…"):
        table = load_affinity(path, version, filters, None)
    if table.is_empty():
        st.info(
            f"**No caption or comment mentions {brands} {_span(filters)}.** Widen the date range, or sync comments "
            "(`TRIAD_SYNC_COMMENT_POSTS`) so the audience's mentions can be found.",
            icon=":material/record_voice_over:",
        )
        return
    organic = table.filter(pl.col("organic_mentions") > 0)
    st.dataframe(affinity_table(table), hide_index=True, width="stretch", key="affinity_table")
    st.caption(
        f"{fmt_number(organic.height)} influencer–brand pairs with organic mentions; "
        f"{fmt_number(table.height - organic.height)} with prompted mentions only."
    )
    names = {
        (row["influencer_id"], row["brand_id"]): f"{row['influencer']} × {row['brand']}"
        for row in table.to_dicts()
    }
    pair = st.selectbox(
        "Read the mentions of",
        options=list(names),
        format_func=lambda key: names[key],
        key="affinity_pair",
    )
    if pair is not None:
        mentions = load_mentions(path, version, filters, (pair[0],)).filter(pl.col("brand_id") == pair[1])
        st.dataframe(mention_table(mentions), hide_index=True, width="stretch", column_config=COMMENT_COLUMNS)
    with st.expander("Brand affinity definitions", icon=":material/functions:"):
        for definition in affinity.DEFINITIONS.values():
            st.caption(definition.text())
