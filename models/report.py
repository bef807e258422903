"""One campaign in detail, and its shareable report: a single self-contained HTML file (PDF where possible).

:func:`campaign_detail` gathers everything the Campaigns page shows for a campaign (summary, per-influencer
performance, conversions and spend per day, posts, funnel, lift, leakage with its evidence, deliverables)
from :mod:`models.campaigns`, under the attribution model in use. The page and the report both draw from it
with the figure builders below, so the file a manager shares shows exactly the numbers on screen.

:func:`campaign_report_html` writes that detail as one HTML file: styles inline, Plotly's JavaScript inlined
once (the file opens offline, no external request), the data's freshness, the attribution model by name, and
the definitions of every metric it shows. :func:`report_pdf` prints that file with headless Chromium when it
is installed (the Debian package); without it Triad offers the HTML only.

No Streamlit here. Charts use the app's one Plotly template (``pages/theme.py``, which imports no Streamlit).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.subplots import make_subplots

from models import campaigns
from models.attribution import DEFINITIONS as ATTRIBUTION_DEFINITIONS
from models.attribution import AttributionModel, default_model_id
from models.campaigns import ACTIVE_STAGES, Lift
from models.filters import Filters, MetricDefinition
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.overview import data_freshness
from pages.theme import COLORS, MUTED, TEMPLATE, nice_ticks, register

log = logging.getLogger(__name__)

PRE_WEEKS = 8  # the lift baseline (models.campaigns.campaign_lift's default)
DONE_STATUSES = ("published", "cancelled")  # a deliverable in any other status is still owed
MAX_POST_LINES = 300  # vertical post markers drawn on the daily chart (hover markers show every post)
MAX_EVIDENCE_ROWS = 200  # per flagged deal, in the report

Kind = Literal["text", "count", "money", "ratio", "pct", "date", "datetime", "flag"]

DEFINITIONS: dict[str, MetricDefinition] = {
    "cumulative_spend": MetricDefinition(
        "cumulative spend",
        "fees + product cost of the deals on the campaign's first day, then commission rate × attributed "
        "revenue on the day of each attributed order",
        "Deals count from the 'contracted' stage on, as in spend; the last point equals the campaign's spend.",
    ),
    "overdue": MetricDefinition(
        "overdue deliverable",
        "a deliverable whose due date has passed and whose status is still pending, submitted or approved "
        "(neither published nor cancelled)",
    ),
    "late": MetricDefinition("delivered late", "a deliverable published after its due date"),
}

# The per-influencer table: (column of deal_performance, label, kind). Page and report show these columns.
INFLUENCER_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("influencer", "Influencer", "text"),
    ("stage", "Stage", "text"),
    ("orders", "Orders", "count"),
    ("revenue", "Revenue", "money"),
    ("new_customers", "New customers", "count"),
    ("spend", "Spend", "money"),
    ("cpm", "CPM", "money"),
    ("cpe", "CPE", "money"),
    ("cpa", "CPA", "money"),
    ("roas", "ROAS", "ratio"),
    ("net_roas", "Net ROAS", "ratio"),
    ("roi", "ROI", "pct"),
    ("views", "Views", "count"),
    ("engagements", "Engagements", "count"),
    ("clicks", "Link clicks", "count"),
    ("conversion_rate", "Conversion rate", "pct"),
    ("posts", "Posts", "count"),
)
# Which definition explains each column (models.campaigns.DEFINITIONS keys).
COLUMN_DEFINITIONS: dict[str, str] = {
    "orders": "orders",
    "revenue": "revenue",
    "new_customers": "new_customers",
    "spend": "spend",
    "cpm": "cpm",
    "cpe": "cpe",
    "cpa": "cpa",
    "roas": "roas",
    "net_roas": "net_roas",
    "roi": "roi",
    "views": "views",
    "engagements": "engagements",
    "clicks": "clicks",
    "conversion_rate": "conversion_rate",
}
# The headline KPIs of a campaign: (key of the summary row, label, kind).
KPIS: tuple[tuple[str, str, Kind], ...] = (
    ("spend", "Spend", "money"),
    ("orders", "Attributed orders", "count"),
    ("revenue", "Attributed revenue", "money"),
    ("new_customers", "New customers", "count"),
    ("roas", "ROAS", "ratio"),
    ("net_roas", "Net ROAS", "ratio"),
    ("roi", "ROI", "pct"),
    ("cpa", "CPA", "money"),
)


class ReportError(RuntimeError):
    """The report cannot be made; the message says why and what to do."""


def fmt_value(value: object, kind: Kind, currency: str | None = None) -> str:
    """A cell or KPI in the app's one number format (money in the campaign's currency)."""
    if value is None:
        return "" if kind == "flag" else MISSING
    if kind == "money":
        return fmt_money(value, currency)  # type: ignore[arg-type]
    if kind in ("count", "ratio"):
        return fmt_number(value)  # type: ignore[arg-type]
    if kind == "pct":
        return fmt_pct(value)  # type: ignore[arg-type]
    if kind == "flag":
        return "yes" if value else ""
    if kind == "datetime" and isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if kind in ("date", "datetime") and isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    return str(value)


def definition_text(key: str, model: ModelInUse | None = None) -> str:
    """The one-line definition of a metric of this screen (campaigns, attribution or report definitions).

    With ``model``, the attribution definitions name that model's window and precedence (the values in use)
    instead of the defaults.
    """
    for table in (campaigns.DEFINITIONS, DEFINITIONS, ATTRIBUTION_DEFINITIONS):
        if key in table:
            definition = table[key]
            if model is not None and "window" in definition.parameters:
                first = "promo code first" if model.precedence == "code_first" else "link first"
                definition = replace(
                    definition,
                    parameters={
                        **definition.parameters,
                        "window": f"{model.window_days} days",
                        "precedence": first,
                    },
                )
            return definition.text()
    raise KeyError(key)


# -- the campaign in detail ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInUse:
    """The attribution model whose results a page or report shows."""

    model_id: str
    window_days: int
    precedence: str
    computed_at: dt.datetime | None
    orders_attributed: int

    @property
    def label(self) -> str:
        return AttributionModel(self.window_days, self.precedence).label


def model_in_use(con: duckdb.DuckDBPyConnection) -> ModelInUse:
    """The default attribution model with when it last ran (the built-in default if none has run yet)."""
    model_id = default_model_id(con)
    row = con.execute(
        "SELECT window_days, precedence, computed_at, orders_attributed FROM attribution_models "
        "WHERE model_id = ?",
        [model_id],
    ).fetchone()
    if row is None:
        model = AttributionModel()
        return ModelInUse(model.model_id, model.window_days, model.precedence, None, 0)
    return ModelInUse(model_id, int(row[0]), str(row[1]), row[2], int(row[3]))


@dataclass(frozen=True)
class CampaignDetail:
    """Everything shown about one campaign; each field names the model function it comes from."""

    campaign_id: int
    name: str
    brand_id: int
    brand: str
    status: str
    objective: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    currency: str
    budget: float | None
    as_of: dt.date  # "today" for overdue deliverables
    latest_order_day: dt.date | None  # the brand's latest order: how far the data reaches
    model: ModelInUse
    totals: dict[str, object]  # campaigns.campaign_summary, this campaign's row (zeros without deals)
    deals: pl.DataFrame  # campaigns.deal_performance
    daily: pl.DataFrame  # revenue_and_spend_per_day
    posts: pl.DataFrame  # campaigns.campaign_posts
    funnel: pl.DataFrame  # campaigns.funnel
    lift: dict[str, Lift | None]  # campaigns.campaign_lift, for "orders" and "revenue"
    lift_note: str | None  # why there is no lift, when there is none
    lift_caveat: str | None  # why a lift shown may mislead (a pre-period partly before the data)
    leakage: pl.DataFrame  # campaigns.leakage_flags
    evidence: dict[int, pl.DataFrame] = field(
        default_factory=dict
    )  # campaigns.leakage_evidence per flagged deal
    deliverables: pl.DataFrame = field(default_factory=pl.DataFrame)  # campaign_deliverables

    @property
    def dates(self) -> str:
        start = fmt_value(self.start_date, "date") if self.start_date else "no start date"
        end = fmt_value(self.end_date, "date") if self.end_date else "open-ended"
        return f"{start} – {end}"

    @property
    def has_results(self) -> bool:
        return bool(self.totals.get("orders")) or bool(self.totals.get("spend"))


_TOTAL_KEYS = (
    "spend", "orders", "revenue", "discounts", "refunds", "cost_of_goods", "new_customers",
    "returning_customers", "link_orders", "code_orders", "posts", "views", "posts_without_views",
    "engagements", "clicks", "deals", "paid_deals",
)  # fmt: skip


def campaign_detail(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    *,
    model_id: str | None = None,
    as_of: dt.date | None = None,
    evidence: bool = True,
) -> CampaignDetail:
    """One campaign's whole results (not cut by a date range) under the model in use (or ``model_id``).

    ``evidence=False`` leaves out the leakage evidence (the orders behind each coupon-site flag), which reads
    the brand's orders again: the page loads it when its reader opens it (:func:`leakage_evidence_by_deal`),
    and :func:`with_evidence` adds it to a detail for the report.
    """
    row = con.execute(
        "SELECT c.name, c.brand_id, b.name, c.status, c.objective, c.start_date, c.end_date, c.currency, "
        "c.budget::DOUBLE FROM campaigns c JOIN brands b USING (brand_id) WHERE c.campaign_id = ?",
        [campaign_id],
    ).fetchone()
    if row is None:
        raise ReportError(f"There is no campaign {campaign_id} in this workspace.")
    name, brand_id, brand, status, objective, start, end, currency, budget = row
    model = model_in_use(con)
    if model_id is not None and model_id != model.model_id:
        found = con.execute(
            "SELECT window_days, precedence, computed_at, orders_attributed FROM attribution_models "
            "WHERE model_id = ?",
            [model_id],
        ).fetchone()
        if found is None:
            raise ReportError(f"The attribution model {model_id} has not been run on this workspace.")
        model = ModelInUse(model_id, int(found[0]), str(found[1]), found[2], int(found[3]))
    only = Filters(campaign_ids=(campaign_id,))
    deals = campaigns.deal_performance(con, only, model_id=model.model_id)
    summary = campaigns.campaign_summary(con, only, model_id=model.model_id)
    totals: dict[str, object] = {key: 0 for key in _TOTAL_KEYS}
    if summary.height:
        totals = summary.row(0, named=True)
    span = campaigns.brand_order_span(con, int(brand_id))  # read once: the lifts below use it too
    first_order_day, latest_order_day = span.first_day, span.last_day
    posts = campaigns.campaign_posts(con, only)
    lift = campaigns.campaign_lifts(con, campaign_id, metrics=("orders", "revenue"), span=span)
    leakage = campaigns.leakage_flags(con, only)
    today = as_of or dt.datetime.now(dt.UTC).date()
    return CampaignDetail(
        campaign_id=campaign_id,
        name=str(name),
        brand_id=int(brand_id),
        brand=str(brand),
        status=str(status),
        objective=objective,
        start_date=start,
        end_date=end,
        currency=str(currency),
        budget=budget,
        as_of=today,
        latest_order_day=latest_order_day,
        model=model,
        totals=totals,
        deals=deals,
        daily=revenue_and_spend_per_day(
            con,
            campaign_id,
            deals,
            start=start,
            end=end,
            data_end=latest_order_day,
            posts=posts,
            model_id=model.model_id,
        ),  # fmt: skip
        posts=posts,
        funnel=campaigns.funnel_of(summary),
        lift=lift,
        lift_note=None if lift["orders"] else lift_unavailable_reason(start, latest_order_day),
        lift_caveat=lift_caveat(lift["orders"], first_order_day),
        leakage=leakage,
        evidence=leakage_evidence_by_deal(con, leakage) if evidence else {},
        deliverables=campaign_deliverables(con, campaign_id, as_of=today),
    )


def leakage_evidence_by_deal(
    con: duckdb.DuckDBPyConnection, leakage: pl.DataFrame
) -> dict[int, pl.DataFrame]:
    """The evidence of the coupon-site flags of ``leakage`` (rows of campaigns.leakage_flags), per deal, in one
    pass over the orders. A reach flag has no order rows behind it."""
    flagged = [int(d) for d in leakage.filter("flag_coupon_site")["deal_id"].to_list()]
    if not flagged:
        return {}
    found = campaigns.leakage_evidence_of(con, flagged)
    return {deal_id: found.filter(pl.col("deal_id") == deal_id).drop("deal_id") for deal_id in flagged}


def with_evidence(con: duckdb.DuckDBPyConnection, detail: CampaignDetail) -> CampaignDetail:
    """``detail`` with the evidence of every coupon-site flag (a detail made with ``evidence=False``)."""
    missing = set(detail.leakage.filter("flag_coupon_site")["deal_id"].to_list()) - set(detail.evidence)
    if not missing:
        return detail
    return replace(detail, evidence=leakage_evidence_by_deal(con, detail.leakage))


def revenue_and_spend_per_day(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    deals: pl.DataFrame,
    *,
    start: dt.date | None,
    end: dt.date | None,
    data_end: dt.date | None,
    posts: pl.DataFrame | None = None,
    model_id: str | None = None,
) -> pl.DataFrame:
    """Per day of the campaign: attributed orders, revenue, new customers, spend, and their running totals.

    The days run from the campaign's start (or its first order or post) to its end, cut at the brand's latest
    order, and on to the last attributed order or post if later. Spend follows :data:`DEFINITIONS`
    ``cumulative_spend``, so ``cumulative_spend`` ends at the campaign's spend.
    """
    per_influencer = campaigns.conversions_per_day(
        con, Filters(campaign_ids=(campaign_id,)), model_id=model_id, by_influencer=True
    )
    terms = deals.select(
        "influencer_id",
        "stage",
        pl.col("commission_rate").cast(pl.Float64),
        (pl.col("fee") + pl.col("product_cost")).cast(pl.Float64).alias("fixed"),
    ).with_columns(active=pl.col("stage").is_in(ACTIVE_STAGES))
    post_days = [] if posts is None or posts.is_empty() else posts["posted_at"].dt.date().to_list()
    order_days = per_influencer["day"].to_list()
    first_candidates = [d for d in (start, *order_days, *post_days) if d is not None]
    if not first_candidates:
        return _empty_daily()
    first = start or min(first_candidates)
    first = min([first, *order_days, *post_days])
    planned_end = end if end is not None else data_end
    if planned_end is not None and data_end is not None:
        planned_end = min(planned_end, data_end)
    last = max([d for d in (planned_end, *order_days, *post_days) if d is not None], default=first)
    if last < first:  # not started yet: nothing has happened
        return _empty_daily()
    calendar = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    per_day = (
        per_influencer.join(terms, on="influencer_id", how="left")
        .with_columns(
            commission=pl.when(pl.col("active").fill_null(False))
            .then(pl.col("revenue") * pl.col("commission_rate").fill_null(0.0))
            .otherwise(0.0)
        )
        .group_by("day")
        .agg(
            pl.col("orders").sum(),
            pl.col("revenue").sum().cast(pl.Float64),
            pl.col("new_customers").sum(),
            pl.col("commission").sum(),
        )
    )
    fixed = float(terms.filter("active")["fixed"].sum()) if terms.height else 0.0
    return (
        calendar.join(per_day, on="day", how="left")
        .with_columns(
            pl.col("orders", "new_customers").fill_null(0).cast(pl.Int64),
            pl.col("revenue", "commission").fill_null(0.0),
        )
        .with_columns(spend=pl.col("commission") + pl.when(pl.col("day") == first).then(fixed).otherwise(0.0))
        .with_columns(
            cumulative_revenue=pl.col("revenue").cum_sum(), cumulative_spend=pl.col("spend").cum_sum()
        )
        .select(
            "day", "orders", "revenue", "new_customers", "spend", "cumulative_revenue", "cumulative_spend"
        )
    )


def _empty_daily() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "day": pl.Date,
            "orders": pl.Int64,
            "revenue": pl.Float64,
            "new_customers": pl.Int64,
            "spend": pl.Float64,
            "cumulative_revenue": pl.Float64,
            "cumulative_spend": pl.Float64,
        }
    )


def campaign_deliverables(
    con: duckdb.DuckDBPyConnection, campaign_id: int, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """The campaign's deliverables with who owes them, whether they are overdue and whether they were late."""
    today = as_of or dt.datetime.now(dt.UTC).date()
    return con.execute(
        f"""
        SELECT x.deliverable_id, x.deal_id, i.name AS influencer, x.type, x.due_date, x.status,
               x.delivered_at, p.url AS post_url,
               coalesce(x.due_date < ? AND x.status NOT IN {DONE_STATUSES!r}, false) AS overdue,
               CASE WHEN x.due_date IS NOT NULL AND x.delivered_at IS NOT NULL
                    THEN x.delivered_at::DATE > x.due_date END AS late
        FROM deliverables x JOIN deals d USING (deal_id) JOIN influencers i USING (influencer_id)
        LEFT JOIN posts p ON p.post_id = x.post_id
        WHERE d.campaign_id = ?
        ORDER BY overdue DESC, x.due_date NULLS LAST, i.name, x.deliverable_id
        """,  # noqa: S608 - DONE_STATUSES is a fixed tuple of literals; values are ? parameters
        [today, campaign_id],
    ).pl()


