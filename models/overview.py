"""The Overview screen's numbers: headline KPIs with their previous period, daily trends, data freshness.

Every function takes the store (or a cursor of it), the brand filter and the date range, and filters in SQL
with parameters. ``brand_ids=None`` means every brand; an empty list matches nothing. Dates are inclusive
calendar days in UTC (the store's timestamps are naive UTC), so ``start=end`` is one day.

Each KPI carries the sentence that defines it (METRICS.md wording where the metric is defined there), so
the page can show how a number is computed one click away from the number itself. Money is never summed
across currencies: money KPIs and series hold one value per currency.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import duckdb
import polars as pl

from models.attribution import default_model_id
from models.store import Store, last_syncs, schema_version, table_counts

Source = Store | duckdb.DuckDBPyConnection

# Ranges longer than this are shown per week instead of per day.
WEEKLY_AFTER_DAYS = 120
DEFAULT_RANGE_DAYS = 90

# The tables whose rows make a workspace "not empty" (users, logs and settings do not).
DATA_TABLES = ("brands", "influencers", "accounts", "campaigns", "posts", "deals", "customers", "orders")

# Deal stages whose fees and product cost are money spent (or committed); earlier stages are offers.
SPEND_STAGES = ("contracted", "live", "completed")

DEFINITIONS: dict[str, str] = {
    "roster": (
        "Influencers in the roster: every influencer in the workspace, or, with a brand filter, those with "
        "at least one deal (any stage) with the selected brands. The number is today's roster; the previous "
        "period's value is the roster as it stood at the end of that period (influencers added on or before "
        "that day; with a brand filter, by the date of their first deal with those brands)."
    ),
    "active_campaigns": (
        "Campaigns of the selected brands whose start–end dates overlap the period, not counting draft or "
        "cancelled ones. A campaign with status 'active' and no start or end date counts as running "
        "open-ended; one with a start date but no end date is treated as a one-day campaign unless it is "
        "active."
    ),
    "orders": (
        "Orders placed in the period (by order time, UTC) for the selected brands, excluding test orders "
        "and cancelled orders."
    ),
    "revenue": (
        "Revenue = Σ (gross − refunded) over the orders counted above, per currency (never summed across "
        "currencies). Gross is the order total after discounts, before refunds."
    ),
    "spend": (
        "Spend = fees + product cost of seeded goods + commission on attributed revenue (METRICS.md), per deal "
        "currency, over deals at stage contracted, live or completed. Fees and product cost count for deals "
        "whose campaign's dates overlap the period (a campaign without dates uses the deal's contract dates, "
        "else the day the deal was created), in full in every period the campaign overlaps. Commission = the "
        "deal's commission rate × the gross sales of the orders attributed to it (by the attribution model in "
        "use) that were placed in the period; it is 0 until attribution has run on the store."
    ),
    "new_customers": (
        "Customers whose first order (first non-test, non-cancelled order with the brand) falls in the "
        "period. A customer is counted per brand: a buyer of two brands is a customer of each."
    ),
}

TREND_DEFINITIONS: dict[str, str] = {
    "orders": "Orders per day (or per week starting Monday, for ranges over 120 days); "
    + DEFINITIONS["orders"],
    "revenue": "Revenue per day or week, one line per currency; " + DEFINITIONS["revenue"],
    "new_customers": "New customers per day or week, placed on the day of their first order. "
    + DEFINITIONS["new_customers"],
    "spend": (
        "Spend per day or week: fees and product cost on the campaign's start date (the first day of the range "
        "for campaigns that started before it), commission on the day of the attributed order, so the series "
        "adds up to the Spend KPI. " + DEFINITIONS["spend"]
    ),
}


# -- periods -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Inclusive calendar days ``start`` … ``end``."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def label(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def default_date_range(
    bounds: tuple[dt.date, dt.date] | None, days: int = DEFAULT_RANGE_DAYS, *, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The last ``days`` days ending at the latest order in the store (today when there are no orders)."""
    end = bounds[1] if bounds else (today or dt.datetime.now(dt.UTC).date())
    return end - dt.timedelta(days=days - 1), end


