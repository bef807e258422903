"""The three relationships, checked against hand counts on a small store with known rows, invariants
(hypothesis) and the demo workspace (shapes, brand filter, plausible values)."""

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

from models import relationships as rel
from models.attribution import refresh_attribution
from models.campaigns import deal_performance
from models.demo import build_demo
from models.filters import Filters
from models.store import get_store, migrate

AS_OF = dt.date(2026, 4, 1)
D = dt.datetime
d = dt.date

# fmt: off
BRANDS = [(1, "Alpha Beauty", "beauty"), (2, "Beta Tech", "tech"), (3, "Gamma Glow", "beauty")]
INFLUENCERS = [(1, "Ann", "beauty", "US"), (2, "Bob", "tech", "GB"), (3, "Cat", "fashion", "US")]
ACCOUNTS = [(1, 1, "instagram", "ann"), (2, 2, "youtube", "bob"), (3, 3, "instagram", "cat")]
SNAPSHOTS = [(1, d(2026, 1, 1), 10_000), (1, d(2026, 3, 1), 20_000), (2, d(2026, 1, 1), 50_000),
             (3, d(2026, 1, 1), 15_000)]
CAMPAIGNS = [  # campaign_id, brand_id, status, start, end
    (10, 1, "completed", d(2026, 1, 1), d(2026, 1, 31)),
    (11, 1, "active", d(2026, 3, 1), d(2026, 3, 31)),
    (20, 2, "completed", d(2026, 2, 1), d(2026, 2, 28)),
    (30, 3, "completed", d(2026, 2, 1), d(2026, 2, 28)),
]
DEALS = [  # deal_id, campaign_id, influencer_id, stage, fee
    (100, 10, 1, "completed", 1000), (101, 10, 2, "completed", 500), (102, 11, 1, "live", 800),
    (103, 11, 3, "negotiating", 300), (200, 20, 2, "completed", 2000), (201, 20, 1, "completed", 700),
    (300, 30, 2, "completed", 100),
]
CODES = [(1, "ANN10", 100), (1, "BOB10", 101), (1, "ANN20", 102), (2, "BOB20", 200), (2, "ANN30", 201),
         (3, "BOB30", 300)]
DELIVERABLES = [  # id, deal, due, status, delivered_at
    (1, 100, d(2026, 1, 10), "published", D(2026, 1, 10, 23)),    # on time: by the end of the due day
    (2, 100, d(2026, 1, 15), "published", D(2026, 1, 16, 9)),     # late
    (3, 100, d(2026, 1, 20), "cancelled", None),                  # never counted
    (4, 102, d(2026, 3, 10), "pending", None),                    # overdue on 1 April
    (5, 102, d(2026, 4, 15), "submitted", None),                  # not due yet
    (6, 102, d(2026, 4, 20), "published", D(2026, 3, 20, 10)),    # early: due and on time
    (7, 201, d(2026, 2, 10), "published", D(2026, 2, 9, 12)),     # brand 2
    (8, 102, d(2026, 4, 1), "pending", None),                     # due on the as-of day: not overdue yet
]
POSTS = [  # post_id, account, posted_at, likes, comments, campaign   (ER by followers at posting time)
    (1, 1, D(2026, 1, 10), 900, 100, 10),     # 1000 / 10k = 0.10
    (2, 1, D(2026, 3, 10), 500, 100, 11),     # 600 / 20k = 0.03
    (3, 1, D(2026, 1, 12), 450, 50, 10),      # 500 / 10k = 0.05
    (4, 1, D(2026, 2, 5), 2000, 0, 20),       # brand 2: 0.20
    (5, 1, D(2026, 3, 20), 380, 20, None),    # organic: 0.02
    (6, 3, D(2026, 3, 1), 1500, 0, None),     # Cat: 0.10
    (7, 2, D(2026, 2, 6), 2500, 500, 20),     # Bob, brand 2: 0.06
]
INTERACTIONS = [  # id, influencer, brand, occurred_at, sentiment
    (1, 1, 1, D(2026, 3, 30, 10), 0.6),
    (2, 1, 1, D(2026, 2, 15, 9), 0.2),
    (3, 1, 1, D(2025, 12, 1, 9), -0.2),    # outside the 90 days
    (4, 1, 1, D(2026, 4, 5, 9), -1.0),     # after the as-of day: ignored
    (5, 1, None, D(2026, 3, 31, 9), -1.0),  # about no brand: ignored
    (6, 1, 2, D(2026, 1, 20, 9), 1.0),
    (7, 3, 2, D(2026, 3, 1, 9), None),     # Cat × Beta: contact only, no sentiment logged
]
CUSTOMERS = [(11, 1, "US"), (12, 1, "US"), (13, 1, "GB"), (14, 1, "GB"), (15, 1, "DE"), (16, 1, "US"),
             (21, 2, "US"), (22, 2, "FR"), (31, 3, "GB")]