def lift_unavailable_reason(start: dt.date | None, latest_order_day: dt.date | None) -> str:
    """Why :func:`models.campaigns.campaign_lift` has no answer for a campaign, in a sentence."""
    if start is None:
        return "The campaign has no start date, so there is no window to compare with a baseline."
    if latest_order_day is None:
        return "The brand has no orders in the store yet, so there is nothing to measure."
    if start > latest_order_day:
        return (
            f"The campaign has not started yet: it starts on {start:%d %b %Y} and the brand's latest order "
            f"is from {latest_order_day:%d %b %Y}."
        )
    pre_start = start - dt.timedelta(weeks=PRE_WEEKS)
    return (
        f"There is no pre-period: the brand has no orders in the {PRE_WEEKS} weeks before the campaign "
        f"({pre_start:%d %b %Y} – {start - dt.timedelta(days=1):%d %b %Y}), so there is no baseline."
    )


def lift_caveat(lift: Lift | None, first_order_day: dt.date | None) -> str | None:
    """A warning when the baseline's pre-period starts before the brand's first order in the store.

    campaign_lift counts the days without data as days without orders, so the baseline is too low and the
    lift too high; the page and the report say so next to the number.
    """
    if lift is None or first_order_day is None or lift.pre_start >= first_order_day:
        return None
    return (
        f"Read with care: the {PRE_WEEKS}-week pre-period starts on {lift.pre_start:%d %b %Y}, before the "
        f"brand's first order in the store ({first_order_day:%d %b %Y}). Days before the data begins count as "
        "days without orders, so the baseline is understated and the lift overstated."
    )


