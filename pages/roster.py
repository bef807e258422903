"""Roster: the agency's influencers in one searchable table with inline edits, the deal pipeline, and one
influencer's contact history, contracts and deliverables.

Every number comes from models.roster (through the cached loaders in pages/_roster_parts.py); every write
goes through models.roster's validated, audited functions.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from models import roster
from models.formatting import MISSING, fmt_number
from models.schema import DEAL_STAGES
from pages import _lookalikes as lookalikes
from pages import _roster_forms as forms
from pages import _roster_parts as parts
from pages import _shared as shared
from pages._roster_detail import detail_tab

shared.leave_legacy_pages_mode()


def roster_query(options: dict[str, list[str]]) -> roster.RosterQuery:
    search = st.text_input("Search", placeholder="Name, @handle, e-mail, owner, notes…", key="roster_search")
    picks: dict[str, tuple[str, ...]] = {}
    labels = {
        "platforms": "Platform",
        "tiers": "Follower tier",
        "niches": "Niche",
        "countries": "Country",
        "tags": "Tag",
        "owners": "Owner",
        "stages": "Pipeline stage",
    }
    columns = st.columns(4) + st.columns(4)
    for column, (name, label) in zip(columns, labels.items(), strict=False):
        with column:
            picks[name] = tuple(st.multiselect(label, options[name], key=f"roster_{name}", placeholder="Any"))
    with columns[-1]:
        contact = st.selectbox(
            "Last contact",
            list(roster.LAST_CONTACT_CHOICES),
            key="roster_contact",
            format_func=roster.LAST_CONTACT_CHOICES.get,
        )
    return roster.RosterQuery(search=search, last_contact=contact, **picks)


def kpi_row(rows: pl.DataFrame, total: int, overdue: int) -> None:
    cards = (
        (
            "Influencers",
            f"{fmt_number(rows.height)} of {fmt_number(total)}",
            "Influencers in the table / in scope.",
        ),
        ("Open deals", fmt_number(rows["open_deals"].sum()), parts.definition("open_deals")),
        (
            "Not contacted in 30 days",
            fmt_number(roster.filter_roster(rows, roster.RosterQuery(last_contact="over30")).height),
            parts.definition("last_contact"),
        ),
        ("Overdue deliverables", fmt_number(overdue), parts.definition("overdue")),
    )
    for column, (label, value, help_text) in zip(st.columns(4), cards, strict=True):
        column.metric(label, value, help=help_text, border=True)


def roster_tab(full: pl.DataFrame, overdue: pl.DataFrame, choices: pl.DataFrame) -> None:
    options = roster.roster_options(full)
    rows = roster.filter_roster(full, roster_query(options))
    shown_ids = set(rows["influencer_id"].to_list())
    kpi_row(rows, full.height, overdue.filter(pl.col("influencer_id").is_in(shown_ids)).height)
    if full.is_empty():
        if not choices.is_empty():  # (an empty roster is explained above the tabs)
            st.info(
                "No influencer has a deal with the selected brands yet. Clear the brand filter in the sidebar to "
                "see the whole roster, or add an influencer to one of their campaigns.",
                icon=":material/group_add:",
            )
    elif rows.is_empty():
        st.warning(
            "No influencer matches these filters. Clear the search or a filter above.",
            icon=":material/filter_alt_off:",
        )
    else:
        key = parts.editor_key(rows)
        currency = rows["emv_currency"].drop_nulls().first() or "USD"
        writable = shared.can_write()
        (
            st.data_editor if writable else st.dataframe
        )(  # brand viewers read; the store refuses their writes too
            parts.display_frame(rows),
            key=key,
            hide_index=True,
            width="stretch",
            height=420,
            column_config=parts.column_config(options, currency),
            **({"disabled": False} if writable else {}),
        )
        parts.form_error("roster_editor")
        edits = parts.pending_edits(rows, st.session_state.get(key))
        save, discard, download = st.columns([1, 1, 2])
        if writable:
            save.button(
                f"Save {len(edits)} edited row(s)",
                key="roster_save",
                type="primary",
                disabled=not edits,
                on_click=parts.save_edits,
                args=(rows, key),
            )
            discard.button(
                "Discard edits", key="roster_discard", disabled=not edits, on_click=parts.reset_editor
            )
        download.download_button(
            "Download table (CSV)",
            roster.roster_csv(rows),
            file_name="roster.csv",
            mime="text/csv",
            icon=":material/download:",
            key="roster_csv",
        )
        st.caption(
            f"Metrics as of {rows['as_of'].first():%d %b %Y}; stage, contact and health as of today. "
            + (
                "Edit tags, owner, stage or notes in the table, then save; unsaved edits are dropped when "
                "the filters change."
                if writable
                else "Read-only: your account can view this brand's creators; the agency edits them."
            )
        )
    if shared.can_write():
        forms.add_form()
        forms.bulk_tag_form(rows, choices)
        forms.merge_form(choices)


def pipeline_tab(path: str, version: tuple[int, ...], filters: shared.Filters) -> None:
    campaigns = parts.load_campaigns(path, version, filters)
    names = {
        r["campaign_id"]: f"{r['name']} · {r['brand']} · {r['status']}"
        for r in campaigns.iter_rows(named=True)
    }
    options = [None, *names]
    parts.keep_choice("roster_campaign", options)
    campaign_id = st.selectbox(
        "Campaign",
        options,
        key="roster_campaign",
        format_func=lambda c: (
            f"All campaigns of {shared.brand_names(filters)} in the date range" if c is None else names[c]
        ),
    )
    pipe = parts.load_pipeline(path, version, filters, campaign_id)
    if pipe.deals.is_empty():
        st.info(
            "No deals here yet. Add an influencer to a campaign from the Influencer detail tab, or pick another "
            "campaign or a wider date range.",
            icon=":material/view_kanban:",
        )
        return
    st.markdown(
        "**Deals by stage** · bars: number of deals; labels: their fees per currency",
        help=parts.definition("pipeline_fees"),
    )
    st.plotly_chart(
        parts.pipeline_figure(pipe.by_stage),
        theme=None,
        key="roster_pipeline_chart",
        config={"displayModeBar": False},
    )
    table = pipe.deals.select(
        pl.col("influencer").alias("Influencer"),
        pl.col("campaign").alias("Campaign"),
        pl.col("brand").alias("Brand"),
        pl.col("stage").alias("Stage"),
        pl.Series("Fee", parts.money_text(pipe.deals, "fee")),
        pl.col("promo_codes").fill_null(MISSING).alias("Promo code"),
        pl.col("contract_start").alias("Contract start"),
        pl.col("contract_end").alias("Contract end"),
    )
    st.container(key="roster_pipeline_deals").dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.DateColumn(format="YYYY-MM-DD") for c in ("Contract start", "Contract end")
        },
    )
    labels = {
        r["deal_id"]: f"{r['influencer']} · {r['campaign']} ({r['stage']})"
        for r in pipe.deals.iter_rows(named=True)
    }
    if not shared.can_write():
        return
    parts.form_error("roster_stage")
    parts.keep_choice("roster_stage_deal", list(labels))
    with st.form("roster_stage"):
        left, right = st.columns([3, 1])
        left.selectbox("Deal", list(labels), format_func=labels.get, key="roster_stage_deal")
        right.selectbox("New stage", DEAL_STAGES, key="roster_stage_new")
        st.form_submit_button("Change stage", on_click=_change_stage, args=(labels,))


def _change_stage(labels: dict[int, str]) -> None:
    deal_id, stage = parts.value("roster_stage_deal"), parts.value("roster_stage_new")
    if deal_id is None:
        return
    parts.write(
        "roster_stage",
        roster.change_deal_stage,
        deal_id,
        stage,
        message=lambda changed: f"{labels[deal_id]} → {stage}." if changed else "The deal is already there.",
    )


def render() -> None:
    filters = shared.current_filters()
    path, version = shared.cache_key()
    parts.show_flash()
    st.title("Roster")
    with st.spinner("Loading the roster…"):
        full = parts.load_roster(path, version, filters)
        choices = parts.load_choices(path, version)
        overdue = parts.load_deliverables(path, version, None, filters).filter(pl.col("overdue"))
    st.caption(
        f"{shared.brand_names(filters).capitalize()} · {fmt_number(full.height)} influencers in scope"
        + ("" if filters.brand_ids is None else " (those with a deal with these brands)")
    )
    if choices.is_empty():
        workspace = shared.load_workspace(path, version)
        st.info(
            f"**The roster is empty.** Add an influencer below, or load the demo workspace with "
            f"`triad demo --db {workspace.path}` and reload.",
            icon=":material/inventory_2:",
        )
    influencers, pipeline, detail = st.tabs(["Influencers", "Pipeline", "Influencer detail"])
    with influencers:
        roster_tab(full, overdue, choices)
    with pipeline:
        pipeline_tab(path, version, filters)
    with detail:
        detail_tab(path, version, filters, full, choices)
    lookalikes.roster_lookalikes(
        path, version, choices.select("influencer_id", pl.col("label").alias("name")), filters.end
    )


with shared.store_errors():
    render()