ORDERS = [  # order, brand, customer, ordered_at, gross, discount, refunded, code, test, cancelled
    (1, 1, 11, D(2026, 1, 5), 90, 10, 0, "ANN10", False, False),   # c11 acquired by Ann
    (2, 1, 11, D(2026, 2, 1), 50, 0, 0, None, False, False),       # c11 later, not attributed
    (3, 1, 11, D(2026, 3, 5), 45, 5, 0, "ANN20", False, False),    # c11 later, returning for Ann
    (4, 1, 12, D(2025, 12, 1), 30, 0, 0, None, False, False),      # c12 before any campaign
    (5, 1, 12, D(2026, 1, 10), 80, 20, 0, "ANN10", False, False),  # c12 returning for Ann
    (6, 1, 13, D(2026, 1, 12), 100, 0, 0, "BOB10", False, False),  # c13 acquired by Bob
    (7, 1, 13, D(2026, 1, 20), 60, 0, 0, "ANN10", False, False),   # c13 returning for Ann
    (8, 1, 13, D(2026, 2, 10), 40, 0, 40, None, False, False),     # fully refunded
    (9, 1, 13, D(2026, 2, 11), 70, 0, 0, None, True, False),       # test order
    (10, 1, 14, D(2026, 1, 15), 100, 0, 0, "BOB10", False, False),  # c14 acquired by Bob
    (11, 1, 15, D(2026, 1, 16), 50, 0, 0, "ANN10", False, True),   # cancelled: never attributed
    (20, 2, 21, D(2026, 2, 5), 200, 0, 0, "BOB20", False, False),
    (21, 2, 21, D(2026, 2, 20), 100, 0, 0, None, False, False),
    (22, 2, 22, D(2026, 2, 6), 150, 0, 0, "ANN30", False, False),
    (30, 3, 31, D(2026, 2, 10), 300, 0, 0, "BOB30", False, False),
]
# fmt: on


def build_known(path: Path) -> Path:
    store = get_store(path)
    with store.transaction() as cur:
        cur.executemany("INSERT INTO brands (brand_id, name, category) VALUES (?, ?, ?)", BRANDS)
        cur.executemany(
            "INSERT INTO influencers (influencer_id, name, niche, country) VALUES (?, ?, ?, ?)", INFLUENCERS
        )
        cur.executemany(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (?, ?, ?, ?)", ACCOUNTS
        )
        cur.executemany(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES (?, ?, ?)", SNAPSHOTS
        )
        cur.executemany(
            "INSERT INTO campaigns (campaign_id, brand_id, name, status, start_date, end_date) "
            "VALUES (?, ?, 'c' || ?, ?, ?, ?)",
            [(c[0], c[1], c[0], *c[2:]) for c in CAMPAIGNS],
        )
        cur.executemany(
            "INSERT INTO deals (deal_id, campaign_id, influencer_id, stage, fee) VALUES (?, ?, ?, ?, ?)",
            DEALS,
        )
        cur.executemany("INSERT INTO promo_codes (brand_id, code, deal_id) VALUES (?, ?, ?)", CODES)
        cur.executemany(
            "INSERT INTO deliverables (deliverable_id, deal_id, type, due_date, status, delivered_at) "
            "VALUES (?, ?, 'post', ?, ?, ?)",
            DELIVERABLES,
        )
        cur.executemany(
            "INSERT INTO posts (post_id, account_id, platform_post_id, posted_at, likes, comments, campaign_id, "
            "is_sponsored) VALUES (?, ?, 'p' || ?, ?, ?, ?, ?, ?)",
            [(p[0], p[1], p[0], *p[2:], p[5] is not None) for p in POSTS],
        )
        cur.executemany(
            "INSERT INTO interactions (interaction_id, influencer_id, brand_id, occurred_at, channel, direction, "
            "sentiment) VALUES (?, ?, ?, ?, 'email', 'outbound', ?)",
            INTERACTIONS,
        )
        cur.executemany(
            "INSERT INTO customers (customer_id, brand_id, customer_key, country) VALUES (?, ?, 'k' || ?, ?)",
            [(c[0], c[1], c[0], c[2]) for c in CUSTOMERS],
        )
        cur.executemany(
            "INSERT INTO orders (order_id, brand_id, source, external_order_id, customer_id, ordered_at, gross, "
            "discount, refunded, promo_code, is_test, is_cancelled) "
            "VALUES (?, ?, 'csv', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(o[0], o[1], str(o[0]), *o[2:]) for o in ORDERS],
        )
    refresh_attribution(store)
    store.close()
    return path


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = build_known(tmp_path_factory.mktemp("relationships") / "known.duckdb")
    with get_store(path).connect() as cur:
        yield cur