def lift_sentences(lift: Lift, currency: str) -> tuple[str, str]:
    """(headline, explanation) of a lift: the change with its 95 % interval, and whether it is significant."""
    kind: Kind = "money" if lift.metric == "revenue" else "count"

    def signed(value: float) -> str:
        text = fmt_value(abs(value), kind, currency)
        return text if text in ("0", fmt_money(0, currency)) else ("+" if value > 0 else "-") + text

    relative = "" if lift.relative_lift is None else f" ({fmt_pct(lift.relative_lift, signed=True)})"
    headline = f"{signed(lift.lift)}{relative}"
    interval = f"95 % interval {signed(lift.ci_low)} to {signed(lift.ci_high)}"
    what = "orders" if lift.metric == "orders" else "revenue"
    basis = (
        f"Observed {fmt_value(lift.observed, kind, currency)} {what} over {lift.days} days "
        f"({lift.window_start:%d %b} – {lift.window_end:%d %b %Y}) against "
        f"{fmt_value(lift.expected, kind, currency)} expected from the {PRE_WEEKS} weeks before "
        f"(from {lift.pre_start:%d %b %Y})."
    )
    if lift.significant:
        verdict = f"Significant: the {interval} lies {'above' if lift.ci_low > 0 else 'below'} zero."
    else:
        verdict = f"Not significant: the {interval} includes zero, so this could be ordinary variation."
    return headline, f"{verdict} {basis}"


