"""The Campaigns screen's pieces: cached loaders, the campaign list, the detail sections, attribution settings.

Numbers come from models.campaigns through models.report.campaign_detail (the same detail the shareable
report is written from); nothing here computes a metric. Loaders take the store's path and version token
first (pages/_shared.py), so writes by any process show at the next run, and they are cleared after the
attribution settings re-attribute.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import polars as pl
import streamlit as st

from models import campaigns, overview, report
from models.attribution import PRECEDENCES, AttributionModel, set_default_model
from models.filters import Filters
from models.formatting import fmt_money, fmt_number
from models.settings import get_setting, set_setting
from models.store import Store, StoreError
from pages import _shared as shared

PICK_KEY = "campaigns_pick"
TABLE_KEY = "campaigns_table"
FLASH_KEY = "campaigns_flash"
PENDING_KEY = "campaigns_reattribute"
WINDOW_KEY = "campaigns_window"
PRECEDENCE_KEY = "campaigns_precedence"
EVIDENCE_KEY = "campaigns_evidence_"  # + deal id: a flagged code's evidence expander (loaded when opened)
HIGHLIGHT = "background-color: #fde8e8"
CHART_CONFIG = {"displayModeBar": False}
# Streamlit's own currency formats for sortable money columns; other currencies show plain amounts.
MONEY_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}
PRECEDENCE_LABELS = {
    "code_first": "Promo code first: a creator's own code beats another creator's link",
    "link_first": "Link first: a tracked link beats another creator's code",
}


def _store_at(path: str) -> Store:
    return shared._store_at(path)  # scoped to the signed-in user (see pages/_shared.py)


# -- cached loaders ---------------------------------------------------------------------------------------
@st.cache_data(**shared.CACHE)
def load_campaign_list(path: str, version: tuple[int, ...], filters: Filters) -> pl.DataFrame:
    with _store_at(path).connect() as cur:
        return campaigns.campaign_summary(cur, filters)


@st.cache_data(**shared.CACHE)
def load_model_in_use(path: str, version: tuple[int, ...]) -> tuple[report.ModelInUse, tuple[int, str]]:
    """The attribution model the pages show, and the workspace's stored attribution settings."""
    with _store_at(path).connect() as cur:
        stored = (
            int(get_setting(cur, "attribution.window_days")),
            str(get_setting(cur, "attribution.precedence")),
        )
        return report.model_in_use(cur), stored


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def load_detail(
    path: str, version: tuple[int, ...], campaign_id: int, today: dt.date
) -> report.CampaignDetail:
    with _store_at(path).connect() as cur:  # the leakage evidence is loaded when its expander opens
        return report.campaign_detail(cur, campaign_id, as_of=today, evidence=False)


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def load_evidence(path: str, version: tuple[int, ...], deal_id: int) -> pl.DataFrame:
    with _store_at(path).connect() as cur:
        return campaigns.leakage_evidence(cur, deal_id)


def clear_caches() -> None:
    for loader in (load_campaign_list, load_model_in_use, load_detail, load_evidence):
        loader.clear()


# -- helpers ----------------------------------------------------------------------------------------------
def money_column(label: str, currency: str, help_text: str | None = None) -> st.column_config.NumberColumn:
    fmt = MONEY_FORMATS.get(currency.upper())
    return st.column_config.NumberColumn(
        label if fmt else f"{label} ({currency})", format=fmt or "accounting", help=help_text
    )


def column_for(label: str, kind: report.Kind, currency: str, help_text: str | None = None) -> object:
    if kind == "money":
        return money_column(label, currency, help_text)
    if kind == "pct":
        return st.column_config.NumberColumn(label, format="percent", help=help_text)
    if kind == "ratio":
        return st.column_config.NumberColumn(label, format="%.2f", help=help_text)
    if kind == "count":
        return st.column_config.NumberColumn(label, format="localized", help=help_text)
    if kind in ("date", "datetime"):
        fmt = "YYYY-MM-DD HH:mm" if kind == "datetime" else "YYYY-MM-DD"
        return st.column_config.DatetimeColumn(label, format=fmt, help=help_text)
    if kind == "flag":
        return st.column_config.CheckboxColumn(label, help=help_text)
    return st.column_config.TextColumn(label, help=help_text)


