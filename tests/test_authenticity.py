"""Authenticity signals on crafted accounts (one that triggers each signal, one that does not), on the demo,
and invariants under random data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.authenticity import (
    DEFINITIONS,
    SIGNALS,
    AuthenticityReport,
    authenticity_report,
    comment_like_ratio,
    engagement_below_tier,
    follower_jumps,
    follower_spikes,
    following_ratio,
    score_signals,
)
from models.demo import generate_demo, load_frames
from models.profile import account_metrics
from models.store import get_store

AS_OF = dt.date(2024, 6, 30)
START = dt.date(2024, 3, 1)
JUMP = dt.date(2024, 6, 1)
DAYS = (AS_OF - START).days + 1
PEERS = range(12)  # TikTok accounts 100 … 111, all 50,000 followers (tier 10k–100k)


def _daily(
    account_id: int, base: float, *, jump: float = 1.0, seed: int = 0, following: int = 100
) -> pl.DataFrame:
    """Daily snapshots 1 Mar – 30 Jun: 0.1 % growth a day, 0.1 % noise, × ``jump`` from 1 June on."""
    rng = np.random.default_rng(seed)
    days = np.arange(DAYS)
    followers = base * 1.001**days * (1 + 0.001 * rng.standard_normal(DAYS))
    followers = np.where(days >= (JUMP - START).days, followers * jump, followers)
    return pl.DataFrame(
        {
            "account_id": account_id,
            "snapshot_date": [START + dt.timedelta(days=int(d)) for d in days],
            "followers": np.round(followers).astype(np.int64),
            "following": following,
        }
    )


def _world() -> dict[str, pl.DataFrame]:
    accounts = [(100 + i, 1 + i, "tiktok", f"peer{i}") for i in PEERS]
    accounts += [(200, 1, "instagram", "ratio"), (201, 13, "instagram", "bought"), (202, 13, "instagram", "viral"),
                 (203, 13, "instagram", "steady"), (204, 14, "instagram", "new"), (205, 14, "instagram", "weekly"),
                 (206, 14, "instagram", "small"), (207, 14, "instagram", "even")]  # fmt: skip
    snaps = [
        pl.DataFrame(
            {
                "account_id": 100 + i,
                "snapshot_date": [AS_OF - dt.timedelta(days=d) for d in range(40)],  # from 22 May
                "followers": 50_000,
                "following": 100,
            }
        )
        for i in PEERS
    ]
    snaps += [
        _daily(201, 20_000, jump=1.2, seed=1),
        _daily(202, 20_000, jump=1.2, seed=2),
        _daily(203, 20_000, seed=3),
    ]
    # 204: five days of history and a jump on the last (too little history to judge)
    snaps.append(
        pl.DataFrame(
            {
                "account_id": 204,
                "snapshot_date": [AS_OF - dt.timedelta(days=d) for d in range(4, -1, -1)],
                "followers": [10_000, 10_010, 10_020, 10_030, 13_000],
                "following": 100,
            }
        )
    )
    # 205: weekly snapshots (Mondays), +0.7 % a week, +15 % in the week to 17 June, no posts at all
    mondays = [dt.date(2024, 3, 4) + dt.timedelta(weeks=w) for w in range(17)]
    weekly = [
        10_000 * 1.007**w * (1.15 if day >= dt.date(2024, 6, 17) else 1) for w, day in enumerate(mondays)
    ]
    snaps.append(
        pl.DataFrame(
            {"account_id": 205, "snapshot_date": mondays, "followers": np.round(weekly), "following": 100}
        )
    )
    # following/follower ratio: 6,000 following 7,000 (flagged); 4,000 following 8,000; 6,000 following 6,000
    snaps.append(
        pl.DataFrame(
            {
                "account_id": [200, 206, 207],
                "snapshot_date": [AS_OF] * 3,
                "followers": [6_000, 4_000, 6_000],
                "following": [7_000, 8_000, 6_000],
            }
        )
    )
    snapshots = pl.concat(
        [
            f.with_columns(
                pl.col("account_id").cast(pl.Int32), pl.col("followers", "following").cast(pl.Int64)
            )
            for f in snaps
        ]
    )

    posts: list[dict[str, object]] = []
    for i in PEERS:  # ER (1,000 + 100 i) / 50,000; comments / likes rising with i
        for k in range(12):
            likes, comments = 1000 + 100 * i - 10 * (i + 1), 10 * (i + 1)
            posts.append({"account_id": 100 + i, "posted_at": dt.datetime(2024, 6, 1 + k, 12), "likes": likes,
                          "comments": comments})  # fmt: skip
    for account_id in (201, 202, 203):  # every other day; the viral account has a 5,000-like post on 31 May
        for day in range(1, DAYS, 2):
            when = START + dt.timedelta(days=day)
            likes = 5000 if (account_id == 202 and when == dt.date(2024, 5, 31)) else 290 + day % 3
            posts.append({"account_id": account_id, "posted_at": dt.datetime.combine(when, dt.time(18)),
                          "likes": likes, "comments": 10})  # fmt: skip
    post_frame = pl.DataFrame(posts).with_row_index("post_id", offset=1)
    return {
        "influencers": pl.DataFrame({"influencer_id": range(1, 15), "name": [f"I{i}" for i in range(1, 15)]}),
        "accounts": pl.DataFrame(
            accounts, schema=["account_id", "influencer_id", "platform", "handle"], orient="row"
        ),
        "account_snapshots": snapshots,
        "posts": post_frame.with_columns(
            pl.col("post_id").cast(pl.Int64), platform_post_id=pl.format("p{}", pl.col("post_id"))
        ),
    }


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("authenticity") / "world.duckdb"
    store = get_store(path)
    load_frames(store, _world())
    with store.connect() as cur:
        yield cur
    store.close()


@pytest.fixture(scope="module")
def report(con: duckdb.DuckDBPyConnection) -> AuthenticityReport:
    return authenticity_report(con, as_of=AS_OF)


def _rows(frame: pl.DataFrame, key: str = "account_id") -> dict[int, dict[str, object]]:
    return {row[key]: row for row in frame.iter_rows(named=True)}


# -- follower spike ---------------------------------------------------------------------------------------------
def test_spike_that_engagement_does_not_follow_is_flagged_with_its_evidence(
    con: duckdb.DuckDBPyConnection,
) -> None:
    spikes = follower_spikes(con, as_of=AS_OF)
    assert sorted(spikes["account_id"].to_list()) == [201, 205]
    bought = _rows(spikes)[201]
    assert bought["snapshot_date"] == JUMP and bought["prev_snapshot_date"] == JUMP - dt.timedelta(days=1)
    assert bought["change"] == pytest.approx(0.2, abs=0.01)
    assert bought["robust_z"] > 4 and bought["history_changes"] == 60
    assert bought["posts_around"] == 4 and bought["posts_before"] == 30  # 29 May – 4 Jun; 30 Mar – 28 May
    assert bought["engagement_lift"] == pytest.approx(0, abs=0.02)
    assert (
        bought["reason"].startswith("likes + comments per post")
        and "while followers rose" in bought["reason"]
    )
    weekly = _rows(spikes)[205]
    assert weekly["snapshot_date"] == dt.date(2024, 6, 17) and weekly["posts_around"] == 0
    assert weekly["reason"].startswith("no posts within ±3 days")


def test_spike_that_engagement_follows_is_kept_but_not_flagged(con: duckdb.DuckDBPyConnection) -> None:
    jumps = _rows(follower_jumps(con, as_of=AS_OF))
    assert set(jumps) == {201, 202, 205}  # no jump on the steady account; 204 has too little history
    viral = jumps[202]
    assert viral["engagement_rose"] and not viral["flagged"]
    assert viral["engagement_lift"] > viral["change"]


def test_steady_growth_and_short_history_do_not_trigger(report: AuthenticityReport) -> None:
    accounts = _rows(report.accounts)
    assert accounts[203]["follower_spike"] is False  # judged, not flagged
    assert accounts[204]["follower_spike"] is None  # 3 earlier changes < 5: not judged
    assert accounts[200]["follower_spike"] is None  # a single snapshot


# -- engagement below tier, comment/like ratio -------------------------------------------------------------------
def test_engagement_below_the_tiers_10th_percentile(con: duckdb.DuckDBPyConnection) -> None:
    flagged = engagement_below_tier(con, as_of=AS_OF)
    # ER .020, .022, … .042: the 10th percentile (linear) is .022 + 0.1 × .002 = .0222
    assert sorted(flagged["account_id"].to_list()) == [100, 101]
    row = _rows(flagged)[101]
    assert row["er_median"] == pytest.approx(0.022) and row["er_p10"] == pytest.approx(0.0222)
    assert row["er_peers"] == 12 and row["tier"] == "10k–100k"


def test_comment_like_ratio_outside_the_1st_to_99th_percentile(con: duckdb.DuckDBPyConnection) -> None:
    flagged = comment_like_ratio(con, as_of=AS_OF)
    assert sorted(flagged["account_id"].to_list()) == [100, 111]  # the lowest and the highest of 12 peers
    low = _rows(flagged)[100]
    assert low["comments_per_like"] == pytest.approx(10 / 990) and low["comments_per_like"] < low["cl_p01"]
    assert low["cl_peers"] == 12


def test_small_peer_groups_are_not_judged(report: AuthenticityReport) -> None:
    accounts = _rows(report.accounts)
    # the Instagram accounts have fewer than 10 peers in their tier
    assert accounts[201]["engagement_below_tier"] is None and accounts[201]["comment_like_ratio"] is None
    assert accounts[105]["engagement_below_tier"] is False and accounts[105]["comment_like_ratio"] is False


# -- following/follower ratio ----------------------------------------------------------------------------------------
def test_following_ratio_above_one_over_5k_followers(con: duckdb.DuckDBPyConnection) -> None:
    flagged = following_ratio(con, as_of=AS_OF)
    assert flagged["account_id"].to_list() == [
        200
    ]  # 206 has only 4,000 followers; 207 follows exactly as many
    assert _rows(flagged)[200]["following_per_follower"] == pytest.approx(7000 / 6000)


# -- the report ------------------------------------------------------------------------------------------------------
def test_report_scores_and_never_hides_which_signal_fired(report: AuthenticityReport) -> None:
    accounts = _rows(report.accounts)
    peer0 = accounts[100]
    assert (peer0["signals_evaluated"], peer0["signals_flagged"], peer0["score"]) == (4, 2, 0.5)
    assert peer0["fired"] == ["engagement_below_tier", "comment_like_ratio"]
    assert accounts[105]["score"] == 1.0 and accounts[105]["fired"] == []
    assert (accounts[200]["signals_evaluated"], accounts[200]["score"]) == (1, 0.0)
    influencers = _rows(report.influencers, "influencer_id")
    first = influencers[1]  # peer 0 (TikTok) + the following-ratio account (Instagram)
    assert first["fired"] == ["engagement_below_tier", "following_ratio", "comment_like_ratio"]
    assert (first["signals_evaluated"], first["signals_flagged"], first["score"]) == (4, 3, 0.25)
    assert first["follower_spike"] is False and first["accounts_flagged"] == 2
    assert influencers[13]["fired"] == ["follower_spike"]
    assert sorted(report.evidence) == sorted(SIGNALS)
    assert sorted(report.evidence["follower_spike"]["account_id"].to_list()) == [201, 205]
    assert report.follower_jumps is not None and report.follower_jumps.height == 3


def test_filters_choose_who_is_judged_not_the_peers(con: duckdb.DuckDBPyConnection) -> None:
    from models.filters import Filters

    one = authenticity_report(con, Filters(influencer_ids=(2,)), as_of=AS_OF)  # peer 1 alone
    assert one.accounts["account_id"].to_list() == [101]
    assert one.accounts["engagement_below_tier"].to_list() == [True]  # still judged against its 12 peers
    assert one.evidence["follower_spike"].is_empty()


def test_definitions_state_the_rules() -> None:
    assert "1.4826" in DEFINITIONS["follower_spike"].text()
    assert "60 days" in DEFINITIONS["follower_spike"].text()
    assert "10th percentile" in DEFINITIONS["engagement_below_tier"].text()
    assert "> 5k" in DEFINITIONS["following_ratio"].text()
    assert "1st–99th" in DEFINITIONS["comment_like_ratio"].text()
    assert "share of the signals" in DEFINITIONS["score"].text()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from([True, False, None])] * 4), min_size=1, max_size=20))
def test_score_is_a_share_in_0_1(signals: list[tuple[bool | None, ...]]) -> None:
    frame = pl.DataFrame(signals, schema={s: pl.Boolean for s in SIGNALS}, orient="row")
    scored = score_signals(frame)
    for row, values in zip(scored.iter_rows(named=True), signals, strict=True):
        evaluated = sum(v is not None for v in values)
        flagged = sum(v is True for v in values)
        assert (row["signals_evaluated"], row["signals_flagged"]) == (evaluated, flagged)
        assert row["fired"] == [s for s, v in zip(SIGNALS, values, strict=True) if v]
        if evaluated:
            assert 0.0 <= row["score"] <= 1.0 and row["score"] == pytest.approx(1 - flagged / evaluated)
        else:
            assert row["score"] is None


# -- the spike detector under random follower series ----------------------------------------------------------------
@pytest.fixture(scope="module")
def series_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("series") / "series.duckdb"
    store = get_store(path)
    with store.transaction() as cur:
        cur.execute("INSERT INTO influencers (influencer_id, name) VALUES (1, 'x')")
        cur.execute(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (1, 1, 'tiktok', 'x')"
        )
    store.close()
    yield path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.integers(2_000, 5_000_000),
    growth=st.floats(-0.002, 0.004),
    seed=st.integers(0, 2**16),
    jump_day=st.integers(20, 70),
    jump=st.floats(0.08, 0.5),
)
def test_a_clear_jump_is_found_and_plain_noise_is_not(
    series_db: Path, base: int, growth: float, seed: int, jump_day: int, jump: float
) -> None:
    rng = np.random.default_rng(seed)
    days = np.arange(90)
    organic = base * (1 + growth) ** days * (1 + 0.0008 * rng.standard_normal(days.size))
    with_jump = np.where(days >= jump_day, organic * (1 + jump), organic)
    store = get_store(series_db)
    found = {}
    for name, series in (("organic", organic), ("jump", with_jump)):
        frame = pl.DataFrame(
            {
                "account_id": np.int32(1),
                "snapshot_date": [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in days],
                "followers": np.round(series).astype(np.int64),
            }
        )
        with store.transaction() as cur:
            cur.execute("DELETE FROM account_snapshots")
            cur.register("incoming", frame.to_arrow())
            cur.execute("INSERT INTO account_snapshots BY NAME SELECT * FROM incoming")
            cur.unregister("incoming")
        with store.connect() as cur:
            found[name] = follower_jumps(cur, as_of=dt.date(2024, 3, 30))
    assert found["organic"].is_empty()
    jump_date = dt.date(2024, 1, 1) + dt.timedelta(days=jump_day)
    assert jump_date in found["jump"]["snapshot_date"].to_list()
    # no posts at all: engagement cannot have risen, so the jump is flagged
    assert found["jump"].filter(pl.col("snapshot_date") == jump_date)["flagged"].to_list() == [True]


# -- the scale-1 demo -------------------------------------------------------------------------------------------------
DEMO_END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_frames() -> dict[str, pl.DataFrame]:
    frames = generate_demo(1, 42, end_date=DEMO_END)
    return {t: frames[t] for t in ("influencers", "accounts", "account_snapshots", "posts")}


@pytest.fixture(scope="module")
def injected(demo_frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The demo's injected purchased-follower jumps: organic day-to-day (or week-to-week) change never tops 5 %."""
    snaps = demo_frames["account_snapshots"].sort("account_id", "snapshot_date")
    change = pl.col("followers") / pl.col("followers").shift(1).over("account_id") - 1
    history = pl.int_range(pl.len()).over("account_id")  # earlier snapshots of the account
    return snaps.with_columns(true_change=change, earlier=history).filter(pl.col("true_change") > 0.05)


