"""The Roster page's helpers: cached loaders over models.roster, the write helper, charts and table settings.

Loaders take the store's path and version token first (see pages/_shared.py), so a write here, or by any
other process, shows at the next run. Writes go through :func:`write` from widget callbacks: one
transaction, the user's name on the audit entries, a refused write shown as a sentence in its form, a toast
for success. Nothing is drawn at import.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from models import roster
from models.filters import Filters
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.schema import DEAL_STAGES
from models.store import StoreError
from pages import _shared as shared
from pages.theme import COLORS, TEMPLATE, nice_ticks, register

T = TypeVar("T")
CACHE = shared.CACHE
FLASH_KEY = "roster_flash"
EDITOR_GENERATION = "roster_editor_generation"
EDITABLE = ("tags", "owner", "stage", "notes")


# -- cached loaders ---------------------------------------------------------------------------------------
@st.cache_data(**CACHE)
def load_roster(path: str, version: tuple[int, ...], filters: Filters) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.roster_table(cur, filters)


@st.cache_data(**CACHE)
def load_choices(path: str, version: tuple[int, ...]) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.influencer_choices(cur)


@st.cache_data(**CACHE)
def load_campaigns(path: str, version: tuple[int, ...], filters: Filters) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.campaigns(cur, filters)


@st.cache_data(**CACHE)
def load_pipeline(
    path: str, version: tuple[int, ...], filters: Filters, campaign_id: int | None
) -> roster.Pipeline:
    with shared._store_at(path).connect() as cur:
        return roster.pipeline(cur, filters, campaign_id)


@st.cache_data(**CACHE)
def load_timeline(path: str, version: tuple[int, ...], influencer_id: int, filters: Filters) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.contact_timeline(cur, influencer_id, filters)


@st.cache_data(**CACHE)
def load_contracts(
    path: str, version: tuple[int, ...], influencer_id: int, filters: Filters
) -> roster.Contracts:
    with shared._store_at(path).connect() as cur:
        return roster.contracts_and_payments(cur, influencer_id, filters)


@st.cache_data(**CACHE)
def load_deliverables(
    path: str, version: tuple[int, ...], influencer_id: int | None, filters: Filters
) -> pl.DataFrame:
    with shared._store_at(path).connect() as cur:
        return roster.deliverables(cur, influencer_id, filters)


# -- writes -----------------------------------------------------------------------------------------------
# Writes run in widget callbacks (on_click), before the script body: the page then draws the new data in the
# same run (the store's version token has changed), and no click is lost to a rerun. A callback cannot draw,
# so the outcome is kept in session state: a toast for success, an error shown inside the form it came from.
user = shared.user  # who the audit log names: the signed-in user


def value(key: str, default: Any = None) -> Any:
    """A form widget's submitted value (callbacks read the form through session state)."""
    return st.session_state.get(key, default)


def write(
    form: str,
    action: Callable[..., T],
    *args: Any,
    message: Callable[[T], str],
    select: Callable[[T], Mapping[str, object]] | None = None,
    **kwargs: Any,
) -> T | None:
    """Run a models.roster write in one transaction as the current user (call from a callback).

    ``message`` words the toast; ``select`` names widgets to point at the result (e.g. the new influencer).
    A refused write (or a busy store) is kept as the form's error instead.
    """
    try:
        with shared.store().transaction() as cur:
            result = action(cur, *args, username=user(), **kwargs)
    except (roster.RosterError, StoreError) as exc:
        st.session_state[f"{form}_error"] = str(exc)
        return None
    st.session_state.pop(f"{form}_error", None)
    st.session_state[FLASH_KEY] = message(result)
    for key, selected in (select(result) if select else {}).items():
        st.session_state[key] = selected
    return result


def form_error(form: str) -> None:
    """Show (once) why the form's last submission was refused."""
    message = st.session_state.pop(f"{form}_error", None)
    if message:
        st.error(message, icon=":material/error:")