def shown_table(
    frame: pl.DataFrame,
    columns: tuple[tuple[str, str, report.Kind], ...],
    currency: str,
    *,
    flag: str | None = None,
) -> tuple[object, dict[str, object]]:
    """(data for st.dataframe, column_config): the model's columns under their labels, flagged rows tinted."""
    helps = {col: report.definition_text(key) for col, key in report.COLUMN_DEFINITIONS.items()}
    table = frame.select([pl.col(c).alias(label) for c, label, _ in columns])
    config = {label: column_for(label, kind, currency, helps.get(c)) for c, label, kind in columns}
    if flag is None or not frame[flag].any():
        return table, config
    marks = frame[flag].fill_null(False).to_list()
    styled = table.to_pandas().style.apply(
        lambda row: [HIGHLIGHT if marks[row.name] else ""] * len(row), axis=1
    )
    return styled, config


def md(text: str) -> str:
    """Text for a Markdown element: "$" written literally (two in a line would start LaTeX)."""
    return text.replace("$", "\\$")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "campaign"


# -- the list ---------------------------------------------------------------------------------------------
def default_campaign(summary: pl.DataFrame) -> int:
    """The newest campaign with results (else the newest): the list is sorted by start date, newest first."""
    with_results = summary.filter(pl.col("orders") > 0)
    return int((with_results if with_results.height else summary)["campaign_id"][0])


def campaign_list(summary: pl.DataFrame, brand_names: dict[int, str]) -> int:
    """The sortable campaign list; a click on a row (or the picker below it) selects the campaign shown."""
    ids = [int(i) for i in summary["campaign_id"].to_list()]
    names = dict(zip(ids, summary["campaign"].to_list(), strict=True))
    currencies = summary["currency"].unique().to_list()
    one_currency = currencies[0] if len(currencies) == 1 else None
    table = summary.select(
        pl.col("campaign").alias("Campaign"),
        pl.col("status").alias("Status"),
        pl.col("start_date").alias("Start"),
        pl.col("end_date").alias("End"),
        pl.col("spend").alias("Spend"),
        pl.col("revenue").alias("Revenue"),
        pl.col("roas").alias("ROAS"),
        pl.col("orders").alias("Orders"),
        pl.col("deals").alias("Deals"),
        pl.col("brand_id").replace_strict(brand_names, default="?", return_dtype=pl.String).alias("Brand"),
        pl.col("currency").alias("Currency"),
    )
    config: dict[str, object] = {
        "Status": st.column_config.TextColumn(width="small"),
        "Deals": st.column_config.NumberColumn(width="small"),
        "Start": st.column_config.DateColumn(format="YYYY-MM-DD", width="small"),
        "End": st.column_config.DateColumn(format="YYYY-MM-DD", width="small"),
        "Orders": st.column_config.NumberColumn(format="localized", help=report.definition_text("orders")),
        "ROAS": st.column_config.NumberColumn(format="%.2f", help=report.definition_text("roas")),
    }
    for label, key in (("Spend", "spend"), ("Revenue", "revenue")):
        help_text = report.definition_text(key)
        config[label] = (
            money_column(label, one_currency, help_text)
            if one_currency
            else st.column_config.NumberColumn(
                format="accounting", help=f"In the Currency column. {help_text}"
            )
        )
    if one_currency:
        config["Currency"] = None  # one currency: said in the headers
    if len(brand_names) > 1 and summary["brand_id"].n_unique() == 1:
        config["Brand"] = None  # one brand listed: the caption names it

    def pick_from_table() -> None:
        rows = st.session_state[TABLE_KEY]["selection"]["rows"]
        if rows:
            st.session_state[PICK_KEY] = ids[rows[0]]

    st.dataframe(
        table,
        key=TABLE_KEY,
        on_select=pick_from_table,
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(ids), 320),
        column_config=config,
    )
    if st.session_state.get(PICK_KEY) not in ids:
        st.session_state[PICK_KEY] = default_campaign(summary)
    return int(
        st.selectbox(
            "Campaign",
            ids,
            format_func=lambda campaign_id: names.get(campaign_id, f"campaign {campaign_id}"),
            key=PICK_KEY,
            help="Click a row in the list, or pick a campaign here.",
        )
    )