def _store_with(tmp_path_factory: pytest.TempPathFactory, name: str, frames: dict[str, pl.DataFrame]) -> Path:
    path = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
    load_frames(get_store(path), dict(frames))
    get_store(path).close()
    return path


@pytest.fixture(scope="module")
def demo_report(
    tmp_path_factory: pytest.TempPathFactory, demo_frames: dict[str, pl.DataFrame]
) -> tuple[AuthenticityReport, pl.DataFrame]:
    store = get_store(_store_with(tmp_path_factory, "demo_raw", demo_frames))
    with store.connect() as cur:
        report = authenticity_report(cur)
        metrics = account_metrics(cur)
    store.close()
    return report, metrics


def test_demo_injected_jumps_are_found_and_nothing_else(
    demo_report: tuple[AuthenticityReport, pl.DataFrame], injected: pl.DataFrame
) -> None:
    report, _ = demo_report
    jumps = report.follower_jumps
    judged = injected.filter(pl.col("earlier") > 5)  # ≥ 5 earlier changes in the trailing 60 days
    assert injected.height >= 10 and judged.height >= 0.9 * injected.height
    found = judged.join(jumps, on=["account_id", "snapshot_date"], how="semi")
    assert found.height == judged.height
    extra = jumps.join(injected, on=["account_id", "snapshot_date"], how="anti")
    assert extra.height <= 1, extra  # organic noise essentially never scores z > 4
    # The demo's posts scale with the bumped follower count (models/demo.py passes the bumped followers to
    # _post_metrics), so engagement does partly follow its spikes; most are still flagged.
    flagged = injected.join(jumps.filter(pl.col("flagged")), on=["account_id", "snapshot_date"], how="semi")
    assert flagged.height >= 0.6 * injected.height


