"""Campaigns: the campaign list, and one campaign in detail, for campaign managers.

The list shows the campaigns of the sidebar's brands that run at some point in its date range; the detail
shows the selected campaign's whole run: KPIs, conversions and revenue per day with the posts marked,
cumulative revenue against spend, the funnel, lift, the per-influencer table (sortable, CSV), promo-code
leakage with its evidence (read when a flagged code is opened), deliverables, and the shareable report.
Every number comes from models.campaigns through models.report.campaign_detail under the attribution model
in use, whose window and precedence can be changed here (that re-attributes the whole history). Definitions
sit behind each (?) and at the bottom.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from pages import _campaigns_parts as parts
from pages import _lookalikes as lookalikes
from pages import _shared as shared

shared.leave_legacy_pages_mode()


def empty_workspace(path: str) -> None:
    st.info(
        "**This workspace is empty.** Load the demo workspace (brands, campaigns, deals, posts and a year of "
        f"orders) with\n\n```\ntriad demo --db {path}\n```\n\nthen reload this page.",
        icon=":material/inventory_2:",
    )


def no_campaigns(filters: shared.Filters) -> None:
    st.info(
        f"**No campaign of {shared.brand_names(filters)} runs between {filters.start:%d %b %Y} and "
        f"{filters.end:%d %b %Y}.** Widen the date range or choose other brands in the sidebar. A campaign is "
        "listed once it has at least one deal: add influencers to it from the Roster page.",
        icon=":material/filter_alt_off:",
    )


def render() -> None:
    filters = shared.current_filters()
    path, version = shared.cache_key()
    st.title("Campaigns")
    workspace = shared.load_workspace(path, version)
    if not workspace.has_data:
        empty_workspace(workspace.path)
        return
    model, stored = parts.load_model_in_use(path, version)
    brands = shared.brand_names(filters)
    st.caption(
        f"{brands[:1].upper() + brands[1:]} · campaigns running at some point between "
        f"{filters.start:%d %b %Y} and {filters.end:%d %b %Y} · results over each campaign's whole run · "
        f"attribution: {model.label}."
    )
    parts.attribution_settings(path, model, stored)
    with st.spinner("Loading the campaigns…"):
        summary = parts.load_campaign_list(path, version, filters)
    if summary.is_empty():
        no_campaigns(filters)
        parts.definitions(model)
        return
    brand_names = {b.brand_id: b.name for b in shared.load_brands(path, version)}
    campaign_id = parts.campaign_list(summary, brand_names)

    with st.spinner("Loading the campaign…"):
        detail = parts.load_detail(path, version, campaign_id, dt.datetime.now(dt.UTC).date())
    st.divider()
    parts.header(detail)
    parts.conversion_charts(detail)
    parts.lift_section(detail)
    parts.influencer_section(detail)
    lookalikes.campaign_lookalikes(path, version, detail)
    parts.leakage_section(detail, path, version)
    parts.deliverables_section(detail)
    parts.report_downloads(detail, path)
    parts.definitions(model)


with shared.store_errors():
    render()