# -- results -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiValue:
    """One figure of a KPI in the period and the previous period (one per currency for money)."""

    current: int | Decimal
    previous: int | Decimal
    currency: str | None = None

    @property
    def change(self) -> int | Decimal:
        return self.current - self.previous


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    kind: Literal["count", "money"]
    definition: str
    values: tuple[KpiValue, ...]  # a count has exactly one; money has one per currency (none without data)

    @property
    def value(self) -> KpiValue:
        """The single value of a count KPI."""
        if self.kind != "count":
            raise TypeError(f"{self.key} is money: read .values, one per currency")
        return self.values[0]

    def by_currency(self) -> dict[str, KpiValue]:
        return {v.currency or "": v for v in self.values}


@dataclass(frozen=True)
class OverviewKpis:
    period: Period
    previous_period: Period
    kpis: tuple[Kpi, ...]

    def __getitem__(self, key: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.key == key:
                return kpi
        raise KeyError(key)

    @property
    def is_empty(self) -> bool:
        """True when nothing happened in either period: no orders, revenue, new customers, campaigns or spend.

        The roster is left out: it is today's roster, not tied to the date range.
        """
        return all(
            v.current == 0 and v.previous == 0 for k in self.kpis if k.key != "roster" for v in k.values
        )


@dataclass(frozen=True)
class OverviewTrends:
    """Trend series over the period, in long form: one row per period, metric and currency."""

    period: Period
    grain: Literal["day", "week"]
    series: pl.DataFrame  # period: Date, metric: str, currency: str | null, value: f64
    definitions: dict[str, str] = field(default_factory=lambda: dict(TREND_DEFINITIONS))

    def frame(self, metric: str) -> pl.DataFrame:
        """One metric's series: ``period, value`` for counts, ``period, currency, value`` for money."""
        rows = self.series.filter(pl.col("metric") == metric)
        if metric in ("revenue", "spend"):
            return rows.select("period", "currency", "value")
        return rows.select("period", "value")

    def currencies(self, metric: str) -> list[str]:
        return (
            sorted(self.frame(metric)["currency"].unique().drop_nulls().to_list())
            if metric
            in (
                "revenue",
                "spend",
            )
            else []
        )


@dataclass(frozen=True)
class Brand:
    brand_id: int
    name: str
    currency: str


@dataclass(frozen=True)
class DataFreshness:
    syncs: (
        pl.DataFrame
    )  # models.store.last_syncs: connector, status, started_at, finished_at, rows_written, ...
    latest: pl.DataFrame  # data: str, latest: datetime (null when the table has no rows)


@dataclass(frozen=True)
class WorkspaceInfo:
    path: str
    schema_version: int
    table_counts: dict[str, int]

    @property
    def has_data(self) -> bool:
        """True when the store holds any business data (not only users, logs or settings)."""
        return any(self.table_counts.get(table, 0) for table in DATA_TABLES)


# -- helpers -----------------------------------------------------------------------------------------
@contextlib.contextmanager
def _cursor(source: Source) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(source, Store):
        with source.connect() as cur:
            yield cur
    else:
        yield source


def _brand_param(brand_ids: Sequence[int] | None) -> list[int] | None:
    return None if brand_ids is None else [int(b) for b in brand_ids]


# ``$brands`` is NULL for every brand; an empty list matches nothing.
_BRAND_FILTER = "($brands::INTEGER[] IS NULL OR list_contains($brands::INTEGER[], {col}))"


def _brand_filter(column: str) -> str:
    return _BRAND_FILTER.format(col=column)


def _period_params(brand_ids: Sequence[int] | None, period: Period) -> dict[str, object]:
    prev = period.previous()
    return {
        "brands": _brand_param(brand_ids),
        "cur_start": period.start,
        "cur_end": period.end,
        "cur_end_x": period.end_exclusive,
        "prev_start": prev.start,
        "prev_end": prev.end,
        "prev_end_x": prev.end_exclusive,
    }


# Valid orders: neither test nor cancelled.
_VALID_ORDER = "NOT o.is_test AND NOT o.is_cancelled"

# A campaign's running dates for "active campaigns": an active campaign without dates runs open-ended.
_CAMPAIGN_START = "coalesce(c.start_date, CASE WHEN c.status = 'active' THEN DATE '0001-01-01' END)"
_CAMPAIGN_END = "coalesce(c.end_date, CASE WHEN c.status = 'active' THEN DATE '9999-12-31' END, c.start_date)"

# A committed deal's spend window: its campaign's dates, else the contract dates, else the day it was created.
_DEAL_START = "coalesce(c.start_date, d.contract_start, d.created_at::DATE)"
_DEAL_END = f"coalesce(c.end_date, d.contract_end, {_DEAL_START})"
_SPEND_DEALS = f"""
    FROM deals d JOIN campaigns c USING (campaign_id)
    WHERE d.stage IN {SPEND_STAGES!r} AND {_brand_filter("c.brand_id")}
"""
# Attributed orders of committed deals (model ``$model``), for the commission part of spend.
_COMMISSION_ORDERS = f"""
    FROM attributed_orders a JOIN deals d USING (deal_id) JOIN campaigns c ON c.campaign_id = d.campaign_id
    WHERE a.model_id = $model AND d.stage IN {SPEND_STAGES!r} AND {_brand_filter("c.brand_id")}
"""


def _money(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _money_kpi(key: str, label: str, rows: list[tuple], *, note: str = "") -> Kpi:
    values = tuple(
        KpiValue(_money(cur), _money(prev), currency)
        for currency, cur, prev in sorted(rows, key=lambda r: r[0])
        if (cur or 0) != 0 or (prev or 0) != 0
    )
    definition = f"{DEFINITIONS[key]} {note}".strip()
    return Kpi(key, label, "money", definition, values)


def _count_kpi(key: str, label: str, row: tuple | None) -> Kpi:
    cur, prev = (row or (0, 0))[:2]
    return Kpi(key, label, "count", DEFINITIONS[key], (KpiValue(int(cur or 0), int(prev or 0)),))


# -- KPIs ----------------------------------------------------------------------------------------------
def overview_kpis(
    source: Source, brand_ids: Sequence[int] | None, start: dt.date, end: dt.date
) -> OverviewKpis:
    """Headline KPIs for ``start``…``end`` and for the previous period of equal length."""
    period = Period(start, end)
    params = _period_params(brand_ids, period)
    with _cursor(source) as cur:
        roster = _roster(cur, brand_ids, params)
        campaigns = cur.execute(
            f"""
            SELECT count(*) FILTER (WHERE {_CAMPAIGN_START} <= $cur_end AND {_CAMPAIGN_END} >= $cur_start),
                   count(*) FILTER (WHERE {_CAMPAIGN_START} <= $prev_end AND {_CAMPAIGN_END} >= $prev_start)
            FROM campaigns c
            WHERE c.status NOT IN ('draft', 'cancelled') AND {_brand_filter("c.brand_id")}
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            _only(params, "brands", "cur_start", "cur_end", "prev_start", "prev_end"),
        ).fetchone()
        order_rows = cur.execute(
            f"""
            SELECT o.currency,
                   count(*) FILTER (WHERE o.ordered_at >= $cur_start),
                   count(*) FILTER (WHERE o.ordered_at < $prev_end_x),
                   sum(o.gross - o.refunded) FILTER (WHERE o.ordered_at >= $cur_start),
                   sum(o.gross - o.refunded) FILTER (WHERE o.ordered_at < $prev_end_x)
            FROM orders o
            WHERE {_VALID_ORDER} AND o.ordered_at >= $prev_start AND o.ordered_at < $cur_end_x
              AND {_brand_filter("o.brand_id")}
            GROUP BY o.currency
            """,  # noqa: S608
            _only(params, "brands", "cur_start", "cur_end_x", "prev_start", "prev_end_x"),
        ).fetchall()
        new_customers = cur.execute(
            f"""
            SELECT count(*) FILTER (WHERE f.ordered_at >= $cur_start),
                   count(*) FILTER (WHERE f.ordered_at < $prev_end_x)
            FROM customer_first_orders f
            WHERE f.ordered_at >= $prev_start AND f.ordered_at < $cur_end_x AND {_brand_filter("f.brand_id")}
            """,  # noqa: S608 - customer_first_orders: models.first_orders
            _only(params, "brands", "cur_start", "cur_end_x", "prev_start", "prev_end_x"),
        ).fetchone()
        model_id = default_model_id(cur)
        spend_rows = _spend_rows(cur, model_id, params)

    orders_row = (sum(r[1] for r in order_rows), sum(r[2] for r in order_rows))
    kpis = (
        _count_kpi("roster", "Roster", roster),
        _count_kpi("active_campaigns", "Active campaigns", campaigns),
        _count_kpi("orders", "Orders", orders_row),
        _money_kpi("revenue", "Revenue", [(r[0], r[3], r[4]) for r in order_rows]),
        _money_kpi("spend", "Spend", spend_rows, note=f"Attribution model in use: {model_id}."),
        _count_kpi("new_customers", "New customers", new_customers),
    )
    return OverviewKpis(period, period.previous(), kpis)


def _spend_rows(cur: duckdb.DuckDBPyConnection, model_id: str, params: dict[str, object]) -> list[tuple]:
    """Spend per currency in the period and the previous one: committed deals' fees and product costs over
    their running dates, plus commission on their attributed revenue."""
    return cur.execute(
        f"""
        WITH fees AS (
            SELECT d.currency,
                   sum(d.fee + d.product_cost) FILTER (WHERE {_DEAL_START} <= $cur_end AND {_DEAL_END} >= $cur_start)
                       AS cur,
                   sum(d.fee + d.product_cost) FILTER (WHERE {_DEAL_START} <= $prev_end AND {_DEAL_END} >= $prev_start)
                       AS prev
            {_SPEND_DEALS}
            GROUP BY d.currency
        ),
        commission AS (
            SELECT d.currency,
                   sum(d.commission_rate * a.revenue) FILTER (WHERE a.ordered_at >= $cur_start) AS cur,
                   sum(d.commission_rate * a.revenue) FILTER (WHERE a.ordered_at < $prev_end_x) AS prev
            {_COMMISSION_ORDERS}
              AND a.ordered_at >= $prev_start AND a.ordered_at < $cur_end_x
            GROUP BY d.currency
        )
        SELECT currency, sum(cur)::DECIMAL(18, 2), sum(prev)::DECIMAL(18, 2)
        FROM (SELECT * FROM fees UNION ALL SELECT * FROM commission)
        GROUP BY currency
        """,  # noqa: S608
        {"model": model_id, **params},
    ).fetchall()


def _only(params: dict[str, object], *keys: str) -> dict[str, object]:
    """DuckDB rejects named parameters a statement does not use."""
    return {k: params[k] for k in keys}


def _roster(
    cur: duckdb.DuckDBPyConnection, brand_ids: Sequence[int] | None, params: dict[str, object]
) -> tuple:
    if brand_ids is None:
        return cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE created_at < $prev_end_x) FROM influencers",
            _only(params, "prev_end_x"),
        ).fetchone() or (0, 0)
    return cur.execute(
        f"""
        WITH joined AS (
            SELECT d.influencer_id, min(d.created_at) AS joined_at
            FROM deals d JOIN campaigns c USING (campaign_id) SEMI JOIN influencers i USING (influencer_id)
            WHERE {_brand_filter("c.brand_id")}
            GROUP BY d.influencer_id
        )
        SELECT count(*), count(*) FILTER (WHERE joined_at < $prev_end_x) FROM joined
        """,  # noqa: S608
        _only(params, "brands", "prev_end_x"),
    ).fetchone() or (0, 0)


# -- trends ------------------------------------------------------------------------------------------
def trend_grain(start: dt.date, end: dt.date) -> Literal["day", "week"]:
    return "week" if Period(start, end).days > WEEKLY_AFTER_DAYS else "day"


_SERIES_SCHEMA = {"period": pl.Date, "metric": pl.String, "currency": pl.String, "value": pl.Float64}


def overview_trends(
    source: Source, brand_ids: Sequence[int] | None, start: dt.date, end: dt.date
) -> OverviewTrends:
    """Orders, revenue, new customers and spend per day (per week for ranges over 120 days)."""
    period = Period(start, end)
    grain = trend_grain(start, end)
    params = {
        "brands": _brand_param(brand_ids),
        "start": start,
        "end": end,
        "end_x": period.end_exclusive,
        "grain": grain,
    }
    with _cursor(source) as cur:
        calendar = cur.execute(
            """
            SELECT DISTINCT date_trunc($grain, d)::DATE AS period
            FROM generate_series($start::TIMESTAMP, $end::TIMESTAMP, INTERVAL 1 DAY) AS t(d)
            ORDER BY period
            """,
            {"grain": grain, "start": start, "end": end},
        ).pl()
        orders = cur.execute(
            f"""
            SELECT date_trunc($grain, o.ordered_at)::DATE AS period, o.currency,
                   count(*)::DOUBLE AS orders, sum(o.gross - o.refunded)::DOUBLE AS revenue
            FROM orders o
            WHERE {_VALID_ORDER} AND o.ordered_at >= $start AND o.ordered_at < $end_x
              AND {_brand_filter("o.brand_id")}
            GROUP BY ALL
            """,  # noqa: S608
            _only(params, "grain", "start", "end_x", "brands"),
        ).pl()
        new_customers = cur.execute(
            f"""
            SELECT date_trunc($grain, f.ordered_at)::DATE AS period, count(*)::DOUBLE AS value
            FROM customer_first_orders f
            WHERE f.ordered_at >= $start AND f.ordered_at < $end_x AND {_brand_filter("f.brand_id")}
            GROUP BY ALL
            """,  # noqa: S608 - customer_first_orders: models.first_orders
            _only(params, "grain", "start", "end_x", "brands"),
        ).pl()
        spend = cur.execute(
            f"""
            SELECT period, currency, sum(value)::DOUBLE AS value FROM (
                SELECT date_trunc($grain, greatest({_DEAL_START}, $start::DATE))::DATE AS period, d.currency,
                       d.fee + d.product_cost AS value
                {_SPEND_DEALS} AND {_DEAL_START} <= $end AND {_DEAL_END} >= $start
                UNION ALL
                SELECT date_trunc($grain, a.ordered_at)::DATE, d.currency, d.commission_rate * a.revenue
                {_COMMISSION_ORDERS} AND a.ordered_at >= $start AND a.ordered_at < $end_x
            )
            GROUP BY ALL
            """,  # noqa: S608
            {"model": default_model_id(cur), **_only(params, "grain", "start", "end", "end_x", "brands")},
        ).pl()

    parts = [
        _count_series(
            calendar, "orders", orders.group_by("period").agg(pl.col("orders").sum().alias("value"))
        ),
        _money_series(
            calendar, "revenue", orders.select("period", "currency", pl.col("revenue").alias("value"))
        ),
        _count_series(calendar, "new_customers", new_customers),
        _money_series(calendar, "spend", spend),
    ]
    series = pl.concat(parts, how="vertical").sort("metric", "currency", "period", nulls_last=False)
    return OverviewTrends(period, grain, series)


def _count_series(calendar: pl.DataFrame, metric: str, values: pl.DataFrame) -> pl.DataFrame:
    """Every calendar period with its value (0 where nothing happened)."""
    return (
        calendar.join(values.select("period", "value"), on="period", how="left")
        .select(
            "period",
            pl.lit(metric).alias("metric"),
            pl.lit(None, dtype=pl.String).alias("currency"),
            pl.col("value").fill_null(0.0).cast(pl.Float64),
        )
        .cast(_SERIES_SCHEMA)  # type: ignore[arg-type]
    )


def _money_series(calendar: pl.DataFrame, metric: str, values: pl.DataFrame) -> pl.DataFrame:
    """Every calendar period × currency seen in the range, with its value (0 where nothing happened)."""
    currencies = values.select(pl.col("currency").cast(pl.String)).unique()
    if currencies.is_empty():
        return pl.DataFrame(schema=_SERIES_SCHEMA)
    return (
        calendar.join(currencies, how="cross")
        .join(
            values.select("period", pl.col("currency").cast(pl.String), "value"),
            on=["period", "currency"],
            how="left",
        )
        .select(
            "period",
            pl.lit(metric).alias("metric"),
            "currency",
            pl.col("value").fill_null(0.0).cast(pl.Float64),
        )
        .cast(_SERIES_SCHEMA)  # type: ignore[arg-type]
    )


# -- freshness, filters, workspace -------------------------------------------------------------------
def data_freshness(source: Source, brand_ids: Sequence[int] | None = None) -> DataFreshness:
    """The last run of each connector, and the latest order, post and follower snapshot in the store.

    With a brand filter, orders are the brands' own, and posts and snapshots those of the accounts of
    influencers with a deal with the brands. Connector runs are workspace-wide.
    """
    params = {"brands": _brand_param(brand_ids)}
    roster_accounts = f"""
        SELECT a.account_id FROM accounts a
        WHERE $brands::INTEGER[] IS NULL OR a.influencer_id IN (
            SELECT d.influencer_id FROM deals d JOIN campaigns c USING (campaign_id)
            WHERE {_brand_filter("c.brand_id")})
    """  # noqa: S608
    with _cursor(source) as cur:
        syncs = last_syncs(cur)
        latest = cur.execute(
            f"""
            SELECT 'orders' AS data, (SELECT max(o.ordered_at) FROM orders o WHERE {_brand_filter("o.brand_id")})
                   AS latest
            UNION ALL
            SELECT 'posts', (SELECT max(p.posted_at) FROM posts p WHERE p.account_id IN ({roster_accounts}))
            UNION ALL
            SELECT 'follower snapshots', (SELECT max(s.snapshot_date)::TIMESTAMP FROM account_snapshots s
                                          WHERE s.account_id IN ({roster_accounts}))
            """,  # noqa: S608
            params,
        ).pl()
    return DataFreshness(syncs=syncs, latest=latest)


def brands(source: Source) -> list[Brand]:
    """Every brand, by name, for the sidebar filter."""
    with _cursor(source) as cur:
        rows = cur.execute(
            "SELECT brand_id, name, currency FROM brands ORDER BY lower(name), brand_id"
        ).fetchall()
    return [Brand(int(b), str(n), str(c)) for b, n, c in rows]


def data_date_bounds(source: Source) -> tuple[dt.date, dt.date] | None:
    """The first and last order date in the store (test orders left out), or None without orders.

    Read from ``order_date_bounds`` (each brand's, kept by every orders writer: models.first_orders); from the
    orders themselves when that table is empty but orders exist (written by hand, not refreshed yet)."""
    with _cursor(source) as cur:
        row = cur.execute(
            """
            SELECT min(first_at)::DATE, max(last_at)::DATE FROM order_date_bounds
            HAVING count(*) > 0 OR NOT EXISTS (SELECT 1 FROM orders WHERE NOT is_test)
            UNION ALL
            SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders WHERE NOT is_test
              AND NOT EXISTS (SELECT 1 FROM order_date_bounds)
            """
        ).fetchone()
    if not row or row[0] is None:
        return None
    return row[0], row[1]


def workspace_info(store: Store) -> WorkspaceInfo:
    """Which store file is open, its schema version and how many rows each table holds."""
    with store.connect() as cur:
        return WorkspaceInfo(str(store.path), schema_version(cur), table_counts(cur))


# -- what influencers brought in (from the materialised attribution) ------------------------------------
INFLUENCER_DEFINITIONS: dict[str, str] = {
    "attributed_revenue": (
        "Attributed revenue = Σ gross sales (before discounts and refunds) of the orders placed in the period "
        "that the attribution model in use credits to an influencer (METRICS.md: promo code, else UTM link "
        "within the window after the influencer's click or post)."
    ),
    "roas": "ROAS = attributed revenue / spend, per currency, for the period (spend as in the Spend card).",
    "customers_won": (
        "New customers won by influencers = attributed orders in the period that were the customer's first "
        "order with the brand."
    ),
    "top_influencers": (
        "Influencers ranked by new customers won in the period (attributed first orders), with their "
        "attributed revenue."
    ),
}


@dataclass(frozen=True)
class InfluencerResults:
    model_id: str
    revenue: tuple[KpiValue, ...]  # per currency: current vs previous period
    roas: dict[str, tuple[float | None, float | None]]  # currency -> (current, previous)
    customers_won: KpiValue
    top: pl.DataFrame  # influencer_id, influencer, customers_won, orders, revenue, currency


def influencer_results(
    source: Source, brand_ids: Sequence[int] | None, start: dt.date, end: dt.date, *, top_n: int = 10
) -> InfluencerResults:
    """Attributed revenue, ROAS and customers won by influencers in the period (and the one before)."""
    period = Period(start, end)
    params = _period_params(brand_ids, period)
    with _cursor(source) as cur:
        model_id = default_model_id(cur)
        spend_rows = _spend_rows(cur, model_id, params)  # the Spend KPI's figures, without the other KPIs
        rows = cur.execute(
            f"""
            SELECT c.currency,
                   sum(a.revenue) FILTER (WHERE a.ordered_at >= $cur_start),
                   sum(a.revenue) FILTER (WHERE a.ordered_at < $prev_end_x),
                   count(*) FILTER (WHERE a.is_new_customer AND a.ordered_at >= $cur_start),
                   count(*) FILTER (WHERE a.is_new_customer AND a.ordered_at < $prev_end_x)
            FROM attributed_orders a JOIN campaigns c USING (campaign_id)
            WHERE a.model_id = $model AND a.ordered_at >= $prev_start AND a.ordered_at < $cur_end_x
              AND {_brand_filter("a.brand_id")}
            GROUP BY c.currency
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            {
                "model": model_id,
                **_only(params, "brands", "cur_start", "cur_end_x", "prev_start", "prev_end_x"),
            },
        ).fetchall()
        top = cur.execute(
            f"""
            SELECT a.influencer_id, i.name AS influencer, c.currency,
                   count(*) FILTER (WHERE a.is_new_customer) AS customers_won, count(*) AS orders,
                   sum(a.revenue)::DOUBLE AS revenue
            FROM attributed_orders a JOIN influencers i USING (influencer_id) JOIN campaigns c USING (campaign_id)
            WHERE a.model_id = $model AND a.ordered_at >= $cur_start AND a.ordered_at < $cur_end_x
              AND {_brand_filter("a.brand_id")}
            GROUP BY ALL ORDER BY customers_won DESC, revenue DESC, a.influencer_id LIMIT $top_n
            """,  # noqa: S608
            {"model": model_id, "top_n": top_n, **_only(params, "brands", "cur_start", "cur_end_x")},
        ).pl()
    revenue = tuple(
        KpiValue(_money(cur_), _money(prev), currency)
        for currency, cur_, prev, _, _ in sorted(rows, key=lambda r: r[0])
        if (cur_ or 0) or (prev or 0)
    )
    spend_kpi = _money_kpi("spend", "Spend", spend_rows)
    spend = {v.currency: v for v in spend_kpi.values}
    roas: dict[str, tuple[float | None, float | None]] = {}
    for value in revenue:
        paid = spend.get(value.currency)

        def ratio(num: Decimal, den: Decimal | None) -> float | None:
            return float(num / den) if den else None

        roas[value.currency or ""] = (
            ratio(value.current, paid.current if paid else None),
            ratio(value.previous, paid.previous if paid else None),
        )
    won = KpiValue(sum(int(r[3] or 0) for r in rows), sum(int(r[4] or 0) for r in rows))
    return InfluencerResults(model_id, revenue, roas, won, top)
