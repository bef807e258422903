"""The campaign queries restructured for speed (issue 8) give the numbers of their plain forms: the brand's
order span read from the ends of the orders, both lifts from one pass, leakage with the codes pushed into the
orders scan, the deal sums without the deal-id semi-joins, and a campaign detail whose leakage evidence comes
later (the page loads it when opened; the report adds it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models import campaigns, report
from models.filters import Filters
from models.first_orders import refresh_order_date_bounds
from models.store import get_store
from tests.conftest import DEMO_END


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "queries.duckdb"
    shutil.copy(demo_db, db)
    yield db
    get_store(db).close()


@pytest.fixture
def demo_cursor(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    store = get_store(demo_db)
    with store.connect() as cur:
        yield cur
    store.close()


def _campaigns_with_results(cur: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        int(r[0])
        for r in cur.execute(
            "SELECT campaign_id FROM attributed_orders GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 6"
        ).fetchall()
    ]


# -- the plain forms, as the models computed them before ------------------------------------------------------
def plain_span(cur: duckdb.DuckDBPyConnection, brand_id: int) -> campaigns.OrderSpan:
    first, last = cur.execute(
        "SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders WHERE brand_id = ?", [brand_id]
    ).fetchone()
    real = cur.execute(
        "SELECT min(ordered_at)::DATE FROM orders WHERE brand_id = ? AND NOT is_test", [brand_id]
    ).fetchone()[0]
    return campaigns.OrderSpan(first, last, real)


def plain_lift(cur: duckdb.DuckDBPyConnection, campaign_id: int, metric: str) -> campaigns.Lift | None:
    """campaign_lift as it was: one metric, its own reads of the brand's first and last order."""
    brand_id, start, end = cur.execute(
        "SELECT brand_id, start_date, end_date FROM campaigns WHERE campaign_id = ?", [campaign_id]
    ).fetchone()
    if start is None:
        return None
    data_end = cur.execute(
        "SELECT max(ordered_at)::DATE FROM orders WHERE brand_id = ?", [brand_id]
    ).fetchone()[0]
    if data_end is None or start > data_end:
        return None
    end = min(end or data_end, data_end)
    first = cur.execute(
        "SELECT min(ordered_at)::DATE FROM orders WHERE brand_id = ? AND NOT is_test", [brand_id]
    ).fetchone()[0]
    pre_start = max(start - dt.timedelta(weeks=8), first or start)
    if (start - pre_start).days < campaigns.MIN_PRE_DAYS:
        return None
    value = "count(*)" if metric == "orders" else "sum(gross + discount)::DOUBLE"
    daily = (
        cur.execute(
            f"""
            SELECT d.day, coalesce(v.value, 0) AS value
            FROM (SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 DAY))::DATE AS day) d
            LEFT JOIN (SELECT ordered_at::DATE AS day, {value} AS value FROM orders
                       WHERE brand_id = ? AND NOT is_test AND NOT is_cancelled
                         AND ordered_at >= ? AND ordered_at < ? GROUP BY 1) v USING (day)
            ORDER BY d.day
            """,  # noqa: S608 - one of two fixed expressions
            [pre_start, end, brand_id, pre_start, end + dt.timedelta(days=1)],
        )
        .pl()
        .with_columns(weekday=pl.col("day").dt.weekday(), in_window=pl.col("day") >= start)
    )
    return campaigns._lift(daily, campaign_id, metric, start, end, pre_start)


def plain_redemptions(cur: duckdb.DuckDBPyConnection, campaign_id: int) -> dict[int, int]:
    """Each influencer code's redemptions since its campaign began, matched case-insensitively."""
    rows = cur.execute(
        """
        SELECT pc.deal_id, count(o.order_id)
        FROM promo_codes pc JOIN deals d USING (deal_id) JOIN campaigns c ON c.campaign_id = d.campaign_id
        LEFT JOIN orders o ON o.brand_id = pc.brand_id AND upper(o.promo_code) = pc.code
             AND NOT o.is_test AND NOT o.is_cancelled AND (c.start_date IS NULL OR o.ordered_at >= c.start_date)
        WHERE d.campaign_id = ? AND pc.kind = 'influencer'
        GROUP BY 1
        """,
        [campaign_id],
    ).fetchall()
    return {int(deal): int(n) for deal, n in rows}