def row(frame: pl.DataFrame, **keys: object) -> dict[str, object]:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, f"expected one row for {keys}, found {hit.height}"
    return hit.row(0, named=True)


# -- influencer–brand ------------------------------------------------------------------------------------
def test_attribution_of_the_fixture_is_what_the_tests_assume(known) -> None:
    got = known.execute(
        "SELECT order_id, deal_id, is_new_customer FROM attributed_orders ORDER BY order_id"
    ).fetchall()
    assert got == [
        (1, 100, True), (3, 102, False), (5, 100, False), (6, 101, True), (7, 100, False),
        (10, 101, True), (20, 200, True), (22, 201, True), (30, 300, True),
    ]  # fmt: skip


def test_influencer_brand_hand_counts(known) -> None:
    ib = rel.influencer_brand(known, as_of=AS_OF)
    assert ib.height == 7  # 6 deal pairs + Cat × Beta (contact only)
    assert ib.select("influencer_id", "brand_id").is_unique().all()
    ann = row(ib, influencer_id=1, brand_id=1)
    assert (ann["deals"], ann["collaborations"], ann["campaigns"]) == (2, 2, 2)
    assert (ann["deliverables_due"], ann["deliverables_on_time"], ann["overdue_now"]) == (4, 2, 1)
    assert ann["on_time_rate"] == 0.5
    assert ann["total_fees"] == 1800.0 and ann["spend"] == 1800.0
    assert (ann["attributed_orders"], ann["attributed_revenue"]) == (4, 310.0)
    assert ann["roas"] == pytest.approx(310 / 1800)
    assert ann["sponsored_posts"] == 3 and ann["sponsored_er"] == pytest.approx(0.05)
    assert ann["days_since_last_contact"] == 2
    assert (ann["interactions"], ann["interactions_90d"]) == (3, 2)
    assert ann["mean_sentiment"] == pytest.approx(0.2)

    cat = row(ib, influencer_id=3, brand_id=1)  # a deal still in negotiation
    assert (cat["deals"], cat["collaborations"], cat["campaigns"], cat["total_fees"]) == (1, 0, 0, 0.0)
    assert cat["roas"] is None and cat["on_time_rate"] is None

    ann_beta = row(ib, influencer_id=1, brand_id=2)
    assert (ann_beta["deliverables_due"], ann_beta["on_time_rate"]) == (1, 1.0)
    assert ann_beta["sponsored_er"] == pytest.approx(0.20)
    assert ann_beta["days_since_last_contact"] == 71 and ann_beta["interactions_90d"] == 1

    bob_beta = row(ib, influencer_id=2, brand_id=2)
    assert bob_beta["roas"] == pytest.approx(0.1) and bob_beta["sponsored_er"] == pytest.approx(0.06)
    assert row(ib, influencer_id=2, brand_id=3)["roas"] == pytest.approx(3.0)


