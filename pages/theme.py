"""The one Plotly look of the app: a template registered as ``triad`` and the chart builders that use it.

Every chart goes through :func:`trend_figure` (or at least ``template=TEMPLATE``) and is drawn with
``st.plotly_chart(fig, theme=None)`` so Streamlit's own theme does not override the template. Axis ticks
and hover labels use :mod:`models.formatting`, so a chart reads like the numbers around it (1.2K, $3.4M).
This module does not import Streamlit and draws nothing when imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from models.formatting import fmt_money, fmt_number

TEMPLATE = "triad"

# Colour-blind-safe categorical palette (Okabe–Ito, reordered), used in this order by every chart.
COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # pink
    "#56B4E9",  # sky
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
FONT = "Source Sans Pro, Inter, -apple-system, Segoe UI, Roboto, sans-serif"


def _template() -> go.layout.Template:
    axis = {
        "showgrid": False,
        "linecolor": GRID,
        "ticks": "outside",
        "tickcolor": GRID,
        "tickfont": {"color": MUTED},
        "title": {"font": {"color": MUTED}},
        "zeroline": False,
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "colorway": list(COLORS),
            "font": {"family": FONT, "size": 13, "color": INK},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "margin": {"l": 8, "r": 8, "t": 36, "b": 8},
            "hovermode": "x unified",
            "hoverlabel": {"font": {"family": FONT, "size": 12}},
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.02,
                "xanchor": "left",
                "x": 0,
                "title": {"text": ""},
            },
            "xaxis": axis,
            "yaxis": {**axis, "showgrid": True, "gridcolor": GRID, "ticks": "", "rangemode": "tozero"},
            "bargap": 0.25,
        },
        data={
            "bar": [go.Bar(marker={"line": {"width": 0}})],
            "scatter": [go.Scatter(line={"width": 2.2}, mode="lines")],
        },
    )


def register() -> str:
    """Register the ``triad`` template and make it Plotly's default; returns its name."""
    if TEMPLATE not in pio.templates:
        pio.templates[TEMPLATE] = _template()
    pio.templates.default = TEMPLATE
    return TEMPLATE


def nice_ticks(max_value: float, count: int = 4, *, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``max_value`` (steps of 1, 2, 2.5 or 5 × 10^k).

    ``integer`` keeps steps whole, for counts (no "0.25 orders").
    """
    if max_value <= 0 or not math.isfinite(max_value):
        return [0.0, 1.0]
    raw = max_value / count
    power = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in multiples if m * power >= raw)
    if integer:
        step = max(1, round(step))
    if step == int(step):
        step = int(step)
    steps = math.ceil(max_value / step - 1e-9)
    return [round(i * step, 10) for i in range(max(steps, 1) + 1)]


def trend_figure(
    frame: pl.DataFrame,
    *,
    title: str,
    kind: Literal["line", "bar"] = "line",
    money: bool = False,
    grain: Literal["day", "week"] = "day",
    height: int = 300,
) -> go.Figure:
    """A time series chart of ``period, value`` (or ``period, currency, value``: one trace per currency).

    ``money`` formats values in each trace's currency; currencies are never added together.
    """
    register()
    has_currency = "currency" in frame.columns
    groups = (
        [(c, frame.filter(pl.col("currency") == c)) for c in sorted(frame["currency"].unique().to_list())]
        if has_currency
        else [(None, frame)]
    )
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}, "height": height})
    period_word = "Week of" if grain == "week" else "Day"
    for currency, rows in groups:
        fmt: Callable[[float], str] = (
            (lambda v, c=currency: fmt_money(v, c)) if money else fmt_number  # type: ignore[misc]
        )
        text = [fmt(v) for v in rows["value"].to_list()]
        common = {
            "x": rows["period"].to_list(),
            "y": rows["value"].to_list(),
            "name": currency or title,
            "customdata": text,
            "hovertemplate": "%{customdata}<extra>" + (currency or "") + "</extra>",
            "showlegend": currency is not None,
        }
        fig.add_trace(go.Bar(**common) if kind == "bar" else go.Scatter(**common))
    fig.update_layout(barmode="group", xaxis_title=None, xaxis_hoverformat=f"{period_word} %d %b %Y")
    _format_y_axis(fig, frame, money=money, currencies=[c for c, _ in groups if c])
    return fig


def _format_y_axis(fig: go.Figure, frame: pl.DataFrame, *, money: bool, currencies: list[str]) -> None:
    top = float(frame["value"].max() or 0) if frame.height else 0.0
    ticks = nice_ticks(top, integer=not money)
    single_currency = currencies[0] if money and len(currencies) == 1 else None
    labels = [
        fmt_money(t, single_currency, compact=True) if single_currency else fmt_number(t) for t in ticks
    ]
    fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=labels, range=[0, ticks[-1] * 1.04])


register()

if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this module as a page: hand over to app.py
    from pages._shared import leave_legacy_pages_mode

    leave_legacy_pages_mode()