def same_lift(a: campaigns.Lift | None, b: campaigns.Lift | None) -> bool:
    if a is None or b is None:
        return a is b
    for name, x in dataclasses.asdict(a).items():
        y = getattr(b, name)
        if isinstance(x, float) and not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9):
            return False
        if not isinstance(x, float) and x != y:
            return False
    return True


# -- the tests ------------------------------------------------------------------------------------------------
def test_order_span_read_from_the_ends_equals_a_full_read(demo_copy: Path) -> None:
    store = get_store(demo_copy)
    with store.connect() as cur:
        brands = [int(b) for (b,) in cur.execute("SELECT brand_id FROM brands ORDER BY 1").fetchall()]
        for brand in brands:
            assert campaigns.brand_order_span(cur, brand) == plain_span(cur, brand)
        first_id, last_id = cur.execute(
            "SELECT first_order_id, last_order_id FROM order_date_bounds WHERE brand_id = ?", [brands[0]]
        ).fetchone()
    # the bounds go stale: the first order deleted, the last re-dated into the middle, a test order before
    # everything, another brand's bounds gone; the span still equals a full read
    with store.transaction() as cur:
        cur.execute("DELETE FROM attributed_orders WHERE order_id = ?", [first_id])
        cur.execute("DELETE FROM customer_first_orders WHERE order_id = ?", [first_id])
        cur.execute("DELETE FROM orders WHERE order_id = ?", [first_id])
        cur.execute(
            "UPDATE orders SET ordered_at = TIMESTAMP '2026-05-01 12:00' WHERE order_id = ?", [last_id]
        )
        cur.execute(
            "INSERT INTO orders (order_id, brand_id, source, external_order_id, ordered_at, gross, discount, "
            "refunded, currency, is_test, is_cancelled) VALUES (-1, ?, 'test', 'T-1', TIMESTAMP '2020-01-01', "
            "1, 0, 0, 'USD', true, false)",
            [brands[0]],
        )
        cur.execute("DELETE FROM order_date_bounds WHERE brand_id = ?", [brands[-1]])
    with store.connect() as cur:
        for brand in (brands[0], brands[-1]):
            span = campaigns.brand_order_span(cur, brand)
            assert span == plain_span(cur, brand)
        assert campaigns.brand_order_span(cur, brands[0]).first_day == dt.date(2020, 1, 1)
    with store.transaction() as cur:
        refresh_order_date_bounds(cur)
    with store.connect() as cur:
        for brand in brands:
            assert campaigns.brand_order_span(cur, brand) == plain_span(cur, brand)


def test_both_lifts_from_one_pass_equal_each_lift_alone(demo_cursor: duckdb.DuckDBPyConnection) -> None:
    cur = demo_cursor
    every = [int(c) for (c,) in cur.execute("SELECT campaign_id FROM campaigns ORDER BY 1").fetchall()]
    shown = 0
    for campaign_id in every:
        lifts = campaigns.campaign_lifts(cur, campaign_id)
        for metric in ("orders", "revenue"):
            assert same_lift(lifts[metric], plain_lift(cur, campaign_id, metric)), (campaign_id, metric)
            assert same_lift(lifts[metric], campaigns.campaign_lift(cur, campaign_id, metric=metric))
        shown += lifts["orders"] is not None
    assert shown > 0, "some demo campaign should have a lift"
    with pytest.raises(ValueError):
        campaigns.campaign_lifts(cur, every[0], metrics=("clicks",))