def test_health_components_and_score(known) -> None:
    ib = rel.influencer_brand(known, as_of=AS_OF)
    ann = row(ib, influencer_id=1, brand_id=1)
    recency, frequency, on_time, sentiment = 0.5 ** (2 / 30), 2 / 6, 0.5, (0.2 + 1) / 2
    assert ann["health_recency"] == pytest.approx(recency)
    assert ann["health_frequency"] == pytest.approx(frequency)
    assert ann["health_on_time"] == pytest.approx(on_time)
    assert ann["health_sentiment"] == pytest.approx(sentiment)
    w = rel.HEALTH_WEIGHTS
    expected = 100 * (
        w["recency"] * recency
        + w["frequency"] * frequency
        + w["on_time"] * on_time
        + w["sentiment"] * sentiment
    )
    assert ann["health"] == pytest.approx(expected)

    # never contacted: recency and frequency 0; no deliverable due and no sentiment: left out
    bob = row(ib, influencer_id=2, brand_id=1)
    assert bob["days_since_last_contact"] is None and bob["interactions"] == 0
    assert (bob["health_recency"], bob["health_frequency"]) == (0.0, 0.0)
    assert bob["health_on_time"] is None and bob["health_sentiment"] is None
    assert bob["health"] == 0.0

    # contact without sentiment and without deals: renormalised over recency and frequency
    cat = row(ib, influencer_id=3, brand_id=2)
    assert cat["deals"] == 0 and cat["days_since_last_contact"] == 31
    expected = (
        100 * (w["recency"] * 0.5 ** (31 / 30) + w["frequency"] * (1 / 6)) / (w["recency"] + w["frequency"])
    )
    assert cat["health"] == pytest.approx(expected)


def test_influencer_brand_filters(known) -> None:
    everything = rel.influencer_brand(known, as_of=AS_OF)
    alpha = rel.influencer_brand(known, Filters(brand_ids=(1,)), as_of=AS_OF)
    assert set(alpha["brand_id"]) == {1}
    assert_frame_equal(alpha, everything.filter(pl.col("brand_id") == 1), check_row_order=False)

    first_campaign = rel.influencer_brand(known, Filters(campaign_ids=(10,)), as_of=AS_OF)
    assert set(zip(first_campaign["influencer_id"], first_campaign["brand_id"], strict=True)) == {
        (1, 1),
        (2, 1),
    }
    ann = row(first_campaign, influencer_id=1)
    assert (ann["deals"], ann["deliverables_due"], ann["deliverables_on_time"], ann["overdue_now"]) == (
        1,
        2,
        1,
        0,
    )
    assert (ann["attributed_orders"], ann["attributed_revenue"], ann["total_fees"]) == (3, 260.0, 1000.0)
    assert ann["sponsored_er"] == pytest.approx(0.075)  # median of 0.10 and 0.05

    march = rel.influencer_brand(known, Filters(start=d(2026, 3, 1), end=d(2026, 3, 31)), as_of=AS_OF)
    ann = row(march, influencer_id=1, brand_id=1)
    assert (ann["deals"], ann["attributed_orders"], ann["total_fees"]) == (1, 1, 800.0)
    assert ann["days_since_last_contact"] == 2  # contact ignores the date range

    youtube = rel.influencer_brand(known, Filters(platforms=("youtube",)), as_of=AS_OF)
    ann = row(youtube, influencer_id=1, brand_id=1)
    assert ann["sponsored_posts"] == 0 and ann["sponsored_er"] is None


def test_as_of_moves_overdue_and_contact(known) -> None:
    later = rel.influencer_brand(known, Filters(brand_ids=(1,)), as_of=d(2026, 4, 10))
    ann = row(later, influencer_id=1)
    assert ann["overdue_now"] == 2  # deliverable 8 (due 1 April) is now overdue too
    assert ann["days_since_last_contact"] == 5  # the 5 April interaction now counts
    assert ann["interactions"] == 4


# -- customer–influencer ---------------------------------------------------------------------------------
def test_customers_acquired_returning_later_ltv_and_repeat(known) -> None:
    ci = rel.customer_influencer(known)
    ann = row(ci, influencer_id=1, brand_id=1)
    assert (ann["attributed_orders"], ann["attributed_customers"]) == (4, 3)
    assert (ann["customers_acquired"], ann["returning_customers"]) == (1, 3)
    assert (ann["repeat_customers"], ann["later_orders"], ann["later_ltv"]) == (1, 2, 95.0)
    assert ann["repeat_rate"] == 1.0 and ann["later_ltv_per_customer"] == 95.0

    bob = row(ci, influencer_id=2, brand_id=1)
    assert (bob["customers_acquired"], bob["returning_customers"]) == (2, 0)
    # c13's later orders: 60 (attributed to Ann) + 40 fully refunded = 60; the test order is left out
    assert (bob["repeat_customers"], bob["later_orders"], bob["later_ltv"]) == (1, 2, 60.0)
    assert bob["repeat_rate"] == 0.5 and bob["later_ltv_per_customer"] == 30.0

    assert row(ci, influencer_id=2, brand_id=2)["later_ltv"] == 100.0
    assert row(ci, influencer_id=1, brand_id=2)["repeat_rate"] == 0.0

    per_influencer = rel.customer_influencer(known, by_brand=False)
    ann = row(per_influencer, influencer_id=1)
    assert (ann["customers_acquired"], ann["returning_customers"], ann["repeat_rate"]) == (2, 3, 0.5)
    bob = row(per_influencer, influencer_id=2)
    assert (bob["customers_acquired"], bob["later_ltv"], bob["repeat_rate"]) == (4, 160.0, 0.5)


