"""The Relationships and Settings pages' cached loaders, chart builders and table formats.

Loaders take the store's path and version token (``shared.cache_key()``) first, then the filters, so a write
by any process changes the key; each asks one model function and, where the model's answer is large (a row
per customer), keeps only what the page draws. Charts use the app's one Plotly template
(:mod:`pages.theme`); numbers go through :mod:`models.formatting`. Nothing here draws at import time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from models import attribution, audit, customers, profile, rate_card, relationships, settings
from models.filters import Filters, MetricDefinition
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.store import Store
from pages import _shared as shared
from pages.theme import COLORS, GRID, MUTED, TEMPLATE, nice_ticks, register

CHURN_LIST_ROWS = 200  # the churn-risk list shows the most valuable at-risk customers first
CLV_TOP_ROWS = 20
CLV_BINS = 30
TABLE_ROWS = 500  # longer tables are cut to their first rows (cut_note says so)
CLV_CACHE = {"ttl": 3600, "max_entries": 16, "show_spinner": False}  # a fit takes seconds on big brands


def _cursor(path: str):  # noqa: ANN202 - a context manager yielding a DuckDB cursor
    return shared._store_at(path).connect()  # scoped to the signed-in user (see pages/_shared.py)


# -- loaders ---------------------------------------------------------------------------------------------
@st.cache_data(**shared.CACHE)
def load_settings(path: str, version: tuple[int, ...]) -> dict[str, object]:
    with _cursor(path) as cur:
        return settings.all_settings(cur)


@st.cache_data(**shared.CACHE)
def load_segments(path: str, version: tuple[int, ...], filters: Filters, churn_days: int) -> pl.DataFrame:
    return load_rfm_views(path, version, filters, churn_days)[0]


@dataclass(frozen=True)
class ChurnView:
    """The churn-risk figures of the filtered brands: how many, out of how many, and the most valuable."""

    at_risk: int
    customers: int
    as_of: dt.date | None
    top: pl.DataFrame  # at-risk customers, highest revenue first, at most CHURN_LIST_ROWS


@st.cache_data(**shared.CACHE)
def load_churn(path: str, version: tuple[int, ...], filters: Filters, churn_days: int) -> ChurnView:
    return load_rfm_views(path, version, filters, churn_days)[1]


@st.cache_data(**shared.CACHE)
def load_rfm_views(
    path: str, version: tuple[int, ...], filters: Filters, churn_days: int
) -> tuple[pl.DataFrame, ChurnView]:
    """Segments and churn risk from one RFM pass (counted in DuckDB: the scored customers are not fetched)."""
    with _cursor(path) as cur:
        views = customers.segment_views(cur, filters, churn_days=churn_days, top=CHURN_LIST_ROWS)
    return views.summary, ChurnView(views.at_risk, views.customers, filters.end, views.top_at_risk)


@st.cache_data(**shared.CACHE)
def load_cohorts(path: str, version: tuple[int, ...], filters: Filters) -> pl.DataFrame:
    with _cursor(path) as cur:
        return customers.cohort_retention(cur, filters)


@dataclass(frozen=True)
class ClvView:
    """What the page draws of a :class:`customers.PredictiveCLV`: totals, a histogram, the top customers."""

    brand_id: int
    currency: str | None
    calibration_end: dt.date
    horizon_days: int
    margin_source: str
    customers: int
    total_clv: float
    mean_clv: float
    mean_p_alive: float
    histogram: pl.DataFrame  # bin_start, bin_end, customers
    top: pl.DataFrame  # the CLV_TOP_ROWS customers with the highest CLV
    definitions: dict[str, MetricDefinition]
    error: str | None = None


def clv_histogram(values: np.ndarray, bins: int = CLV_BINS) -> pl.DataFrame:
    """Customers per CLV bin; values above the 99th percentile go into the last bin (the tail is long)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return pl.DataFrame(schema={"bin_start": pl.Float64, "bin_end": pl.Float64, "customers": pl.Int64})
    top = float(np.quantile(finite, 0.99)) or float(finite.max()) or 1.0
    counts, edges = np.histogram(np.clip(finite, 0.0, top), bins=bins, range=(0.0, top))
    return pl.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "customers": counts.astype(np.int64)})