def influencer_table(deals: pl.DataFrame) -> pl.DataFrame:
    """The per-influencer table (numbers unformatted, columns labelled), ordered by revenue."""
    return deals.sort("revenue", "orders", descending=True).select(
        [pl.col(column).alias(label) for column, label, _ in INFLUENCER_COLUMNS]
    )


# -- figures (the app's Plotly template) -------------------------------------------------------------
def _money_axis(fig: go.Figure, top: float, currency: str, **where: object) -> None:
    ticks = nice_ticks(top)
    fig.update_yaxes(
        tickmode="array",
        tickvals=ticks,
        ticktext=[fmt_money(t, currency, compact=True) for t in ticks],
        range=[0, ticks[-1] * 1.04],
        **where,
    )


def _frame_layout(fig: go.Figure, title: str, height: int) -> None:
    """Template, height and a left-aligned title above the legend (they overlap with the template's default)."""
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        title={"text": title, "x": 0, "xanchor": "left", "y": 0.985, "yanchor": "top", "yref": "container"},
        margin={"t": 76},
    )


def _date_axis(fig: go.Figure, days: Sequence[dt.date]) -> None:
    """Day ticks without hours; one tick a day on short campaigns."""
    fig.update_xaxes(tickformat="%d %b", hoverformat="%d %b %Y")
    if days and (max(days) - min(days)).days <= 10:
        fig.update_xaxes(dtick=86_400_000, tick0=min(days).isoformat())


