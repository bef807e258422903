"""Customer–brand metrics checked against hand counts on a small store, plus invariants on random orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.clv import CLVFitError, rfm_summary
from models.customers import (
    DEFAULT_MARGIN,
    DEFINITIONS,
    SEGMENT_RULES,
    SEGMENTS,
    brand_margin,
    choose_margin,
    clv_summary,
    cohort_retention,
    definition,
    predictive_clv,
    rfm,
    rfm_segments,
    segment_grid,
    segment_of,
    segment_summary,
    segment_views,
    summarise_segments,
)
from models.filters import Filters
from models.first_orders import refresh_first_orders
from models.store import get_store, migrate

D = dt.datetime
AS_OF = dt.date(2024, 6, 30)
BRAND_1 = Filters(brand_ids=(1,))

# fmt: off
# order_id, brand_id, customer_id, ordered_at, gross, refunded, currency, is_test, is_cancelled, cost_of_goods
ORDERS = [
    (1, 1, 101, D(2024, 6, 30, 10), "100.00", "0.00", "USD", False, False, "40.00"),
    (2, 1, 101, D(2024, 6, 20, 12), "50.00", "0.00", "USD", False, False, "20.00"),
    (3, 1, 101, D(2024, 5, 1, 9), "30.00", "10.00", "USD", False, False, "8.00"),    # revenue 20
    (4, 1, 102, D(2024, 6, 25), "40.00", "0.00", "USD", False, False, None),
    (5, 1, 102, D(2024, 6, 1), "40.00", "0.00", "USD", False, False, None),
    (6, 1, 103, D(2024, 6, 10), "200.00", "0.00", "USD", False, False, None),
    (7, 1, 103, D(2024, 6, 29), "500.00", "0.00", "USD", False, True, None),       # cancelled: never counts
    (8, 1, 104, D(2024, 5, 31, 23, 30), "10.00", "0.00", "USD", False, False, None),
    (9, 1, 104, D(2024, 3, 1), "10.00", "0.00", "USD", False, False, None),
    (10, 1, 104, D(2024, 2, 1), "10.00", "0.00", "USD", False, False, None),
    (11, 1, 104, D(2024, 1, 15), "10.00", "0.00", "USD", False, False, None),
    (12, 1, 105, D(2024, 1, 1), "25.00", "0.00", "USD", False, False, None),
    (13, 1, 105, D(2024, 6, 30), "1.00", "0.00", "USD", True, False, None),        # test order: never counts
    (14, 1, 106, D(2024, 6, 28), "60.00", "0.00", "USD", False, False, None),
    (15, 1, None, D(2024, 6, 15), "99.00", "0.00", "USD", False, False, None),     # guest checkout
    (16, 2, 201, D(2024, 6, 30), "70.00", "0.00", "EUR", False, False, None),
    (17, 2, 201, D(2024, 4, 10), "30.00", "0.00", "EUR", False, False, None),
]
# fmt: on


def load(cur: duckdb.DuckDBPyConnection, orders: list[tuple]) -> None:
    cur.execute(
        "INSERT INTO brands (brand_id, name, currency) VALUES (1, 'Acme', 'USD'), (2, 'Bijou', 'EUR')"
    )
    customers = sorted({(o[2], o[1]) for o in orders if o[2] is not None})
    cur.executemany(
        "INSERT INTO customers (customer_id, brand_id, customer_key) VALUES (?, ?, 'k' || ?)",
        [(c, b, c) for c, b in customers],
    )
    cur.executemany(
        "INSERT INTO orders (order_id, brand_id, source, external_order_id, customer_id, ordered_at, gross, "
        "refunded, currency, is_test, is_cancelled, cost_of_goods) "
        "VALUES (?, ?, 'csv', ?::VARCHAR, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(o[0], o[1], o[0], *o[2:]) for o in orders],
    )
    refresh_first_orders(cur)  # orders written by hand: derive the first orders, as every orders writer does


@pytest.fixture
def con(empty_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    store = get_store(empty_db)
    with store.transaction() as cur:
        load(cur, ORDERS)
    with store.connect() as cur:
        yield cur
    store.close()


def by_customer(frame: pl.DataFrame, *columns: str) -> dict[int, tuple]:
    return {row[0]: row[1:] for row in frame.select("customer_id", *columns).iter_rows()}


# -- RFM -----------------------------------------------------------------------------------------------------
def test_recency_frequency_monetary_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    frame = rfm(con, BRAND_1)  # as of the latest order: 30 June 2024
    assert by_customer(frame, "recency_days", "frequency", "monetary_total", "monetary_avg") == {
        101: (0, 3, 170.0, pytest.approx(170 / 3)),  # gross − refunded: 100 + 50 + 20
        102: (5, 2, 80.0, 40.0),
        103: (20, 1, 200.0, 200.0),  # the cancelled 500 is not counted
        104: (30, 4, 40.0, 10.0),
        105: (181, 1, 25.0, 25.0),  # the test order on 30 June is not counted
        106: (2, 1, 60.0, 60.0),
    }
    assert frame["currency"].unique().to_list() == ["USD"]
    assert frame["first_order_at"].to_list()[0] == D(2024, 5, 1, 9)
    assert frame["last_order_at"].to_list()[0] == D(2024, 6, 30, 10)


def test_quintile_scores_and_segments_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    # 6 customers: score = 1 + ⌊5 (2·worse + tied) / 12⌋. Frequencies 1, 1, 1 tie (worse 0, tied 3) → 2.
    frame = rfm(con, BRAND_1)
    assert by_customer(frame, "r_score", "f_score", "m_score", "rfm_score", "segment") == {
        101: (5, 4, 4, "544", "champions"),
        102: (3, 3, 3, "333", "loyal"),
        103: (3, 2, 5, "325", "hibernating"),
        104: (2, 5, 2, "252", "at risk"),
        105: (1, 2, 1, "121", "lost"),
        106: (4, 2, 3, "423", "new"),
    }


def test_churn_window_is_a_parameter(con: duckdb.DuckDBPyConnection) -> None:
    default = rfm(con, BRAND_1)
    assert sorted(default.filter("at_risk_of_churning")["customer_id"].to_list()) == [
        104,
        105,
    ]  # 30 days counts
    shorter = rfm(con, BRAND_1, churn_days=20)
    assert sorted(shorter.filter("at_risk_of_churning")["customer_id"].to_list()) == [103, 104, 105]
    longer = rfm(con, BRAND_1, churn_days=200)
    assert not longer["at_risk_of_churning"].any()
    with pytest.raises(ValueError, match="churn_days"):
        rfm(con, BRAND_1, churn_days=0)


def test_date_range_and_as_of(con: duckdb.DuckDBPyConnection) -> None:
    june = rfm(con, Filters(brand_ids=(1,), start=dt.date(2024, 6, 1), end=dt.date(2024, 6, 30)))
    assert by_customer(june, "frequency", "monetary_total") == {
        101: (2, 150.0),
        102: (2, 80.0),
        103: (1, 200.0),
        106: (1, 60.0),  # 104's order at 23:30 on 31 May is outside June
    }
    may_end = rfm(con, BRAND_1, as_of=dt.date(2024, 5, 31))  # later orders are ignored
    assert by_customer(may_end, "recency_days", "frequency") == {101: (30, 1), 104: (0, 4), 105: (151, 1)}


def test_brand_filter_keeps_brands_apart(con: duckdb.DuckDBPyConnection) -> None:
    assert 201 not in rfm(con, BRAND_1)["customer_id"].to_list()
    only_2 = rfm(con, Filters(brand_ids=(2,)))
    assert only_2["customer_id"].to_list() == [201]
    assert only_2["currency"].to_list() == ["EUR"]
    both = rfm(con, Filters())
    assert both.height == 7
    # scores are relative to the customer's own brand: brand 1's scores do not change with brand 2 in scope
    assert_frame_equal(both.filter(pl.col("brand_id") == 1), rfm(con, BRAND_1))
    # a brand's only customer sits in the middle of every ranking
    assert both.filter(pl.col("brand_id") == 2).select("rfm_score", "segment").row(0) == ("333", "loyal")
    assert rfm(con, Filters(brand_ids=())).is_empty()
    assert rfm(con, Filters(brand_ids=(99,))).is_empty()


def test_segment_summary_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    summary = segment_summary(con, BRAND_1)
    assert summary["segment"].to_list() == list(SEGMENTS)
    assert dict(zip(summary["segment"], summary["customers"], strict=True)) == dict.fromkeys(SEGMENTS, 1)
    revenue = {"champions": 170, "loyal": 80, "new": 60, "at risk": 40, "hibernating": 200, "lost": 25}
    assert dict(zip(summary["segment"], summary["revenue"], strict=True)) == revenue
    assert summary["customer_share"].to_list() == [pytest.approx(1 / 6)] * 6
    assert summary["revenue_share"].sum() == pytest.approx(1.0)
    assert dict(zip(summary["segment"], summary["at_risk_of_churning"], strict=True))["lost"] == 1
    # two currencies: one block each, shares within the currency
    both = segment_summary(con, Filters())
    assert both.group_by("currency").agg(pl.col("customer_share").sum()).sort("currency").rows() == [
        ("EUR", pytest.approx(1.0)),
        ("USD", pytest.approx(1.0)),
    ]
    assert segment_summary(con, Filters(brand_ids=(99,))).is_empty()


def test_segment_rules_cover_every_score_pair_once() -> None:
    grid = segment_grid()
    assert grid.height == 25
    assert set(grid["segment"]) == set(SEGMENTS)
    for r, f, segment in grid.iter_rows():
        first = next(rule for rule in SEGMENT_RULES if rule.matches(r, f))
        assert first.segment == segment == segment_of(r, f)
    with pytest.raises(ValueError, match="out of range"):
        segment_of(0, 3)


# -- cohorts -------------------------------------------------------------------------------------------------
def test_cohort_retention_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    cohorts = cohort_retention(con, BRAND_1)
    jan = cohorts.filter(pl.col("cohort_month") == dt.date(2024, 1, 1))
    assert jan["cohort_size"].unique().to_list() == [2]  # 104 and 105
    # Jan: both; Feb, Mar: 104; Apr: nobody; May: 104; Jun: nobody (105's test order does not count);
    # Jul … Dec are after the latest order (June): not observed yet
    assert jan["retention"].to_list() == [1.0, 0.5, 0.5, 0.0, 0.5, 0.0] + [None] * 6
    assert jan["active_customers"].to_list()[:6] == [2, 1, 1, 0, 1, 0]
    sizes = cohorts.select("cohort_month", "cohort_size").unique().sort("cohort_month").rows()
    assert sizes == [(dt.date(2024, 1, 1), 2), (dt.date(2024, 5, 1), 1), (dt.date(2024, 6, 1), 3)]
    may = cohorts.filter(pl.col("cohort_month") == dt.date(2024, 5, 1))["retention"].to_list()
    assert may[:3] == [1.0, 1.0, None]
    assert cohorts["months_since_first"].to_list()[:12] == list(range(12))


def test_cohort_date_range_picks_cohorts_by_first_order(con: duckdb.DuckDBPyConnection) -> None:
    since_10_jan = cohort_retention(con, Filters(brand_ids=(1,), start=dt.date(2024, 1, 10)))
    jan = since_10_jan.filter(pl.col("cohort_month") == dt.date(2024, 1, 1))
    assert jan["cohort_size"][0] == 1  # 104 only: 105's first order on 1 January is before the range
    assert jan["retention"].to_list()[:6] == [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    brand_2 = cohort_retention(con, Filters(brand_ids=(2,)), months=3)
    assert brand_2.rows() == [
        (dt.date(2024, 4, 1), 1, 0, 1, 1.0),
        (dt.date(2024, 4, 1), 1, 1, 0, 0.0),
        (dt.date(2024, 4, 1), 1, 2, 1, 1.0),
    ]


# -- predictive CLV ------------------------------------------------------------------------------------------
def test_margin_is_measured_when_orders_carry_cost_of_goods(con: duckdb.DuckDBPyConnection) -> None:
    assert brand_margin(con, 1) == (pytest.approx(1 - 68 / 170), 3)  # only 101's orders carry a cost
    assert brand_margin(con, 1, dt.date(2024, 6, 1)) == (pytest.approx(1 - 8 / 20), 1)
    assert brand_margin(con, 2) is None
    margin, source = choose_margin(con, 1, None, None)
    assert margin == pytest.approx(0.6) and "measured" in source
    margin, source = choose_margin(con, 2, None, None)
    assert margin == DEFAULT_MARGIN and "default" in source
    assert choose_margin(con, 1, None, 0.25) == (0.25, "Margin 25.0% as set.")


def test_predictive_clv_needs_repeat_customers(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CLVFitError):
        predictive_clv(con, 2)  # one customer
    with pytest.raises(ValueError, match="no orders"):
        predictive_clv(con, 99)


@pytest.fixture(scope="module")
def demo_con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def demo_brand(demo_con: duckdb.DuckDBPyConnection) -> int:
    row = demo_con.execute(
        "SELECT brand_id FROM orders WHERE NOT is_test AND NOT is_cancelled GROUP BY brand_id "
        "ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert row
    return int(row[0])


def test_predictive_clv_on_the_demo(demo_con: duckdb.DuckDBPyConnection, demo_brand: int) -> None:
    result = predictive_clv(demo_con, demo_brand)
    frame = result.customers
    n_customers = demo_con.execute(
        "SELECT count(DISTINCT customer_id) FROM orders "
        "WHERE brand_id = ? AND NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL",
        [demo_brand],
    ).fetchone()
    assert n_customers and frame.height == n_customers[0] == result.bgnbd.n_customers
    assert frame["p_alive"].is_between(0, 1).all()
    assert frame["clv"].is_finite().all() and (frame["clv"] >= 0).all()
    assert (frame["expected_purchases"] >= 0).all() and (frame["expected_order_value"] > 0).all()
    assert frame["clv"].to_numpy() == pytest.approx(
        (frame["expected_purchases"] * frame["expected_order_value"] * result.margin).to_numpy()
    )
    assert all(v > 0 for v in (result.bgnbd.r, result.bgnbd.alpha, result.bgnbd.a, result.bgnbd.b))
    assert (
        "measured" in result.margin_source and 0 < result.margin < 1
    )  # the demo's orders carry cost of goods
    assert result.calibration_end == dt.date(2026, 10, 31) and result.horizon_days == 365
    assert "365" in result.definitions()["clv"].text()
    # a customer who buys more often, more recently, is worth more than one who bought once long ago
    top = frame.sort("clv", descending=True).row(0, named=True)
    assert top["x"] > 0 and top["p_alive"] > 0.5


def test_predictive_clv_parameters(demo_con: duckdb.DuckDBPyConnection, demo_brand: int) -> None:
    cut = dt.date(2026, 7, 31)
    result = predictive_clv(
        demo_con, demo_brand, calibration_end=cut, horizon_days=90, margin=0.5, unit="day"
    )
    assert result.margin == 0.5 and result.margin_source == "Margin 50.0% as set."
    assert result.customers["last_order_date"].max() <= cut
    assert result.customers["T"].max() <= (cut - dt.date(2025, 11, 1)).days  # in days
    longer = predictive_clv(
        demo_con, demo_brand, calibration_end=cut, horizon_days=180, margin=0.5, unit="day"
    )
    assert (longer.customers["clv"] >= result.customers["clv"]).all()
    with pytest.raises(ValueError, match="unit"):
        predictive_clv(demo_con, demo_brand, unit="month")  # type: ignore[arg-type]


def test_clv_summary_in_sql_equals_rfm_summary(demo_con: duckdb.DuckDBPyConnection, demo_brand: int) -> None:
    cut = dt.date(2026, 9, 30)
    orders = demo_con.execute(
        "SELECT customer_id, ordered_at, (gross - refunded)::DOUBLE AS revenue FROM orders "
        "WHERE brand_id = ? AND NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL",
        [demo_brand],
    ).pl()
    for unit in ("week", "day"):
        in_polars = rfm_summary(orders, "customer_id", "ordered_at", "revenue", cut, unit=unit)
        in_sql = clv_summary(demo_con, demo_brand, cut, unit).drop("first_order_date", "last_order_date")
        assert_frame_equal(in_sql, in_polars, rel_tol=1e-9, abs_tol=1e-9)


def test_every_output_has_a_definition(con: duckdb.DuckDBPyConnection) -> None:
    not_metrics = {"brand_id", "customer_id", "currency", "first_order_at", "last_order_at"}
    assert set(rfm(con, BRAND_1).columns) - not_metrics <= set(DEFINITIONS)
    assert {"cohort_size", "cohort_retention", "customer_share", "revenue_share"} <= set(DEFINITIONS)
    clv_columns = {
        "x",
        "t_x",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_order_value",
        "clv",
    }
    assert clv_columns <= set(DEFINITIONS)
    assert {f"segment:{s}" for s in SEGMENTS} <= set(DEFINITIONS)
    for key, metric in DEFINITIONS.items():
        assert metric.text().strip(), key
    assert "churn_days = 45" in definition("at_risk_of_churning", churn_days=45).text()


# -- invariants on random orders -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def memory_con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    migrate(con)
    yield con
    con.close()


random_order = st.tuples(
    st.sampled_from([1, 2]),  # brand
    st.integers(min_value=1, max_value=12),  # customer within the brand
    st.integers(min_value=0, max_value=400),  # day
    st.integers(min_value=0, max_value=86_399),  # second of the day
    st.integers(min_value=0, max_value=50_000),  # gross in cents
    st.floats(min_value=0, max_value=1),  # refunded share
    st.booleans(),  # test
    st.booleans(),  # cancelled
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(random_order, min_size=1, max_size=60),
    churn_days=st.integers(min_value=1, max_value=120),
)
def test_invariants_on_random_orders(
    memory_con: duckdb.DuckDBPyConnection, rows: list[tuple], churn_days: int
) -> None:
    con = memory_con
    con.execute("DELETE FROM orders")
    con.execute("DELETE FROM customers")
    con.execute("DELETE FROM brands")
    start = D(2024, 1, 1)
    orders = []
    for i, (brand, customer, day, second, cents, refund_share, is_test, is_cancelled) in enumerate(rows):
        gross = cents / 100
        orders.append(
            (
                i + 1,
                brand,
                brand * 100 + customer,
                start + dt.timedelta(days=day, seconds=second),
                f"{gross:.2f}",
                f"{int(gross * refund_share * 100) / 100:.2f}",
                "USD" if brand == 1 else "EUR",
                is_test and i % 3 == 0,
                is_cancelled and i % 4 == 0,
                None,
            )
        )
    load(con, orders)
    valid = [o for o in orders if not o[7] and not o[8]]
    customers = {o[2] for o in valid}

    scored = rfm(con, Filters(), churn_days=churn_days)
    assert scored.height == len(customers) == scored["customer_id"].n_unique()  # one row, one segment each
    for column in ("r_score", "f_score", "m_score"):
        assert scored[column].is_between(1, 5).all()
    assert scored["segment"].is_in(list(SEGMENTS)).all()
    assert [segment_of(r, f) for r, f in scored.select("r_score", "f_score").iter_rows()] == scored[
        "segment"
    ].to_list()
    assert (scored["monetary_total"] >= 0).all() and (scored["recency_days"] >= 0).all()
    assert (scored["frequency"] >= 1).all()
    assert scored["monetary_total"].sum() == pytest.approx(
        sum(float(o[4]) - float(o[5]) for o in valid), abs=1e-6
    )
    assert (scored["at_risk_of_churning"] == (scored["recency_days"] >= churn_days)).all()
    # within a brand, better recency never scores lower
    for _, group in scored.group_by("brand_id"):
        ordered = group.sort("recency_days")
        assert (ordered["r_score"].diff().drop_nulls() <= 0).all()
        ordered = group.sort("frequency")
        assert (ordered["f_score"].diff().drop_nulls() >= 0).all()

    summary = segment_summary(con, Filters(), churn_days=churn_days)
    assert summary["customers"].sum() == len(customers)
    for _, block in summary.group_by("currency"):
        assert block["customer_share"].sum() == pytest.approx(1.0)

    cohorts = cohort_retention(con, Filters())
    if not customers:
        assert cohorts.is_empty()
        return
    observed = cohorts.filter(pl.col("retention").is_not_null())
    assert observed["retention"].is_between(0, 1).all()
    assert (cohorts.filter(pl.col("months_since_first") == 0)["retention"] == 1.0).all()
    sizes = cohorts.select("cohort_month", "cohort_size").unique()
    assert sizes["cohort_size"].sum() == len(customers)
    # once a month is unobserved, every later month of that cohort is too
    for _, cohort in cohorts.group_by("cohort_month"):
        missing = cohort.sort("months_since_first")["retention"].is_null().to_list()
        assert missing == sorted(missing)


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31)), Filters(brand_ids=(1,))],
)
def test_rfm_segments_scores_like_rfm(demo_con: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """The relationships page's cheaper pass (R and F from distinct values) gives rfm's very rows."""
    full = rfm(demo_con, filters, churn_days=45)
    fast = rfm_segments(demo_con, filters, churn_days=45)
    assert fast.height > 0
    assert_frame_equal(fast, full.select(fast.columns))
    assert_frame_equal(summarise_segments(fast), segment_summary(demo_con, filters, churn_days=45))


@pytest.mark.parametrize(
    "filters", [Filters(), Filters(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31), brand_ids=(1, 2))]
)
def test_segment_views_count_what_rfm_scores(demo_con: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """The page's segment and churn figures, counted in DuckDB, are rfm's: the summary, the at-risk count and
    the most valuable at-risk customers (on a read-only connection too)."""
    scored = rfm(demo_con, filters, churn_days=45)
    views = segment_views(demo_con, filters, churn_days=45, top=25)
    risky = scored.filter(pl.col("at_risk_of_churning"))
    assert views.customers == scored.height > 0 and views.at_risk == risky.height > 25
    assert_frame_equal(views.summary, segment_summary(demo_con, filters, churn_days=45), rel_tol=1e-12)
    top = risky.sort(["monetary_total", "customer_id"], descending=[True, False]).head(25)
    assert_frame_equal(views.top_at_risk, top.select(views.top_at_risk.columns))
    nobody = segment_views(demo_con, Filters(start=dt.date(1990, 1, 1), end=dt.date(1990, 1, 31)))
    assert (nobody.customers, nobody.at_risk, nobody.summary.height, nobody.top_at_risk.height) == (
        0,
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    "filters",
    [
        Filters(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31)),
        Filters(start=dt.date(2026, 3, 15)),
        Filters(start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30), brand_ids=(1, 2)),
    ],
)
def test_cohorts_from_a_start_date_match_first_orders_over_all_history(
    demo_con: duckdb.DuckDBPyConnection, filters: Filters
) -> None:
    """With a start date the cohorts are found from the range's orders; they are the customers whose first
    valid order over all history falls in the range, as without the shortcut."""
    fast = cohort_retention(demo_con, filters)
    brands = "" if filters.brand_ids is None else f"AND brand_id IN {tuple(filters.brand_ids)}"
    end = filters.end or dt.date(9999, 1, 1)
    sizes = demo_con.execute(
        f"""
        SELECT date_trunc('month', min(ordered_at))::DATE AS cohort_month
        FROM orders WHERE NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL {brands}
        GROUP BY customer_id
        HAVING min(ordered_at) >= ? AND min(ordered_at) < ?
        """,  # noqa: S608 - test constants
        [filters.start, end + dt.timedelta(days=1)],
    ).pl()
    expected = sizes.group_by("cohort_month").agg(cohort_size=pl.len()).sort("cohort_month")
    got = fast.select("cohort_month", "cohort_size").unique().sort("cohort_month")
    assert got.height > 0
    assert_frame_equal(got, expected, check_dtypes=False)