# -- the detail -------------------------------------------------------------------------------------------
def header(detail: report.CampaignDetail) -> None:
    st.subheader(detail.name, anchor=False)
    facts = [detail.brand, detail.status, detail.dates]
    if detail.objective:
        facts.append(f"objective: {detail.objective}")
    if detail.budget is not None:
        facts.append(f"budget {fmt_money(detail.budget, detail.currency)}")
    facts.append(
        f"{fmt_number(detail.totals.get('deals'))} deals ({fmt_number(detail.totals.get('paid_deals'))} paid)"
    )
    st.caption(md(" · ".join(facts) + f" · amounts in {detail.currency}, over the campaign's whole run"))
    cards = [
        {
            "label": label,
            "value": report.fmt_value(detail.totals.get(key), kind, detail.currency),
            "help": report.definition_text(key),
            "border": True,
        }
        for key, label, kind in report.KPIS
    ]
    for first in range(0, len(cards), 4):
        for column, card in zip(st.columns(4), cards[first : first + 4], strict=False):
            column.metric(**card)


def conversion_charts(detail: report.CampaignDetail) -> None:
    st.markdown("#### Conversions", help=report.definition_text("attributed_order", detail.model))
    if detail.daily.is_empty():
        st.info(
            "Nothing to chart yet: the campaign has not started, and no order or post is linked to it. "
            "Charts appear once its influencers post or their codes and links bring orders.",
            icon=":material/schedule:",
        )
    else:
        st.plotly_chart(report.daily_figure(detail), theme=None, key="campaign_daily", config=CHART_CONFIG)
        if detail.posts.is_empty():
            st.caption("No sponsored post of this campaign is in the store yet, so none is marked.")
    left, right = st.columns(2)
    with left:
        if not detail.daily.is_empty():
            st.plotly_chart(
                report.cumulative_figure(detail), theme=None, key="campaign_cumulative", config=CHART_CONFIG
            )
            st.caption(report.definition_text("cumulative_spend"))
    with right:
        if detail.funnel["count"].head(3).sum() == 0:
            st.caption(
                "No funnel yet: no views, engagements or link clicks are recorded for this campaign's posts and "
                f"links ({fmt_number(detail.totals.get('orders'))} attributed orders so far)."
            )
        else:
            st.plotly_chart(
                report.funnel_figure(detail), theme=None, key="campaign_funnel", config=CHART_CONFIG
            )
            st.caption(
                f"The funnel ends at orders that came through a link: "
                f"{fmt_number(detail.totals.get('link_orders'))} of {fmt_number(detail.totals.get('orders'))} "
                "attributed orders; promo-code orders need no click and are counted apart."
            )


def lift_section(detail: report.CampaignDetail) -> None:
    st.markdown("#### Lift against the baseline", help=report.definition_text("lift"))
    if detail.lift_note:
        st.info(detail.lift_note, icon=":material/info:")
        return
    if detail.lift_caveat:
        st.warning(detail.lift_caveat, icon=":material/warning:")
    for column, (metric, lift) in zip(st.columns(2), detail.lift.items(), strict=True):
        with column:
            if lift is None:
                st.caption(f"No {metric} lift: {detail.lift_note or 'no baseline.'}")
                continue
            headline, explanation = report.lift_sentences(lift, detail.currency)
            column.metric(f"Lift · {metric}", headline, help=report.definition_text("lift"), border=True)
            st.caption(md(explanation))