def daily_figure(detail: CampaignDetail, *, height: int = 440) -> go.Figure:
    """Attributed orders (bars) and revenue (line) per day, the influencers' posts marked on both panels."""
    register()
    daily, posts, currency = detail.daily, detail.posts, detail.currency
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.5, 0.5])
    _frame_layout(fig, f"Attributed orders and revenue ({currency}) per day; influencers' posts ▼", height)
    fig.add_trace(
        go.Bar(
            x=daily["day"].to_list(),
            y=daily["orders"].to_list(),
            name="Orders",
            marker_color=COLORS[0],
            hovertemplate="%{y:,} orders<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=daily["day"].to_list(),
            y=daily["revenue"].to_list(),
            name="Revenue",
            line={"color": COLORS[1]},
            customdata=[fmt_money(v, currency) for v in daily["revenue"].to_list()],
            hovertemplate="%{customdata} revenue<extra></extra>",
        ),
        row=2,
        col=1,
    )
    top_orders = float(daily["orders"].max() or 0) if daily.height else 0.0
    order_ticks = nice_ticks(top_orders, integer=True)
    fig.update_yaxes(
        title_text="orders", tickvals=order_ticks, range=[0, order_ticks[-1] * 1.12], row=1, col=1
    )
    _money_axis(fig, float(daily["revenue"].max() or 0) if daily.height else 0.0, currency, row=2, col=1)
    fig.update_yaxes(title_text=f"revenue ({currency})", row=2, col=1)
    if posts.height:
        when = posts["posted_at"].to_list()
        label = [
            f"▼ {influencer} · {platform} · {fmt_number(views)} views"
            for influencer, platform, views in zip(
                posts["influencer"].to_list(),
                posts["platform"].to_list(),
                posts["views"].to_list(),
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=when,
                y=[order_ticks[-1] * 1.08] * len(when),
                mode="markers",
                name="Posts",
                marker={"symbol": "triangle-down", "size": 9, "color": COLORS[3]},
                customdata=label,
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        for moment in when[:MAX_POST_LINES]:
            fig.add_vline(x=moment, line={"color": COLORS[3], "width": 1, "dash": "dot"}, opacity=0.35)
    _date_axis(fig, daily["day"].to_list())
    return fig


def cumulative_figure(detail: CampaignDetail, *, height: int = 320) -> go.Figure:
    """Running totals of attributed revenue and of spend: where revenue passes spend, the campaign paid off."""
    register()
    daily, currency = detail.daily, detail.currency
    fig = go.Figure()
    _frame_layout(fig, f"Cumulative attributed revenue vs spend ({currency})", height)
    for column, name, color in (
        ("cumulative_revenue", "Attributed revenue", COLORS[1]),
        ("cumulative_spend", "Spend", COLORS[5]),
    ):
        values = daily[column].to_list()
        fig.add_trace(
            go.Scatter(
                x=daily["day"].to_list(),
                y=values,
                name=name,
                line={"color": color, "shape": "hv"},
                customdata=[fmt_money(v, currency) for v in values],
                hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
            )
        )
    top = max(
        [float(daily[c].max() or 0) for c in ("cumulative_revenue", "cumulative_spend")]
        if daily.height
        else [0]
    )
    _money_axis(fig, top, currency)
    _date_axis(fig, daily["day"].to_list())
    return fig


FUNNEL_LABELS = {
    "views": "Views",
    "engagements": "Engagements",
    "clicks": "Link clicks",
    "orders": "Attributed orders",
    "link_orders": "Orders via the link",
}


def funnel_figure(detail: CampaignDetail, *, height: int = 320) -> go.Figure:
    """Views → engagements → link clicks → attributed orders, each with its share of the stage before."""
    register()
    frame = detail.funnel
    stages = frame["stage"].to_list()
    counts = frame["count"].to_list()
    rates = frame["rate_from_previous"].to_list()
    labels = [
        FUNNEL_LABELS.get(stage, stage)
        + ("" if rate is None else f"<br><sub>{fmt_pct(rate)} of previous</sub>")
        for stage, rate in zip(stages, rates, strict=True)
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=counts,
            text=[fmt_number(c) for c in counts],
            textinfo="text",
            textposition="outside",
            cliponaxis=False,
            marker={"color": [COLORS[i % len(COLORS)] for i in range(len(labels))]},
            connector={"line": {"color": MUTED, "width": 1}},
            hovertemplate="%{y}: %{text}<extra></extra>",
        ),
    )
    _frame_layout(fig, "Funnel, views to orders (counts)", height)
    fig.update_layout(hovermode="closest", margin={"r": 56})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(showgrid=False)
    return fig


# -- the report ------------------------------------------------------------------------------------------
_CSS = """
body{font-family:Source Sans Pro,Inter,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937;margin:32px auto;
max-width:1100px;padding:0 16px;line-height:1.45}
h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.muted{color:#6b7280}.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0}
.kpi{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}.kpi .label{color:#6b7280;font-size:13px}
.kpi .value{font-size:24px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:right;vertical-align:top}
th{background:#f9fafb}td.num{white-space:nowrap}td.text,th.text{text-align:left}tr.flag td{background:#fde8e8}
dl dt{font-weight:600;margin-top:6px}dl dd{margin-left:16px}
.chart{margin:12px 0;page-break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, str, Kind]],
    currency: str,
    *,
    flag: str | None = None,
) -> str:
    """An HTML table of ``frame`` in the app's number format; rows where ``flag`` is true are highlighted."""
    head = "".join(
        f'<th class="{"text" if k == "text" else "num"}">{_e(label)}</th>' for _, label, k in columns
    )
    rows = []
    for row in frame.iter_rows(named=True):
        cells = "".join(
            f'<td class="{"text" if k == "text" else "num"}">{_e(fmt_value(row[c], k, currency))}</td>'
            for c, _, k in columns
        )
        rows.append(f'<tr class="{"flag" if flag and row.get(flag) else ""}">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure_html(fig: go.Figure, *, first: bool) -> str:
    return (
        '<div class="chart">'
        + pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=first,  # True: the whole plotly.js inlined once, no <script src>
            config={"displayModeBar": False, "responsive": True},
        )
        + "</div>"
    )


def _when(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return f"{value}"


def campaign_report_html(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    *,
    model_id: str | None = None,
    as_of: dt.date | None = None,
    generated_at: dt.datetime | None = None,
) -> str:
    """The campaign's shareable report as one self-contained HTML document (works offline)."""
    detail = campaign_detail(con, campaign_id, model_id=model_id, as_of=as_of)
    fresh = data_freshness(con, [detail.brand_id])
    return render_report_html(
        detail, fresh_latest=fresh.latest, fresh_syncs=fresh.syncs, generated_at=generated_at
    )


def render_report_html(
    detail: CampaignDetail,
    *,
    fresh_latest: pl.DataFrame,
    fresh_syncs: pl.DataFrame,
    generated_at: dt.datetime | None = None,
) -> str:
    """The HTML of :func:`campaign_report_html` from an already gathered detail and its data freshness."""
    cur = detail.currency
    now = generated_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    parts: list[str] = [
        f"<h1>{_e(detail.name)}</h1>",
        f'<p class="muted">{_e(detail.brand)} · {_e(detail.status)} · {_e(detail.dates)} · amounts in '
        f"{_e(cur)} · report generated {_e(_when(now))}</p>",
        f"<p><b>Attribution model:</b> {_e(detail.model.label)} (<code>{_e(detail.model.model_id)}</code>, "
        f"computed {_e(_when(detail.model.computed_at))}). Results cover the campaign's whole run.</p>",
    ]
    kpis = "".join(
        f'<div class="kpi" title="{_e(definition_text(key, detail.model))}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(fmt_value(detail.totals.get(key), kind, cur))}</div></div>'
        for key, label, kind in KPIS
    )
    parts.append(f'<div class="kpis">{kpis}</div>')

    parts.append("<h2>Conversions</h2>")
    if detail.daily.is_empty():
        parts.append('<p class="muted">Nothing has happened yet: the campaign has not started.</p>')
        first_chart = True
    else:
        parts.append(_figure_html(daily_figure(detail), first=True))
        parts.append(_figure_html(cumulative_figure(detail), first=False))
        first_chart = False
    parts.append(_figure_html(funnel_figure(detail), first=first_chart))
    parts.append(
        '<p class="muted">The funnel ends at orders that came through a link: '
        f"{_e(fmt_number(detail.totals.get('link_orders')))} of the "
        f"{_e(fmt_number(detail.totals.get('orders')))} attributed orders; promo-code orders need no click "
        "and are counted apart.</p>"
    )

    parts.append("<h2>Lift against the baseline</h2>")
    if detail.lift_note:
        parts.append(f"<p>{_e(detail.lift_note)}</p>")
    if detail.lift_caveat:
        parts.append(f"<p><b>{_e(detail.lift_caveat)}</b></p>")
    for metric, lift in detail.lift.items():
        if lift is None:
            continue
        headline, explanation = lift_sentences(lift, cur)
        parts.append(f"<p><b>{_e(metric.capitalize())}: {_e(headline)}</b>. {_e(explanation)}</p>")

    parts.append("<h2>Per influencer</h2>")
    if detail.deals.is_empty():
        parts.append('<p class="muted">No influencer has a deal in this campaign yet.</p>')
    else:
        parts.append(_table(detail.deals.sort("revenue", "orders", descending=True), INFLUENCER_COLUMNS, cur))

    parts.append("<h2>Promo-code leakage</h2>")
    parts.append(_leakage_html(detail))

    parts.append("<h2>Deliverables</h2>")
    if detail.deliverables.is_empty():
        parts.append('<p class="muted">No deliverables recorded for this campaign.</p>')
    else:
        overdue = int(detail.deliverables["overdue"].sum())
        parts.append(
            f"<p>{overdue} overdue as of {detail.as_of:%d %b %Y} (highlighted), of "
            f"{detail.deliverables.height} deliverables.</p>"
        )
        parts.append(_table(detail.deliverables, DELIVERABLE_COLUMNS, cur, flag="overdue"))

    parts.append("<h2>Data freshness</h2>")
    latest = {r["data"]: r["latest"] for r in fresh_latest.iter_rows(named=True)}
    parts.append(
        "<p>"
        + " · ".join(f"Latest {_e(k)}: <b>{_e(_when(latest.get(k)))}</b>" for k in latest)
        + f" (brand {_e(detail.brand)}).</p>"
    )
    if fresh_syncs.height:
        parts.append(
            _table(
                fresh_syncs,
                (
                    ("connector", "Connector", "text"),
                    ("status", "Last run", "text"),
                    ("finished_at", "Finished (UTC)", "datetime"),
                    ("rows_written", "Rows written", "count"),
                    ("last_success_at", "Last success (UTC)", "datetime"),
                ),
                cur,
            )
        )
    else:
        parts.append('<p class="muted">No connector has run in this workspace.</p>')

    parts.append("<h2>Definitions used</h2><dl>")
    for key in REPORT_DEFINITIONS:
        definition = definition_text(key, detail.model)
        name, _, rest = definition.partition(" = ")
        parts.append(f"<dt>{_e(name)}</dt><dd>{_e(rest or definition)}</dd>")
    parts.append(
        f"<dt>attribution model in use</dt><dd>{_e(detail.model.label)} "
        f"(<code>{_e(detail.model.model_id)}</code>)</dd></dl>"
    )
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(detail.name)} — campaign report</title><style>{_CSS}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


DELIVERABLE_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("influencer", "Influencer", "text"),
    ("type", "Type", "text"),
    ("due_date", "Due", "date"),
    ("status", "Status", "text"),
    ("delivered_at", "Delivered", "date"),
    ("overdue", "Overdue", "flag"),
    ("late", "Late", "flag"),
)
LEAKAGE_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("influencer", "Influencer", "text"),
    ("code", "Code", "text"),
    ("redemptions", "Redemptions", "count"),
    ("coupon_site_no_click", "From coupon sites, no click", "count"),
    ("coupon_share", "Share", "pct"),
    ("reach", "Reach", "count"),
    ("max_plausible", "Plausible redemptions", "count"),
    ("flag_coupon_site", "Coupon-site flag", "flag"),
    ("flag_reach", "Reach flag", "flag"),
)
EVIDENCE_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("external_order_id", "Order", "text"),
    ("ordered_at", "Ordered (UTC)", "datetime"),
    ("promo_code", "Code", "text"),
    ("referrer", "Referrer", "text"),
    ("gross", "Paid", "money"),
)
REPORT_DEFINITIONS = (
    "attributed_order",
    "spend",
    "orders",
    "revenue",
    "new_customers",
    "views",
    "engagements",
    "clicks",
    "cpm",
    "cpe",
    "cpa",
    "roas",
    "net_roas",
    "roi",
    "conversion_rate",
    "cumulative_spend",
    "lift",
    "leakage",
    "overdue",
    "late",
)