def has_error(form: str) -> bool:
    return f"{form}_error" in st.session_state


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def keep_choice(key: str, options: list[Any]) -> None:
    """Forget a remembered choice that is no longer an option (e.g. an influencer merged away)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def definition(key: str) -> str:
    return roster.DEFINITIONS[key].text()


# -- the roster table -------------------------------------------------------------------------------------
def display_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The editor's columns: raw values for sorting, percentages ×100 so the column format reads 12.3 %."""

    def price(low: float | None, high: float | None, currency: str | None) -> str:
        if low is None:
            return MISSING
        if high is None or round(low) == round(high):
            return fmt_money(low, currency)
        return f"{fmt_money(low, currency)}–{fmt_money(high, currency)}"

    texts: dict[tuple, str] = {}  # prices repeat (rate card × tier): format each once
    prices = [
        texts[r] if r in texts else texts.setdefault(r, price(*r))
        for r in rows.select("price_low", "price_high", "price_currency").iter_rows()
    ]
    return rows.select(
        "name",
        "handles",
        "platforms",
        "tier",
        "followers",
        (pl.col("er_median") * 100).alias("er_pct"),
        "stage",
        "owner",
        "tags",
        "last_contact_at",
        "days_since_contact",
        "health",
        "open_deals",
        "campaign",
        (pl.col("growth_30d") * 100).alias("growth_pct"),
        "cadence_per_week",
        "emv_window",
        pl.Series("price", prices, dtype=pl.String),
        "niche",
        "country",
        "notes",
    )


def column_config(options: Mapping[str, list[str]], emv_currency: str) -> dict[str, Any]:
    cc = st.column_config
    help_of = {k: definition(k) for k in roster.DEFINITIONS}
    return {
        "name": cc.TextColumn("Name", disabled=True, pinned=True),
        "handles": cc.TextColumn("Accounts", disabled=True),
        "platforms": cc.ListColumn("Platforms", disabled=True),
        "tier": cc.TextColumn("Tier", disabled=True, help=help_of["tier"]),
        "followers": cc.NumberColumn("Followers", format="compact", disabled=True, help=help_of["followers"]),
        "er_pct": cc.NumberColumn("ER", format="%.1f %%", disabled=True, help=help_of["er_median"]),
        "growth_pct": cc.NumberColumn(
            "Growth 30 d", format="%+.1f %%", disabled=True, help=help_of["growth_30d"]
        ),
        "cadence_per_week": cc.NumberColumn(
            "Posts / week", format="%.1f", disabled=True, help=help_of["cadence"]
        ),
        "emv_window": cc.NumberColumn(
            f"EMV ({emv_currency})", format="compact", disabled=True, help=help_of["emv"]
        ),
        "price": cc.TextColumn("Est. price", disabled=True, help=help_of["price"]),
        "niche": cc.TextColumn("Niche", disabled=True),
        "country": cc.TextColumn("Country", disabled=True),
        "owner": cc.TextColumn(
            "Owner", max_chars=80, help="Team member who manages the relationship (editable)."
        ),
        "tags": cc.MultiselectColumn(
            "Tags",
            options=options["tags"],
            accept_new_options=True,
            help="Editable; type a new tag to add it.",
        ),
        "stage": cc.SelectboxColumn(
            "Stage", options=[*DEAL_STAGES, roster.NO_DEAL], help=help_of["stage"], required=True
        ),
        "campaign": cc.TextColumn("Latest campaign", disabled=True),
        "open_deals": cc.NumberColumn("Open deals", format="%d", disabled=True, help=help_of["open_deals"]),
        "last_contact_at": cc.DatetimeColumn(
            "Last contact", format="YYYY-MM-DD", disabled=True, help=help_of["last_contact"]
        ),
        "days_since_contact": cc.NumberColumn("Days since", format="%d d", disabled=True),
        "health": cc.ProgressColumn(
            "Health", min_value=0, max_value=100, format="%.0f", help=help_of["health"]
        ),
        "notes": cc.TextColumn("Notes", width="large", max_chars=roster.MAX_NOTES, help="Editable."),
    }


def editor_key(rows: pl.DataFrame) -> str:
    """A key that changes with the rows shown (and after each save), so edits never land on other rows."""
    ids = ",".join(map(str, rows["influencer_id"].to_list()))
    generation = st.session_state.get(EDITOR_GENERATION, 0)
    return f"roster_editor_{zlib.crc32(ids.encode()):08x}_{generation}"


def pending_edits(rows: pl.DataFrame, state: Mapping[str, Any] | None) -> dict[int, dict[str, object]]:
    """The editor's changed cells as ``{influencer_id: {column: value}}`` (a stage edit names its deal)."""
    edits: dict[int, dict[str, object]] = {}
    for position, changes in ((state or {}).get("edited_rows") or {}).items():
        row = rows.row(int(position), named=True)
        change = {column: value for column, value in changes.items() if column in EDITABLE}
        if "stage" in change:
            change["deal_id"] = row["deal_id"]
        if change:
            edits[int(row["influencer_id"])] = change
    return edits


