"""The Profiles page's charts: Plotly figures in the app's one template (pages/theme.py), numbers written
with models.formatting, so a chart reads like the KPI cards above it.

Builders take the frames of models.profile_views / models.relationships and return figures; like theme.py
this module does not import Streamlit and draws nothing when imported.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from models import profile_views as views
from models.formatting import MISSING, fmt_number, fmt_pct
from pages.theme import COLORS, GRID, MUTED, TEMPLATE, nice_ticks, register

UNKNOWN = "unknown"  # a follower count the platform hides (or never reported): never shown as 0
ER_DIGITS = 2  # engagement rates are small ratios: 3.04 %, not 3.0 %
SPIKE_COLOR = COLORS[5]  # vermillion


def fmt_er(value: float | None) -> str:
    return fmt_pct(value, digits=ER_DIGITS)


def fmt_day(value: dt.date | dt.datetime | None) -> str:
    return MISSING if value is None else f"{value:%d %b %Y}"


def _figure(title: str, height: int = 300) -> go.Figure:
    register()
    return go.Figure(layout={"template": TEMPLATE, "title": {"text": title}, "height": height})


def _pct_ticks(top: float) -> tuple[list[float], list[str]]:
    ticks = nice_ticks(top)
    digits = next((d for d in (0, 1, 2) if all(abs(round(t * 100, d) - t * 100) < 1e-9 for t in ticks)), 3)
    return ticks, [fmt_pct(t, digits=digits) for t in ticks]


def _pct_axis(fig: go.Figure, top: float, **where: object) -> None:
    ticks, labels = _pct_ticks(top)
    fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=labels, range=[0, ticks[-1] * 1.04], **where)


def _count_axis(fig: go.Figure, low: float, high: float, **where: object) -> None:
    """Ticks from low to high in round steps, written like every other count (72.5K)."""
    span = max(high - low, abs(high) * 0.01, 1.0)
    step = nice_ticks(span)[1]
    first = (low // step) * step
    ticks = [first + i * step for i in range(int((high - first) // step) + 2)]
    fig.update_yaxes(
        tickmode="array",
        tickvals=ticks,
        ticktext=[fmt_number(t) for t in ticks],
        range=[first, ticks[-1]],
        rangemode="normal",
        **where,
    )


def follower_figure(by_day: pl.DataFrame, jumps: pl.DataFrame) -> go.Figure:
    """One panel per account (own y axis: accounts differ by orders of magnitude), spikes marked."""
    accounts = by_day.select("account_id", "platform", "handle").unique().sort("account_id").rows(named=True)
    fig = make_subplots(
        rows=len(accounts),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"{a['platform']} @{a['handle']}" for a in accounts],
    )
    register()
    fig.update_layout(
        template=TEMPLATE,
        height=120 + 170 * len(accounts),
        hovermode="closest",
        legend={"x": 1, "xanchor": "right"},
    )
    fig.update_annotations(x=0, xanchor="left", font={"size": 12, "color": MUTED})
    for row, account in enumerate(accounts, start=1):
        series = by_day.filter(pl.col("account_id") == account["account_id"])
        values = series["followers"].to_list()
        fig.add_trace(
            go.Scatter(
                x=series["day"].to_list(),
                y=values,
                name="followers",
                customdata=[UNKNOWN if v is None else fmt_number(v) for v in values],
                hovertemplate="%{x|%d %b %Y}: %{customdata} followers<extra></extra>",
                line={"color": COLORS[0]},
                showlegend=row == 1,
                connectgaps=False,
            ),
            row=row,
            col=1,
        )
        marks = jumps.filter(pl.col("account_id") == account["account_id"])
        for flagged, name, symbol, color in (
            (True, "flagged spike", "x", SPIKE_COLOR),
            (False, "jump engagement followed", "circle-open", MUTED),
        ):
            rows = marks.filter(pl.col("flagged") == flagged)
            fig.add_trace(
                go.Scatter(
                    x=rows["snapshot_date"].to_list(),
                    y=rows["followers"].to_list(),
                    mode="markers",
                    name=name,
                    marker={
                        "symbol": symbol,
                        "size": 12,
                        "color": color,
                        "line": {"width": 2, "color": color},
                    },
                    customdata=[
                        f"{fmt_pct(r['change'], signed=True)} since {fmt_day(r['prev_snapshot_date'])}, "
                        f"z = {r['robust_z']:.1f}; {r['reason']}"
                        for r in rows.iter_rows(named=True)
                    ],
                    hovertemplate="%{x|%d %b %Y}: %{customdata}<extra>" + name + "</extra>",
                    showlegend=row == 1 and rows.height > 0,
                ),
                row=row,
                col=1,
            )
        known = [v for v in values if v is not None]
        if known:
            _count_axis(fig, min(known), max(known), row=row, col=1)
    return fig


def er_figure(rolling: pl.DataFrame) -> go.Figure:
    """Per-post ER (sponsored and organic apart), the rolling median and its 95 % band."""
    fig = _figure("")
    fig.update_layout(hovermode="closest")
    band = rolling.filter(pl.col("ci_low").is_not_null())
    fig.add_trace(
        go.Scatter(
            x=band["posted_at"].to_list() + band["posted_at"].reverse().to_list(),
            y=band["ci_high"].to_list() + band["ci_low"].reverse().to_list(),
            fill="toself",
            fillcolor="rgba(0,114,178,0.15)",
            line={"width": 0},
            name="95 % interval",
            hoverinfo="skip",
        )
    )
    line = rolling.filter(pl.col("rolling_median").is_not_null())
    fig.add_trace(
        go.Scatter(
            x=line["posted_at"].to_list(),
            y=line["rolling_median"].to_list(),
            name=f"rolling median ({views.ROLLING_POSTS} posts)",
            line={"color": COLORS[0]},
            customdata=[
                f"{fmt_er(r['rolling_median'])} (95 % CI {fmt_er(r['ci_low'])} – {fmt_er(r['ci_high'])})"
                for r in line.iter_rows(named=True)
            ],
            hovertemplate="median %{customdata}<extra></extra>",
        )
    )
    for sponsored, name, color in ((False, "organic post", COLORS[4]), (True, "sponsored post", COLORS[1])):
        posts = rolling.filter(pl.col("sponsored") == sponsored)
        fig.add_trace(
            go.Scatter(
                x=posts["posted_at"].to_list(),
                y=posts["er_followers"].to_list(),
                mode="markers",
                name=name,
                marker={"color": color, "size": 7},
                customdata=[
                    f"{fmt_er(r['er_followers'])} · {r['platform']} @{r['handle']}"
                    for r in posts.iter_rows(named=True)
                ],
                hovertemplate="%{x|%d %b %Y}: %{customdata}<extra></extra>",
            )
        )
    top = max(rolling["er_followers"].max() or 0.0, band["ci_high"].max() or 0.0) if rolling.height else 0.0
    _pct_axis(fig, float(top))
    return fig


def sponsored_figure(split: pl.DataFrame) -> go.Figure:
    """Median ER of sponsored and organic posts in the window, with their intervals and post counts."""
    fig = _figure("")
    rows = split.rows(named=True)
    have = [r for r in rows if r["er_median"] is not None]
    category = {r["kind"]: f"{r['kind']} ({r['posts']} posts)" for r in rows}
    fig.add_trace(
        go.Bar(
            x=[category[r["kind"]] for r in have],
            y=[r["er_median"] for r in have],
            marker={"color": [COLORS[1] if r["kind"] == "sponsored" else COLORS[4] for r in have]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [(r["ci_high"] - r["er_median"]) if r["ci_high"] is not None else 0 for r in have],
                "arrayminus": [
                    (r["er_median"] - r["ci_low"]) if r["ci_low"] is not None else 0 for r in have
                ],
                "color": MUTED,
            },
            text=[fmt_er(r["er_median"]) for r in have],
            textposition="inside",
            insidetextanchor="start",
            customdata=[
                f"median {fmt_er(r['er_median'])} over {r['er_posts']} posts"
                + (
                    f" (95 % CI {fmt_er(r['ci_low'])} – {fmt_er(r['ci_high'])})"
                    if r["ci_low"] is not None
                    else ""
                )
                for r in have
            ],
            hovertemplate="%{customdata}<extra></extra>",
            showlegend=False,
        )
    )
    for r in rows:
        if r["er_median"] is None:
            text = f"no {r['kind']} posts" if r["posts"] == 0 else "no ER: followers unknown"
            fig.add_annotation(x=category[r["kind"]], y=0, text=text, showarrow=False, yshift=12)
    fig.update_xaxes(
        categoryorder="array", categoryarray=[category["sponsored"], category["organic"]], type="category"
    )
    top = max([r["ci_high"] or r["er_median"] or 0.0 for r in rows] + [0.0])
    _pct_axis(fig, float(top))
    return fig


def fit_figure(breakdown: pl.DataFrame) -> go.Figure:
    rows = breakdown.sort("weight", "component", descending=[False, True]).rows(named=True)
    fig = _figure("", height=60 + 34 * len(rows))
    fig.update_layout(hovermode="closest")
    labels = [f"{r['label']} ({fmt_pct(r['weight'], digits=0)})" for r in rows]
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[r["value"] if r["value"] is not None else 0 for r in rows],
            orientation="h",
            marker={"color": [COLORS[0] if r["value"] is not None else GRID for r in rows]},
            text=[
                f"{r['value']:.2f} → {r['points']:.1f} pts"
                if r["value"] is not None
                else "no data (left out)"
                for r in rows
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(range=[0, 1.35], tickvals=[0, 0.25, 0.5, 0.75, 1], title_text="component (0 – 1)")
    fig.update_yaxes(rangemode="normal", showgrid=False)
    return fig


def indexed_figure(followers: pl.DataFrame, order: list[int], names: dict[int, str]) -> go.Figure:
    fig = _figure("")
    for i, influencer_id in enumerate(order):
        series = followers.filter(pl.col("influencer_id") == influencer_id)
        if series.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=series["day"].to_list(),
                y=series["index"].to_list(),
                name=names[influencer_id],
                line={"color": COLORS[i]},
                customdata=[
                    f"{fmt_number(round(ix, 1))} ({fmt_number(f)} followers)" if ix is not None else UNKNOWN
                    for ix, f in zip(series["index"].to_list(), series["followers"].to_list(), strict=True)
                ],
                hovertemplate="%{customdata}",
            )
        )
    values = followers["index"].drop_nulls()
    if values.len():
        _count_axis(fig, min(float(values.min()), 100.0), max(float(values.max()), 100.0))
    fig.add_hline(y=100, line={"color": MUTED, "width": 1, "dash": "dot"})
    return fig


def er_distribution_figure(posts: pl.DataFrame, order: list[int], names: dict[int, str]) -> go.Figure:
    fig = _figure("")
    fig.update_layout(hovermode="closest")
    top = 0.0
    for i, influencer_id in enumerate(order):
        ers = posts.filter(pl.col("influencer_id") == influencer_id)["er_followers"].drop_nulls().drop_nans()
        top = max(top, float(ers.max() or 0.0)) if ers.len() else top
        fig.add_trace(
            go.Box(
                y=ers.to_list(),
                x=[names[influencer_id]] * ers.len(),
                name=names[influencer_id],
                marker={"color": COLORS[i]},
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                customdata=[fmt_er(v) for v in ers.to_list()],
                hovertemplate="%{customdata}<extra></extra>",
                showlegend=False,
            )
        )
    _pct_axis(fig, top)
    return fig


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this module as a page: hand over to app.py
    from pages._shared import leave_legacy_pages_mode

    leave_legacy_pages_mode()