def _leakage_html(detail: CampaignDetail) -> str:
    if detail.leakage.is_empty():
        return '<p class="muted">No influencer promo codes in this campaign, so nothing can leak.</p>'
    flagged = detail.leakage.filter("flagged")
    out = [
        f"<p>{flagged.height} of {detail.leakage.height} influencer codes flagged (highlighted).</p>",
        _table(detail.leakage, LEAKAGE_COLUMNS, detail.currency, flag="flagged"),
    ]
    for deal_id, rows in detail.evidence.items():
        who = detail.leakage.filter(pl.col("deal_id") == deal_id).row(0, named=True)
        shown = rows.head(MAX_EVIDENCE_ROWS)
        more = f" (first {MAX_EVIDENCE_ROWS} of {rows.height})" if rows.height > shown.height else ""
        out.append(
            f"<h3>Evidence: {_e(who['influencer'])} · {_e(who['code'])}{_e(more)}</h3>"
            "<p class='muted'>Redemptions of the code referred by a coupon site, with no click on the creator's "
            "link by that customer.</p>"
        )
        out.append(_table(shown, EVIDENCE_COLUMNS, detail.currency))
    return "".join(out)


# -- PDF -------------------------------------------------------------------------------------------------
def chromium_path() -> str | None:
    """The Chromium used to print PDFs ($TRIAD_CHROMIUM, /usr/bin/chromium, or chromium on the PATH)."""
    for candidate in (os.environ.get("TRIAD_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def report_pdf(report_html: str, *, chromium: str | None = None, timeout: float = 120.0) -> bytes:
    """Print the report's HTML to PDF with headless Chromium (offline: the file has no external resources)."""
    browser = chromium or chromium_path()
    if browser is None:
        raise ReportError("PDF needs Chromium (apt-get install chromium); download the HTML report instead.")
    with tempfile.TemporaryDirectory(prefix="triad-report-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(report_html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"Chromium did not finish the PDF within {timeout:.0f} s.") from exc
        if not target.exists() or target.stat().st_size == 0:
            log.warning("chromium --print-to-pdf failed (%s): %s", done.returncode, done.stderr[-2000:])
            raise ReportError("Chromium could not print the report; download the HTML report instead.")
        return target.read_bytes()