def influencer_section(detail: report.CampaignDetail) -> None:
    st.markdown("#### Per influencer")
    if detail.deals.is_empty():
        st.info(
            "No influencer has a deal in this campaign yet. Add influencers to it from the Roster page; their "
            "orders, revenue and costs appear here.",
            icon=":material/group_add:",
        )
        return
    deals = detail.deals.sort("revenue", "orders", descending=True)
    data, config = shown_table(deals, report.INFLUENCER_COLUMNS, detail.currency)
    st.dataframe(data, hide_index=True, width="stretch", column_config=config, key="campaign_influencers")
    st.download_button(
        "Download the table (CSV)",
        data=report.influencer_table(detail.deals).with_columns(Currency=pl.lit(detail.currency)).write_csv(),
        file_name=f"{slug(detail.name)}-influencers.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )


def leakage_section(detail: report.CampaignDetail, path: str, version: tuple[int, ...]) -> None:
    st.markdown("#### Promo-code leakage", help=report.definition_text("leakage"))
    if detail.leakage.is_empty():
        st.caption("No influencer promo codes in this campaign, so none can leak.")
        return
    flagged = detail.leakage.filter("flagged")
    if flagged.is_empty():
        st.success(
            f"None of the {detail.leakage.height} influencer codes is flagged.", icon=":material/check:"
        )
    else:
        st.warning(
            f"{flagged.height} of {detail.leakage.height} codes flagged (tinted rows).",
            icon=":material/flag:",
        )
    data, config = shown_table(detail.leakage, report.LEAKAGE_COLUMNS, detail.currency, flag="flagged")
    st.dataframe(data, hide_index=True, width="stretch", column_config=config, key="campaign_leakage")
    if flagged.height:
        st.caption("Open a flagged code below to list the orders behind its flag (read when opened).")
    for row in flagged.iter_rows(named=True):
        reasons = []
        if row["flag_coupon_site"]:
            reasons.append(f"{row['coupon_site_no_click']} redemptions from coupon sites without a click")
        if row["flag_reach"]:
            reasons.append(
                f"{fmt_number(row['redemptions'])} redemptions against {fmt_number(row['max_plausible'])} "
                f"plausible from a reach of {fmt_number(row['reach'])}"
            )
        label = f"Evidence · {row['influencer']} · {row['code']}: {'; '.join(reasons)}"
        if not row["flag_coupon_site"]:
            with st.expander(label):
                st.caption("The reach flag has no order rows behind it: it compares the counts above.")
            continue
        # The orders behind a coupon-site flag are read when the reader opens its expander, not on every run.
        box = st.expander(label, key=f"{EVIDENCE_KEY}{row['deal_id']}", on_change="rerun")
        if box.open is False:
            continue
        with box:
            with st.spinner("Reading the redemptions behind the flag…"):
                evidence = load_evidence(path, version, int(row["deal_id"]))
            if evidence.is_empty():
                st.caption("No redemption of this code came from a coupon site without a click any more.")
                continue
            data, config = shown_table(evidence, report.EVIDENCE_COLUMNS, detail.currency)
            st.dataframe(data, hide_index=True, width="stretch", column_config=config)


def deliverables_section(detail: report.CampaignDetail) -> None:
    st.markdown("#### Deliverables", help=report.definition_text("overdue"))
    rows = detail.deliverables
    if rows.is_empty():
        st.caption("No deliverables recorded for this campaign. Add them to the deals on the Roster page.")
        return
    overdue = int(rows["overdue"].sum())
    done = int(rows["status"].is_in(("published",)).sum())
    text = f"{done} of {rows.height} published · {overdue} overdue as of {detail.as_of:%d %b %Y}"
    if overdue:
        st.warning(text + " (tinted rows).", icon=":material/event_busy:")
    else:
        st.caption(text + ".")
    data, config = shown_table(rows, report.DELIVERABLE_COLUMNS, detail.currency, flag="overdue")
    st.dataframe(data, hide_index=True, width="stretch", column_config=config, key="campaign_deliverables")


def _report_html(detail: report.CampaignDetail, path: str) -> str:
    """The report, built on the download click (outside the script run): with the data's freshness and the
    leakage evidence, which the screen loads only when asked."""
    store = _store_at(path)
    fresh = overview.data_freshness(store, [detail.brand_id])
    with store.connect() as cur:
        complete = report.with_evidence(cur, detail)
    return report.render_report_html(complete, fresh_latest=fresh.latest, fresh_syncs=fresh.syncs)


def _report_pdf(detail: report.CampaignDetail, path: str) -> bytes:
    return report.report_pdf(_report_html(detail, path))


def report_downloads(detail: report.CampaignDetail, path: str) -> None:
    st.markdown("#### Share")
    left, right = st.columns(2)
    left.download_button(
        "Download the report (HTML)",
        data=functools.partial(_report_html, detail, path),  # built on click, not on every run
        file_name=f"{slug(detail.name)}-report.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/description:",
        help="One file with the charts, the tables, lift, leakage, deliverables, the data's freshness and the "
        "definitions used. It opens offline in any browser.",
    )
    if report.chromium_path():
        right.download_button(
            "Download the report (PDF)",
            data=functools.partial(_report_pdf, detail, path),
            file_name=f"{slug(detail.name)}-report.pdf",
            mime="application/pdf",
            on_click="ignore",
            icon=":material/picture_as_pdf:",
            help="The HTML report printed by headless Chromium; takes a few seconds.",
        )
    else:
        right.caption(
            "PDF needs Chromium (apt-get install chromium); the HTML report prints to PDF from a browser."
        )


def definitions(model: report.ModelInUse, keys: tuple[str, ...] = report.REPORT_DEFINITIONS) -> None:
    with st.expander("Definitions of every number on this screen", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- {report.definition_text(key, model)}" for key in keys))


# -- attribution settings -------------------------------------------------------------------------------
def attribution_settings(path: str, model: report.ModelInUse, stored: tuple[int, str]) -> None:
    """The window and precedence of the model in use; applying them re-attributes the history and redraws."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    with st.expander(f"Attribution: {model.label}", icon=":material/tune:"):
        computed = f"{model.computed_at:%Y-%m-%d %H:%M} UTC" if model.computed_at else "never"
        st.caption(
            f"Model `{model.model_id}`: {fmt_number(model.orders_attributed)} orders attributed, computed {computed}. "
            + report.definition_text("attributed_order", model)
        )
        if not shared.can_write():  # brand viewers see the model in use; changing it is the agency's
            return
        if stored != (model.window_days, model.precedence):
            asked = AttributionModel(*stored)
            st.caption(f"The workspace settings ask for {asked.label}; apply them below to re-attribute.")
        with st.form("campaigns_attribution", border=False):
            st.number_input(
                "Attribution window (days)", min_value=1, max_value=365, step=1, value=model.window_days,
                key=WINDOW_KEY, help="How long after a click or post (or after the campaign ends, for codes) an "
                "order still counts.",
            )  # fmt: skip
            st.radio(
                "When an order matches both",
                PRECEDENCES,
                index=PRECEDENCES.index(model.precedence),
                format_func=PRECEDENCE_LABELS.get,
                key=PRECEDENCE_KEY,
            )
            st.form_submit_button("Re-attribute and redraw", type="primary", on_click=_request_reattribution)
    wanted = st.session_state.pop(PENDING_KEY, None)
    if wanted is not None:
        reattribute(path, model, AttributionModel(*wanted))


def _request_reattribution() -> None:
    # A request kept in session state (not the button's one-run trigger) survives any rerun before the page
    # draws, such as the hand-over from Streamlit's legacy pages/ mode (app.py).
    st.session_state[PENDING_KEY] = (int(st.session_state[WINDOW_KEY]), str(st.session_state[PRECEDENCE_KEY]))


def reattribute(path: str, current: report.ModelInUse, wanted: AttributionModel) -> None:
    if wanted.model_id == current.model_id:
        st.info(f"{wanted.label} is already the model in use.", icon=":material/info:")
        return
    with st.status(f"Re-attributing every order: {wanted.label}…", expanded=True) as status:
        st.write("Matching promo codes and tracking links to creators over the whole order history…")
        store = _store_at(path)
        try:
            result = set_default_model(store, wanted)
            with store.transaction() as cur:
                set_setting(cur, "attribution.window_days", wanted.window_days, username=shared.user())
                set_setting(cur, "attribution.precedence", wanted.precedence, username=shared.user())
        except StoreError as exc:
            status.update(label=f"Re-attribution failed: {exc}", state="error")
            return
        status.update(label="Re-attributed", state="complete")
    clear_caches()
    st.session_state[FLASH_KEY] = (
        f"Re-attributed under {wanted.label}: {fmt_number(result['orders_attributed'])} orders credited. "
        "Every number on this screen now uses this model, and so do the other pages."
    )
    st.rerun()


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this helper as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
