"""The customer–brand relationship: RFM scores and segments, churn risk, cohort retention, predictive CLV.

Every function takes a DuckDB cursor first (``store.connect()`` gives one) and
:class:`~models.filters.Filters` for the brands and the date range; the heavy lifting (per-customer
aggregation, quintile ranks, cohorts) runs in DuckDB, and Polars frames come out. Orders flagged ``is_test``
or ``is_cancelled`` never count, nor orders without a customer; revenue = gross − refunded. A customer
belongs to one brand (``customers.customer_id`` is derived from the brand and the customer key), so a buyer
of two brands is two customers, one per brand. Of the filters, the brands and the date range apply; campaign,
platform and influencer filters do not (an order is tied to those only through attribution).

Scores and segments are relative to the customer's own brand: quintiles are computed within each brand (and
currency — money is never compared across currencies), so "champions" of a small brand are its best buyers,
not the bottom of a bigger brand's ranking. Every number has its one-line definition in :data:`DEFINITIONS`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from models.clv import (
    DAYS_PER_UNIT,
    BGNBDParams,
    GammaGammaParams,
    Unit,
    expected_order_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from models.filters import Filters, MetricDefinition

log = logging.getLogger(__name__)

CHURN_DAYS = 30  # METRICS.md: at risk of churning = no order for 30 days or more
RETENTION_MONTHS = 12  # cohort retention: months k = 0 .. 11 after the first order
DEFAULT_MARGIN = 0.3  # CLV margin when the brand's orders carry no cost of goods
DEFAULT_HORIZON_DAYS = 365

# Valid orders: everything that is not a test, not cancelled and has a customer.
_VALID = "NOT o.is_test AND NOT o.is_cancelled AND o.customer_id IS NOT NULL"


# -- segments: the rule table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentRule:
    """A named segment: the R and F score ranges (inclusive) it takes, and what that means in words."""

    segment: str
    r_scores: tuple[int, int]
    f_scores: tuple[int, int]
    meaning: str

    def matches(self, r_score: int, f_score: int) -> bool:
        return (
            self.r_scores[0] <= r_score <= self.r_scores[1]
            and self.f_scores[0] <= f_score <= self.f_scores[1]
        )

    def rule(self) -> str:
        def span(lo_hi: tuple[int, int]) -> str:
            return str(lo_hi[0]) if lo_hi[0] == lo_hi[1] else f"{lo_hi[0]}–{lo_hi[1]}"

        return f"R {span(self.r_scores)} and F {span(self.f_scores)}"


# Read top to bottom; a customer takes the FIRST rule their (R, F) scores match. Together the rules cover all
# 25 (R, F) pairs, so every customer is in exactly one segment (tests/test_customers.py checks both). The M
# score is shown beside the segment but does not decide it: spend follows frequency closely, and two scores
# keep the map a 5 × 5 grid a user can read (see segment_grid()).
SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", (4, 5), (4, 5), "bought recently and buy often"),
    SegmentRule("loyal", (3, 5), (3, 5), "buy regularly, not quite the most recent or most frequent"),
    SegmentRule(
        "new", (4, 5), (1, 2), "bought recently but have few orders — most have just made their first"
    ),
    SegmentRule("at risk", (1, 2), (3, 5), "used to buy often, but not for a while"),
    SegmentRule("hibernating", (2, 3), (1, 2), "few orders, and the last one some time ago"),
    SegmentRule("lost", (1, 1), (1, 2), "few orders, the last one among the longest ago"),
)
SEGMENTS: tuple[str, ...] = tuple(rule.segment for rule in SEGMENT_RULES)


def segment_of(r_score: int, f_score: int) -> str:
    """The segment of one (R, F) pair: the first rule of :data:`SEGMENT_RULES` it matches."""
    for rule in SEGMENT_RULES:
        if rule.matches(r_score, f_score):
            return rule.segment
    raise ValueError(f"scores out of range: R {r_score}, F {f_score} (both must be 1–5)")


def segment_grid() -> pl.DataFrame:
    """The whole segment map: one row per (r_score, f_score) pair, 1–5 each, with its segment."""
    pairs = [(r, f) for r in range(1, 6) for f in range(1, 6)]
    return pl.DataFrame(
        {
            "r_score": [r for r, _ in pairs],
            "f_score": [f for _, f in pairs],
            "segment": [segment_of(r, f) for r, f in pairs],
        },
        schema={"r_score": pl.Int8, "f_score": pl.Int8, "segment": pl.String},
    )


# -- definitions ---------------------------------------------------------------------------------------------
_QUINTILE_NOTE = (
    "Quintiles within each brand and currency, by mid-rank: score = 1 + ⌊5 × (customers with a strictly "
    "worse value + half of those tied with this one) / customers⌋. Tied customers share a score, placed at "
    "the middle of their tie block: if 70 % of customers have 1 order, the block's middle is the 35th "
    "percentile and they all score 2; a brand whose customers are all tied (or that has one customer) "
    "scores 3."
)

DEFINITIONS: dict[str, MetricDefinition] = {
    "recency_days": MetricDefinition(
        "Recency",
        "days from the customer's last order to the as-of date (0 = ordered that day)",
        "The as-of date is the end of the date range, else the day of the latest order in scope; orders "
        "after it are ignored.",
    ),
    "frequency": MetricDefinition(
        "Frequency", "number of orders with the brand in the date range (test and cancelled orders excluded)"
    ),
    "monetary_total": MetricDefinition(
        "Monetary (total)",
        "Σ (gross − refunded) over the customer's orders in the date range",
        "In the order currency.",
    ),
    "monetary_avg": MetricDefinition("Monetary (average order value)", "monetary total / frequency"),
    "r_score": MetricDefinition(
        "R score", "recency quintile, 5 = most recent 20 % of the brand's customers", _QUINTILE_NOTE
    ),
    "f_score": MetricDefinition("F score", "frequency quintile, 5 = most orders", _QUINTILE_NOTE),
    "m_score": MetricDefinition("M score", "monetary-total quintile, 5 = highest spend", _QUINTILE_NOTE),
    "rfm_score": MetricDefinition("RFM score", "the three scores side by side, R then F then M (e.g. 545)"),
    "segment": MetricDefinition(
        "Segment",
        "the first rule of the segment table the customer's R and F scores match",
        "Rules in order: " + "; ".join(f"{r.segment}: {r.rule()}" for r in SEGMENT_RULES) + ".",
    ),
    **{
        f"segment:{rule.segment}": MetricDefinition(
            rule.segment.capitalize(),
            rule.rule() + (" (and no earlier rule)" if i else ""),
            f"Customers who {rule.meaning}.",
        )
        for i, rule in enumerate(SEGMENT_RULES)
    },
    "at_risk_of_churning": MetricDefinition(
        "At risk of churning",
        "no order for churn_days or more (recency ≥ churn_days)",
        "Independent of the 'at risk' segment, which compares customers with each other.",
        {"churn_days": CHURN_DAYS},
    ),
    "customer_share": MetricDefinition("Share of customers", "customers in the segment / customers in scope"),
    "revenue_share": MetricDefinition(
        "Share of revenue", "segment's Σ monetary total / Σ over all segments, per currency"
    ),
    "cohort_size": MetricDefinition(
        "Cohort size", "customers whose first order with the brand (ever) falls in the cohort month"
    ),
    "cohort_retention": MetricDefinition(
        "Cohort retention",
        "customers of the cohort with at least one order in calendar month k after their first order's month "
        "/ cohort size",
        "Month 0 is the first order's own month, so it is always 100 %. The date range picks cohorts by "
        "first order; later orders count whenever they happen. Months after the latest order in the data are "
        "blank (not yet observed), and the latest month may be partial.",
        {"months": RETENTION_MONTHS},
    ),
    "x": MetricDefinition(
        "Repeat purchases (x)",
        "number of distinct days with an order after the first order's day, up to the calibration end",
    ),
    "t_x": MetricDefinition("t_x", "time from the first to the last purchase day, in the model's unit"),
    "T": MetricDefinition(
        "T", "time from the first purchase day to the calibration end, in the model's unit"
    ),
    "monetary_value": MetricDefinition(
        "Mean repeat order value",
        "mean revenue of the repeat purchase days (orders of one day added together); 0 when x = 0",
    ),
    "p_alive": MetricDefinition(
        "P(alive)",
        "BG/NBD probability the customer has not dropped out at the calibration end: "
        "1 / (1 + [x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))",
        "Fader, Hardie & Lee (2005).",
    ),
    "expected_purchases": MetricDefinition(
        "Expected purchases",
        "BG/NBD expected number of purchase days in the horizon after the calibration end, given x, t_x, T",
        "Fader, Hardie & Lee (2005), eq. 10.",
        {"horizon_days": DEFAULT_HORIZON_DAYS},
    ),
    "expected_order_value": MetricDefinition(
        "Expected order value",
        "Gamma-Gamma E[M | x, m̄] = p(γ + x·m̄)/(p·x + q − 1): the customer's mean repeat spend shrunk "
        "towards the population mean pγ/(q − 1)",
        "Fader & Hardie, 'The Gamma-Gamma model of monetary value'; fitted on customers with x > 0.",
    ),
    "clv": MetricDefinition(
        "Predictive CLV",
        "expected purchases over the horizon × expected order value × margin",
        "Undiscounted; future value only (the money already spent is not included). The margin is the "
        "brand's measured 1 − Σ cost of goods / Σ revenue where its orders carry cost of goods, else the "
        "default.",
        {"horizon_days": DEFAULT_HORIZON_DAYS, "default margin": DEFAULT_MARGIN},
    ),
}


def definition(key: str, **parameters: object) -> MetricDefinition:
    """``DEFINITIONS[key]`` with the parameter values in use (e.g. ``churn_days=45``) for the screen."""
    base = DEFINITIONS[key]
    return dataclasses.replace(base, parameters={**base.parameters, **parameters})


# -- helpers -------------------------------------------------------------------------------------------------
def _next_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def _default_as_of(con: duckdb.DuckDBPyConnection, filters: Filters) -> dt.date | None:
    """The end of the date range, else the day of the latest valid order in scope (None: no orders)."""
    if filters.end is not None:
        return filters.end
    where, params = filters.where({"brand": "o.brand_id", "time": "o.ordered_at"})
    row = con.execute(
        f"SELECT max(o.ordered_at)::DATE FROM orders o {where} AND {_VALID}",  # noqa: S608 - fixed clauses
        params,
    ).fetchone()
    return row[0] if row else None


# -- RFM -----------------------------------------------------------------------------------------------------
_SCORE_PARTITION = "PARTITION BY brand_id, currency"


def _mid_rank_score(order: str, value: str) -> str:
    """SQL for a 1–5 quintile score by mid-rank: 1 + ⌊5 (2·below + tied) / (2n)⌋, in integers (exact).

    ``rank() − 1`` counts the customers with a strictly worse value (``order`` sorts worst first); the tie
    block's size is the count of customers with the same value; ``n`` is the partition size.
    """
    below = f"(rank() OVER ({_SCORE_PARTITION} ORDER BY {order}) - 1)"
    tied = f"count(*) OVER ({_SCORE_PARTITION}, {value})"
    return f"(1 + (5 * (2 * {below} + {tied})) // (2 * n))::TINYINT"


_RFM_SCHEMA: dict[str, pl.DataType] = {
    "brand_id": pl.Int32(),
    "customer_id": pl.Int64(),
    "currency": pl.String(),
    "first_order_at": pl.Datetime("us"),
    "last_order_at": pl.Datetime("us"),
    "recency_days": pl.Int64(),
    "frequency": pl.Int64(),
    "monetary_total": pl.Float64(),
    "monetary_avg": pl.Float64(),
    "r_score": pl.Int8(),
    "f_score": pl.Int8(),
    "m_score": pl.Int8(),
    "rfm_score": pl.String(),
    "segment": pl.String(),
    "at_risk_of_churning": pl.Boolean(),
}


def rfm(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: dt.date | None = None,
    *,
    churn_days: int = CHURN_DAYS,
) -> pl.DataFrame:
    """Recency, frequency, monetary, RFM scores, segment and churn flag of every customer of the filtered
    brands, as of ``as_of`` (default: the end of the date range, else the day of the latest order in scope).

    Orders in the date range and on or before ``as_of`` count. One row per customer (a customer who paid in
    two currencies has one per currency): ``brand_id, customer_id, currency, first_order_at, last_order_at,
    recency_days, frequency, monetary_total, monetary_avg, r_score, f_score, m_score, rfm_score, segment,
    at_risk_of_churning``, sorted by brand and customer; definitions in :data:`DEFINITIONS`.
    """
    if churn_days < 1:
        raise ValueError(f"churn_days must be at least 1, not {churn_days}")
    as_of = as_of or _default_as_of(con, filters)
    if as_of is None:
        return pl.DataFrame(schema=_RFM_SCHEMA)
    where, params = filters.where({"brand": "o.brand_id", "time": "o.ordered_at"})
    partition = _SCORE_PARTITION
    frame = con.execute(
        f"""
        WITH per_customer AS (
            SELECT o.brand_id, o.customer_id, o.currency,
                   min(o.ordered_at) AS first_order_at, max(o.ordered_at) AS last_order_at,
                   count(*) AS frequency, sum(o.gross - o.refunded)::DOUBLE AS monetary_total
            FROM orders o
            {where} AND {_VALID} AND o.ordered_at < ?
            GROUP BY o.brand_id, o.customer_id, o.currency
        ), measured AS (
            SELECT *, date_diff('day', last_order_at::DATE, ?::DATE) AS recency_days,
                   monetary_total / frequency AS monetary_avg,
                   count(*) OVER ({partition}) AS n
            FROM per_customer
        )
        SELECT brand_id, customer_id, currency, first_order_at, last_order_at, recency_days, frequency,
               monetary_total, monetary_avg,
               {_mid_rank_score("recency_days DESC", "recency_days")} AS r_score,
               {_mid_rank_score("frequency", "frequency")} AS f_score,
               {_mid_rank_score("monetary_total", "monetary_total")} AS m_score
        FROM measured
        ORDER BY brand_id, customer_id, currency
        """,  # noqa: S608 - the WHERE clause comes from Filters, values are parameters
        [*params, _next_day(as_of), as_of],
    ).pl()
    frame = frame.join(segment_grid(), on=["r_score", "f_score"], how="left", maintain_order="left")
    return frame.select(
        *[c for c in _RFM_SCHEMA if c not in ("rfm_score", "segment", "at_risk_of_churning")],
        rfm_score=pl.concat_str(
            pl.col("r_score").cast(pl.String),
            pl.col("f_score").cast(pl.String),
            pl.col("m_score").cast(pl.String),
        ),
        segment="segment",
        at_risk_of_churning=pl.col("recency_days") >= churn_days,
    ).cast(_RFM_SCHEMA)


def _level_score(value: str, *, worst_first: str) -> str:
    """The mid-rank score of ``value`` (as :func:`_mid_rank_score`) from its distinct values' counts.

    Recency and frequency take few distinct values, so ranking the distinct values per partition and joining
    the scores back is a fraction of the cost of ranking every customer (two window sorts over millions)."""
    return f"""
        SELECT brand_id, currency, {value}, n,
               (1 + (5 * (2 * coalesce(sum(count(*)) OVER (PARTITION BY brand_id, currency ORDER BY {value} {worst_first}
                                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                          + count(*))) // (2 * n))::TINYINT AS score
        FROM measured GROUP BY brand_id, currency, {value}, n
    """  # noqa: S608 - fixed names


def _cell_score(value: str, *, worst_first: str) -> str:
    """:func:`_level_score` from per-(recency, frequency) cells (``sized``: customers per cell, n per
    partition) instead of one row per customer: the same scores."""
    return f"""
        SELECT brand_id, currency, {value},
               (1 + (5 * (2 * coalesce(sum(sum(customers)) OVER (PARTITION BY brand_id, currency
                                                                  ORDER BY {value} {worst_first}
                                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                          + sum(customers))) // (2 * any_value(n)))::TINYINT AS score
        FROM sized GROUP BY brand_id, currency, {value}
    """  # noqa: S608 - fixed names


def _segments_sql(where: str) -> str:
    """Every customer of the filters with recency, frequency, revenue and the R and F scores (no M score):
    the customers the segment and churn views count. Parameters: the filter's, the day after ``as_of``,
    ``as_of``."""
    return f"""
        WITH per_customer AS (
            SELECT o.brand_id, o.customer_id, o.currency, max(o.ordered_at) AS last_order_at,
                   count(*) AS frequency, sum(o.gross - o.refunded)::DOUBLE AS monetary_total
            FROM orders o
            {where} AND {_VALID} AND o.ordered_at < ?
            GROUP BY o.brand_id, o.customer_id, o.currency
        ), measured AS (
            SELECT *, date_diff('day', last_order_at::DATE, ?::DATE) AS recency_days,
                   count(*) OVER ({_SCORE_PARTITION}) AS n
            FROM per_customer
        ), r AS ({_level_score("recency_days", worst_first="DESC")}),
        f AS ({_level_score("frequency", worst_first="")})
        SELECT m.brand_id, m.customer_id, m.currency, m.recency_days, m.frequency, m.monetary_total,
               r.score AS r_score, f.score AS f_score
        FROM measured m
        JOIN r USING (brand_id, currency, recency_days)
        JOIN f USING (brand_id, currency, frequency)
    """  # noqa: S608 - the WHERE clause comes from Filters, values are parameters


_SEGMENT_COLUMNS = {
    c: _RFM_SCHEMA[c]
    for c in ("brand_id", "customer_id", "currency", "recency_days", "frequency", "monetary_total")
} | {
    "r_score": pl.Int8(),
    "f_score": pl.Int8(),
    "segment": pl.String(),
    "at_risk_of_churning": pl.Boolean(),
}


def rfm_segments(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: dt.date | None = None,
    *,
    churn_days: int = CHURN_DAYS,
) -> pl.DataFrame:
    """:func:`rfm` without the M score, for the segment and churn views (segments take R and F only).

    The same ``brand_id, customer_id, currency, recency_days, frequency, monetary_total, r_score, f_score,
    segment, at_risk_of_churning`` values as :func:`rfm`, in the same order; the scores come from each
    partition's distinct recencies and frequencies, which is much cheaper than ranking every customer.
    """
    if churn_days < 1:
        raise ValueError(f"churn_days must be at least 1, not {churn_days}")
    as_of = as_of or _default_as_of(con, filters)
    if as_of is None:
        return pl.DataFrame(schema=_SEGMENT_COLUMNS)
    where, params = filters.where({"brand": "o.brand_id", "time": "o.ordered_at"})
    frame = con.execute(
        f"{_segments_sql(where)} ORDER BY m.brand_id, m.customer_id, m.currency",
        [*params, _next_day(as_of), as_of],
    ).pl()
    return _with_segments(frame, churn_days)


def _with_segments(frame: pl.DataFrame, churn_days: int) -> pl.DataFrame:
    return (
        frame.join(segment_grid(), on=["r_score", "f_score"], how="left", maintain_order="left")
        .with_columns(at_risk_of_churning=pl.col("recency_days") >= churn_days)
        .select(list(_SEGMENT_COLUMNS))
        .cast(_SEGMENT_COLUMNS)
    )


@dataclass(frozen=True)
class SegmentViews:
    """What the segment and churn views show, from one scoring pass (see :func:`segment_views`)."""

    summary: pl.DataFrame  # as segment_summary: one row per (currency, segment)
    customers: int  # customers scored
    at_risk: int  # of them, at risk of churning
    top_at_risk: pl.DataFrame  # rfm_segments' columns: the most valuable at-risk customers first


def segment_views(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: dt.date | None = None,
    *,
    churn_days: int = CHURN_DAYS,
    top: int = 200,
) -> SegmentViews:
    """The segment summary, churn counts and the ``top`` most valuable at-risk customers (revenue, then
    customer id) — the numbers :func:`rfm_segments` gives, counted in DuckDB: the scored customers (a million
    and more on a big store) never leave it."""
    if churn_days < 1:
        raise ValueError(f"churn_days must be at least 1, not {churn_days}")
    as_of = as_of or _default_as_of(con, filters)
    if as_of is None:
        empty = pl.DataFrame(schema=_SEGMENT_COLUMNS)
        return SegmentViews(summarise_segments(empty), 0, 0, empty)
    where, params = filters.where({"brand": "o.brand_id", "time": "o.ordered_at"})
    # Each customer's recency, frequency and revenue (the one pass over the orders), kept for the top list;
    # everything else is counted per (recency, frequency) cell — tens of thousands of rows, not millions.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _segment_customers AS
        SELECT o.brand_id, o.customer_id, o.currency,
               date_diff('day', max(o.ordered_at)::DATE, ?::DATE) AS recency_days,
               count(*) AS frequency, sum(o.gross - o.refunded)::DOUBLE AS monetary_total
        FROM orders o
        {where} AND {_VALID} AND o.ordered_at < ?
        GROUP BY o.brand_id, o.customer_id, o.currency
        """,  # noqa: S608 - the WHERE clause comes from Filters, values are parameters
        [as_of, *params, _next_day(as_of)],
    )
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _segment_cells AS
            WITH cells AS (
                SELECT brand_id, currency, recency_days, frequency, count(*) AS customers,
                       sum(monetary_total) AS revenue
                FROM _segment_customers GROUP BY ALL
            ),
            sized AS (SELECT *, sum(customers) OVER (PARTITION BY brand_id, currency) AS n FROM cells),
            r AS ({_cell_score("recency_days", worst_first="DESC")}),
            f AS ({_cell_score("frequency", worst_first="")})
            SELECT s.*, r.score AS r_score, f.score AS f_score
            FROM sized s JOIN r USING (brand_id, currency, recency_days) JOIN f USING (brand_id, currency, frequency)
            """  # noqa: S608 - fixed names
        )
        grid = segment_grid().select("r_score", "f_score", "segment").to_arrow()
        con.register("_segment_grid", grid)
        try:
            counts = con.execute(
                """
                SELECT c.currency, g.segment, sum(c.customers) AS customers, sum(c.revenue) AS revenue,
                       coalesce(sum(c.customers) FILTER (WHERE c.recency_days >= ?), 0) AS at_risk_of_churning
                FROM _segment_cells c JOIN _segment_grid g USING (r_score, f_score)
                GROUP BY ALL
                """,
                [churn_days],
            ).pl()
        finally:
            con.unregister("_segment_grid")
        top_rows = con.execute(
            """
            SELECT t.brand_id, t.customer_id, t.currency, t.recency_days, t.frequency, t.monetary_total,
                   c.r_score, c.f_score
            FROM (SELECT * FROM _segment_customers WHERE recency_days >= ?
                  ORDER BY monetary_total DESC, customer_id LIMIT ?) t
            JOIN _segment_cells c USING (brand_id, currency, recency_days, frequency)
            ORDER BY t.monetary_total DESC, t.customer_id
            """,
            [churn_days, top],
        ).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS _segment_customers")
        con.execute("DROP TABLE IF EXISTS _segment_cells")
    customers_scored = int(counts["customers"].sum()) if counts.height else 0
    at_risk = int(counts["at_risk_of_churning"].sum()) if counts.height else 0
    return SegmentViews(
        _summary_from_counts(counts), customers_scored, at_risk, _with_segments(top_rows, churn_days)
    )


def segment_summary(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: dt.date | None = None,
    *,
    churn_days: int = CHURN_DAYS,
) -> pl.DataFrame:
    """Customers, revenue and shares per segment (every segment, in rule order), one block per currency.

    Columns: ``currency, segment, customers, customer_share, revenue, revenue_share, at_risk_of_churning``
    (customers in the segment with no order for ``churn_days``). Shares are within the currency.
    """
    return summarise_segments(rfm(con, filters, as_of, churn_days=churn_days))


def summarise_segments(scored: pl.DataFrame) -> pl.DataFrame:
    """:func:`segment_summary` of customers already scored by :func:`rfm` (one RFM pass for several views)."""
    counts = scored.group_by("currency", "segment").agg(
        customers=pl.len(),
        revenue=pl.col("monetary_total").sum(),
        at_risk_of_churning=pl.col("at_risk_of_churning").sum(),
    )
    return _summary_from_counts(counts)


def _summary_from_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """Every segment of every currency present, in rule order, with shares, from per-(currency, segment)
    ``customers``, ``revenue`` and ``at_risk_of_churning``."""
    schema = {
        "currency": pl.String,
        "segment": pl.String,
        "customers": pl.Int64,
        "customer_share": pl.Float64,
        "revenue": pl.Float64,
        "revenue_share": pl.Float64,
        "at_risk_of_churning": pl.Int64,
    }
    if counts.is_empty():
        return pl.DataFrame(schema=schema)
    counts = counts.cast({"customers": pl.Int64, "revenue": pl.Float64, "at_risk_of_churning": pl.Int64})
    grid = pl.DataFrame({"currency": sorted(counts["currency"].unique().to_list())}).join(
        pl.DataFrame({"segment": list(SEGMENTS), "order": list(range(len(SEGMENTS)))}), how="cross"
    )
    out = grid.join(counts, on=["currency", "segment"], how="left").with_columns(
        pl.col("customers", "at_risk_of_churning").fill_null(0), pl.col("revenue").fill_null(0.0)
    )
    total_customers = pl.col("customers").sum().over("currency")
    total_revenue = pl.col("revenue").sum().over("currency")
    return (
        out.with_columns(
            customer_share=pl.col("customers") / total_customers,
            revenue_share=pl.when(total_revenue != 0).then(pl.col("revenue") / total_revenue).otherwise(None),
        )
        .sort("currency", "order")
        .select(list(schema))
        .cast(schema)
    )


# -- cohorts -------------------------------------------------------------------------------------------------
def cohort_retention(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, months: int = RETENTION_MONTHS
) -> pl.DataFrame:
    """Retention by month of first order: for each cohort and k = 0 … months−1, the share of the cohort with
    an order in calendar month k after the cohort month.

    Long form, one row per (cohort, k): ``cohort_month`` (first day), ``cohort_size``, ``months_since_first``,
    ``active_customers``, ``retention``. The brand filter picks the orders; the date range picks the cohorts
    (by the first order's day). Cells after the latest order month of the selected brands are null.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    cohort_where, cohort_params = filters.where({"brand": "f.brand_id", "time": "f.ordered_at"})
    brand_where, brand_params = filters.where({"brand": "o.brand_id"})
    frame = con.execute(
        f"""
        WITH cohorts AS (  -- customer_first_orders: each customer's first valid order (models.first_orders)
            SELECT f.customer_id, date_trunc('month', f.ordered_at)::DATE AS cohort_month
            FROM customer_first_orders f {cohort_where}
        ), valid AS (  -- a cohort's later orders are on or after its month (orders are stored by time)
            SELECT o.customer_id, date_trunc('month', o.ordered_at)::DATE AS month
            FROM orders o {brand_where} AND {_VALID}
              AND o.ordered_at >= (SELECT min(cohort_month) FROM cohorts)
        ), sizes AS (
            SELECT cohort_month, count(*) AS cohort_size FROM cohorts GROUP BY cohort_month
        ), activity AS (
            SELECT c.cohort_month,
                   (year(v.month) * 12 + month(v.month)) - (year(c.cohort_month) * 12 + month(c.cohort_month))
                       AS months_since_first,
                   count(DISTINCT c.customer_id) AS active_customers
            FROM cohorts c JOIN valid v USING (customer_id)
            GROUP BY ALL
        ), observed AS (
            SELECT max(month) AS last_month FROM valid
        )
        SELECT s.cohort_month, s.cohort_size, k.months_since_first,
               CASE WHEN s.cohort_month + to_months(k.months_since_first) <= (SELECT last_month FROM observed)
                    THEN coalesce(a.active_customers, 0) END AS active_customers
        FROM sizes s
        CROSS JOIN (SELECT range::INTEGER AS months_since_first FROM range(?)) k
        LEFT JOIN activity a USING (cohort_month, months_since_first)
        ORDER BY s.cohort_month, k.months_since_first
        """,  # noqa: S608 - the WHERE clauses come from Filters, values are parameters
        [*cohort_params, *brand_params, months],
    ).pl()
    return frame.with_columns(
        active_customers=pl.col("active_customers").cast(pl.Int64),
        retention=pl.col("active_customers").cast(pl.Float64) / pl.col("cohort_size"),
    ).cast({"cohort_month": pl.Date, "cohort_size": pl.Int64, "months_since_first": pl.Int32})


# -- predictive CLV ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PredictiveCLV:
    """Per-customer forecasts of one brand and the fitted models behind them."""

    customers: pl.DataFrame  # customer_id, x, t_x, T, monetary_value, first/last order date, p_alive, ...
    bgnbd: BGNBDParams
    gamma_gamma: GammaGammaParams
    brand_id: int
    currency: str | None
    calibration_end: dt.date
    horizon_days: int
    unit: str
    margin: float
    margin_source: str  # a sentence: where the margin comes from

    def definitions(self) -> dict[str, MetricDefinition]:
        """The CLV definitions with this run's parameters filled in."""
        params = {"horizon_days": self.horizon_days, "margin": round(self.margin, 4), "unit": self.unit}
        out = dict(DEFINITIONS)
        out["clv"] = dataclasses.replace(
            DEFINITIONS["clv"], parameters=params, notes=DEFINITIONS["clv"].notes + " " + self.margin_source
        )
        out["expected_purchases"] = dataclasses.replace(
            DEFINITIONS["expected_purchases"], parameters={"horizon_days": self.horizon_days}
        )
        return out


def brand_margin(
    con: duckdb.DuckDBPyConnection, brand_id: int, calibration_end: dt.date | None = None
) -> tuple[float, int] | None:
    """The brand's measured gross margin 1 − Σ cost of goods / Σ revenue over its valid orders that carry a
    cost of goods (up to ``calibration_end``), and how many orders that is; None when none do.

    Revenue is gross − refunded, and a refunded order's cost of goods still counts (as in net ROAS).
    """
    row = con.execute(
        f"""
        SELECT sum(o.cost_of_goods)::DOUBLE, sum(o.gross - o.refunded)::DOUBLE, count(*)
        FROM orders o
        WHERE o.brand_id = ? AND {_VALID} AND o.cost_of_goods IS NOT NULL
          AND (?::TIMESTAMP IS NULL OR o.ordered_at < ?)
        """,  # noqa: S608 - fixed clauses
        [brand_id, *([_next_day(calibration_end)] * 2 if calibration_end else [None, None])],
    ).fetchone()
    if not row or not row[2] or not row[1] or row[1] <= 0:
        return None
    return 1.0 - row[0] / row[1], int(row[2])


def choose_margin(
    con: duckdb.DuckDBPyConnection, brand_id: int, calibration_end: dt.date | None, margin: float | None
) -> tuple[float, str]:
    """The CLV margin and a sentence saying where it comes from: as set, else measured, else the default."""
    if margin is not None:
        return float(margin), f"Margin {margin:.1%} as set."
    measured = brand_margin(con, brand_id, calibration_end)
    if measured is None:
        return (
            DEFAULT_MARGIN,
            f"Margin {DEFAULT_MARGIN:.0%} is the default: the brand's orders carry no cost of goods.",
        )
    value, n_orders = measured
    return value, f"Margin {value:.1%} measured from the cost of goods on {n_orders:,} orders."


def clv_summary(
    con: duckdb.DuckDBPyConnection, brand_id: int, calibration_end: dt.date, unit: Unit
) -> pl.DataFrame:
    """The BG/NBD and Gamma-Gamma inputs of a brand's customers, aggregated in DuckDB.

    The same numbers as :func:`models.clv.rfm_summary` on the brand's valid orders (revenue = gross −
    refunded), with ``first_order_date`` and ``last_order_date`` kept for display.
    """
    per_unit = DAYS_PER_UNIT[unit]
    return con.execute(
        f"""
        WITH daily AS (
            SELECT o.customer_id, o.ordered_at::DATE AS day, sum(o.gross - o.refunded) AS revenue
            FROM orders o
            WHERE o.brand_id = ? AND {_VALID} AND o.ordered_at < ?
            GROUP BY ALL
        )
        SELECT customer_id, (count(*) - 1)::BIGINT AS x,
               date_diff('day', min(day), max(day)) / ? AS t_x,
               date_diff('day', min(day), ?::DATE) / ? AS "T",
               CASE WHEN count(*) > 1 THEN ((sum(revenue) - arg_min(revenue, day)) / (count(*) - 1))::DOUBLE
                    ELSE 0.0 END AS monetary_value,
               min(day) AS first_order_date, max(day) AS last_order_date
        FROM daily
        GROUP BY customer_id
        ORDER BY customer_id
        """,  # noqa: S608 - fixed clauses
        [brand_id, _next_day(calibration_end), per_unit, calibration_end, per_unit],
    ).pl()


def predictive_clv(
    con: duckdb.DuckDBPyConnection,
    brand_id: int,
    calibration_end: dt.date | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    margin: float | None = None,
    unit: Unit = "week",
) -> PredictiveCLV:
    """Fit BG/NBD and Gamma-Gamma on one brand's orders up to ``calibration_end`` (default: the day of its
    latest order) and forecast every customer's P(alive), purchases, order value and CLV over the horizon.

    ``margin`` defaults to the brand's measured margin where its orders carry cost of goods, else
    ``DEFAULT_MARGIN`` (0.3); ``result.margin_source`` says which. Raises :class:`models.clv.CLVFitError`
    (a ``ValueError``) when the brand has too few repeat customers to fit.
    """
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be 'week' or 'day', not {unit!r}")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, not {horizon_days}")
    facts = con.execute(
        "SELECT max(o.ordered_at)::DATE, list(DISTINCT o.currency ORDER BY o.currency) "  # noqa: S608
        f"FROM orders o WHERE o.brand_id = ? AND {_VALID}",  # fixed clauses only
        [brand_id],
    ).fetchone()
    latest, currencies = (facts or (None, []))[0], [c for c in (facts or (None, []))[1] or [] if c]
    if latest is None:
        raise ValueError(f"brand {brand_id} has no orders to fit a CLV model on")
    if len(currencies) > 1:
        raise ValueError(
            f"brand {brand_id} has orders in several currencies ({', '.join(currencies)}); "
            "CLV needs one currency per brand"
        )
    calibration_end = calibration_end or latest

    margin, margin_source = choose_margin(con, brand_id, calibration_end, margin)
    summary = clv_summary(con, brand_id, calibration_end, unit)
    bgnbd = fit_bgnbd(summary)
    gamma_gamma = fit_gamma_gamma(summary)
    horizon = horizon_days / DAYS_PER_UNIT[unit]

    x, t_x, T, m = (summary[c].cast(pl.Float64).to_numpy() for c in ("x", "t_x", "T", "monetary_value"))
    purchases = expected_purchases(bgnbd, horizon, x, t_x, T)
    order_value = expected_order_value(gamma_gamma, x, m)
    frame = summary.with_columns(
        p_alive=pl.Series(probability_alive(bgnbd, x, t_x, T)),
        expected_purchases=pl.Series(purchases),
        expected_order_value=pl.Series(order_value),
        clv=pl.Series(purchases * order_value * margin),
    )
    if not np.isfinite(frame["clv"].to_numpy()).all():
        log.warning("brand %s: some CLVs are not finite (Gamma-Gamma q = %.3f)", brand_id, gamma_gamma.q)
    return PredictiveCLV(
        customers=frame,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        brand_id=brand_id,
        currency=currencies[0] if currencies else None,
        calibration_end=calibration_end,
        horizon_days=horizon_days,
        unit=unit,
        margin=float(margin),
        margin_source=margin_source,
    )
