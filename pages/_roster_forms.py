"""The Roster page's roster actions: add an influencer from a profile URL or handle, tag several at once,
merge two duplicates. Each form writes from its submit callback through models.roster (validated, audited)
via :func:`pages._roster_parts.write`.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from models import roster
from models.schema import PLATFORMS
from pages import _roster_parts as parts
from pages import _shared as shared
from pages._roster_parts import value


def _add() -> None:
    parts.write(
        "roster_add",
        roster.add_influencer,
        value("roster_add_profile", ""),
        platform=value("roster_add_platform"),
        name=value("roster_add_name") or None,
        niche=value("roster_add_niche"),
        country=value("roster_add_country"),
        owner=value("roster_add_owner"),
        tags=value("roster_add_tags"),
        message=lambda added: f"Added {added.name} ({added.profile.platform} @{added.profile.handle}).",
        select=lambda added: {"roster_influencer": added.influencer_id},
    )


def add_form() -> None:
    title = "Add an influencer from a profile URL or handle"
    with st.expander(title, icon=":material/person_add:", expanded=parts.has_error("roster_add")):
        parts.form_error("roster_add")
        with st.form("roster_add"):
            st.text_input(
                "Profile URL or @handle",
                placeholder="https://www.instagram.com/name/",
                key="roster_add_profile",
            )
            left, right = st.columns(2)
            left.selectbox(
                "Platform (for a bare @handle)",
                [None, *PLATFORMS],
                format_func=lambda p: "From the URL" if p is None else p,
                key="roster_add_platform",
            )
            right.text_input("Name", placeholder="Defaults to the handle", key="roster_add_name")
            left.text_input("Niche", key="roster_add_niche")
            right.text_input("Country (ISO code)", max_chars=2, key="roster_add_country")
            left.text_input("Owner", key="roster_add_owner")
            right.text_input("Tags (comma-separated)", key="roster_add_tags")
            st.form_submit_button("Add to roster", type="primary", on_click=_add)


def _bulk_tag(shown: list[int]) -> None:
    ids = shown if value("roster_bulk_all") else value("roster_bulk_ids", [])
    remove = value("roster_bulk_action") == "Remove the tags"
    parts.write(
        "roster_bulk",
        roster.bulk_tag,
        ids,
        value("roster_bulk_tags", ""),
        remove=remove,
        message=lambda n: f"Tags {'removed from' if remove else 'added to'} {n} influencer(s).",
    )


def bulk_tag_form(rows: pl.DataFrame, choices: pl.DataFrame) -> None:
    shown = rows["influencer_id"].to_list()
    labels = dict(
        choices.filter(pl.col("influencer_id").is_in(shown)).select("influencer_id", "label").iter_rows()
    )
    title = "Tag several influencers at once"
    with st.expander(title, icon=":material/sell:", expanded=parts.has_error("roster_bulk")):
        parts.form_error("roster_bulk")
        with st.form("roster_bulk"):
            st.checkbox(f"All {rows.height} influencers in the table above", key="roster_bulk_all")
            st.multiselect(
                "Or these influencers", list(labels), format_func=labels.get, key="roster_bulk_ids"
            )
            st.text_input("Tags (comma-separated)", key="roster_bulk_tags")
            st.radio("Action", ["Add the tags", "Remove the tags"], horizontal=True, key="roster_bulk_action")
            st.form_submit_button("Apply", on_click=_bulk_tag, args=(shown,))


def _merge() -> None:
    keep, drop = value("roster_keep"), value("roster_drop")
    if keep is None or drop is None or not value("roster_merge_sure"):
        st.session_state["roster_merge_error"] = "Choose both influencers and tick the confirmation to merge."
        return
    parts.write(
        "roster_merge",
        roster.merge_influencers,
        keep,
        drop,
        message=lambda report: report.describe(),
        select=lambda report: {"roster_influencer": report.survivor_id, "roster_drop": None},
    )


def merge_form(choices: pl.DataFrame) -> None:
    labels = dict(zip(choices["influencer_id"], choices["label"], strict=True))
    for key in ("roster_keep", "roster_drop"):
        parts.keep_choice(key, list(labels))
    with st.expander(
        "Merge two duplicates", icon=":material/merge:", expanded=parts.has_error("roster_merge")
    ):
        parts.form_error("roster_merge")
        with st.form("roster_merge"):
            st.caption(
                "Accounts (with their posts), deals (with deliverables, codes and clicks) and interactions move "
                "to the influencer you keep; the other one is deleted. One audited step."
            )
            st.selectbox("Keep", list(labels), format_func=labels.get, index=None, key="roster_keep")
            st.selectbox(
                "Merge into it and delete",
                list(labels),
                format_func=labels.get,
                index=None,
                key="roster_drop",
            )
            st.checkbox(
                "I understand the second influencer is deleted after the merge", key="roster_merge_sure"
            )
            st.form_submit_button("Merge", on_click=_merge)


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this helper as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