def test_customer_influencer_filters(known) -> None:
    alpha = rel.customer_influencer(known, Filters(brand_ids=(1,)))
    assert set(alpha["brand_id"]) == {1}
    assert_frame_equal(
        alpha, rel.customer_influencer(known).filter(pl.col("brand_id") == 1), check_row_order=False
    )
    march = rel.customer_influencer(known, Filters(start=d(2026, 3, 1), end=d(2026, 3, 31)))
    ann = row(march, influencer_id=1, brand_id=1)
    assert (ann["attributed_orders"], ann["customers_acquired"], ann["returning_customers"]) == (1, 0, 1)


def test_buyer_overlap_and_exclusive_share(known) -> None:
    every = rel.buyer_overlap(known, 1, 2)
    assert (every.customers_a, every.customers_b, every.shared, every.union) == (4, 4, 1, 7)
    assert every.jaccard == pytest.approx(1 / 7)
    alpha = rel.buyer_overlap(known, 1, 2, Filters(brand_ids=(1,)))
    assert (alpha.customers_a, alpha.customers_b, alpha.shared, alpha.jaccard) == (3, 2, 1, 0.25)
    assert rel.buyer_overlap(known, 1, 2, Filters(brand_ids=(2,))).jaccard == 0.0
    assert rel.buyer_overlap(known, 1, 1).jaccard == 1.0
    nobody = rel.buyer_overlap(known, 3, 3)
    assert (nobody.customers_a, nobody.jaccard) == (0, None)

    share = rel.exclusive_share(known, [1, 2, 3], Filters(brand_ids=(1,)))
    assert row(share, influencer_id=1)["exclusive_share"] == pytest.approx(2 / 3)
    assert row(share, influencer_id=2)["exclusive_share"] == 0.5
    assert row(share, influencer_id=3)["exclusive_share"] is None


def test_overlap_matrix(known) -> None:
    m = rel.overlap_matrix(known, [1, 2, 3], Filters(brand_ids=(1,)))
    assert m.height == 9
    assert row(m, influencer_a=1, influencer_b=2)["jaccard"] == 0.25
    assert row(m, influencer_a=2, influencer_b=1)["jaccard"] == 0.25
    assert row(m, influencer_a=1, influencer_b=1)["jaccard"] == 1.0
    assert row(m, influencer_a=3, influencer_b=3)["jaccard"] is None
    assert row(m, influencer_a=1, influencer_b=3)["jaccard"] == 0.0
    assert rel.top_influencers(known, Filters(brand_ids=(1,)), n=1) == [1]
    assert rel.overlap_matrix(known, filters=Filters(brand_ids=(1,))).height == 4  # default: top influencers


def test_three_way_flows(known) -> None:
    flows = rel.three_way_flows(known, Filters(brand_ids=(1,)))
    got = {(r["source_key"], r["target_key"]): r["value"] for r in flows.iter_rows(named=True)}
    assert got == {
        ("segment:new", "influencer:1"): 1, ("segment:returning", "influencer:1"): 3,
        ("segment:new", "influencer:2"): 2, ("influencer:1", "brand:1"): 4, ("influencer:2", "brand:1"): 2,
    }  # fmt: skip
    revenue = rel.three_way_flows(known, Filters(brand_ids=(1,)), measure="revenue")
    assert row(revenue, source_key="segment:returning", target_key="influencer:1")["value"] == 210.0
    merged = rel.three_way_flows(known, Filters(brand_ids=(1,)), top_n=1)
    assert row(merged, source_key="influencer:other", target_key="brand:1")["source"] == "Other influencers"


