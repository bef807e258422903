"""Relationships: customer–brand (RFM segments, churn risk, cohorts, predictive CLV), influencer–brand (ROAS
or relationship health per pair) and customer–influencer (customers acquired and their value, buyer overlap,
segment → influencer → brand flows).

Numbers come from models.customers and models.relationships through the cached loaders in
pages/_relationships_parts.py. The tabs run lazily: only the open one asks the models for data (the
customer–brand tab's three views too).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from models.customers import DEFINITIONS as CUSTOMER_DEFS
from models.customers import SEGMENT_RULES, SEGMENTS, definition
from models.filters import Filters
from models.formatting import fmt_number, fmt_pct
from pages import _relationships_parts as parts
from pages import _shared as shared
from pages import _voice as voice

shared.leave_legacy_pages_mode()

TABS = ("Customer–brand", "Influencer–brand", "Customer–influencer")
NARROW = "Widen the date range or choose other brands in the sidebar."


def segments_section(path: str, version: tuple, filters: Filters, churn_days: int) -> bool:
    st.subheader("RFM segments", help=CUSTOMER_DEFS["segment"].text())
    with st.spinner("Scoring customers on recency, frequency and spend…"):
        summary = parts.load_segments(path, version, filters, churn_days)
    if summary.is_empty() or summary["customers"].sum() == 0:
        st.info(f"No customer of {shared.brand_names(filters)} ordered in this date range. {NARROW}")
        return False
    currencies = summary["currency"].unique(maintain_order=True).to_list()
    st.caption(
        f"Customers of {shared.brand_names(filters)} with orders from {filters.start} to {filters.end}, scored "
        "1–5 on recency, frequency and spend within their brand; a customer takes the first rule their R and "
        "F scores match."
    )
    series = {c: summary.filter(pl.col("currency") == c)["customers"].to_list() for c in currencies}
    fig = parts.bar_figure(list(SEGMENTS), series, title="Customers per segment (customers)")
    parts.chart(fig, "rfm_segments")
    rules = {r.segment: (r.rule(), r.meaning) for r in SEGMENT_RULES}
    shown = summary.with_columns(
        rule=pl.col("segment").replace_strict({k: v[0] for k, v in rules.items()}),
        meaning=pl.col("segment").replace_strict({k: v[1] for k, v in rules.items()}),
    ).select(
        pl.col("currency").alias("Currency"),
        pl.col("segment").alias("Segment"),
        pl.col("rule").alias("Rule"),
        pl.col("meaning").alias("Customers who"),
        pl.col("customers").alias("Customers"),
        pl.col("customer_share").alias("Share of customers"),
        pl.col("revenue").alias("Revenue"),
        pl.col("revenue_share").alias("Share of revenue"),
        pl.col("at_risk_of_churning").alias(f"No order for {churn_days}+ days"),
    )
    parts.table(
        shown,
        {
            "Customers": fmt_number,
            "Share of customers": parts.pct,
            "Share of revenue": parts.pct,
            f"No order for {churn_days}+ days": fmt_number,
        },
        money=("Revenue",),
        currency="Currency",
        key="rfm_table",
    )
    return True


def churn_section(path: str, version: tuple, filters: Filters, churn_days: int) -> None:
    rule = definition("at_risk_of_churning", churn_days=churn_days)
    st.subheader("Churn risk", help=rule.text())
    with st.spinner("Finding the customers at risk of churning…"):
        view = parts.load_churn(path, version, filters, churn_days)
    st.markdown(
        f"**At risk of churning: no order for {churn_days} days or more** (as of {view.as_of}). "
        "Change the window on the Settings page."
    )
    share = view.at_risk / view.customers if view.customers else None
    card, note = st.columns([1, 3], vertical_alignment="center")
    card.metric("Customers at risk", fmt_number(view.at_risk), help=rule.text(), border=True)
    note.caption(f"{fmt_pct(share)} of the {fmt_number(view.customers)} customers who ordered in the range.")
    if view.top.is_empty():
        return
    brands = {b.brand_id: (b.name, b.currency) for b in shared.load_brands(path, version)}
    top = view.top.select(
        pl.col("customer_id").cast(pl.String).alias("Customer (pseudonymous id)"),
        pl.col("brand_id").replace_strict({k: v[0] for k, v in brands.items()}, default="?").alias("Brand"),
        pl.col("segment").alias("Segment"),
        pl.col("recency_days").alias("Days since last order"),
        pl.col("frequency").alias("Orders"),
        pl.col("monetary_total").alias("Revenue"),
        pl.col("currency").alias("Currency"),
    )
    parts.table(
        top,
        {"Days since last order": fmt_number, "Orders": fmt_number},
        money=("Revenue",),
        currency="Currency",
        key="churn_table",
        height=300,
    )
    st.caption(f"The {fmt_number(top.height)} at-risk customers with the highest revenue in the range.")


def cohort_section(path: str, version: tuple, filters: Filters) -> None:
    st.subheader("Cohort retention", help=CUSTOMER_DEFS["cohort_retention"].text())
    with st.spinner("Following each month's new customers…"):
        cohorts = parts.load_cohorts(path, version, filters)
    if cohorts.is_empty():
        st.info(f"No first orders in this date range. {NARROW}")
        return
    observed = cohorts.group_by("months_since_first").agg(pl.col("retention").is_not_null().any())
    last_k = observed.filter(pl.col("retention"))["months_since_first"].max()
    cohorts = cohorts.filter(pl.col("months_since_first") <= (last_k or 0)).with_columns(
        cohort=pl.col("cohort_month").dt.strftime("%b %Y")
        + " ("
        + pl.col("cohort_size").map_elements(fmt_number, return_dtype=pl.String)
        + ")",
        month=pl.lit("Month ") + pl.col("months_since_first").cast(pl.String),
    )
    y, x, z, text = parts.matrix(cohorts, row="cohort", column="month", value="retention", fmt=parts.pct)
    later = cohorts.filter(pl.col("months_since_first") > 0)["retention"].max()
    fig = parts.heatmap_figure(
        z,
        x,
        y,
        title="Share of each cohort ordering in month k after its first order (%)",
        text=text,
        hover_label="retention",
        zmax=float(later) if later else 1.0,
    )
    parts.chart(fig, "cohort_heatmap")
    st.caption(
        "Cohorts by month of first order (cohort size in brackets); blank cells are months not observed yet. "
        "Widen the date range for more cohorts."
    )


def clv_section(path: str, version: tuple, filters: Filters) -> None:
    st.subheader("Predictive CLV", help=CUSTOMER_DEFS["clv"].text())
    brands = {b.brand_id: b for b in shared.load_brands(path, version)}
    ids = [b for b in (filters.brand_ids or tuple(brands)) if b in brands]
    if not ids:
        st.info("No brand to fit a CLV model on. Add a brand's orders first.")
        return
    brand_id = ids[0]
    if len(ids) > 1:
        brand_id = st.selectbox(
            "Brand for CLV",
            ids,
            format_func=lambda b: brands[b].name,
            key="clv_brand",
            help="CLV is per brand.",
        )
    with st.spinner(f"Fitting BG/NBD and Gamma-Gamma on {brands[brand_id].name}'s customers…"):
        view = parts.load_clv(path, version, brand_id)
    if view.error:
        st.warning(f"No CLV for {brands[brand_id].name}: {view.error}.", icon=":material/query_stats:")
        return
    money = parts.money_in(view.currency)
    money_compact = parts.money_in(view.currency, compact=True)
    defs = view.definitions
    st.caption(
        f"{brands[brand_id].name}: fitted on all its orders up to {view.calibration_end} (the date range does "
        f"not apply); value over the next {view.horizon_days} days. {view.margin_source}"
    )
    cards = (
        (
            "Customers",
            fmt_number(view.customers),
            "Customers of the brand with an order up to the fit's end.",
        ),
        (f"Predicted value, {view.horizon_days} days", money_compact(view.total_clv), defs["clv"].text()),
        ("Mean CLV per customer", money(view.mean_clv), defs["clv"].text()),
        ("Mean P(alive)", fmt_pct(view.mean_p_alive), defs["p_alive"].text()),
    )
    for column, (label, value, help_text) in zip(st.columns(4), cards, strict=True):
        column.metric(label, value, help=help_text, border=True)
    hist = view.histogram
    labels = [f"{money(a)}–{money(b)}" for a, b in hist.select("bin_start", "bin_end").iter_rows()]
    fig = parts.bar_figure(
        labels,
        {"customers": hist["customers"].to_list()},
        title=f"Customers by predicted CLV ({view.currency}, next {view.horizon_days} days)",
    )
    fig.update_xaxes(showticklabels=False, title_text=f"CLV ({view.currency}); top 1 % in the last bar")
    parts.chart(fig, "clv_histogram")
    st.markdown("**Customers with the highest predicted value**", help=defs["clv"].text())
    parts.table(
        view.top.select(
            pl.col("customer_id").cast(pl.String).alias("Customer (pseudonymous id)"),
            pl.col("clv").alias("CLV"),
            pl.col("p_alive").alias("P(alive)"),
            pl.col("expected_purchases").alias("Expected purchases"),
            pl.col("expected_order_value").alias("Expected order value"),
            pl.col("x").alias("Repeat purchases"),
            pl.col("last_order_date").alias("Last order"),
        ),
        {
            "CLV": money,
            "P(alive)": parts.pct,
            "Expected purchases": fmt_number,
            "Expected order value": money,
            "Repeat purchases": fmt_number,
            "Last order": parts.fmt_day,
        },
        key="clv_table",
    )
    keys = ("x", "t_x", "T", "monetary_value", "p_alive", "expected_purchases", "expected_order_value", "clv")
    parts.definitions_expander("CLV definitions", [defs[k] for k in keys])


CUSTOMER_VIEWS = ("Segments & churn", "Cohorts", "Predictive CLV")


def segments_and_churn(path: str, version: tuple, filters: Filters, churn_days: int) -> None:
    if segments_section(path, version, filters, churn_days):
        churn_section(path, version, filters, churn_days)


def customer_brand_tab(path: str, version: tuple, filters: Filters) -> None:
    churn_days = int(parts.load_settings(path, version)["customers.churn_days"])  # type: ignore[arg-type]
    # Three views, each run only when open: on a large store each is a pass over millions of orders (segments)
    # or a model fit (CLV), and a reader looks at one at a time.
    views = st.tabs(CUSTOMER_VIEWS, key="customer_brand_view", on_change="rerun")
    drawers = (
        lambda: segments_and_churn(path, version, filters, churn_days),
        lambda: cohort_section(path, version, filters),
        lambda: clv_section(path, version, filters),
    )
    for view, draw in zip(views, drawers, strict=True):
        if view.open is not False:
            with view:
                draw()
    keys = ["recency_days", "frequency", "monetary_total", "r_score", "f_score", "m_score", "segment"]
    items = [CUSTOMER_DEFS[k] for k in keys] + [definition("at_risk_of_churning", churn_days=churn_days)]
    parts.definitions_expander("Customer–brand definitions", [*items, CUSTOMER_DEFS["cohort_retention"]])


def influencer_brand_tab(path: str, version: tuple, filters: Filters) -> None:
    parts.influencer_brand_tab(path, version, filters)
    st.divider()
    voice.brand_affinity_section(path, version, filters)  # organic mentions (issue 10)


def render() -> None:
    filters = shared.current_filters()
    path, version = shared.cache_key()
    st.title("Relationships")
    if not shared.load_workspace(path, version).has_data:
        st.info(f"**This workspace is empty.** Load the demo with `triad demo --db {path}`, then reload.")
        return
    st.caption(f"{shared.brand_names(filters).capitalize()} · {filters.start} to {filters.end}")
    tabs = st.tabs(TABS, key="relationships_tab", on_change="rerun")
    renderers = (customer_brand_tab, influencer_brand_tab, parts.customer_influencer_tab)
    for tab, draw in zip(tabs, renderers, strict=True):
        if tab.open is not False:  # None: the tabs do not track state (all run); False: hidden, skip
            with tab:
                draw(path, version, filters)


with shared.store_errors():
    render()
