"""Influencer profile metrics against hand-computed fixtures, the rate card, invariants, and demo shapes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.demo import build_demo
from models.filters import Filters
from models.profile import (
    DEFINITIONS,
    TIER_LABELS,
    UnknownInfluencerError,
    account_metrics,
    bootstrap_by_group,
    bootstrap_median_interval,
    follower_history,
    influencer_profile,
    post_engagement,
    roster_metrics,
)
from models.rate_card import RATE_CARD_ENV, RateCardError, load_rate_card
from models.store import get_store

AS_OF = dt.date(2024, 6, 30)  # window: last 12 posts, or posts from 2 Apr 2024 (90 days ending 30 Jun)
D = dt.datetime

RATE_CARD = """# a small card for the tests (youtube deliberately missing)
platform,currency,v_like,v_comment,v_share,v_save,v_kview
instagram,USD,0.1,1,0.5,0.25,2
"""


def _world() -> dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]]:
    """Four influencers whose every figure is computed by hand in the tests below."""
    posts: list[tuple[object, ...]] = []
    # Ada (account 10, instagram, 1,000 followers until 31 May): 13 posts in the 90 days, ER k/100 for k = 1..13
    # (likes 9k, comments k); k=1 flagged as paid partnership, k=2 only linked to a campaign. One older post
    # with ER 0.5 is outside the window because the 90 days hold more than 12 posts.
    for k in range(1, 14):
        posts.append(
            (100 + k, 10, f"a{k}", D(2024, 4, 10, 12) + dt.timedelta(days=3 * k), 9 * k, k, None, None, None,
             k == 1, 1 if k == 2 else None)
        )  # fmt: skip
    posts.append((100, 10, "a0", D(2024, 3, 1, 12), 450, 50, None, None, None, False, None))
    # Bo (account 20, instagram, 1,000 followers): 3 posts in the 90 days (ER .20 .21 .22) and 11 older ones on
    # 10–20 Jan (ER .01 … .11): the window is the last 12 posts.
    for j, er in enumerate((0.20, 0.21, 0.22)):
        posts.append(
            (200 + j, 20, f"b{j}", D(2024, 6, 1 + j, 9), round(er * 1000), 0, None, None, None, False, None)
        )
    for j in range(1, 12):
        posts.append((210 + j, 20, f"bo{j}", D(2024, 1, 9 + j, 9), 10 * j, 0, None, None, None, False, None))
    # Cy (account 30, youtube, follower count hidden): ER by views only.
    posts.append((300, 30, "c0", D(2024, 6, 10, 9), 50, 50, None, None, 1000, False, None))
    posts.append((301, 30, "c1", D(2024, 6, 11, 9), 20, 0, None, None, 400, False, None))
    # Dee (account 40, instagram): snapshots on 1 Jun (1,000) and 2 Jun (2,000), for the as-of join.
    posts.append(
        (400, 40, "d0", D(2024, 5, 31, 20), 100, 0, None, None, None, False, None)
    )  # before any snapshot
    posts.append((401, 40, "d1", D(2024, 6, 1, 23), 100, 0, 10, 4, 2000, False, None))  # 1 Jun snapshot
    posts.append(
        (402, 40, "d2", D(2024, 6, 2, 8), 100, 0, None, None, None, False, None)
    )  # same-day snapshot
    return {
        "brands": (("brand_id", "name"), [(1, "Acme"), (2, "Bijou")]),
        "influencers": (("influencer_id", "name"), [(1, "Ada"), (2, "Bo"), (3, "Cy"), (4, "Dee")]),
        "accounts": (
            ("account_id", "influencer_id", "platform", "handle"),
            [
                (10, 1, "instagram", "ada"),
                (20, 2, "instagram", "bo"),
                (30, 3, "youtube", "cy"),
                (40, 4, "instagram", "dee"),
            ],
        ),  # fmt: skip
        "account_snapshots": (
            ("account_id", "snapshot_date", "followers", "following"),
            [
                (10, dt.date(2024, 1, 1), 1000, 100),
                (10, dt.date(2024, 5, 31), 4000, 100),
                (10, dt.date(2024, 6, 30), 4400, 100),
                (20, dt.date(2024, 1, 1), 1000, 50),
                (30, dt.date(2024, 1, 1), None, None),
                (40, dt.date(2024, 6, 1), 1000, 10),
                (40, dt.date(2024, 6, 2), 2000, 10),
            ],
        ),  # fmt: skip
        "campaigns": (
            ("campaign_id", "brand_id", "name", "status"),
            [(1, 1, "Spring", "completed"), (2, 2, "Summer", "active"), (3, 2, "Autumn", "completed")],
        ),
        "deals": (
            ("deal_id", "campaign_id", "influencer_id", "stage", "fee", "currency"),
            [
                (1, 1, 1, "completed", 500, "USD"),
                (2, 2, 1, "live", 800, "USD"),
                (3, 3, 1, "declined", 9999, "USD"),
                (4, 1, 2, "contracted", 0, "USD"),
                (5, 2, 2, "prospect", 700, "USD"),
                (6, 1, 4, "completed", 300, "EUR"),
                (7, 2, 4, "completed", 350, "EUR"),
                (8, 1, 3, "live", 900, "USD"),
            ],
        ),  # fmt: skip
        "posts": (
            (
                "post_id",
                "account_id",
                "platform_post_id",
                "posted_at",
                "likes",
                "comments",
                "shares",
                "saves",
                "views",
                "is_sponsored",
                "campaign_id",
            ),
            posts,
        ),  # fmt: skip
    }


def write_rows(path: Path, tables: dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]]) -> None:
    store = get_store(path)
    with store.transaction() as cur:
        for table, (columns, rows) in tables.items():
            marks = ", ".join("?" for _ in columns)
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    store.close()


@pytest.fixture
def card_path(tmp_path: Path) -> Path:
    path = tmp_path / "card.csv"
    path.write_text(RATE_CARD, encoding="utf-8")
    return path


@pytest.fixture
def con(
    empty_db: Path, card_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The hand-computed world, with the small rate card as the default card."""
    monkeypatch.setenv(RATE_CARD_ENV, str(card_path))
    write_rows(empty_db, _world())
    store = get_store(empty_db)
    with store.connect() as cur:
        yield cur
    store.close()


