"""The demo workspace: deterministic, referentially sound, and shaped like real influencer data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.demo import DemoRefusedError, build_demo, demo_size, generate_demo
from models.schema import DEAL_STAGES, TABLES
from models.store import get_store, integrity_problems, table_counts

END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def scale1() -> dict[str, pl.DataFrame]:
    """The scale-1 workspace as frames (generation only: ~0.5 s)."""
    return generate_demo(1.0, 42, end_date=END)


def test_same_seed_same_workspace_other_seed_other_workspace() -> None:
    a = generate_demo(0.05, 3, end_date=END)
    b = generate_demo(0.05, 3, end_date=END)
    for table in a:
        if table != "audit_log":  # the audit entry records when the demo was made
            assert_frame_equal(a[table], b[table])
    c = generate_demo(0.05, 4, end_date=END)
    assert not a["orders"].equals(c["orders"])


def test_sizes_at_named_scales() -> None:
    small, large = demo_size(1), demo_size(100)
    assert (small.influencers, small.brands, small.campaigns, small.customers) == (300, 8, 60, 20_000)
    assert (large.influencers, large.brands, large.campaigns, large.customers) == (
        10_000,
        50,
        2_000,
        2_000_000,
    )
    with pytest.raises(ValueError):
        demo_size(0)


def test_scale1_volumes(scale1: dict[str, pl.DataFrame]) -> None:
    assert 150_000 <= scale1["orders"].height <= 260_000  # "~200k orders"
    assert scale1["influencers"].height >= 300
    assert 25_000 <= scale1["posts"].height <= 50_000
    assert scale1["account_snapshots"].height >= 300 * 365


def test_demo_store_is_complete_and_consistent(demo_db: Path) -> None:
    store = get_store(demo_db)
    with store.connect() as cur:
        counts = table_counts(cur)
        problems = integrity_problems(cur)
        dup_orders = cur.execute("SELECT count(*) - count(DISTINCT order_id) FROM orders").fetchone()[0]
        ext_dups = cur.execute(
            "SELECT count(*) FROM (SELECT brand_id, source, external_order_id FROM orders GROUP BY ALL "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
        last_demo = cur.execute("SELECT status FROM sync_runs WHERE connector = 'demo'").fetchall()
    store.close()
    assert set(counts) == set(TABLES)
    assert all(n > 0 for t, n in counts.items() if t != "customer_contacts"), counts
    assert counts["customer_contacts"] == 0  # pseudonymous by default
    assert problems == {}
    assert dup_orders == 0 and ext_dups == 0
    assert last_demo == [("succeeded",)]


def test_demo_refuses_to_overwrite_data_unless_asked(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(demo_db.read_bytes())
    with pytest.raises(DemoRefusedError, match="--replace"):
        build_demo(copy, scale=0.02, seed=1, end_date=END)
    result = build_demo(copy, scale=0.02, seed=1, end_date=END, replace=True)
    assert result["counts"]["orders"] > 0
    get_store(copy).close()


def _tier(followers: pl.Expr) -> pl.Expr:
    return (
        pl.when(followers < 10_000)
        .then(0)
        .when(followers < 100_000)
        .then(1)
        .when(followers < 1_000_000)
        .then(2)
        .otherwise(3)
    )


def _posts_with_followers(f: dict[str, pl.DataFrame]) -> pl.DataFrame:
    snaps = (
        f["account_snapshots"]
        .select("account_id", "snapshot_date", "followers")
        .drop_nulls()
        .sort("snapshot_date")
    )
    posts = f["posts"].with_columns(day=pl.col("posted_at").dt.date()).sort("day")
    return posts.join_asof(
        snaps,
        left_on="day",
        right_on="snapshot_date",
        by="account_id",
        strategy="backward",
        check_sortedness=False,
    )


def test_followers_are_heavy_tailed_per_platform(scale1: dict[str, pl.DataFrame]) -> None:
    last = (
        scale1["account_snapshots"]
        .drop_nulls("followers")
        .sort("snapshot_date")
        .group_by("account_id")
        .last()
        .join(scale1["accounts"], on="account_id")
    )
    for platform in ("instagram", "youtube", "tiktok"):
        f = last.filter(pl.col("platform") == platform)["followers"].to_numpy().astype(float)
        assert np.percentile(f, 99) / np.median(f) > 15, platform  # a long right tail
        assert np.mean(f) > 1.5 * np.median(f), platform


def test_engagement_rate_falls_with_follower_tier(scale1: dict[str, pl.DataFrame]) -> None:
    posts = _posts_with_followers(scale1).join(
        scale1["accounts"].select("account_id", "platform"), on="account_id"
    )
    er = (
        posts.filter(pl.col("platform") == "instagram", pl.col("followers") > 0)
        .with_columns(
            er=(pl.col("likes") + pl.col("comments")) / pl.col("followers"), tier=_tier(pl.col("followers"))
        )
        .group_by("tier")
        .agg(pl.col("er").median())
        .sort("tier")
    )
    medians = er["er"].to_list()
    assert len(medians) >= 3
    assert medians == sorted(medians, reverse=True)
    assert 0.03 < medians[0] < 0.09  # <10k accounts: a few percent, as published benchmarks show


def test_purchased_follower_spikes_are_injected_without_engagement(scale1: dict[str, pl.DataFrame]) -> None:
    daily = (
        scale1["account_snapshots"]
        .drop_nulls("followers")
        .sort("account_id", "snapshot_date")
        .with_columns(jump=pl.col("followers") / pl.col("followers").shift(1).over("account_id") - 1)
    )
    primary_days = daily.group_by("account_id").len().filter(pl.col("len") > 300)["account_id"]
    spikes = daily.filter(pl.col("account_id").is_in(primary_days.implode()), pl.col("jump") > 0.05)
    spiked_accounts = spikes["account_id"].unique()
    assert 2 <= spiked_accounts.len() <= 0.08 * primary_days.len()
    # engagement does not follow the spike: likes per post in the 30 days after stay near the 30 days before
    posts = scale1["posts"].with_columns(day=pl.col("posted_at").dt.date())
    ratios = []
    for row in spikes.group_by("account_id").agg(pl.col("snapshot_date").first()).iter_rows(named=True):
        p = posts.filter(pl.col("account_id") == row["account_id"])
        d = row["snapshot_date"]
        before = p.filter((pl.col("day") < d) & (pl.col("day") >= d - dt.timedelta(days=30)))["likes"].mean()
        after = p.filter((pl.col("day") > d) & (pl.col("day") <= d + dt.timedelta(days=30)))["likes"].mean()
        if before and after:
            ratios.append(after / before)
    assert ratios and np.median(ratios) < 1.5


def test_campaigns_deals_codes_and_links(scale1: dict[str, pl.DataFrame]) -> None:
    f = scale1
    assert set(f["deals"]["stage"].unique()) == set(DEAL_STAGES)
    assert {"completed", "active", "planned"} <= set(f["campaigns"]["status"].unique())
    sponsored = f["posts"].filter("is_sponsored")
    assert sponsored.height > 0 and sponsored["campaign_id"].null_count() == 0
    assert (
        f["posts"].filter(~pl.col("is_sponsored"))["campaign_id"].null_count()
        == f["posts"].filter(~pl.col("is_sponsored")).height
    )
    codes = f["promo_codes"].filter(pl.col("kind") == "influencer")
    with_code = f["orders"].join(codes, left_on=["brand_id", "promo_code"], right_on=["brand_id", "code"])
    assert with_code.height > 500
    real = with_code.filter(~pl.col("is_test"))
    assert (real["discount"].cast(pl.Float64) > 0).all()  # a creator's code gives a discount
    links = f["orders"].filter(pl.col("utm_medium") == "influencer")
    assert links.height > 200
    linked = links.join(f["deals"].select("utm_campaign", "utm_content"), on=["utm_campaign", "utm_content"])
    assert linked.height == links.height  # every tracking link belongs to a deal
    overdue = f["deliverables"].filter(
        pl.col("status").is_in(["pending", "submitted"]), pl.col("due_date") < END
    )
    assert overdue.height > 0


def test_orders_have_bursts_after_posts_that_decay(scale1: dict[str, pl.DataFrame]) -> None:
    f = scale1
    codes = f["promo_codes"].filter(pl.col("kind") == "influencer").select("brand_id", "code", "deal_id")
    first_posts = (
        f["posts"]
        .filter("is_sponsored")
        .join(f["accounts"].select("account_id", "influencer_id"), on="account_id")
        .join(
            f["deals"].select("deal_id", "campaign_id", "influencer_id"), on=["campaign_id", "influencer_id"]
        )
        .group_by("deal_id")
        .agg(first_post=pl.col("posted_at").min())
    )
    code_orders = (
        f["orders"]
        .join(codes, left_on=["brand_id", "promo_code"], right_on=["brand_id", "code"])
        .filter(~pl.col("referrer").fill_null("").str.contains("coupon|retailmenot|honey|dealspotr|knoji"))
        .join(first_posts, on="deal_id")
        .with_columns(lag=(pl.col("ordered_at") - pl.col("first_post")).dt.total_days())
    )
    lag = code_orders.filter(pl.col("lag") >= 0)["lag"]
    day0, day2, day6 = ((lag == d).sum() for d in (0, 2, 6))
    assert day0 > day2 > day6  # arrivals decay over days after the post


def test_customers_repeat_and_money_has_refunds_and_flags(scale1: dict[str, pl.DataFrame]) -> None:
    o = scale1["orders"]
    per_customer = o.drop_nulls("customer_id").group_by("customer_id").len()
    assert (per_customer["len"] >= 2).mean() > 0.5  # repeat purchases make RFM and CLV meaningful
    assert per_customer["len"].max() > 20
    refunded = o.filter(pl.col("refunded").cast(pl.Float64) > 0)
    full = refunded.filter(pl.col("refunded") == pl.col("gross")).height
    assert 0 < full < refunded.height  # full and partial refunds
    assert o["is_test"].sum() > 0 and o["is_cancelled"].sum() > 0
    assert (
        o.filter(pl.col("is_cancelled") & ~pl.col("is_test"))["refunded"].cast(pl.Float64).min() > 0
    )  # cancelled orders are refunded


def test_leaked_codes_come_from_coupon_sites_without_clicks(scale1: dict[str, pl.DataFrame]) -> None:
    f = scale1
    codes = f["promo_codes"].filter(pl.col("kind") == "influencer").select("brand_id", "code")
    leaked = (
        f["orders"]
        .join(codes, left_on=["brand_id", "promo_code"], right_on=["brand_id", "code"])
        .filter(
            pl.col("referrer").fill_null("").str.contains("retailmenot|couponfollow|honey|dealspotr|knoji")
        )
    )
    assert leaked.height > 50
    keys = leaked.join(f["customers"], on="customer_id")["customer_key"]
    assert not keys.is_in(f["link_clicks"]["visitor_key"].implode()).any()
    # link orders are preceded by a click of the same visitor
    link_keys = (
        f["orders"].filter(pl.col("utm_medium") == "influencer").join(f["customers"], on="customer_id")
    )
    assert link_keys["customer_key"].is_in(f["link_clicks"]["visitor_key"].implode()).mean() > 0.99


def test_orders_in_chunks_are_the_same_orders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The large scale builds orders a slice at a time; slicing changes neither the rows nor their order,
    and loading chunk by chunk writes them all."""
    import models.demo as demo

    whole = generate_demo(0.05, 3, end_date=END)["orders"]
    monkeypatch.setattr(demo, "ORDER_CHUNK_ROWS", 997)
    frames = generate_demo(0.05, 3, end_date=END, chunked=True)
    chunks = frames["orders"]
    assert isinstance(chunks, demo.OrderChunks) and len(chunks) > 2
    assert [c.height for c in chunks][:-1] == [997] * (len(chunks) - 1)
    assert_frame_equal(chunks.collect(), whole)
    store = get_store(tmp_path / "chunked.duckdb")
    counts = demo.load_frames(store, frames)
    with store.connect() as cur:
        stored = cur.execute("SELECT * FROM orders ORDER BY order_id").pl()
    store.close()
    assert counts["orders"] == whole.height == stored.height
    assert stored["order_id"].to_list() == whole["order_id"].to_list()
    assert stored["gross"].cast(pl.Float64).sum() == pytest.approx(whole["gross"].cast(pl.Float64).sum())
