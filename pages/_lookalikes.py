"""The Lookalikes panel (Roster and Campaigns pages): rank the roster by similarity to chosen influencers.

Numbers come from models.lookalikes.find_lookalikes through the cached loader below; each result lists the
features that matched. Everything is computed locally (TF-IDF over the roster's own bios and captions).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from models import lookalikes as lk
from models.formatting import MISSING, fmt_number, fmt_pct
from pages import _shared as shared

LIMITS = (10, 20, 50)


@st.cache_data(**shared.CACHE)
def load_lookalikes(
    path: str, version: tuple[int, ...], seed_ids: tuple[int, ...], as_of: dt.date, limit: int
) -> lk.Lookalikes:
    return lk.find_lookalikes(shared._store_at(path), list(seed_ids), as_of=as_of, limit=limit)


def _pct(value: float | None) -> str:
    return fmt_pct(value, digits=0)


def _fmt(column: str, fn, name: str) -> pl.Expr:  # noqa: ANN001 - a formatter from models.formatting
    return pl.col(column).map_elements(fn, return_dtype=pl.String, skip_nulls=False).alias(name)


def result_table(results: pl.DataFrame) -> pl.DataFrame:
    return results.select(
        pl.col("rank").alias("#"),
        pl.col("name").alias("Influencer"),
        _fmt("score", _pct, "Similarity"),
        pl.col("why").alias("Why"),
        pl.col("niche").alias("Niche"),
        pl.col("country").alias("Country"),
        _fmt("followers", fmt_number, "Followers"),
        _fmt("er", lambda v: fmt_pct(v, digits=2), "ER (median)"),
        _fmt("cadence", lambda v: MISSING if v is None else f"{v:.1f}", "Posts / week"),
        _fmt("growth", lambda v: fmt_pct(v, signed=True), "Growth 30 d"),
        _fmt("coverage", _pct, "Features known"),
        ("profiles?influencer=" + pl.col("influencer_id").cast(pl.String)).alias("Profile"),
    )


def lookalikes_panel(
    path: str,
    version: tuple[int, ...],
    *,
    choices: pl.DataFrame,
    default_seeds: list[int],
    as_of: dt.date,
    key: str,
    intro: str,
) -> None:
    """Pick seed influencers (``choices``: influencer_id, name), get the ranked roster with reasons."""
    names = dict(zip(choices["influencer_id"].to_list(), choices["name"].to_list(), strict=True))
    st.caption(intro)
    if not names:
        st.info(
            "No influencers in this workspace yet: add some on the Roster page.", icon=":material/group_add:"
        )
        return
    left, right = st.columns([4, 1])
    with left:
        seeds = st.multiselect(
            "Influencers to match",
            options=list(names),
            default=[s for s in default_seeds if s in names],
            format_func=lambda i: names.get(i, f"influencer {i}"),
            key=f"{key}_seeds",
            placeholder="Choose one or more influencers",
            help=lk.DEFINITION.text(),
        )
    with right:
        limit = st.selectbox("Results", LIMITS, index=0, key=f"{key}_limit")
    if not seeds:
        st.caption("Choose at least one influencer to see the ones most like them.")
        return
    with st.spinner("Comparing the roster…"):
        found = load_lookalikes(path, version, tuple(sorted(seeds)), as_of, int(limit))
    if found.results.is_empty():
        st.info("No other influencer to compare with.", icon=":material/person_off:")
        return
    st.dataframe(
        result_table(found.results),
        hide_index=True,
        width="stretch",
        key=f"{key}_table",
        column_config={
            "Why": st.column_config.TextColumn(width="large"),
            "Profile": st.column_config.LinkColumn(
                display_text="open", help="Opens the influencer's profile"
            ),
        },
    )
    st.caption(
        f"Features as of {found.as_of:%d %b %Y} over the trailing {lk.WINDOW_DAYS} days. A feature unknown on either "
        "side (hidden followers, no posts) is left out and the others re-weighted; 'Features known' says how much "
        "of the weight was known."
    )


@st.cache_data(**shared.CACHE)
def load_influencer_names(path: str, version: tuple[int, ...]) -> pl.DataFrame:
    return lk.influencer_names(shared._store_at(path))


def lazy_expander(label: str, key: str) -> st.delta_generator.DeltaGenerator | None:
    """A switch and, while it is on, a bordered box for the panel (None when off: nothing is computed).

    A switch rather than an expander that reruns on open: such an expander's state changes reran the page
    under a form being submitted elsewhere on it (the roster's add form lost its submit in Chromium).
    """
    on = st.toggle(
        label,
        key=key,
        help="Computed when switched on: it compares the influencers you pick with the roster.",
    )
    return st.container(border=True) if on else None


def campaign_lookalikes(path: str, version: tuple[int, ...], detail) -> None:  # noqa: ANN001 - report.CampaignDetail
    """The Lookalikes panel seeded with the campaign's best performers (by attributed revenue)."""
    box = lazy_expander(
        "Lookalikes of this campaign's best performers", f"campaign_lookalikes_open_{detail.campaign_id}"
    )
    if box is None:
        return
    seeds = lk.best_performers(detail.deals)
    with box:
        intro = (
            "Seeded with the creators whose attributed revenue was highest in this campaign; change the picks to "
            "compare with others."
            if seeds
            else "No creator in this campaign has attributed revenue yet: pick the influencers to match."
        )
        lookalikes_panel(
            path,
            version,
            choices=load_influencer_names(path, version),
            default_seeds=seeds,
            as_of=detail.as_of,
            key=f"campaign_lookalikes_{detail.campaign_id}",
            intro=intro,
        )


def roster_lookalikes(path: str, version: tuple[int, ...], choices: pl.DataFrame, as_of: dt.date) -> None:
    """The Lookalikes panel of the Roster page (``choices``: influencer_id, name)."""
    box = lazy_expander("Lookalikes: find influencers like the ones that work", "roster_lookalikes_open")
    if box is None:
        return
    with box:
        lookalikes_panel(
            path,
            version,
            choices=choices,
            default_seeds=[],
            as_of=as_of,
            key="roster_lookalikes",
            intro="Rank the whole roster by how much each influencer resembles the ones you pick.",
        )