# -- fit -------------------------------------------------------------------------------------------------
def test_fit_components_by_hand(known, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rel, "MIN_TIER_ACCOUNTS", 1)
    fit = rel.fit_score(known, 1, as_of=AS_OF)
    assert fit.height == 3 and set(fit["brand_id"]) == {1}
    ann = row(fit, influencer_id=1)
    roas = 310 / 1800
    expected = {
        "niche_match": 1.0,
        "audience_match": 0.5,  # < 5 buyers: home country US, half the brand's customers
        "results_with_brand": roas / (roas + 1),
        "results_with_similar_brands": None,  # no deal with Gamma Glow
        "engagement_quality": (0.05 / 0.075) / 2,
        "reliability": 3 / 5,
        "contact_recency": 0.5 ** (2 / 30),
        "contact_frequency": 2 / 6,
        "contact_sentiment": 0.6,
    }
    for name, value in expected.items():
        assert ann[f"fit_{name}"] == (pytest.approx(value) if value is not None else None), name
    present = {k: v for k, v in expected.items() if v is not None}
    total = (
        100
        * sum(rel.FIT_WEIGHTS[k] * v for k, v in present.items())
        / sum(rel.FIT_WEIGHTS[k] for k in present)
    )
    assert ann["fit_score"] == pytest.approx(total)
    assert ann["fit_weight_present"] == pytest.approx(0.9)
    assert ann["reasons"].startswith("niche beauty fits beauty (1.00)")
    assert "no data: results with similar brands" in ann["reasons"]

    bob = row(fit, influencer_id=2)
    assert bob["fit_niche_match"] == 0.0  # tech is not a beauty niche
    assert bob["fit_audience_match"] == pytest.approx(2 / 6)  # home country GB
    assert bob["fit_results_with_brand"] == pytest.approx(0.4 / 1.4)
    assert bob["fit_results_with_similar_brands"] == pytest.approx(0.75)  # ROAS 3 with Gamma Glow
    assert bob["fit_engagement_quality"] == 0.5  # at his tier's median
    assert bob["fit_reliability"] is None and bob["fit_contact_recency"] is None

    cat = row(fit, influencer_id=3)
    assert cat["fit_niche_match"] == 0.7 and cat["fit_results_with_brand"] is None
    assert cat["fit_engagement_quality"] == pytest.approx((0.10 / 0.075) / 2)

    breakdown = rel.fit_breakdown(fit)
    assert breakdown.height == 3 * len(rel.FIT_WEIGHTS)
    points = breakdown.group_by("influencer_id").agg(pl.col("points").sum())
    assert row(points, influencer_id=1)["points"] == pytest.approx(ann["fit_score"])
    weights = breakdown.group_by("influencer_id").agg(pl.col("effective_weight").sum())
    assert weights["effective_weight"].to_list() == pytest.approx([1.0] * 3)


def test_fit_audience_from_buyers_and_thin_tiers(known, monkeypatch: pytest.MonkeyPatch) -> None:
    fit = rel.fit_score(known, 1, as_of=AS_OF)
    assert fit["fit_engagement_quality"].null_count() == 3  # tiers with fewer than 5 accounts
    monkeypatch.setattr(rel, "MIN_AUDIENCE_BUYERS", 1)
    fit = rel.fit_score(known, 1, [1, 2], as_of=AS_OF)
    assert fit.height == 2
    # Ann's buyers: US 2/4, GB 1/4, FR 1/4 vs the brand's US 1/2, GB 1/3, DE 1/6
    assert row(fit, influencer_id=1)["fit_audience_match"] == pytest.approx(0.5 + 0.25)
    assert row(fit, influencer_id=1)["audience_source"] == "attributed buyers"
    # Bob's buyers: GB 3/4, US 1/4
    assert row(fit, influencer_id=2)["fit_audience_match"] == pytest.approx(1 / 3 + 1 / 4)
    with pytest.raises(ValueError, match="does not exist"):
        rel.fit_score(known, 99)


# -- invariants ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def memory_con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    migrate(con)
    yield con
    con.close()


customer_sets = st.dictionaries(
    st.integers(1, 6), st.sets(st.integers(1, 25), max_size=15), min_size=1, max_size=6
)


