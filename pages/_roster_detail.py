"""The Roster page's Influencer detail tab: one creator's contact history (with a form to log an interaction),
contracts and payments, deliverables (overdue ones highlighted), and adding them to a campaign.

Numbers come from models.roster through pages/_roster_parts.py; writes go through its write helper.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from models import roster
from models.attribution import refresh_for_campaign
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.schema import DEAL_STAGES
from pages import _roster_parts as parts
from pages import _shared as shared

OVERDUE_STYLE = "background-color: #fde2e1; color: #7f1d1d"


def detail_tab(
    path: str, version: tuple[int, ...], filters: shared.Filters, full: pl.DataFrame, choices: pl.DataFrame
) -> None:
    labels = dict(zip(choices["influencer_id"], choices["label"], strict=True))
    if not labels:
        st.info("Add an influencer first (Influencers tab).", icon=":material/person_add:")
        return
    parts.keep_choice("roster_influencer", list(labels))
    influencer_id = st.selectbox(
        "Influencer",
        list(labels),
        format_func=labels.get,
        key="roster_influencer",
        placeholder="Choose an influencer",
        index=None,
    )
    if influencer_id is None:
        st.caption("Choose an influencer to see their contact history, contracts and deliverables.")
        return
    row = full.filter(pl.col("influencer_id") == influencer_id)
    if row.height:
        header(row.row(0, named=True))
    else:
        st.caption("Not in the roster's scope (no deal with the selected brands): the metrics are left out.")
    history_section(path, version, filters, influencer_id)
    contracts_section(path, version, filters, influencer_id)
    deliverables_section(path, version, filters, influencer_id)
    if shared.can_write():  # brand viewers read; the store refuses their writes too
        add_to_campaign_form(path, version, filters, influencer_id)
        shortlist_section(path, version, influencer_id)


@st.cache_data(**shared.CACHE)
def load_shortlists(path: str, version: tuple[int, ...], influencer_id: int) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.shortlists_of(cur, influencer_id)


def shortlist_section(path: str, version: tuple[int, ...], influencer_id: int) -> None:
    st.subheader(
        "Brand shortlists",
        help="A brand's viewers see the creators their brand works with (a deal) or has shortlisted here.",
    )
    current = load_shortlists(path, version, influencer_id)
    if current.is_empty():
        st.caption("On no brand's shortlist.")
    else:
        st.dataframe(
            current.select(
                pl.col("brand").alias("Brand"),
                pl.col("added_at").alias("Added (UTC)"),
                pl.col("added_by").alias("By"),
                pl.col("note").alias("Note"),
            ),
            hide_index=True,
            width="stretch",
        )
    brands = {b.brand_id: b.name for b in shared.load_brands(path, version)}
    listed = dict(zip(current["brand_id"].to_list(), current["brand"].to_list(), strict=True))
    parts.form_error("roster_shortlist")
    with st.form("roster_shortlist"):
        left, right = st.columns([1, 2])
        left.selectbox(
            "Brand",
            [b for b in brands if b not in listed],
            format_func=brands.get,
            key="roster_shortlist_brand",
        )
        right.text_input("Note", max_chars=500, key="roster_shortlist_note")
        st.form_submit_button(
            "Add to the brand's shortlist", on_click=_shortlist, args=(influencer_id, brands)
        )
    if listed:
        with st.form("roster_unshortlist", border=False):
            left, right = st.columns([1, 2])
            left.selectbox(
                "Shortlisted by", list(listed), format_func=listed.get, key="roster_unshortlist_brand"
            )
            right.form_submit_button(
                "Remove from that shortlist", on_click=_unshortlist, args=(influencer_id, listed)
            )


def _shortlist(influencer_id: int, brands: dict[int, str]) -> None:
    brand_id = parts.value("roster_shortlist_brand")
    if brand_id is None:
        return
    parts.write(
        "roster_shortlist",
        roster.shortlist,
        influencer_id,
        brand_id=brand_id,
        note=parts.value("roster_shortlist_note"),
        message=lambda added: (
            f"On {brands[brand_id]}'s shortlist." if added else "Already on that shortlist."
        ),
    )


def _unshortlist(influencer_id: int, listed: dict[int, str]) -> None:
    brand_id = parts.value("roster_unshortlist_brand")
    if brand_id is None:
        return
    parts.write(
        "roster_shortlist",
        roster.remove_from_shortlist,
        influencer_id,
        brand_id=brand_id,
        message=lambda removed: f"Removed from {listed[brand_id]}'s shortlist." if removed else "Not on it.",
    )


def header(row: dict) -> None:
    tags = " ".join(f":blue-badge[{t}]" for t in row["tags"]) or "no tags"
    st.markdown(
        f"**{row['name']}** · {row['handles'] or 'no accounts'}  \n"
        f"{row['niche'] or MISSING} · {row['country'] or MISSING} · owner {row['owner'] or MISSING} · "
        f"stage **{row['stage']}** · {tags}"
    )
    days = row["days_since_contact"]
    cards = (
        ("Followers", fmt_number(row["followers"]), parts.definition("followers")),
        ("ER by followers", fmt_pct(row["er_median"]), parts.definition("er_median")),
        ("Relationship health", fmt_number(row["health"]), parts.definition("health")),
        ("Last contact", MISSING if days is None else f"{days} d ago", parts.definition("last_contact")),
    )
    for column, (label, value, help_text) in zip(st.columns(4), cards, strict=True):
        column.metric(label, value, help=help_text, border=True)


def history_section(path: str, version: tuple[int, ...], filters: shared.Filters, influencer_id: int) -> None:
    st.subheader("Contact history", help=parts.definition("last_contact"))
    st.caption(
        "Each mark is one interaction: time across (UTC), channel down; ● outbound, ◆ inbound; colour = "
        "sentiment from −1 (red) to 1 (green)."
    )
    timeline = parts.load_timeline(path, version, influencer_id, filters)
    if timeline.is_empty():
        st.info("No interaction logged yet: log the first one below.", icon=":material/forum:")
    else:
        st.plotly_chart(
            parts.timeline_figure(timeline),
            theme=None,
            key="roster_timeline",
            config={"displayModeBar": False},
        )
        latest = timeline.sort("occurred_at", "interaction_id", descending=True).head(8)
        st.dataframe(
            latest.select(
                pl.col("occurred_at").alias("When (UTC)"),
                pl.col("channel").alias("Channel"),
                pl.col("direction").alias("Direction"),
                pl.col("brand").alias("Brand"),
                pl.col("summary").alias("Summary"),
                pl.col("sentiment").alias("Sentiment"),
                pl.col("logged_by").alias("Logged by"),
            ),
            hide_index=True,
            width="stretch",
            key="roster_recent",
            column_config={
                "When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "Sentiment": st.column_config.NumberColumn(format="%+.2f"),
            },
        )
    brands = {b.brand_id: b.name for b in shared.load_brands(path, version)}
    if filters.brand_ids is not None:
        brands = {k: v for k, v in brands.items() if k in filters.brand_ids}
    if not shared.can_write():
        return
    parts.form_error("roster_log")
    with st.form("roster_log"):
        st.markdown("**Log an interaction**")
        left, middle, right = st.columns(3)
        left.selectbox("Channel", roster.CHANNELS, accept_new_options=True, key="roster_log_channel")
        middle.radio("Direction", roster.DIRECTIONS, index=1, horizontal=True, key="roster_log_direction")
        right.selectbox(
            "About brand",
            [None, *brands],
            format_func=lambda b: "No brand" if b is None else brands[b],
            key="roster_log_brand",
        )
        today = dt.datetime.now(dt.UTC).date()
        left.date_input("Date (UTC)", value=today, max_value=today, key="roster_log_day")
        middle.time_input("Time (UTC)", value=None, key="roster_log_time", help="Empty: now.")
        right.slider(
            "Sentiment",
            -1.0,
            1.0,
            0.0,
            0.1,
            help="−1 negative … 0 neutral … 1 positive",
            key="roster_log_sentiment",
        )
        st.text_area("Summary", placeholder="What was said or agreed", key="roster_log_summary")
        st.form_submit_button("Log interaction", type="primary", on_click=_log, args=(influencer_id,))


def _log(influencer_id: int) -> None:
    day, time = parts.value("roster_log_day"), parts.value("roster_log_time")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    occurred = (
        now
        if day is None or (time is None and day == now.date())
        else dt.datetime.combine(day, time or dt.time(12))
    )
    logged = parts.write(
        "roster_log",
        roster.log_interaction,
        influencer_id,
        channel=parts.value("roster_log_channel") or "",
        direction=parts.value("roster_log_direction"),
        summary=parts.value("roster_log_summary"),
        sentiment=parts.value("roster_log_sentiment"),
        brand_id=parts.value("roster_log_brand"),
        occurred_at=occurred,
        message=lambda _: "Interaction logged.",
    )
    if logged is not None:
        st.session_state["roster_log_summary"] = ""


def contracts_section(
    path: str, version: tuple[int, ...], filters: shared.Filters, influencer_id: int
) -> None:
    st.subheader("Contracts and payments", help=parts.definition("owed"))
    contracts = parts.load_contracts(path, version, influencer_id, filters)
    if contracts.deals.is_empty():
        st.info("No deal yet: add this influencer to a campaign below.", icon=":material/contract:")
        return
    for total in contracts.totals.iter_rows(named=True):
        currency = total["currency"]
        cards = (
            (
                f"Owed under contract · {currency}",
                fmt_money(total["owed"], currency),
                parts.definition("owed"),
            ),
            (f"Due now · {currency}", fmt_money(total["due_now"], currency), parts.definition("owed")),
            (
                f"In progress · {currency}",
                fmt_money(total["in_progress"], currency),
                parts.definition("owed"),
            ),
            (f"Paid · {currency}", MISSING, parts.definition("paid")),
        )
        for column, (label, value, help_text) in zip(st.columns(4), cards, strict=True):
            column.metric(label, value, help=help_text, border=True)
    st.caption(
        "Paid: not recorded. Triad has no payment records yet, so it shows what is owed under contract and what "
        "is due (completed deals) rather than guessing what was paid."
    )
    deals = contracts.deals
    st.dataframe(
        deals.select(
            pl.col("campaign").alias("Campaign"),
            pl.col("brand").alias("Brand"),
            pl.col("stage").alias("Stage"),
            pl.Series("Fee", parts.money_text(deals, "fee")),
            pl.Series("Commission", parts.money_text(deals, "commission")),
            pl.Series("Owed", parts.money_text(deals, "owed")),
            pl.col("payment_status").alias("Payment"),
            pl.col("promo_codes").alias("Promo code"),
            pl.col("contract_start").alias("Contract start"),
            pl.col("contract_end").alias("Contract end"),
        ),
        hide_index=True,
        width="stretch",
        key="roster_contracts",
    )


def deliverables_section(
    path: str, version: tuple[int, ...], filters: shared.Filters, influencer_id: int
) -> None:
    st.subheader("Deliverables", help=parts.definition("overdue"))
    work = parts.load_deliverables(path, version, influencer_id, filters)
    if work.is_empty():
        st.caption("No deliverables: they are added with a contract.")
        return
    overdue = work["overdue"].sum()
    if overdue:
        st.warning(f"{overdue} deliverable(s) overdue (highlighted).", icon=":material/schedule:")
    table = work.select(
        pl.col("campaign").alias("Campaign"),
        pl.col("type").alias("Type"),
        pl.col("due_date").alias("Due"),
        pl.col("status").alias("Status"),
        pl.col("days_overdue").alias("Days overdue"),
        pl.col("delivered_at").alias("Delivered (UTC)"),
        pl.col("post_url").alias("Post"),
    ).to_pandas()
    flags = work["overdue"].to_list()
    styled = table.style.apply(lambda r: [OVERDUE_STYLE if flags[r.name] else ""] * len(r), axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        key="roster_deliverables",
        column_config={
            "Post": st.column_config.LinkColumn(display_text="open"),
            "Delivered (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD"),
            "Due": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "Days overdue": st.column_config.NumberColumn(format="%d d"),
        },
    )
    labels = {
        r[
            "deliverable_id"
        ]: f"{r['type']} · {r['campaign']} · due {parts.when(r['due_date'])} ({r['status']})"
        for r in work.iter_rows(named=True)
    }
    if not shared.can_write():
        return
    parts.form_error("roster_deliverable")
    parts.keep_choice("roster_deliverable_id", list(labels))
    with st.form("roster_deliverable"):
        left, right = st.columns([3, 1])
        left.selectbox("Deliverable", list(labels), format_func=labels.get, key="roster_deliverable_id")
        right.selectbox("Status", roster.DELIVERABLE_STATUSES, key="roster_deliverable_status")
        st.form_submit_button("Update status", on_click=_mark)


def _mark() -> None:
    deliverable_id = parts.value("roster_deliverable_id")
    if deliverable_id is None:
        return
    parts.write(
        "roster_deliverable",
        roster.set_deliverable_status,
        deliverable_id,
        parts.value("roster_deliverable_status"),
        message=lambda changed: (
            "Deliverable updated." if changed else "The deliverable already has that status."
        ),
    )


def add_to_campaign_form(
    path: str, version: tuple[int, ...], filters: shared.Filters, influencer_id: int
) -> None:
    st.subheader("Add to a campaign")
    campaigns = parts.load_campaigns(path, version, filters)
    if campaigns.is_empty():
        st.caption("No campaign for the selected brands yet.")
        return
    names = {
        r["campaign_id"]: f"{r['name']} · {r['brand']} · {r['status']}"
        for r in campaigns.iter_rows(named=True)
    }
    parts.form_error("roster_add_deal")
    parts.keep_choice("roster_deal_campaign", list(names))
    with st.form("roster_add_deal"):
        left, middle, right = st.columns(3)
        left.selectbox("Campaign", list(names), format_func=names.get, key="roster_deal_campaign")
        middle.selectbox("Stage", DEAL_STAGES, index=0, key="roster_deal_stage")
        right.number_input(
            "Fee (campaign currency)", min_value=0.0, value=0.0, step=50.0, key="roster_deal_fee"
        )
        left.text_input(
            "Promo code (optional)",
            help="Unique within the brand; stored upper-case.",
            key="roster_deal_code",
        )
        middle.number_input(
            "Code discount %",
            min_value=0.0,
            max_value=100.0,
            value=10.0,
            step=5.0,
            key="roster_deal_discount",
        )
        right.number_input(
            "Commission rate",
            min_value=0.0,
            max_value=1.0,
            value=0.0,
            step=0.05,
            help="Share of attributed revenue: 0.10 = 10 %.",
            key="roster_deal_commission",
        )
        left.text_input("utm_campaign", placeholder="Default: the campaign's", key="roster_deal_utm_campaign")
        middle.text_input(
            "utm_content", placeholder="Default: the main handle", key="roster_deal_utm_content"
        )
        st.form_submit_button(
            "Add to campaign", type="primary", on_click=_add_deal, args=(influencer_id, names)
        )


def _add_deal(influencer_id: int, names: dict[int, str]) -> None:
    campaign_id, stage, code = (
        parts.value(k) for k in ("roster_deal_campaign", "roster_deal_stage", "roster_deal_code")
    )
    if campaign_id is None:
        return
    deal_id = parts.write(
        "roster_add_deal",
        roster.add_to_campaign,
        influencer_id,
        campaign_id,
        stage=stage,
        fee=parts.value("roster_deal_fee", 0.0),
        commission_rate=parts.value("roster_deal_commission", 0.0),
        promo_code=code or None,
        discount_pct=parts.value("roster_deal_discount") if code else None,
        utm={k: parts.value(f"roster_deal_{k}") for k in ("utm_campaign", "utm_content")},
        message=lambda deal_id: f"Added to {names[campaign_id]} at stage {stage} (deal #{deal_id}).",
        select=lambda _: {"roster_campaign": campaign_id},
    )
    if deal_id is not None:  # the new code or link may already have orders: credit them now
        with shared.store_errors():
            refresh_for_campaign(shared.store(), campaign_id)


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this helper as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