def _by_id(frame: pl.DataFrame, key: str = "influencer_id") -> dict[int, dict[str, object]]:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def assert_same_row(left: dict[str, object], right: dict[str, object]) -> None:
    """Equal rows; floats equal to 1e-12 (Polars may divide by a constant through its reciprocal)."""
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, float):
            assert right[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert right[key] == value, key


# -- per post -----------------------------------------------------------------------------------------------
def test_as_of_join_uses_the_snapshot_at_or_before_the_post(con: duckdb.DuckDBPyConnection) -> None:
    posts = _by_id(post_engagement(con, Filters(influencer_ids=(4,)), as_of=AS_OF), "post_id")
    assert posts[400]["followers"] is None and posts[400]["er_followers"] is None  # no snapshot yet
    assert posts[401]["followers"] == 1000 and posts[401]["followers_date"] == dt.date(
        2024, 6, 1
    )  # not 2 Jun's
    assert posts[401]["er_followers"] == pytest.approx(0.1)
    assert posts[402]["followers"] == 2000 and posts[402]["er_followers"] == pytest.approx(0.05)  # same day
    ada = _by_id(post_engagement(con, Filters(influencer_ids=(1,)), as_of=AS_OF), "post_id")
    assert ada[113]["followers"] == 1000  # 19 May: the 31 May snapshot (4,000) is after it
    assert ada[100]["er_followers"] == pytest.approx(0.5)


def test_full_er_and_er_by_views(con: duckdb.DuckDBPyConnection) -> None:
    posts = _by_id(post_engagement(con, as_of=AS_OF), "post_id")
    assert posts[401]["full_er"] == pytest.approx((100 + 0 + 10 + 4) / 1000)
    assert posts[402]["full_er"] is None  # the platform gave neither shares nor saves
    assert posts[401]["er_views"] == pytest.approx(100 / 2000)
    assert posts[300]["er_views"] == pytest.approx(0.1) and posts[301]["er_views"] == pytest.approx(0.05)
    assert posts[402]["er_views"] is None


def test_hidden_follower_count_gives_no_er_not_zero(con: duckdb.DuckDBPyConnection) -> None:
    posts = post_engagement(con, Filters(influencer_ids=(3,)), as_of=AS_OF)
    assert posts["followers"].null_count() == 2 and posts["er_followers"].null_count() == 2
    assert posts["full_er"].null_count() == 2
    cy = _by_id(roster_metrics(con, as_of=AS_OF))[3]
    assert cy["followers"] is None and cy["tier"] is None
    assert cy["er_median"] is None and cy["er_mean"] is None and cy["er_ci_low"] is None
    assert cy["er_views_median"] == pytest.approx(0.075)
    assert cy["growth_30d"] is None


# -- window, cadence, growth ----------------------------------------------------------------------------------
def test_window_is_90_days_when_they_hold_more_than_12_posts(con: duckdb.DuckDBPyConnection) -> None:
    ada = _by_id(roster_metrics(con, as_of=AS_OF))[1]
    assert ada["posts_window"] == 13  # the 1 Mar post (ER 0.5) is left out
    assert ada["er_median"] == pytest.approx(0.07)
    assert ada["er_mean"] == pytest.approx(0.07)
    assert ada["cadence_per_week"] == pytest.approx(13 / (90 / 7))
    assert ada["sponsored_er"] == pytest.approx(0.015)  # k=1 paid partnership, k=2 linked to a campaign
    assert ada["organic_er"] == pytest.approx(0.08)  # k = 3..13
    assert (ada["sponsored_posts_window"], ada["organic_posts_window"]) == (2, 11)


def test_window_is_last_12_posts_when_90_days_hold_fewer(con: duckdb.DuckDBPyConnection) -> None:
    bo = _by_id(roster_metrics(con, as_of=AS_OF))[2]
    assert bo["posts_window"] == 12  # 3 recent + the 9 latest older ones (ER .03 … .11)
    assert bo["er_median"] == pytest.approx((0.08 + 0.09) / 2)
    assert bo["er_mean"] == pytest.approx((sum(range(3, 12)) / 100 + 0.63) / 12)
    assert bo["cadence_per_week"] == pytest.approx(3 / (90 / 7))
    window = post_engagement(con, Filters(influencer_ids=(2,)), as_of=AS_OF, window_only=True)
    assert sorted(window["post_id"].to_list()) == [200, 201, 202, *range(213, 222)]


def test_the_window_moves_with_the_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    ada = _by_id(roster_metrics(con, as_of=dt.date(2024, 4, 30)))[1]
    # as of 30 Apr: posts on 13, 16, … 28 Apr (k = 1..6) plus 1 Mar; 90 days hold 7 posts, so the last 12 = 7
    assert ada["posts_window"] == 7
    assert ada["er_median"] == pytest.approx(0.04)


def test_follower_growth_uses_the_snapshots_at_or_before_each_date(con: duckdb.DuckDBPyConnection) -> None:
    ada = _by_id(roster_metrics(con, as_of=AS_OF))[1]
    assert ada["followers"] == 4400
    assert ada["growth_30d"] == pytest.approx(4400 / 4000 - 1)  # 31 May snapshot
    assert ada["growth_90d"] == pytest.approx(4400 / 1000 - 1)  # 1 Apr → the 1 Jan snapshot
    bo = _by_id(roster_metrics(con, as_of=AS_OF))[2]
    assert bo["growth_30d"] is None  # both ends are the same (only) snapshot: no information
    accounts = _by_id(account_metrics(con, as_of=AS_OF), "account_id")
    assert accounts[10]["growth_30d"] == pytest.approx(0.1)
    assert accounts[10]["followers_30d_ago_date"] == dt.date(2024, 5, 31)


# -- EMV and price ------------------------------------------------------------------------------------------
def test_emv_per_post_and_over_the_window(con: duckdb.DuckDBPyConnection) -> None:
    posts = _by_id(post_engagement(con, as_of=AS_OF), "post_id")
    # likes × 0.1 + comments × 1 + shares × 0.5 + saves × 0.25 + views / 1000 × 2
    assert posts[401]["emv"] == pytest.approx(100 * 0.1 + 10 * 0.5 + 4 * 0.25 + 2000 / 1000 * 2)
    assert posts[101]["emv"] == pytest.approx(9 * 0.1 + 1 * 1)
    assert posts[300]["emv"] is None  # youtube is not on the card
    roster = _by_id(roster_metrics(con, as_of=AS_OF))
    assert roster[1]["emv_window"] == pytest.approx(1.9 * sum(range(1, 14)))
    assert roster[1]["emv_median_post"] == pytest.approx(1.9 * 7)
    assert roster[3]["emv_window"] is None
    assert roster[1]["emv_currency"] == "USD"


def test_price_from_fees_paid_else_from_emv(con: duckdb.DuckDBPyConnection) -> None:
    roster = _by_id(roster_metrics(con, as_of=AS_OF))
    ada, bo, cy, dee = roster[1], roster[2], roster[3], roster[4]
    # Ada: completed 500 + live 800 count; the declined 9,999 does not
    assert (ada["price_basis"], ada["price_low"], ada["price_high"], ada["price_deals"]) == (
        "fees",
        500,
        800,
        2,
    )
    # Bo: a zero fee and a prospect's offer are not fees paid → median EMV per post × [0.5, 1.5]
    assert bo["price_basis"] == "emv" and bo["price_currency"] == "USD"
    assert bo["price_low"] == pytest.approx(0.1 * 85 * 0.5) and bo["price_high"] == pytest.approx(
        0.1 * 85 * 1.5
    )
    assert (cy["price_basis"], cy["price_low"]) == ("fees", 900)  # fees even without EMV
    assert (dee["price_basis"], dee["price_currency"], dee["price_low"], dee["price_high"]) == (
        "fees",
        "EUR",
        300,
        350,
    )


def test_brand_filter_narrows_the_roster_and_the_fees(con: duckdb.DuckDBPyConnection) -> None:
    roster = roster_metrics(con, Filters(brand_ids=(2,)), as_of=AS_OF)
    assert roster["influencer_id"].to_list() == [1, 2, 4]  # a deal (any stage) with brand 2
    rows = _by_id(roster)
    assert (rows[1]["price_low"], rows[1]["price_high"]) == (800, 800)  # only brand 2's fee
    assert rows[2]["price_basis"] == "emv"
    only_youtube = roster_metrics(con, Filters(platforms=("youtube",)), as_of=AS_OF)
    assert only_youtube["influencer_id"].to_list() == [3]


# -- bootstrap interval -------------------------------------------------------------------------------------------
def test_interval_only_with_five_posts_and_around_the_median(con: duckdb.DuckDBPyConnection) -> None:
    roster = _by_id(roster_metrics(con, as_of=AS_OF))
    ada = roster[1]
    assert ada["er_ci_low"] <= ada["er_median"] <= ada["er_ci_high"]
    assert ada["er_ci_low"] < ada["er_ci_high"]
    assert roster[4]["er_ci_low"] is None and roster[4]["er_ci_high"] is None  # 2 posts with an ER
    assert bootstrap_median_interval([0.1, 0.2, 0.3, 0.4]) is None
    low, high = bootstrap_median_interval([0.1, 0.2, 0.3, 0.4, 0.5])  # type: ignore[misc]
    assert low <= 0.3 <= high


def test_interval_is_seeded_and_the_same_per_group_or_alone() -> None:
    rng = np.random.default_rng(1)
    values = {k: rng.lognormal(-3, 0.5, n) for k, n in enumerate([5, 6, 6, 17, 40, 3])}
    frame = pl.DataFrame(
        {
            "key": np.repeat(list(values), [v.size for v in values.values()]),
            "er": np.concatenate(list(values.values())),
        }
    )
    grouped = _by_id(bootstrap_by_group(frame, "key", "er"), "key")
    assert 5 not in grouped  # 3 values: no interval
    for key, vals in values.items():
        alone = bootstrap_median_interval(vals)
        if alone is None:
            continue
        assert (grouped[key]["ci_low"], grouped[key]["ci_high"]) == pytest.approx(alone)
        assert bootstrap_median_interval(vals) == alone


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=5, max_size=80))
def test_interval_contains_the_median(values: list[float]) -> None:
    interval = bootstrap_median_interval(values)
    assert interval is not None
    low, high = interval
    median = float(np.median(values))
    assert min(values) <= low <= median + 1e-12 and median - 1e-12 <= high <= max(values)