def reset_editor() -> None:
    """Drop the editor's pending edits (a new key gives a fresh editor)."""
    st.session_state[EDITOR_GENERATION] = st.session_state.get(EDITOR_GENERATION, 0) + 1


def save_edits(rows: pl.DataFrame, key: str) -> None:
    """Callback of the Save button: write the edited cells of the rows the editor showed."""
    edits = pending_edits(rows, st.session_state.get(key))
    if write("roster_editor", roster.edit_roster, edits, message=lambda r: r.describe()) is not None:
        reset_editor()


# -- charts -----------------------------------------------------------------------------------------------
def pipeline_figure(by_stage: pl.DataFrame) -> go.Figure:
    """Bars: deals per stage (all currencies); labels: the stage's fees per currency, never added up."""
    register()
    per_stage = by_stage.group_by("stage", maintain_order=True).agg(
        deals=pl.col("deals").sum(), fees=pl.struct("currency", "fees")
    )
    labels = []
    for row in per_stage.iter_rows(named=True):
        money = " + ".join(
            fmt_money(f["fees"], f["currency"], compact=True) for f in row["fees"] if f["fees"]
        )
        labels.append(f"{fmt_number(row['deals'])} · {money}" if money else fmt_number(row["deals"]))
    colours = [COLORS[5] if s == "declined" else COLORS[0] for s in per_stage["stage"]]
    fig = go.Figure(
        go.Bar(
            x=per_stage["stage"].to_list(),
            y=per_stage["deals"].to_list(),
            text=labels,
            textposition="outside",
            marker_color=colours,
            customdata=labels,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        ),
        layout={"template": TEMPLATE, "height": 320, "margin": {"t": 24}},
    )
    top = max(per_stage["deals"].max() or 0, 1)
    ticks = nice_ticks(float(top) * 1.15, integer=True)
    fig.update_yaxes(
        title="deals",
        tickmode="array",
        tickvals=ticks,
        ticktext=[fmt_number(t) for t in ticks],
        range=[0, ticks[-1]],
    )
    fig.update_layout(hovermode="closest", xaxis_title=None)
    return fig


def timeline_figure(timeline: pl.DataFrame) -> go.Figure:
    """One mark per interaction: time across, channel down, shape = direction, colour = sentiment (−1…1)."""
    register()
    fig = go.Figure(layout={"template": TEMPLATE, "height": 300, "margin": {"t": 24}})
    for direction, symbol in (("outbound", "circle"), ("inbound", "diamond")):
        rows = timeline.filter(pl.col("direction") == direction)
        if rows.is_empty():
            continue
        hover = [
            f"{r['occurred_at']:%Y-%m-%d %H:%M} UTC · {r['channel']} · {direction}<br>"
            f"{r['brand'] or 'no brand'} · sentiment {fmt_number(r['sentiment'])}<br>{r['summary'] or ''}"
            for r in rows.iter_rows(named=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=rows["occurred_at"].to_list(),
                y=rows["channel"].to_list(),
                mode="markers",
                name=direction,
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                marker={
                    "symbol": symbol,
                    "size": 12,
                    "color": rows["sentiment"].fill_null(0).to_list(),
                    "cmin": -1,
                    "cmax": 1,
                    "colorscale": [[0, COLORS[5]], [0.5, "#d1d5db"], [1, COLORS[2]]],
                    "line": {"width": 1, "color": "#374151"},
                },
            )
        )
    fig.update_layout(hovermode="closest", xaxis_title=None, yaxis_title="channel")
    fig.update_yaxes(type="category", showgrid=True, rangemode="normal")
    return fig


# -- small formatters -------------------------------------------------------------------------------------
def money_text(frame: pl.DataFrame, column: str) -> list[str]:
    texts: dict[tuple, str] = {}  # fees repeat across deals: format each amount once
    return [
        texts[key] if key in texts else texts.setdefault(key, fmt_money(*key))
        for key in zip(frame[column].to_list(), frame["currency"].to_list(), strict=True)
    ]


def pct_text(value: float | None) -> str:
    return fmt_pct(value)


def when(value: dt.datetime | None) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d}"


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this helper as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