@st.cache_data(**CLV_CACHE)
def load_clv(path: str, version: tuple[int, ...], brand_id: int) -> ClvView:
    """Fit BG/NBD and Gamma-Gamma on one brand (seconds on a big brand, hence the longer cache)."""
    try:
        with _cursor(path) as cur:
            fit = customers.predictive_clv(cur, brand_id)
    except ValueError as exc:  # CLVFitError included: too few repeat customers, several currencies
        empty = pl.DataFrame()
        return ClvView(brand_id, None, dt.date.min, 0, "", 0, 0.0, 0.0, 0.0, empty, empty, {}, str(exc))
    frame = fit.customers
    clv = frame["clv"].cast(pl.Float64).to_numpy()
    top = frame.sort(["clv", "customer_id"], descending=[True, False], nulls_last=True).head(CLV_TOP_ROWS)
    return ClvView(
        brand_id=brand_id,
        currency=fit.currency,
        calibration_end=fit.calibration_end,
        horizon_days=fit.horizon_days,
        margin_source=fit.margin_source,
        customers=frame.height,
        total_clv=float(np.nansum(clv)),
        mean_clv=float(np.nanmean(clv)) if clv.size else 0.0,
        mean_p_alive=float(frame["p_alive"].mean() or 0.0),
        histogram=clv_histogram(clv),
        top=top,
        definitions=fit.definitions(),
    )


@st.cache_data(**shared.CACHE)
def load_influencer_brand(path: str, version: tuple[int, ...], filters: Filters) -> pl.DataFrame:
    with _cursor(path) as cur:
        return relationships.influencer_brand(cur, filters)


@st.cache_data(**shared.CACHE)
def load_customer_influencer(
    path: str, version: tuple[int, ...], filters: Filters, by_brand: bool = True
) -> pl.DataFrame:
    with _cursor(path) as cur:
        return relationships.customer_influencer(cur, filters, by_brand=by_brand)