def test_leakage_counts_every_redemption_whatever_the_case_of_the_code(demo_copy: Path) -> None:
    store = get_store(demo_copy)
    with store.connect() as cur:
        campaign_id, deal_id, code, brand_id, start = cur.execute(
            """
            SELECT d.campaign_id, d.deal_id, pc.code, pc.brand_id, c.start_date
            FROM promo_codes pc JOIN deals d USING (deal_id) JOIN campaigns c ON c.campaign_id = d.campaign_id
            WHERE pc.kind = 'influencer' AND c.start_date <= ? ORDER BY d.deal_id LIMIT 1
            """,
            [DEMO_END],
        ).fetchone()
    with store.transaction() as cur:  # a redemption typed in lower case, from a coupon site
        cur.execute(
            "INSERT INTO orders (order_id, brand_id, source, external_order_id, ordered_at, gross, discount, "
            "refunded, currency, promo_code, referrer, is_test, is_cancelled) VALUES (-2, ?, 'test', 'T-2', ?, "
            "10, 1, 0, 'USD', ?, 'https://www.retailmenot.com/x', false, false)",
            [brand_id, dt.datetime.combine(start, dt.time(12)), code.lower()],
        )
    with store.connect() as cur:
        for campaign in {campaign_id, *_campaigns_with_results(cur)}:
            flags = campaigns.leakage_flags(cur, Filters(campaign_ids=(campaign,)))
            assert dict(flags.select("deal_id", "redemptions").iter_rows()) == plain_redemptions(
                cur, campaign
            )
            counted = flags.filter(pl.col("coupon_site_no_click") > 0)
            evidence = campaigns.leakage_evidence_of(cur, counted["deal_id"].to_list())
            assert dict(evidence.group_by("deal_id").len().iter_rows()) == dict(
                counted.select("deal_id", "coupon_site_no_click").iter_rows()
            )
        evidence = campaigns.leakage_evidence(cur, deal_id)
    assert -2 in evidence["order_id"].to_list()


def test_deal_sums_without_the_semi_joins_equal_the_narrowed_ones(
    demo_cursor: duckdb.DuckDBPyConnection,
) -> None:
    cur = demo_cursor
    brands = tuple(int(b) for (b,) in cur.execute("SELECT brand_id FROM brands ORDER BY 1").fetchall())
    everything = campaigns.deal_performance(cur)  # WHERE 1=1: conversions and clicks read for every deal
    narrowed = campaigns.deal_performance(cur, Filters(brand_ids=brands))  # the same deals, semi-joined
    assert_frame_equal(everything, narrowed, check_exact=True)
    assert_frame_equal(
        campaigns.campaign_summary(cur),
        campaigns.campaign_summary(cur, Filters(brand_ids=brands)),
        rel_tol=1e-12,  # sums of doubles per campaign, added in whatever order DuckDB's threads take
    )
    plain = cur.execute(
        """
        SELECT deal_id, count(*) FILTER (WHERE method = 'code') AS code_orders,
               sum(coalesce(cost_of_goods, 0))::DOUBLE AS cost_of_goods
        FROM attributed_orders WHERE model_id = (SELECT model_id FROM attribution_models WHERE is_default)
        GROUP BY 1
        """
    ).pl()
    got = everything.select("deal_id", "code_orders", "cost_of_goods").join(plain, on="deal_id", how="left")
    assert got.height == everything.height and plain.height > 0
    assert (got["code_orders"] == got["code_orders_right"].fill_null(0)).all()
    assert (got["cost_of_goods"] == got["cost_of_goods_right"].fill_null(0.0)).all()


def test_detail_without_evidence_then_with_it_equals_the_full_detail(
    demo_cursor: duckdb.DuckDBPyConnection,
) -> None:
    cur = demo_cursor
    flagged = cur.execute("SELECT count(*) FROM promo_codes WHERE kind = 'influencer'").fetchone()[0]
    assert flagged > 0
    for campaign_id in _campaigns_with_results(cur):
        full = report.campaign_detail(cur, campaign_id, as_of=DEMO_END)
        lazy = report.campaign_detail(cur, campaign_id, as_of=DEMO_END, evidence=False)
        assert lazy.evidence == {}
        completed = report.with_evidence(cur, lazy)
        wanted = full.leakage.filter("flag_coupon_site")["deal_id"].to_list()
        assert sorted(completed.evidence) == sorted(full.evidence) == sorted(wanted)
        for deal_id, rows in full.evidence.items():
            assert_frame_equal(completed.evidence[deal_id], rows)
            assert_frame_equal(campaigns.leakage_evidence(cur, deal_id), rows)
        # the funnel from the summary at hand equals the funnel's own query
        assert_frame_equal(full.funnel, campaigns.funnel(cur, Filters(campaign_ids=(campaign_id,))))
        assert full.latest_order_day == plain_span(cur, full.brand_id).last_day
        assert report._leakage_html(completed) == report._leakage_html(full)  # the report's section
