"""Profiles: a brand evaluates one influencer — KPIs with their formulas, charts, authenticity evidence,
collaboration history, fit for a brand, and a side-by-side comparison of up to four influencers.

``?influencer=ID`` opens a profile directly. Numbers come from models.profile, models.profile_views,
models.authenticity, models.relationships and models.campaigns through the cached loaders in
pages/_profiles_parts.py; every KPI and chart shows its definition behind the (?) next to it.
"""

from __future__ import annotations

import streamlit as st

from models.rate_card import RateCardError
from pages import _profiles_parts as parts
from pages import _shared as shared
from pages import _voice as voice

shared.leave_legacy_pages_mode()

TAB_KEY = "profiles_tab"


def empty_workspace(path: str) -> None:
    st.info(
        "**No influencers in this workspace yet.** Load the demo workspace with\n\n"
        f"```\ntriad demo --db {path}\n```\n\n"
        "or add influencers on the Roster page, then come back to evaluate them here.",
        icon=":material/person_search:",
    )


def render() -> None:
    filters = shared.current_filters()
    path, version = shared.cache_key()
    st.title("Profiles")
    choices = parts.load_choices(path, version)
    if choices.is_empty():
        empty_workspace(path)
        return
    influencer_id = parts.influencer_picker(choices, filters)
    if influencer_id is None:
        return
    window = parts.window_filters(filters)
    try:
        with st.spinner("Computing the profile and its authenticity signals…"):
            profile = parts.load_profile(path, version, influencer_id, window, parts.rate_card_token())
            report = parts.load_authenticity(path, version, window, (influencer_id,))
    except RateCardError as exc:
        st.error(f"{exc} EMV and prices need a valid rate card.", icon=":material/error:")
        return
    if profile is None:
        st.warning(f"Influencer {influencer_id} is no longer in this workspace. Pick another one.")
        return

    st.caption(
        f"As of **{parts.fmt_day(profile.as_of)}** (the end of the sidebar's date range). Audience figures are the "
        "influencer's own, across all brands; the sidebar's brand sets the fit and the collaboration history. "
        f"{parts.window_text(profile, filters.start)}"
    )
    parts.draw_kpis(parts.kpi_cards(profile, parts.influencer_score(report, influencer_id), filters.start))
    card = profile.rate_card
    st.caption(
        f"EMV and EMV-based prices use the rate card `{card.source}` ({card.currency}); see (?) for its values."
    )
    if profile.window_posts.is_empty():
        st.info(parts.no_posts_message(filters.start, profile.as_of), icon=":material/photo_library:")

    sections = {
        "Charts": lambda: parts.charts_tab(profile, report, filters),
        "Authenticity": lambda: parts.authenticity_tab(report, influencer_id),
        "Voice": lambda: voice.voice_tab(path, version, influencer_id, filters),
        "Collaborations": lambda: parts.collaborations_tab(
            path, version, influencer_id, filters, profile.as_of
        ),
        "Fit": lambda: parts.fit_tab(path, version, influencer_id, filters, profile.as_of),
        "Compare": lambda: parts.compare_tab(path, version, influencer_id, choices, filters),
    }
    # on_change="rerun": only the open tab runs (.open is True/False); were tracking ever off (None), run all
    for tab, name in zip(st.tabs(list(sections), key=TAB_KEY, on_change="rerun"), sections, strict=True):
        if tab.open is not False:
            with tab:
                sections[name]()


with shared.store_errors():
    render()