# -- invariants under random posts ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("scratch") / "scratch.duckdb"
    write_rows(
        path,
        {
            "influencers": (("influencer_id", "name"), [(1, "A"), (2, "B")]),
            "accounts": (
                ("account_id", "influencer_id", "platform", "handle"),
                [(1, 1, "instagram", "a"), (2, 2, "tiktok", "b")],
            ),
        },
    )
    yield path
    get_store(path).close()


_counts = st.one_of(st.none(), st.integers(0, 10**7))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    followers=st.lists(st.one_of(st.none(), st.integers(0, 10**8)), min_size=1, max_size=3),
    posts=st.lists(st.tuples(st.integers(1, 2), st.integers(0, 200), _counts, _counts, _counts), max_size=25),
)
def test_er_is_never_negative_nor_infinite(
    scratch_db: Path,
    followers: list[int | None],
    posts: list[tuple[int, int, int | None, int | None, int | None]],
) -> None:
    store = get_store(scratch_db)
    with store.transaction() as cur:
        cur.execute("DELETE FROM posts; DELETE FROM account_snapshots")
        snaps = [
            (a, dt.date(2024, 1, 1) + dt.timedelta(days=30 * i), f)
            for i, f in enumerate(followers)
            for a in (1, 2)
        ]
        cur.executemany(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES (?, ?, ?)", snaps
        )
        rows = [
            (i, acc, f"p{i}", D(2024, 1, 1) + dt.timedelta(days=day), likes, comments, views)
            for i, (acc, day, likes, comments, views) in enumerate(posts)
        ]
        if rows:
            cur.executemany(
                "INSERT INTO posts (post_id, account_id, platform_post_id, posted_at, likes, comments, views) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    with store.connect() as cur:
        per_post = post_engagement(cur, as_of=dt.date(2024, 8, 1))
        roster = roster_metrics(cur, as_of=dt.date(2024, 8, 1))
    for column in ("er_followers", "er_views", "full_er"):
        values = per_post[column].drop_nulls()
        assert (values >= 0).all() and values.is_finite().all()
    # no ER where the follower count is unknown or zero
    assert per_post.filter(~(pl.col("followers") > 0) | pl.col("followers").is_null())[
        "er_followers"
    ].null_count() == (per_post.filter(~(pl.col("followers") > 0) | pl.col("followers").is_null()).height)
    for row in roster.iter_rows(named=True):
        if row["er_ci_low"] is not None:
            assert row["er_ci_low"] <= row["er_median"] <= row["er_ci_high"]
        assert row["posts_window"] >= 0 and row["cadence_per_week"] >= 0


# -- one influencer ---------------------------------------------------------------------------------------------
def test_profile_equals_the_roster_row(con: duckdb.DuckDBPyConnection) -> None:
    profile = influencer_profile(con, 1, as_of=AS_OF)
    assert_same_row(profile.metrics, _by_id(roster_metrics(con, as_of=AS_OF))[1])
    assert profile.window_posts.height == 13 and profile.posts.height == 14
    assert profile.accounts["account_id"].to_list() == [10]
    assert profile.fees["fee"].to_list() == [500.0, 800.0]
    assert profile.follower_history["followers"].to_list() == [1000, 4000, 4400]
    assert profile.rate_card.platforms == ("instagram",)
    with pytest.raises(UnknownInfluencerError):
        influencer_profile(con, 99, as_of=AS_OF)


def test_follower_history_filters_by_platform_and_date(con: duckdb.DuckDBPyConnection) -> None:
    history = follower_history(con, 1, Filters(end=dt.date(2024, 5, 31)))
    assert history["snapshot_date"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 5, 31)]
    assert follower_history(con, 1, Filters(platforms=("youtube",))).is_empty()


