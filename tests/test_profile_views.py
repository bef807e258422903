"""The Profiles page's chart frames (models/profile_views.py): hand-made cases, invariants, and agreement with
models/profile.py on the demo workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.filters import Filters
from models.profile import bootstrap_median_interval, influencer_profile, roster_metrics
from models.profile_views import (
    MAX_COMPARED,
    ROLLING_MIN_POSTS,
    ROLLING_POSTS,
    compare_influencers,
    followers_by_day,
    indexed_followers,
    influencer_choices,
    posts_per_week,
    rolling_er,
    sponsored_vs_organic,
)
from models.store import Store
from tests.conftest import DEMO_END

D = dt.datetime
WINDOW = Filters(start=DEMO_END - dt.timedelta(days=89), end=DEMO_END)


def posts_frame(ers: list[float | None], *, sponsored: list[bool] | None = None) -> pl.DataFrame:
    """Posts one day apart from 1 March 2026, newest first (as post_engagement returns them)."""
    n = len(ers)
    frame = pl.DataFrame(
        {
            "post_id": list(range(1, n + 1)),
            "posted_at": [D(2026, 3, 1, 12) + dt.timedelta(days=i) for i in range(n)],
            "platform": ["instagram"] * n,
            "handle": ["ada"] * n,
            "sponsored": sponsored or [False] * n,
            "er_followers": ers,
        },
        schema_overrides={"er_followers": pl.Float64},
    )
    return frame.reverse()


# -- rolling median ER -----------------------------------------------------------------------------------
def test_rolling_median_covers_the_last_twelve_posts_with_their_interval() -> None:
    ers = [0.01 * k for k in range(1, 21)]
    rolled = rolling_er(posts_frame(ers))
    assert rolled["post_id"].to_list() == list(range(1, 21))  # oldest first
    medians = rolled["rolling_median"].to_list()
    assert medians[: ROLLING_MIN_POSTS - 1] == [None] * (ROLLING_MIN_POSTS - 1)
    assert medians[4] == pytest.approx(0.03)  # posts 1..5
    assert medians[19] == pytest.approx(float(np.median(ers[20 - ROLLING_POSTS :])))  # posts 9..20: 0.145
    low, high = bootstrap_median_interval(ers[20 - ROLLING_POSTS :])
    assert rolled["ci_low"][19] == pytest.approx(low) and rolled["ci_high"][19] == pytest.approx(high)


def test_posts_without_a_known_er_are_left_out_not_counted_as_zero() -> None:
    rolled = rolling_er(posts_frame([0.02, None, 0.04, float("nan"), 0.06, 0.08, 0.10]))
    assert rolled["er_followers"].to_list() == [0.02, 0.04, 0.06, 0.08, 0.10]
    assert rolled["rolling_median"].to_list()[-1] == pytest.approx(0.06)
    assert rolling_er(posts_frame([None, None])).is_empty()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=1, max_size=40))
def test_rolling_band_stays_within_the_trailing_posts(ers: list[float]) -> None:
    rolled = rolling_er(posts_frame(ers))
    values = rolled["er_followers"].to_list()
    for i, row in enumerate(rolled.iter_rows(named=True)):
        trailing = values[max(0, i + 1 - ROLLING_POSTS) : i + 1]
        if row["rolling_median"] is None:
            assert len(trailing) < ROLLING_MIN_POSTS
            continue
        assert min(trailing) - 1e-12 <= row["ci_low"] <= row["ci_high"] <= max(trailing) + 1e-12
        assert min(trailing) - 1e-12 <= row["rolling_median"] <= max(trailing) + 1e-12


def test_sponsored_and_organic_split_with_counts() -> None:
    ers = [0.01, 0.02, 0.03, 0.10, 0.20, 0.30, 0.40, 0.50]
    split = sponsored_vs_organic(posts_frame(ers, sponsored=[True] * 3 + [False] * 5))
    rows = {r["kind"]: r for r in split.iter_rows(named=True)}
    assert rows["sponsored"]["posts"] == 3 and rows["sponsored"]["er_median"] == pytest.approx(0.02)
    assert rows["sponsored"]["ci_low"] is None  # fewer than 5 posts: no interval
    assert rows["organic"]["er_median"] == pytest.approx(0.30)
    assert rows["organic"]["ci_low"] <= 0.30 <= rows["organic"]["ci_high"]
    none = sponsored_vs_organic(posts_frame([0.1, 0.2]))
    assert none.filter(pl.col("kind") == "sponsored").row(0, named=True)["er_median"] is None


# -- cadence ---------------------------------------------------------------------------------------------
def test_posts_per_week_fills_empty_weeks_and_clips_to_the_range() -> None:
    posted = [D(2026, 3, 2, 9), D(2026, 3, 4, 9), D(2026, 3, 18, 9), D(2026, 2, 27, 9), D(2026, 3, 30, 9)]
    posts = pl.DataFrame({"posted_at": posted})
    weekly = posts_per_week(posts, dt.date(2026, 3, 1), dt.date(2026, 3, 22))
    assert weekly["period"].to_list() == [
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 16),
    ]
    assert weekly["value"].to_list() == [0, 2, 0, 1]  # 27 Feb and 30 Mar fall outside 1–22 March


# -- followers over time ---------------------------------------------------------------------------------
def history(rows: list[tuple[int, str, dt.date, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["account_id", "platform", "snapshot_date", "followers"], orient="row"
    ).with_columns(handle=pl.col("platform"), account_id=pl.col("account_id").cast(pl.Int32))


def test_followers_by_day_carries_the_latest_snapshot_forward() -> None:
    snaps = history(
        [
            (1, "instagram", dt.date(2026, 2, 20), 1000),  # before the range: the first day's value
            (1, "instagram", dt.date(2026, 3, 3), 1100),
            (2, "youtube", dt.date(2026, 3, 2), None),  # hidden count
        ]
    )
    by_day = followers_by_day(snaps, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    insta = by_day.filter(pl.col("account_id") == 1)["followers"].to_list()
    assert insta == [1000, 1000, 1100, 1100]
    assert by_day.filter(pl.col("account_id") == 2)["followers"].to_list() == [None] * 4


def test_index_uses_the_accounts_known_on_the_first_day() -> None:
    snaps = history(
        [
            (1, "instagram", dt.date(2026, 3, 1), 1000),
            (1, "instagram", dt.date(2026, 3, 3), 1200),
            (2, "tiktok", dt.date(2026, 3, 2), 50_000),  # starts reporting later: not growth
            (3, "youtube", dt.date(2026, 3, 1), None),  # hidden: left out
        ]
    )
    indexed = indexed_followers(followers_by_day(snaps, dt.date(2026, 3, 1), dt.date(2026, 3, 3)))
    expected = pl.DataFrame(
        {
            "day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)],
            "followers": [1000, 1000, 1200],
            "index": [100.0, 100.0, 120.0],
        }
    )
    assert_frame_equal(indexed, expected)


def test_no_index_without_a_known_count_on_the_first_day() -> None:
    snaps = history([(3, "youtube", dt.date(2026, 3, 1), None), (4, "x", dt.date(2026, 3, 2), 10)])
    assert indexed_followers(followers_by_day(snaps, dt.date(2026, 3, 1), dt.date(2026, 3, 3))).is_empty()
    assert followers_by_day(snaps.clear(), dt.date(2026, 3, 1), dt.date(2026, 3, 3)).is_empty()


# -- against models/profile.py on the demo workspace -------------------------------------------------------
@pytest.fixture(scope="module")
def demo_store(demo_db: Path):  # noqa: ANN201 - a Store
    store = Store(demo_db)
    yield store
    store.close()


def test_choices_list_every_influencer_with_handles_and_deal_brands(demo_store: Store) -> None:
    with demo_store.connect() as con:
        choices = influencer_choices(con)
        count = con.execute("SELECT count(*) FROM influencers").fetchone()[0]
        with_deals = con.execute("SELECT count(DISTINCT influencer_id) FROM deals").fetchone()[0]
    assert choices.height == count
    assert choices["handles"].str.starts_with("@").all()
    assert (choices["deal_brand_ids"].list.len() > 0).sum() == with_deals


def test_split_agrees_with_the_profile_kpis(demo_store: Store) -> None:
    with demo_store.connect() as con:
        roster = roster_metrics(con, WINDOW)
        influencer_id = roster.sort("sponsored_posts_window", descending=True)["influencer_id"][0]
        profile = influencer_profile(con, influencer_id, WINDOW)
    split = {r["kind"]: r for r in sponsored_vs_organic(profile.window_posts).iter_rows(named=True)}
    m = profile.metrics
    assert split["sponsored"]["posts"] == m["sponsored_posts_window"] > 0
    assert split["sponsored"]["er_median"] == pytest.approx(m["sponsored_er"])
    assert split["organic"]["er_median"] == pytest.approx(m["organic_er"])
    rolled = rolling_er(profile.window_posts)
    assert rolled.height == m["er_posts"]


def test_comparison_is_the_roster_rows_in_the_order_asked(demo_store: Store) -> None:
    with demo_store.connect() as con:
        ids = roster_metrics(con, WINDOW)["influencer_id"].to_list()[:MAX_COMPARED][::-1]
        comparison = compare_influencers(con, ids, WINDOW)
        expected = roster_metrics(con, Filters(start=WINDOW.start, end=WINDOW.end, influencer_ids=tuple(ids)))
        with pytest.raises(ValueError, match="at most 4"):
            compare_influencers(con, [*ids, 999], WINDOW)
    assert comparison.metrics["influencer_id"].to_list() == ids
    assert_frame_equal(comparison.metrics.sort("influencer_id"), expected)
    assert set(comparison.window_posts["influencer_id"].unique().to_list()) <= set(ids)
    first_day = comparison.followers.filter(pl.col("day") == WINDOW.start)
    assert first_day.height >= 1 and first_day["index"].to_list() == pytest.approx([100.0] * first_day.height)
    assert comparison.followers["day"].max() == DEMO_END
