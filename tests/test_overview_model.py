"""The Overview numbers, checked against hand counts on a small store with known rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from models.attribution import DEFAULT_MODEL
from models.first_orders import refresh_first_orders
from models.overview import (
    DEFINITIONS,
    Period,
    brands,
    data_date_bounds,
    data_freshness,
    default_date_range,
    overview_kpis,
    overview_trends,
    trend_grain,
    workspace_info,
)
from models.store import Store

MARCH = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))  # previous period: 30 Jan … 29 Feb 2024
D = dt.datetime

# fmt: off
BRANDS = [(1, "Acme", "USD"), (2, "Bijou", "EUR")]
INFLUENCERS = [(1, "Ada", D(2024, 1, 1)), (2, "Bo", D(2024, 3, 10)), (3, "Cy", D(2024, 1, 5))]
CAMPAIGNS = [  # campaign_id, brand_id, status, start, end
    (10, 1, "active", dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
    (11, 1, "completed", dt.date(2024, 2, 1), dt.date(2024, 2, 10)),
    (12, 2, "active", None, None),                                   # open-ended
    (13, 1, "cancelled", dt.date(2024, 3, 5), dt.date(2024, 3, 6)),  # never counted
    (14, 1, "draft", dt.date(2024, 3, 5), None),                     # never counted
    (15, 2, "planned", dt.date(2024, 4, 10), dt.date(2024, 4, 20)),  # after March
]
DEALS = [  # deal_id, campaign_id, influencer_id, stage, fee, product_cost, currency, contract start/end, created
    (100, 10, 1, "live", "1000.00", "200.00", "USD", None, None, D(2024, 2, 20)),
    (101, 11, 1, "completed", "500.00", "0.00", "USD", None, None, D(2024, 1, 15)),
    (102, 10, 2, "prospect", "9999.00", "0.00", "USD", None, None, D(2024, 3, 12)),  # an offer, not spend
    (103, 12, 2, "contracted", "300.00", "50.00", "EUR", dt.date(2024, 3, 15), dt.date(2024, 3, 20),
     D(2024, 3, 11)),
]
CUSTOMERS = [(1001, 1, "A"), (1002, 1, "B"), (1003, 1, "C"), (2001, 2, "D")]
ORDERS = [  # order_id, brand_id, customer_id, ordered_at, gross, refunded, currency, is_test, is_cancelled
    (1, 1, 1001, D(2024, 3, 2, 12), "100.00", "10.00", "USD", False, False),
    (2, 1, 1001, D(2024, 3, 5), "50.00", "0.00", "USD", True, False),       # test order
    (3, 1, 1002, D(2024, 3, 6), "70.00", "0.00", "USD", False, True),       # cancelled
    (4, 1, 1002, D(2024, 3, 31, 23, 59, 59), "30.00", "0.00", "USD", False, False),
    (5, 1, 1003, D(2024, 4, 1), "999.00", "0.00", "USD", False, False),     # the day after March
    (6, 1, 1001, D(2024, 2, 15), "40.00", "0.00", "USD", False, False),     # previous period
    (7, 2, 2001, D(2024, 3, 10), "80.00", "0.00", "EUR", False, False),
    (8, 1, 1002, D(2024, 1, 10), "20.00", "0.00", "USD", False, True),      # cancelled: not B's first order
]
# fmt: on


def build_store(path: Path) -> Path:
    store = Store(path)
    with store.transaction() as cur:
        cur.executemany("INSERT INTO brands (brand_id, name, currency) VALUES (?, ?, ?)", BRANDS)
        cur.executemany(
            "INSERT INTO influencers (influencer_id, name, created_at) VALUES (?, ?, ?)", INFLUENCERS
        )
        cur.executemany(
            "INSERT INTO campaigns (campaign_id, brand_id, name, status, start_date, end_date) "
            "VALUES (?, ?, 'c' || ?, ?, ?, ?)",
            [(c[0], c[1], c[0], c[2], c[3], c[4]) for c in CAMPAIGNS],
        )
        cur.executemany(
            "INSERT INTO deals (deal_id, campaign_id, influencer_id, stage, fee, product_cost, currency, "
            "contract_start, contract_end, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            DEALS,
        )
        cur.executemany(
            "INSERT INTO customers (customer_id, brand_id, customer_key) VALUES (?, ?, ?)", CUSTOMERS
        )
        cur.executemany(
            "INSERT INTO orders (order_id, brand_id, source, external_order_id, customer_id, ordered_at, gross, "
            "refunded, currency, is_test, is_cancelled) VALUES (?, ?, 'csv', ?, ?, ?, ?, ?, ?, ?, ?)",
            [(o[0], o[1], str(o[0]), *o[2:]) for o in ORDERS],
        )
        refresh_first_orders(cur)  # orders written by hand: derive the first orders, as every writer does
        cur.execute(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (1, 1, 'instagram', 'ada')"
        )
        cur.execute(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (2, 3, 'tiktok', 'cy')"
        )
        cur.execute(
            "INSERT INTO posts (post_id, account_id, platform_post_id, posted_at) VALUES "
            "(1, 1, 'p1', TIMESTAMP '2024-03-20 08:00:00'), (2, 2, 'p2', TIMESTAMP '2024-03-28 09:00:00')"
        )
        cur.execute(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES "
            "(1, DATE '2024-03-25', 1000), (2, DATE '2024-03-29', 50)"
        )
        cur.execute(
            "INSERT INTO sync_runs (run_id, connector, target, started_at, finished_at, status, rows_written) VALUES "
            "(1, 'shopify', 'acme', TIMESTAMP '2024-03-30 10:00', TIMESTAMP '2024-03-30 10:05', 'succeeded', 8), "
            "(2, 'shopify', 'acme', TIMESTAMP '2024-03-31 10:00', TIMESTAMP '2024-03-31 10:01', 'failed', 0), "
            "(3, 'instagram', 'ada', TIMESTAMP '2024-03-29 10:00', TIMESTAMP '2024-03-29 10:02', 'succeeded', 3)"
        )
    store.close()
    return path


@pytest.fixture(scope="module")
def known_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = build_store(tmp_path_factory.mktemp("overview") / "known.duckdb")
    return Store(path)


@pytest.fixture
def blank_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "blank.duckdb")


def counts(kpis, key: str) -> tuple[int, int]:
    value = kpis[key].value
    return value.current, value.previous


def money(kpis, key: str) -> dict[str, tuple[Decimal, Decimal]]:
    return {v.currency: (v.current, v.previous) for v in kpis[key].values}


def test_period_and_previous_period() -> None:
    march = Period(*MARCH)
    assert march.days == 31
    assert march.previous() == Period(dt.date(2024, 1, 30), dt.date(2024, 2, 29))
    assert Period(dt.date(2024, 3, 1), dt.date(2024, 3, 1)).previous() == Period(
        dt.date(2024, 2, 29), dt.date(2024, 2, 29)
    )
    with pytest.raises(ValueError, match="before it starts"):
        Period(dt.date(2024, 3, 2), dt.date(2024, 3, 1))


def test_orders_exclude_test_and_cancelled_and_respect_the_range(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    # orders 1, 4 (23:59:59 on the last day) and 7; not 2 (test), 3 (cancelled), 5 (1 April)
    assert counts(kpis, "orders") == (3, 1)
    # a three-order store: one valid, one test, one cancelled
    one_day = overview_kpis(known_store, [1], dt.date(2024, 3, 2), dt.date(2024, 3, 6))
    assert one_day["orders"].value.current == 1


def test_revenue_is_gross_minus_refunded_per_currency(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    assert money(kpis, "revenue") == {
        "EUR": (Decimal("80.00"), Decimal("0.00")),
        "USD": (Decimal("120.00"), Decimal("40.00")),  # (100 - 10) + 30; February: 40
    }
    assert [v.currency for v in kpis["revenue"].values] == ["EUR", "USD"]


def test_new_customers_by_first_valid_order(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    # B (first valid order 31 March; its January order was cancelled) and D; A first bought in February
    assert counts(kpis, "new_customers") == (2, 1)


def test_active_campaigns(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    # March: 10 (dates overlap) and 12 (active, no dates); February: 11 and 12. Never 13 (cancelled), 14 (draft)
    assert counts(kpis, "active_campaigns") == (2, 2)
    # 10 April: 12 and the planned 15 (10–20 April); the day before, only 12
    april_10 = overview_kpis(known_store, None, dt.date(2024, 4, 10), dt.date(2024, 4, 10))
    assert counts(april_10, "active_campaigns") == (2, 1)


def test_spend_is_fees_and_product_cost_of_committed_deals(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    # deal 100 (campaign 10) and 103 (campaign without dates: its contract dates); 102 is a prospect
    assert money(kpis, "spend") == {
        "EUR": (Decimal("350.00"), Decimal("0.00")),
        "USD": (Decimal("1200.00"), Decimal("500.00")),
    }
    assert "commission" in kpis["spend"].definition


def test_spend_includes_commission_on_attributed_revenue(tmp_path: Path) -> None:
    store = Store(build_store(tmp_path / "attributed.duckdb"))
    model = DEFAULT_MODEL.model_id
    with store.transaction() as cur:
        cur.execute("UPDATE deals SET commission_rate = 0.10 WHERE deal_id IN (100, 102)")
        cur.execute("UPDATE deals SET commission_rate = 0.20 WHERE deal_id = 101")
        cur.executemany(
            "INSERT INTO attributed_orders (model_id, order_id, brand_id, campaign_id, deal_id, influencer_id, "
            "method, ordered_at, is_new_customer, revenue, discount, refunded) "
            "VALUES (?, ?, 1, ?, ?, 1, 'code', ?, true, ?, 0, 0)",
            [
                (model, 1, 10, 100, D(2024, 3, 2, 12), Decimal("200.00")),  # 10 % → 20.00 in March
                (model, 4, 10, 102, D(2024, 3, 31, 23), Decimal("50.00")),  # a prospect's: no commission
                (model, 6, 11, 101, D(2024, 2, 15), Decimal("100.00")),  # 20 % → 20.00 in February
                ("another-model", 4, 10, 100, D(2024, 3, 31, 23), Decimal("999.00")),  # not the model in use
            ],
        )
    kpis = overview_kpis(store, None, *MARCH)
    assert money(kpis, "spend")["USD"] == (Decimal("1220.00"), Decimal("520.00"))
    assert model in kpis["spend"].definition
    # the trend places commission on the order's day and still adds up to the KPI
    spend = overview_trends(store, None, *MARCH).frame("spend").filter(pl.col("currency") == "USD")
    assert dict(spend.filter(pl.col("value") > 0).select("period", "value").iter_rows()) == {
        dt.date(2024, 3, 1): 1200.0,
        dt.date(2024, 3, 2): 20.0,
    }
    store.close()


def test_roster(known_store: Store) -> None:
    assert counts(overview_kpis(known_store, None, *MARCH), "roster") == (3, 2)  # Bo joined 10 March
    # Bo's first Acme deal was created on 12 March
    assert counts(overview_kpis(known_store, [1], *MARCH), "roster") == (2, 1)
    assert counts(overview_kpis(known_store, [2], *MARCH), "roster") == (1, 0)


def test_brand_filter(known_store: Store) -> None:
    acme = overview_kpis(known_store, [1], *MARCH)
    assert counts(acme, "orders") == (2, 1)
    assert money(acme, "revenue") == {"USD": (Decimal("120.00"), Decimal("40.00"))}
    assert money(acme, "spend") == {"USD": (Decimal("1200.00"), Decimal("500.00"))}
    assert counts(acme, "new_customers") == (1, 1)
    assert counts(acme, "active_campaigns") == (1, 1)

    bijou = overview_kpis(known_store, [2], *MARCH)
    assert counts(bijou, "orders") == (1, 0)
    assert money(bijou, "revenue") == {"EUR": (Decimal("80.00"), Decimal("0.00"))}

    both = overview_kpis(known_store, [1, 2], *MARCH)
    everything = overview_kpis(known_store, None, *MARCH)
    # the same numbers as no filter, except the roster: Cy has no deal with either brand
    assert [k for k in both.kpis if k.key != "roster"] == [k for k in everything.kpis if k.key != "roster"]
    assert counts(both, "roster") == (2, 1) and counts(everything, "roster") == (3, 2)

    nothing = overview_kpis(known_store, [], *MARCH)
    assert nothing.is_empty
    assert nothing["revenue"].values == ()


def test_kpis_match_independent_sql(known_store: Store) -> None:
    kpis = overview_kpis(known_store, [1], dt.date(2024, 2, 1), dt.date(2024, 3, 31))
    with known_store.connect() as cur:
        orders, revenue = cur.execute(
            "SELECT count(*), sum(gross) - sum(refunded) FROM orders WHERE brand_id = 1 AND NOT is_test "
            "AND NOT is_cancelled AND ordered_at::DATE BETWEEN DATE '2024-02-01' AND DATE '2024-03-31'"
        ).fetchone()
    assert kpis["orders"].value.current == orders == 3
    assert kpis["revenue"].by_currency()["USD"].current == revenue


def test_every_kpi_has_a_definition(known_store: Store) -> None:
    kpis = overview_kpis(known_store, None, *MARCH)
    assert {k.key for k in kpis.kpis} == set(DEFINITIONS)
    for kpi in kpis.kpis:
        assert kpi.definition.startswith(DEFINITIONS[kpi.key]) and len(kpi.definition) > 40
    assert kpis.period == Period(*MARCH) and kpis.previous_period == Period(*MARCH).previous()


def test_daily_trends(known_store: Store) -> None:
    trends = overview_trends(known_store, None, *MARCH)
    assert trends.grain == "day"
    orders = trends.frame("orders")
    assert orders.height == 31 and orders["period"].to_list()[0] == dt.date(2024, 3, 1)
    by_day = dict(orders.filter(pl.col("value") > 0).iter_rows())
    assert by_day == {dt.date(2024, 3, 2): 1.0, dt.date(2024, 3, 10): 1.0, dt.date(2024, 3, 31): 1.0}

    revenue = trends.frame("revenue")
    assert trends.currencies("revenue") == ["EUR", "USD"]
    assert revenue.height == 31 * 2  # every day for each currency, zeros included
    totals = dict(revenue.group_by("currency").agg(pl.col("value").sum()).iter_rows())
    assert totals == {"USD": 120.0, "EUR": 80.0}

    new_customers = trends.frame("new_customers")
    assert new_customers["value"].sum() == 2
    assert dict(new_customers.filter(pl.col("value") > 0).iter_rows()) == {
        dt.date(2024, 3, 10): 1.0,
        dt.date(2024, 3, 31): 1.0,
    }


def test_spend_trend_adds_up_to_the_spend_kpi(known_store: Store) -> None:
    start, end = dt.date(2024, 3, 10), dt.date(2024, 3, 31)
    spend = overview_trends(known_store, None, start, end).frame("spend").filter(pl.col("value") > 0)
    # deal 100's campaign started 1 March, before the range: placed on the range's first day
    assert sorted(spend.iter_rows()) == [
        (dt.date(2024, 3, 10), "USD", 1200.0),
        (dt.date(2024, 3, 15), "EUR", 350.0),
    ]
    kpi = overview_kpis(known_store, None, start, end)["spend"].by_currency()
    assert {c: float(v.current) for c, v in kpi.items()} == {"USD": 1200.0, "EUR": 350.0}


def test_weekly_trends_for_long_ranges(known_store: Store) -> None:
    assert trend_grain(dt.date(2024, 1, 1), dt.date(2024, 4, 29)) == "day"  # 120 days
    assert trend_grain(dt.date(2024, 1, 1), dt.date(2024, 4, 30)) == "week"
    trends = overview_trends(known_store, [1], dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert trends.grain == "week"
    orders = trends.frame("orders")
    assert all(d.weekday() == 0 for d in orders["period"])  # weeks start on Monday
    assert orders.height == 26  # 1 January 2024 is a Monday, 30 June a Sunday
    assert orders["value"].sum() == 4  # orders 1, 4, 5 and 6
    assert dict(orders.filter(pl.col("value") > 0).iter_rows()) == {
        dt.date(2024, 2, 12): 1.0,
        dt.date(2024, 2, 26): 1.0,
        dt.date(2024, 3, 25): 1.0,
        dt.date(2024, 4, 1): 1.0,
    }


def test_data_freshness(known_store: Store) -> None:
    fresh = data_freshness(known_store)
    syncs = {row["connector"]: row for row in fresh.syncs.iter_rows(named=True)}
    assert syncs["shopify"]["status"] == "failed"  # the latest run
    assert syncs["shopify"]["last_success_at"] == D(2024, 3, 30, 10, 5)
    assert syncs["instagram"]["status"] == "succeeded"
    latest = dict(fresh.latest.iter_rows())
    assert latest == {
        "orders": D(2024, 4, 1),
        "posts": D(2024, 3, 28, 9),
        "follower snapshots": D(2024, 3, 29),
    }
    # Acme's roster is Ada and Bo: Cy's TikTok post and snapshot are not theirs
    acme = dict(data_freshness(known_store, [1]).latest.iter_rows())
    assert acme == {"orders": D(2024, 4, 1), "posts": D(2024, 3, 20, 8), "follower snapshots": D(2024, 3, 25)}


def test_sidebar_helpers(known_store: Store) -> None:
    assert [(b.brand_id, b.name, b.currency) for b in brands(known_store)] == BRANDS
    assert data_date_bounds(known_store) == (dt.date(2024, 1, 10), dt.date(2024, 4, 1))
    assert default_date_range(data_date_bounds(known_store)) == (dt.date(2024, 1, 3), dt.date(2024, 4, 1))
    assert default_date_range(None, today=dt.date(2024, 5, 30)) == (dt.date(2024, 3, 2), dt.date(2024, 5, 30))
    info = workspace_info(known_store)
    assert info.has_data and info.table_counts["orders"] == len(ORDERS) and info.schema_version >= 2


def test_a_cursor_works_as_well_as_a_store(known_store: Store) -> None:
    with known_store.connect() as cur:
        from_cursor = overview_kpis(cur, [1], *MARCH)
    assert from_cursor == overview_kpis(known_store, [1], *MARCH)


def test_empty_store_gives_zeros_and_empty_series(blank_store: Store) -> None:
    kpis = overview_kpis(blank_store, None, *MARCH)
    assert kpis.is_empty
    for kpi in kpis.kpis:
        if kpi.kind == "count":
            assert kpi.value.current == 0 and kpi.value.previous == 0
        else:
            assert kpi.values == ()
    trends = overview_trends(blank_store, None, *MARCH)
    assert trends.frame("orders")["value"].sum() == 0 and trends.frame("orders").height == 31
    assert trends.frame("revenue").is_empty() and trends.currencies("spend") == []
    fresh = data_freshness(blank_store)
    assert fresh.syncs.is_empty()
    assert fresh.latest["latest"].null_count() == 3
    assert brands(blank_store) == []
    assert data_date_bounds(blank_store) is None
    assert not workspace_info(blank_store).has_data


def test_users_alone_do_not_make_a_workspace(blank_store: Store) -> None:
    with blank_store.transaction() as cur:
        cur.execute("INSERT INTO users (user_id, username, role) VALUES (1, 'admin', 'admin')")
    assert not workspace_info(blank_store).has_data


def test_demo_kpis_match_polars_over_the_raw_tables(demo_db: Path) -> None:
    """On the demo workspace, orders, revenue and new customers recomputed in Polars from the raw rows."""
    store = Store(demo_db)
    start, end = default_date_range(data_date_bounds(store))
    kpis = overview_kpis(store, None, start, end)
    with store.connect() as cur:
        orders = cur.execute("SELECT * FROM orders").pl()
    store.close()
    valid = orders.filter(~pl.col("is_test") & ~pl.col("is_cancelled"))
    in_range = valid.filter(pl.col("ordered_at").dt.date().is_between(start, end))
    assert kpis["orders"].value.current == in_range.height > 0
    revenue = in_range.group_by("currency").agg((pl.col("gross") - pl.col("refunded")).sum().alias("revenue"))
    assert {c: v.current for c, v in kpis["revenue"].by_currency().items()} == dict(revenue.iter_rows())
    first = valid.drop_nulls("customer_id").group_by("customer_id").agg(pl.col("ordered_at").min().dt.date())
    new = first.filter(pl.col("ordered_at").is_between(start, end)).height
    assert kpis["new_customers"].value.current == new