def test_demo_spikes_are_flagged_when_engagement_does_not_follow(
    tmp_path_factory: pytest.TempPathFactory, demo_frames: dict[str, pl.DataFrame], injected: pl.DataFrame
) -> None:
    """The demo as its docstring describes it: likes and comments stay at the organic level after the spike."""
    spike = injected.select("account_id", spike_date="snapshot_date", bump="true_change")
    posts = demo_frames["posts"].join(spike, on="account_id", how="left")
    after = pl.col("spike_date").is_not_null() & (pl.col("posted_at").dt.date() >= pl.col("spike_date"))
    posts = posts.with_columns(
        (pl.when(after).then(pl.col(c) / (1 + pl.col("bump"))).otherwise(pl.col(c))).round().cast(pl.Int64)
        for c in ("likes", "comments")
    ).drop("spike_date", "bump")
    store = get_store(_store_with(tmp_path_factory, "demo_fixed", {**demo_frames, "posts": posts}))
    with store.connect() as cur:
        spikes = follower_spikes(cur)
    store.close()
    larger = injected.filter(pl.col("true_change") >= 0.15)
    flagged = larger.join(spikes, on=["account_id", "snapshot_date"], how="semi")
    assert flagged.height >= 0.8 * larger.height, (flagged.height, larger.height)