@st.cache_data(**shared.CACHE)
def load_overlap(
    path: str, version: tuple[int, ...], filters: Filters, top_n: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Buyer overlap (long form) and exclusive share of the ``top_n`` influencers by attributed customers."""
    with _cursor(path) as cur:
        ids = relationships.top_influencers(cur, filters, top_n)
        return relationships.overlap_matrix(cur, ids, filters), relationships.exclusive_share(
            cur, ids, filters
        )


@st.cache_data(**shared.CACHE)
def load_flows(path: str, version: tuple[int, ...], filters: Filters, measure: str) -> pl.DataFrame:
    with _cursor(path) as cur:
        return relationships.three_way_flows(cur, filters, measure=measure)  # type: ignore[arg-type]


@st.cache_data(**shared.CACHE)
def load_attribution_models(path: str, version: tuple[int, ...]) -> pl.DataFrame:
    with _cursor(path) as cur:
        return attribution.attribution_models(cur)


@st.cache_data(**shared.CACHE)
def load_audit(path: str, version: tuple[int, ...], tables: tuple[str, ...], limit: int) -> pl.DataFrame:
    with _cursor(path) as cur:
        frames = [audit.audit_entries(cur, table=t, limit=limit) for t in tables]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame()
    return (
        pl.concat(frames, how="diagonal_relaxed").sort("changed_at", "audit_id", descending=True).head(limit)
    )


def default_model_label(path: str, version: tuple[int, ...]) -> str:
    """The attribution model the pages show, in words ("promo code first, then link; 30-day window")."""
    models = load_attribution_models(path, version).filter(pl.col("is_default"))
    if models.is_empty():
        return attribution.DEFAULT_MODEL.label
    row = models.row(0, named=True)
    return attribution.AttributionModel(int(row["window_days"]), str(row["precedence"])).label


# -- definitions ------------------------------------------------------------------------------------------
def definitions_expander(title: str, items: Iterable[MetricDefinition]) -> None:
    """Every definition of a section, one line each, behind one click."""
    with st.expander(title, icon=":material/menu_book:"):
        st.markdown("\n".join(f"- {d.text()}" for d in items))


# -- number formats for tables ----------------------------------------------------------------------------
def money_in(currency: str | None, *, compact: bool = False) -> Callable[[object], str]:
    return lambda value: fmt_money(value, currency, compact=compact)  # type: ignore[arg-type]


def fmt_roas(value: object) -> str:
    return MISSING if value is None else f"{fmt_number(value)}×"  # type: ignore[arg-type]


def fmt_score(value: object) -> str:
    return MISSING if value is None else fmt_number(round(float(value)))  # type: ignore[arg-type]


def fmt_day(value: object) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d}"


def fmt_minute(value: object) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d %H:%M}"


def table(
    frame: pl.DataFrame,
    formats: dict[str, Callable[[object], str]],
    *,
    money: Iterable[str] = (),
    currency: str | None = None,
    **kwargs: object,
) -> None:
    """``st.dataframe`` that shows the app's number formats but sorts on the numbers themselves.

    ``money`` columns are written in ``currency`` when it names a column of the frame (row by row: the
    rows of each currency get their own format), else in the currency ``currency`` itself.
    """
    data = frame.to_pandas()
    styler = data.style.format({c: f for c, f in formats.items() if c in data.columns}, na_rep=MISSING)
    money = [c for c in money if c in data.columns]
    if money and currency in data.columns:
        for code in data[currency].dropna().unique():
            rows = data.index[data[currency] == code]
            styler = styler.format(money_in(str(code)), subset=(rows, money), na_rep=MISSING)
    elif money:
        styler = styler.format(money_in(currency), subset=money, na_rep=MISSING)
    if currency in data.columns and data[currency].nunique() <= 1 and "column_order" not in kwargs:
        kwargs["column_order"] = [c for c in data.columns if c != currency]  # one currency: in the format
    st.dataframe(styler, hide_index=True, width="stretch", placeholder=MISSING, **kwargs)  # type: ignore[arg-type]


def cut_note(rows: int, what: str) -> None:
    """Say so when a table shows only its first TABLE_ROWS rows."""
    if rows > TABLE_ROWS:
        st.caption(f"The first {fmt_number(TABLE_ROWS)} of {fmt_number(rows)} {what}.")


def labels_of(frame: pl.DataFrame, name: str = "influencer", key: str = "influencer_id") -> pl.Expr:
    """Display names, with the id added where two different ids share a name (so grid cells never merge)."""
    dupes = frame.group_by(name).agg(pl.col(key).n_unique().alias("ids")).filter(pl.col("ids") > 1)[name]
    return (
        pl.when(pl.col(name).is_in(dupes.implode()))
        .then(pl.col(name) + " #" + pl.col(key).cast(pl.String))
        .otherwise(pl.col(name))
    )


# -- charts ----------------------------------------------------------------------------------------------
def _figure(title: str, height: int) -> go.Figure:
    register()
    return go.Figure(layout={"template": TEMPLATE, "title": {"text": title}, "height": height})


def chart(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, theme=None, key=key, config={"displayModeBar": False})


def bar_figure(
    categories: list[str],
    series: dict[str, list[float]],
    *,
    title: str,
    hover: Callable[[float], str] = fmt_number,
    horizontal: bool = False,
    height: int | None = None,
) -> go.Figure:
    """Bars per category, one trace per series (a legend only when there are several); the value axis has
    round ticks in the app's number format (or ``hover``'s, for money)."""
    rows = len(categories) * (len(series) if horizontal else 1)
    fig = _figure(title, height or (max(260, 18 * rows + 120) if horizontal else 320))
    for name, values in series.items():
        text = [hover(v) for v in values]
        xy = {"y": categories, "x": values} if horizontal else {"x": categories, "y": values}
        fig.add_trace(
            go.Bar(
                **xy,
                name=name,
                orientation="h" if horizontal else "v",
                customdata=text,
                hovertemplate="%{customdata}<extra>" + name + "</extra>",
                showlegend=len(series) > 1,
            )
        )
    fig.update_layout(barmode="group", hovermode="closest")
    if len(series) > 1 and horizontal:  # the legend in the plot's bottom right, where the short bars end
        legend = {
            "x": 0.99,
            "xanchor": "right",
            "y": 0.01,
            "yanchor": "bottom",
            "bgcolor": "rgba(255,255,255,0.85)",
        }
        fig.update_layout(legend={**legend, "orientation": "v"})
    elif len(series) > 1:  # the legend sits between the title and the plot
        fig.update_layout(margin={"t": 72}, title={"y": 0.98, "yanchor": "top"})
    top = max((v for values in series.values() for v in values if v is not None), default=0.0)
    ticks = nice_ticks(float(top), integer=hover is fmt_number)
    axis = {"tickmode": "array", "tickvals": ticks, "ticktext": [hover(t) for t in ticks]}
    if horizontal:
        fig.update_yaxes(autorange="reversed", showgrid=False, type="category", dtick=1)
        fig.update_xaxes(showgrid=True, gridcolor=GRID, range=[0, ticks[-1] * 1.04], **axis)
    else:
        fig.update_xaxes(type="category")
        fig.update_yaxes(range=[0, ticks[-1] * 1.04], **axis)
    return fig


def heatmap_figure(
    z: list[list[float | None]],
    x: list[str],
    y: list[str],
    *,
    title: str,
    text: list[list[str]],
    hover_label: str,
    zmax: float | None = None,
    height: int | None = None,
    hide_zero: bool = False,
) -> go.Figure:
    """A heatmap in the app's blue, each cell's formatted value written in it (not the zeros, if
    ``hide_zero``) and in its hover label."""
    fig = _figure(title, height or max(240, 26 * len(y) + 150))
    shown = [
        ["" if hide_zero and v == 0 else t for v, t in zip(zs, ts, strict=True)]
        for zs, ts in zip(z, text, strict=True)
    ]
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=shown,
            customdata=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            colorscale=[[0.0, "#f4f8fb"], [1.0, COLORS[0]]],
            zmin=0,
            zmax=zmax,
            xgap=1,
            ygap=1,
            showscale=False,
            hovertemplate="%{y} · %{x}<br>" + hover_label + ": %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(showgrid=False, tickangle=-30 if len(x) > 6 else 0, type="category")
    fig.update_yaxes(autorange="reversed", showgrid=False, type="category")
    return fig


def matrix(
    frame: pl.DataFrame, *, row: str, column: str, value: str, fmt: Callable[[object], str]
) -> tuple[list[str], list[str], list[list[float | None]], list[list[str]]]:
    """Rows, columns, values and texts of a long frame laid out as a grid (first-seen order kept)."""
    rows = list(dict.fromkeys(frame[row].to_list()))
    columns = list(dict.fromkeys(frame[column].to_list()))
    cells = {(r, c): v for r, c, v in frame.select(row, column, value).iter_rows()}
    z = [[cells.get((r, c)) for c in columns] for r in rows]
    text = [["" if v is None else fmt(v) for v in line] for line in z]
    return rows, columns, z, text


def sankey_figure(links: pl.DataFrame, *, title: str, fmt: Callable[[float], str]) -> go.Figure:
    """Customer segment → influencer → brand, from :func:`relationships.three_way_flows`."""
    keys = list(dict.fromkeys([*links["source_key"].to_list(), *links["target_key"].to_list()]))
    order = {"segment": 0, "influencer": 1, "brand": 2}
    keys.sort(key=lambda k: order[k.split(":", 1)[0]])
    labels = {
        **dict(zip(links["source_key"], links["source"], strict=True)),
        **dict(zip(links["target_key"], links["target"], strict=True)),
    }
    brand_colors = iter(COLORS[2:] * 10)
    colors = [
        COLORS[0]
        if k == "segment:new"
        else COLORS[1]
        if k.startswith("segment:")
        else MUTED
        if k.startswith("influencer:")
        else next(brand_colors)
        for k in keys
    ]
    index = {k: i for i, k in enumerate(keys)}
    fig = _figure(title, max(360, 22 * len(keys)))
    fig.add_trace(
        go.Sankey(
            arrangement="snap",
            node={"label": [labels[k] for k in keys], "color": colors, "pad": 10, "thickness": 14},
            link={
                "source": [index[k] for k in links["source_key"]],
                "target": [index[k] for k in links["target_key"]],
                "value": links["value"].to_list(),
                "customdata": [fmt(v) for v in links["value"].to_list()],
                "hovertemplate": "%{source.label} → %{target.label}: %{customdata}<extra></extra>",
                "color": "rgba(107, 114, 128, 0.25)",
            },
        )
    )
    fig.update_layout(hovermode="closest")
    return fig


def pct(value: object) -> str:
    return fmt_pct(value)  # type: ignore[arg-type]


# -- the influencer–brand and customer–influencer tabs ------------------------------------------------------
REL = relationships.DEFINITIONS
NARROW = "Widen the date range or choose other brands in the sidebar."
IB_METRICS = {"ROAS": ("roas", fmt_roas), "Relationship health": ("health", fmt_score)}


def influencer_brand_heatmap(measured: pl.DataFrame, column: str, label: str, top_n: int) -> None:
    """The ``top_n`` influencers (most collaborations, then spend, then contacts) × brands, coloured by ROAS
    or health; ``measured`` holds the pairs that have a value."""
    fmt = IB_METRICS[label][1]
    ranked = (
        measured.group_by("influencer_id", "label")
        .agg(pl.col("collaborations").sum(), pl.col("spend").sum(), pl.col("interactions").sum())
        .sort(
            ["collaborations", "spend", "interactions", "influencer_id"], descending=[True, True, True, False]
        )
    )
    order = {i: n for n, i in enumerate(ranked.head(top_n)["influencer_id"].to_list())}
    grid = measured.filter(pl.col("influencer_id").is_in(list(order))).sort(
        pl.col("influencer_id").replace_strict(order, default=None), "brand"
    )
    y, x, z, text = matrix(grid, row="label", column="brand", value=column, fmt=fmt)
    values = grid[column]
    zmax = 100.0 if column == "health" else max(1.0, float(values.quantile(0.95) or 1.0))
    title = (
        "ROAS by influencer and brand (attributed revenue / spend, ×)"
        if column == "roas"
        else "Relationship health by influencer and brand (0–100)"
    )
    chart(heatmap_figure(z, x, y, title=title, text=text, hover_label=label, zmax=zmax), "ib_heatmap")
    st.caption(
        f"The {len(y)} influencers with the most collaborations (then spend, then contacts) of the "
        f"{fmt_number(ranked.height)} with a {label}; blank: no {label} for that pair."
    )


def influencer_brand_tab(path: str, version: tuple[int, ...], filters: Filters) -> None:
    st.subheader("Influencers × brands", help=REL["health"].text())
    pairs = load_influencer_brand(path, version, filters)
    if pairs.is_empty():
        st.info(
            f"No influencer has a deal in a campaign of {shared.brand_names(filters)} in this date range, and no "
            f"contact about these brands is logged. Add deals or log interactions on the Roster page. {NARROW}"
        )
        return
    left, right = st.columns([3, 2])
    choice = left.segmented_control(
        "Colour by", list(IB_METRICS), default="ROAS", key="ib_metric", help=REL["roas"].text()
    )
    label = choice or "ROAS"
    column = IB_METRICS[label][0]
    top_n = right.slider("Influencers shown", 5, 60, 25, step=5, key="ib_top_n")
    pairs = pairs.with_columns(label=labels_of(pairs))
    measured = pairs.filter(pl.col(column).is_not_null())
    if measured.is_empty():
        st.info(
            f"No pair has a {label} in this range: no campaign of these brands with spend overlaps it. "
            f"Switch to relationship health (from logged contacts and deliverables). {NARROW}"
        )
    else:
        influencer_brand_heatmap(measured, column, label, top_n)
    table(
        pairs.sort(column, descending=True, nulls_last=True)
        .head(TABLE_ROWS)
        .select(
            pl.col("label").alias("Influencer"),
            pl.col("brand").alias("Brand"),
            pl.col("collaborations").alias("Collaborations"),
            pl.col("on_time_rate").alias("On-time rate"),
            pl.col("overdue_now").alias("Overdue now"),
            pl.col("total_fees").alias("Total fees"),
            pl.col("attributed_revenue").alias("Attributed revenue"),
            pl.col("roas").alias("ROAS"),
            pl.col("sponsored_er").alias("Sponsored ER"),
            pl.col("days_since_last_contact").alias("Days since last contact"),
            pl.col("health").alias("Health"),
            pl.col("currency").alias("Currency"),
        ),
        {
            "Collaborations": fmt_number,
            "On-time rate": pct,
            "Overdue now": fmt_number,
            "ROAS": fmt_roas,
            "Sponsored ER": pct,
            "Days since last contact": fmt_number,
            "Health": fmt_score,
        },
        money=("Total fees", "Attributed revenue"),
        currency="Currency",
        key="ib_table",
        height=320,
    )
    cut_note(pairs.height, f"pairs, by {label}")
    keys = ("collaborations", "on_time_rate", "total_fees", "spend", "attributed_revenue", "roas")
    more = ("sponsored_er", "days_since_last_contact", "health_recency", "health_frequency", "health_on_time")
    items = [REL[k] for k in (*keys, *more, "health_sentiment", "health")]
    definitions_expander("Influencer–brand definitions", items)


def acquisition_section(path: str, version: tuple[int, ...], filters: Filters, currencies: list[str]) -> bool:
    st.subheader("Customers acquired and their value", help=REL["customers_acquired"].text())
    pairs = load_customer_influencer(path, version, filters)
    if pairs.is_empty():
        model = default_model_label(path, version)
        st.info(
            f"No order of {shared.brand_names(filters)} in this date range is attributed to an influencer "
            f"(model: {model}). {NARROW}"
        )
        return False
    per = load_customer_influencer(path, version, filters, by_brand=False).with_columns(
        label=labels_of(pairs)
    )
    top = per.head(15)
    left, right = st.columns(2)
    with left:
        series = {
            "Customers acquired": top["customers_acquired"].to_list(),
            "Returning customers reached": top["returning_customers"].to_list(),
        }
        fig = bar_figure(
            top["label"].to_list(),
            series,
            title="Customers per influencer, top 15 (customers)",
            horizontal=True,
        )
        chart(fig, "acquired_bars")
    with right:
        if len(currencies) == 1:
            money = money_in(currencies[0])
            fig = bar_figure(
                top["label"].to_list(),
                {"Later LTV per acquired customer": top["later_ltv_per_customer"].to_list()},
                title=f"Later LTV per acquired customer ({currencies[0]})",
                hover=money,
                horizontal=True,
            )
            chart(fig, "ltv_bars")
        else:
            st.caption("LTV is per brand in the table below: these brands sell in different currencies.")
    brands = {b.brand_id: b.currency for b in shared.load_brands(path, version)}
    table(
        pairs.with_columns(label=labels_of(pairs))
        .head(TABLE_ROWS)
        .select(
            pl.col("label").alias("Influencer"),
            pl.col("brand").alias("Brand"),
            pl.col("customers_acquired").alias("Customers acquired"),
            pl.col("returning_customers").alias("Returning reached"),
            pl.col("repeat_rate").alias("Repeat rate"),
            pl.col("later_ltv").alias("Later LTV"),
            pl.col("later_ltv_per_customer").alias("Later LTV per customer"),
            pl.col("brand_id").replace_strict(brands, default=None).alias("Currency"),
        ),
        {"Customers acquired": fmt_number, "Returning reached": fmt_number, "Repeat rate": pct},
        money=("Later LTV", "Later LTV per customer"),
        currency="Currency",
        key="ci_table",
        height=300,
    )
    cut_note(pairs.height, "influencer–brand pairs, by customers acquired")
    return True


def overlap_section(path: str, version: tuple[int, ...], filters: Filters) -> None:
    st.subheader("Buyer overlap", help=REL["buyer_overlap"].text())
    top_n = st.slider("Top influencers by attributed customers", 3, 30, 12, key="overlap_n")
    pairs, exclusive = load_overlap(path, version, filters, top_n)
    if exclusive.height < 2:
        st.info("Buyer overlap needs two influencers with attributed customers in this range.")
        return
    labelled = exclusive.with_columns(label=labels_of(exclusive))
    names = dict(zip(labelled["influencer_id"], labelled["label"], strict=True))
    order = {i: n for n, i in enumerate(exclusive["influencer_id"].to_list())}
    grid = pairs.with_columns(
        a=pl.col("influencer_a").replace_strict(names),
        b=pl.col("influencer_b").replace_strict(names),
        jaccard=pl.when(pl.col("influencer_a") != pl.col("influencer_b")).then(pl.col("jaccard")),
    ).sort(pl.col("influencer_a").replace_strict(order), pl.col("influencer_b").replace_strict(order))
    y, x, z, text = matrix(grid, row="a", column="b", value="jaccard", fmt=pct)
    off_diagonal = grid["jaccard"].drop_nulls()
    zmax = float(off_diagonal.max()) if len(off_diagonal) and off_diagonal.max() else 1.0
    left, right = st.columns([3, 2])
    with left:
        title = "Buyer overlap (Jaccard of attributed customers, %)"
        fig = heatmap_figure(
            z, x, y, title=title, text=text, hover_label="overlap", zmax=zmax, hide_zero=True
        )
        chart(fig, "overlap")
    with right:
        st.markdown("**Exclusive share**", help=REL["exclusive_share"].text())
        fig = bar_figure(
            [names[i] for i in exclusive["influencer_id"]],
            {"Exclusive share": exclusive["exclusive_share"].fill_null(0).to_list()},
            title="Exclusive customers (%)",
            hover=pct,
            horizontal=True,
            height=max(260, 26 * exclusive.height + 120),
        )
        chart(fig, "exclusive")


def flows_section(path: str, version: tuple[int, ...], filters: Filters, currencies: list[str]) -> None:
    st.subheader("Customer flows: brand ← influencer ← customer segment", help=REL["flows"].text())
    options = ["Orders", "Revenue"] if len(currencies) == 1 else ["Orders"]
    measure = st.segmented_control("Measure", options, default="Orders", key="flow_measure") or "Orders"
    flows = load_flows(path, version, filters, measure.lower())
    if flows.is_empty():
        st.info(f"No attributed orders in this range. {NARROW}")
        return
    fmt = money_in(currencies[0]) if measure == "Revenue" else fmt_number
    unit = f"revenue, {currencies[0]}" if measure == "Revenue" else "orders"
    title = f"Attributed {measure.lower()}: customer segment → influencer → brand ({unit})"
    chart(sankey_figure(flows, title=title, fmt=fmt), "flows")
    if len(currencies) > 1:
        st.caption("Revenue flows need one currency: choose brands of one currency in the sidebar.")


def customer_influencer_tab(path: str, version: tuple[int, ...], filters: Filters) -> None:
    st.caption(
        f"Attribution model: {default_model_label(path, version)} (change it on the Settings page). "
        "Customers are pseudonymous and per brand."
    )
    brands = shared.load_brands(path, version)
    chosen = [b for b in brands if filters.brand_ids is None or b.brand_id in filters.brand_ids]
    currencies = sorted({b.currency for b in chosen})
    if acquisition_section(path, version, filters, currencies):
        overlap_section(path, version, filters)
        flows_section(path, version, filters, currencies)
    keys = ("customers_acquired", "returning_customers", "later_ltv", "later_ltv_per_customer", "repeat_rate")
    items = [REL[k] for k in (*keys, "buyer_overlap", "exclusive_share", "flows")]
    definitions_expander("Customer–influencer definitions", items)


# -- the Settings page's rate card ------------------------------------------------------------------------
RATE_COLUMNS = rate_card.VALUE_COLUMNS
RATE_CARD_HELP = (
    profile.DEFINITIONS["emv"].text()
    + " Values in the card's currency per like, comment, share, save and 1,000 views."
)
_CARD_SCHEMA = {"platform": pl.String, "currency": pl.String, **{c: pl.Float64 for c in RATE_COLUMNS}}


def card_frame(card: rate_card.RateCard) -> pl.DataFrame:
    """A rate card as the editor shows it and the file holds it: platform, currency, the values."""
    return (
        card.values.with_columns(currency=pl.lit(card.currency)).select(list(_CARD_SCHEMA)).cast(_CARD_SCHEMA)
    )


def read_rate_card(file: Path) -> tuple[pl.DataFrame, str | None]:
    """The card in ``file`` as a frame, or an empty frame and the sentence saying what is wrong with it."""
    try:
        return card_frame(rate_card.load_rate_card(file)), None
    except rate_card.RateCardError as exc:
        return pl.DataFrame(
            schema=_CARD_SCHEMA
        ), f"{exc} Fill in the table below and save to write a new card."


def file_digest(file: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def as_polars(edited: object) -> pl.DataFrame:
    """What st.data_editor gave back, as a Polars frame (it returns the type it was given)."""
    if isinstance(edited, pl.DataFrame):
        return edited
    return pl.from_pandas(edited)  # type: ignore[arg-type]


def save_rate_card(
    store: Store, file: Path, before: pl.DataFrame, card: rate_card.RateCard, *, username: str
) -> bool:
    """Write a validated card to ``file`` (keeping the file's leading comment lines) with an audit entry
    holding the rows before and after, in one transaction; False when nothing changed."""
    after = card_frame(card)
    if before.height and before.equals(after):
        return False
    header: list[str] = []
    if file.is_file():
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            header.append(line)
    text = "\n".join([*header, after.write_csv().rstrip("\n")]) + "\n"
    with store.transaction() as cur:
        audit.record_change(
            cur,
            username=username,
            action="update" if before.height else "insert",
            table="rate_card",
            row_key=str(file),
            old=before.to_dicts() or None,
            new=after.to_dicts(),
        )
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(f".{file.name}.saving")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, file)  # atomic: a reader sees the old card or the new one, never half
    return True


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this module as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