def test_every_roster_metric_has_a_definition() -> None:
    for key in ("followers", "tier", "er_post", "er_median", "er_mean", "er_ci", "er_views", "full_er",
                "growth_30d", "growth_90d", "cadence", "sponsored_er", "organic_er", "emv", "price"):  # fmt: skip
        assert DEFINITIONS[key].text()
    assert "12 posts or 90 days" in DEFINITIONS["er_median"].text()
    assert "1,000" in DEFINITIONS["er_ci"].text()


# -- rate card --------------------------------------------------------------------------------------------------
def test_shipped_rate_card_loads_and_covers_every_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RATE_CARD_ENV, raising=False)
    card = load_rate_card()
    assert set(card.platforms) == {"youtube", "instagram", "tiktok", "x", "twitch"}
    assert card.currency == "USD" and card.source.endswith("rate_card.csv")
    assert all(value >= 0 for value in card.values.select(pl.exclude("platform").min()).row(0))


def test_rate_card_path_comes_from_the_environment(card_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RATE_CARD_ENV, str(card_path))
    card = load_rate_card()
    assert card.platforms == ("instagram",) and card.values["v_save"].to_list() == [0.25]
    assert "instagram: like 0.1" in card.label()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("platform,v_like,v_comment,v_share\ninstagram,1,1,1\n", "lacks the column(s) v_kview"),
        ("platform,v_like,v_comment,v_share,v_kview\n", "has no rows"),
        ("platform,v_like,v_comment,v_share,v_kview\nmyspace,1,1,1,1\n", "'myspace' is not one of"),
        ("platform,v_like,v_comment,v_share,v_kview\ninstagram,1,1,1,1\nInstagram,1,1,1,1\n", "twice"),
        ("platform,v_like,v_comment,v_share,v_kview\ninstagram,one,1,1,1\n", "v_like 'one' is not a number"),
        ("platform,v_like,v_comment,v_share,v_kview\ninstagram,1,-2,1,1\n", "must be finite and ≥ 0"),
        ("platform,v_like,v_comment,v_share,v_kview\ninstagram,1,,1,1\n", "v_comment is empty"),
        (
            "platform,currency,v_like,v_comment,v_share,v_kview\ninstagram,USD,1,1,1,1\nx,EUR,1,1,1,1\n",
            "mixes",
        ),
    ],
)
def test_rate_card_errors_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RateCardError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rate_card(path)