def test_demo_fake_following_is_flagged(
    demo_report: tuple[AuthenticityReport, pl.DataFrame], demo_frames: dict[str, pl.DataFrame]
) -> None:
    report, _ = demo_report
    last = demo_frames["account_snapshots"].sort("snapshot_date").group_by("account_id").last()
    fake = last.filter((pl.col("following") > pl.col("followers")) & (pl.col("followers") > 5_000))
    assert fake.height >= 3
    flagged = report.evidence["following_ratio"]
    assert sorted(flagged["account_id"].to_list()) == sorted(fake["account_id"].to_list())


def test_demo_report_invariants(demo_report: tuple[AuthenticityReport, pl.DataFrame]) -> None:
    report, metrics = demo_report
    accounts, influencers = report.accounts, report.influencers
    assert accounts.height == metrics.height and influencers.height == 300
    for frame in (accounts, influencers):
        scores = frame["score"].drop_nulls()
        assert ((scores >= 0) & (scores <= 1)).all()
        assert (frame["signals_flagged"] <= frame["signals_evaluated"]).all()
        assert (frame["fired"].list.len() == frame["signals_flagged"]).all()
    # about a tenth of each judged peer group sits below its 10th percentile, by construction
    below = accounts["engagement_below_tier"].drop_nulls()
    assert 0.05 <= below.mean() <= 0.15
    for signal in SIGNALS:
        ids = set(report.evidence[signal]["account_id"].to_list())
        assert ids == set(accounts.filter(pl.col(signal).fill_null(False))["account_id"].to_list()), signal