def load_sets(con: duckdb.DuckDBPyConnection, sets: dict[int, set[int]]) -> None:
    con.execute("DELETE FROM attributed_orders")
    rows = [(inf, cust) for inf, custs in sets.items() for cust in custs]
    if rows:
        con.executemany(
            "INSERT INTO attributed_orders (model_id, order_id, brand_id, campaign_id, deal_id, influencer_id, "
            "method, ordered_at, customer_id, is_new_customer, revenue, discount, refunded) "
            "VALUES ('code>link:30d', ?, 1, 1, ?, ?, 'code', TIMESTAMP '2026-01-01', ?, false, 1, 0, 0)",
            [(i, inf, inf, cust) for i, (inf, cust) in enumerate(rows)],
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sets=customer_sets)
def test_overlap_properties(memory_con, sets: dict[int, set[int]]) -> None:
    load_sets(memory_con, sets)
    ids = sorted(sets)
    matrix = rel.overlap_matrix(memory_con, ids)
    assert matrix.height == len(ids) ** 2
    for r in matrix.iter_rows(named=True):
        a, b = sets[r["influencer_a"]], sets[r["influencer_b"]]
        assert (r["customers_a"], r["customers_b"], r["shared"]) == (len(a), len(b), len(a & b))
        if a | b:
            assert r["jaccard"] == pytest.approx(len(a & b) / len(a | b))
            assert 0.0 <= r["jaccard"] <= 1.0
        else:
            assert r["jaccard"] is None
    pairs = {(r["influencer_a"], r["influencer_b"]): r["jaccard"] for r in matrix.iter_rows(named=True)}
    for (a, b), j in pairs.items():
        assert pairs[(b, a)] == j  # symmetric
        if a == b and sets[a]:
            assert j == 1.0  # a set with itself
    first, last = ids[0], ids[-1]
    one = rel.buyer_overlap(memory_con, first, last)
    other = rel.buyer_overlap(memory_con, last, first)
    assert one.jaccard == other.jaccard == pairs[(first, last)]

    shares = rel.exclusive_share(memory_con, ids)
    for r in shares.iter_rows(named=True):
        mine = sets[r["influencer_id"]]
        others = set().union(*(s for i, s in sets.items() if i != r["influencer_id"]))
        assert r["exclusive_customers"] == len(mine - others)
        if mine:
            assert 0.0 <= r["exclusive_share"] <= 1.0
        else:
            assert r["exclusive_share"] is None


