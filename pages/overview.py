"""Overview: the headline KPIs against the previous period, their trends, and how fresh the data is.

Numbers come from models.overview (through the cached loaders in pages/_shared.py); each KPI and chart
shows its definition behind the (?) next to it.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from models.formatting import MISSING, fmt_delta, fmt_money, fmt_number
from models.overview import INFLUENCER_DEFINITIONS, InfluencerResults, Kpi, OverviewKpis, OverviewTrends
from pages import _shared as shared
from pages.theme import TEMPLATE, trend_figure

shared.leave_legacy_pages_mode()


def empty_workspace(path: str) -> None:
    st.info(
        "**This workspace is empty.** Load the demo workspace (a few hundred influencers, brands, "
        "campaigns, posts and a year of orders) with\n\n"
        f"```\ntriad demo --db {path}\n```\n\n"
        "then reload this page. To use your own data instead, import spreadsheets on the **Import & export** "
        "page (or `triad import influencers FILE`), or sync platforms and shops on **Data & sync** "
        "(`triad sync youtube --account …`, `triad sync shopify --shop …`).",
        icon=":material/inventory_2:",
    )


SINCE = "vs previous period"


def metric_cards(kpi: Kpi) -> list[dict]:
    """The st.metric arguments of a KPI: one card for a count, one per currency for money (never added up)."""
    common = {"help": kpi.definition, "border": True}
    if kpi.kind == "count":
        value = kpi.value
        delta = fmt_delta(value.current, value.previous)
        card = {"label": kpi.label, "value": fmt_number(value.current), "delta": delta}
        return [{**card, "delta_description": SINCE, **common}]
    if not kpi.values:
        return [{"label": kpi.label, "value": MISSING, **common}]
    return [
        {
            "label": f"{kpi.label} · {value.currency}",
            "value": fmt_money(value.current, value.currency),
            "delta": fmt_delta(value.current, value.previous, currency=value.currency),
            "delta_color": "off" if kpi.key == "spend" else "normal",  # more spend is neither good nor bad
            "delta_description": SINCE,
            **common,
        }
        for value in kpi.values
    ]


def kpi_rows(kpis: OverviewKpis) -> None:
    """The KPI cards, three a row for six cards (one currency), else four a row."""
    order = ("orders", "revenue", "new_customers", "spend", "active_campaigns", "roster")
    cards = [card for key in order for card in metric_cards(kpis[key])]
    per_row = 3 if len(cards) <= 6 else 4
    for first in range(0, len(cards), per_row):
        for column, card in zip(st.columns(per_row), cards[first : first + per_row], strict=False):
            with column:
                st.metric(**card)


def trend_charts(trends: OverviewTrends) -> None:
    word = "week" if trends.grain == "week" else "day"
    charts = (
        ("orders", f"Orders per {word}", "bar", False),
        ("revenue", f"Revenue per {word}", "line", True),
        ("new_customers", f"New customers per {word}", "bar", False),
        ("spend", f"Spend per {word}", "bar", True),
    )
    for row in (charts[:2], charts[2:]):
        for column, (metric, title, kind, money) in zip(st.columns(2), row, strict=True):
            with column:
                st.markdown(f"**{title}**", help=trends.definitions[metric])
                frame = trends.frame(metric)
                if frame.is_empty() or not (frame["value"] != 0).any():
                    st.caption(f"No {metric.replace('_', ' ')} in this range.")
                    continue
                fig = trend_figure(frame, title="", kind=kind, money=money, grain=trends.grain)
                st.plotly_chart(fig, theme=None, key=f"trend_{metric}", config={"displayModeBar": False})


def influencer_section(results: InfluencerResults) -> None:
    """What influencers brought in: attributed revenue, ROAS and new customers won, and who won them."""
    st.subheader(
        "What influencers brought in",
        help=f"From the attribution model in use ({results.model_id}); change it on the Campaigns page.",
    )
    defs = INFLUENCER_DEFINITIONS
    cards: list[dict] = [
        {
            "label": f"Attributed revenue · {value.currency}",
            "value": fmt_money(value.current, value.currency),
            "delta": fmt_delta(value.current, value.previous, currency=value.currency),
            "help": defs["attributed_revenue"],
        }
        for value in results.revenue
    ]
    for currency, (current, previous) in results.roas.items():
        change = None if current is None or previous is None else f"{current - previous:+.2f}×"
        cards.append(
            {
                "label": f"ROAS · {currency}",
                "value": MISSING if current is None else f"{current:.2f}×",
                "delta": change,
                "help": defs["roas"],
            }
        )
    won = results.customers_won
    cards.append(
        {
            "label": "New customers won by influencers",
            "value": fmt_number(won.current),
            "delta": fmt_delta(won.current, won.previous),
            "help": defs["customers_won"],
        }
    )
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        with column:
            st.metric(border=True, delta_description=SINCE, **card)
    if results.top.is_empty():
        st.caption("No attributed orders in this range.")
        return
    st.markdown("**Top influencers by new customers won**", help=defs["top_influencers"])
    top = results.top.sort("customers_won")
    fig = go.Figure(
        go.Bar(
            x=top["customers_won"],
            y=top["influencer"],
            orientation="h",
            customdata=top.select("orders", "revenue", "currency").rows(),
            hovertemplate="%{y}: %{x} new customers · %{customdata[0]} orders<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        height=40 + 28 * top.height,
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        xaxis_title="new customers won",
    )
    st.plotly_chart(fig, theme=None, key="top_influencers", config={"displayModeBar": False})


def _when(value: dt.datetime | None) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def freshness_section(path: str, version: tuple[int, ...], filters: shared.Filters) -> None:
    fresh = shared.load_freshness(path, version, filters)
    st.subheader(
        "Data freshness",
        help="When each connector last ran (all brands), and the newest "
        "order, post and follower snapshot in the store for the selected brands. Times are UTC.",
    )
    latest = {row["data"]: row["latest"] for row in fresh.latest.iter_rows(named=True)}
    st.markdown(
        " · ".join(
            f"Latest {name}: **{_when(latest.get(name))}**"
            for name in ("orders", "posts", "follower snapshots")
        )
    )
    if fresh.syncs.is_empty():
        st.caption("No connector has run yet in this workspace.")
        return
    table = fresh.syncs.select(
        pl.col("connector").alias("Connector"),
        pl.col("status").alias("Last run"),
        pl.col("finished_at").alias("Finished (UTC)"),
        pl.col("rows_written").alias("Rows written"),
        pl.col("last_success_at").alias("Last success (UTC)"),
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Finished (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Last success (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Rows written": st.column_config.NumberColumn(format="localized"),
        },
    )


def render() -> None:
    filters = shared.current_filters()
    path, version = shared.cache_key()
    st.title("Overview")
    workspace = shared.load_workspace(path, version)
    if not workspace.has_data:
        empty_workspace(workspace.path)
        return
    kpis = shared.load_kpis(path, version, filters)
    previous = kpis.previous_period
    st.caption(
        f"{shared.brand_names(filters).capitalize()} · {kpis.period.label()} ({kpis.period.days} days), "
        f"compared with the {previous.days} days before ({previous.label()})."
    )
    if kpis.is_empty:
        st.warning(
            "Nothing matches this filter: the selected brands have no orders, campaigns, deals or customers "
            "in this date range or the one before it. Widen the date range or choose other brands in the "
            "sidebar.",
            icon=":material/filter_alt_off:",
        )
    kpi_rows(kpis)
    influencer_section(shared.load_influencer_results(path, version, filters))
    trend_charts(shared.load_trends(path, version, filters))
    freshness_section(path, version, filters)


with shared.store_errors():
    render()