def test_missing_rate_card_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RateCardError, match="does not exist.*TRIAD_RATE_CARD"):
        load_rate_card(tmp_path / "nope.csv")


# -- the scale-1 demo ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("demo1") / "demo1.duckdb"
    build_demo(path, scale=1, seed=42, end_date=dt.date(2026, 10, 31))
    store = get_store(path)
    with store.connect() as cur:
        yield cur
    store.close()


@pytest.fixture(scope="module")
def demo_roster(demo1: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return roster_metrics(
        demo1, rate_card=load_rate_card(Path(__file__).parent.parent / "data" / "rate_card.csv")
    )


def test_demo_er_falls_with_tier(demo_roster: pl.DataFrame) -> None:
    by_tier = (
        demo_roster.filter(pl.col("tier").is_not_null())
        .group_by("tier")
        .agg(pl.col("er_median").median())
        .sort("tier")  # enum order: <10k, 10k–100k, 100k–1M, >1M
    )
    assert by_tier["tier"].cast(pl.String).to_list() == list(TIER_LABELS)
    er = by_tier["er_median"].to_list()
    assert all(a > b for a, b in zip(er, er[1:], strict=False)), er


def test_demo_roster_invariants(demo_roster: pl.DataFrame) -> None:
    assert demo_roster.height == 300 and demo_roster["influencer_id"].is_unique().all()
    for column in ("er_median", "er_mean", "er_views_median", "full_er_median", "sponsored_er", "organic_er"):
        values = demo_roster[column].drop_nulls()
        assert (values >= 0).all() and values.is_finite().all(), column
    with_ci = demo_roster.filter(pl.col("er_ci_low").is_not_null())
    assert with_ci.height > 250
    assert (
        (with_ci["er_ci_low"] <= with_ci["er_median"]) & (with_ci["er_median"] <= with_ci["er_ci_high"])
    ).all()
    assert (demo_roster.filter(pl.col("er_posts") < 5)["er_ci_low"].null_count()) == (
        demo_roster.filter(pl.col("er_posts") < 5).height
    )
    assert set(demo_roster["price_basis"].drop_nulls().unique()) == {"fees", "emv"}
    assert (demo_roster["price_low"].drop_nulls() <= demo_roster["price_high"].drop_nulls()).all()
    assert not math.isnan(demo_roster["growth_30d"].drop_nulls().median())


def test_demo_profile_matches_roster(demo1: duckdb.DuckDBPyConnection, demo_roster: pl.DataFrame) -> None:
    card = load_rate_card(Path(__file__).parent.parent / "data" / "rate_card.csv")
    rows = _by_id(demo_roster)
    for influencer_id in (1, 57, 150, 300):
        profile = influencer_profile(demo1, influencer_id, rate_card=card)
        assert_same_row(profile.metrics, rows[influencer_id])


def _engagement_in_full(con: duckdb.DuckDBPyConnection, filters: Filters, window_by: str) -> pl.DataFrame:
    """The window's posts the long way: every post ranked and joined to the snapshots, then filtered."""
    every = post_engagement(con, filters, window_by=window_by)
    return every.filter(pl.col("in_window"))


@pytest.mark.parametrize("window_by", ["influencer", "account"])
def test_window_posts_picked_first_are_the_same_posts(tmp_path: Path, demo_db: Path, window_by: str) -> None:
    """post_engagement(window_only=True) picks the window's posts before reading them and finds followers by
    same-day snapshot, else the latest earlier one; with gaps in the snapshots (days and whole months missing,
    an account's snapshots all older than its window) it gives the rows of the long way."""
    path = tmp_path / "gaps.duckdb"
    path.write_bytes(demo_db.read_bytes())
    store = get_store(path)
    with store.transaction() as cur:
        cur.execute("DELETE FROM account_snapshots WHERE day(snapshot_date) % 3 = 0")
        cur.execute("DELETE FROM account_snapshots WHERE month(snapshot_date) = 9 AND account_id % 2 = 0")
        cur.execute(
            "DELETE FROM account_snapshots WHERE account_id = (SELECT min(account_id) FROM accounts) "
            "AND snapshot_date >= DATE '2026-05-01'"
        )
    with store.connect() as cur:
        for filters in (Filters(), Filters(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 15))):
            quick = post_engagement(cur, filters, window_by=window_by, window_only=True)
            assert quick.height > 100 and quick["followers"].null_count() < quick.height
            assert_frame_equal(quick, _engagement_in_full(cur, filters, window_by))
    store.close()


def test_roster_metrics_without_the_interval_are_the_same_metrics(demo_db: Path) -> None:
    with get_store(demo_db).connect() as cur:
        full = roster_metrics(cur)
        lean = roster_metrics(cur, with_interval=False)
    assert full["er_ci_low"].null_count() < full.height  # intervals exist where there are posts
    assert lean["er_ci_low"].null_count() == lean["er_ci_high"].null_count() == lean.height
    assert_frame_equal(lean.drop("er_ci_low", "er_ci_high"), full.drop("er_ci_low", "er_ci_high"))
    assert lean.columns == full.columns