@given(
    rows=st.lists(
        st.tuples(
            st.none() | st.integers(0, 3000),
            st.integers(0, 100),
            st.none() | st.floats(0, 1),
            st.none() | st.floats(-1, 1),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_health_is_between_0_and_100(rows) -> None:
    frame = pl.DataFrame(
        rows,
        schema={
            "days_since_last_contact": pl.Int64,
            "interactions_90d": pl.Int64,
            "on_time_rate": pl.Float64,
            "mean_sentiment": pl.Float64,
        },
        orient="row",
    )
    out = rel.with_health(frame)
    assert out["health"].null_count() == 0  # recency and frequency are always known
    assert out["health"].min() >= 0.0 and out["health"].max() <= 100.0
    for c in ("health_recency", "health_frequency", "health_on_time", "health_sentiment"):
        values = out[c].drop_nulls()
        assert values.is_empty() or (values.min() >= 0.0 and values.max() <= 1.0)


# -- the demo workspace ----------------------------------------------------------------------------------
DEMO_END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("relationships_demo") / "demo.duckdb"
    build_demo(path, scale=1, seed=42, end_date=DEMO_END)
    store = get_store(path)
    with store.connect() as cur:
        yield cur


def test_demo_influencer_brand(demo) -> None:
    ib = rel.influencer_brand(demo, as_of=DEMO_END)
    assert ib.height > 100 and ib.select("influencer_id", "brand_id").is_unique().all()
    assert (ib["deliverables_on_time"] <= ib["deliverables_due"]).all()
    assert ib["on_time_rate"].drop_nulls().is_between(0, 1).all()
    assert ib["health"].is_between(0, 100).all() and ib["health"].std() > 5
    assert (ib["days_since_last_contact"].drop_nulls() >= 0).all()
    assert ib["sponsored_er"].drop_nulls().is_between(0, 1).all()
    # orders and revenue add up to the deals' (every deal belongs to one pair)
    perf = deal_performance(demo, Filters())
    assert ib["attributed_orders"].sum() == perf["orders"].sum()
    assert ib["attributed_revenue"].sum() == pytest.approx(perf["revenue"].sum())
    # a brand filter returns exactly that brand's rows: nothing leaks in or out
    for brand_id in (1, 3):
        one = rel.influencer_brand(demo, Filters(brand_ids=(brand_id,)), as_of=DEMO_END)
        assert_frame_equal(one, ib.filter(pl.col("brand_id") == brand_id), check_row_order=False)


def test_demo_customer_influencer(demo) -> None:
    ci = rel.customer_influencer(demo)
    assert ci.select("influencer_id", "brand_id").is_unique().all()
    acquired = demo.execute(
        "SELECT count(DISTINCT (influencer_id, customer_id)) FROM attributed_orders WHERE is_new_customer"
    ).fetchone()
    assert ci["customers_acquired"].sum() == acquired[0]
    assert ci["repeat_rate"].drop_nulls().is_between(0, 1).all()
    assert (ci["later_ltv"] >= 0).all() and ci["later_ltv"].sum() > 0
    one = rel.customer_influencer(demo, Filters(brand_ids=(2,)))
    assert_frame_equal(one, ci.filter(pl.col("brand_id") == 2), check_row_order=False)


def test_demo_overlap_and_flows(demo) -> None:
    ids = rel.top_influencers(demo, n=50)
    assert len(ids) == 50
    m = rel.overlap_matrix(demo, ids)
    assert m.height == 2500 and m["jaccard"].drop_nulls().is_between(0, 1).all()
    diagonal = m.filter(pl.col("influencer_a") == pl.col("influencer_b"))
    assert (diagonal["jaccard"] == 1.0).all()
    shares = rel.exclusive_share(demo, ids)
    assert shares["exclusive_share"].drop_nulls().is_between(0, 1).all()

    flows = rel.three_way_flows(demo)
    inflow = flows.group_by(key="target_key").agg(into=pl.col("value").sum())
    outflow = flows.group_by(key="source_key").agg(out=pl.col("value").sum())
    through = inflow.join(outflow, on="key").filter(pl.col("key").str.starts_with("influencer:"))
    assert through.height == 16  # top 15 and "other"
    assert (through["into"] - through["out"]).abs().max() < 1e-9
    total = demo.execute("SELECT count(*) FROM attributed_orders").fetchone()[0]
    assert flows.filter(pl.col("target_key").str.starts_with("brand:"))["value"].sum() == total


def test_demo_fit_scores(demo) -> None:
    roster = demo.execute("SELECT count(*) FROM influencers").fetchone()[0]
    for brand_id in (1, 5):
        fit = rel.fit_score(demo, brand_id, as_of=DEMO_END)
        assert fit.height == roster and fit["influencer_id"].is_unique().all()
        assert fit["fit_score"].is_between(0, 100).all()
        for name in rel.FIT_WEIGHTS:
            assert fit[f"fit_{name}"].drop_nulls().is_between(0, 1).all(), name
        assert fit["fit_niche_match"].null_count() == 0
        assert fit["fit_engagement_quality"].null_count() < roster / 5
        assert fit["reasons"].str.len_chars().min() > 10
        assert fit["fit_score"].std() > 5


def test_every_output_metric_has_a_definition(known) -> None:
    identity = {"influencer_id", "influencer", "brand_id", "brand", "currency"}
    ib = rel.influencer_brand(known, as_of=AS_OF)
    ci = rel.customer_influencer(known)
    metrics = (set(ib.columns) | set(ci.columns)) - identity
    metrics |= {"buyer_overlap", "exclusive_share", "flows", "fit_score", *rel.FIT_WEIGHTS}
    assert metrics <= set(rel.DEFINITIONS), metrics - set(rel.DEFINITIONS)
    for definition in rel.DEFINITIONS.values():
        assert definition.text()


def test_empty_store(empty_db: Path) -> None:
    with get_store(empty_db).connect() as con:
        assert rel.influencer_brand(con).is_empty()
        assert rel.customer_influencer(con).is_empty()
        assert rel.overlap_matrix(con).is_empty()
        assert rel.exclusive_share(con, [1]).height == 1
        assert rel.three_way_flows(con).is_empty()
        assert rel.buyer_overlap(con, 1, 2).jaccard is None
