"""Lookalikes on a crafted roster whose nearest neighbours are known, with the reasons shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from models import lookalikes as lk
from models.store import Store, get_store

AS_OF = dt.date(2026, 10, 31)

# name: (niche, country, followers, ER, posts per week, bio)
ROSTER = {
    "Seed": ("beauty", "US", 50_000, 0.030, 3.0, "Skincare routines and honest serum reviews"),
    "Twin": ("beauty", "US", 55_000, 0.031, 3.0, "Honest skincare reviews, serum routines"),
    "Cousin": ("beauty", "GB", 40_000, 0.025, 2.0, "Makeup looks and skincare basics"),
    "Gamer": ("gaming", "US", 50_000, 0.030, 3.0, "Speedruns and retro game streams"),
    "Chef": ("food", "BR", 2_000, 0.100, 0.3, "Receitas rápidas and street food"),
}


def _roster(path: Path, roster: dict = ROSTER) -> Store:
    store = get_store(path)
    influencers, accounts, snapshots, posts = [], [], [], []
    post_id = 0
    for i, (name, (niche, country, followers, er, per_week, bio)) in enumerate(roster.items(), start=1):
        influencers.append((i, name, niche, country, bio))
        accounts.append((i, i, "instagram", name.lower()))
        snapshots += [(i, AS_OF - dt.timedelta(days=95), int(followers * 0.97)), (i, AS_OF, followers)]
        n = round(per_week * 90 / 7)
        for k in range(n):
            post_id += 1
            when = dt.datetime.combine(AS_OF, dt.time(12)) - dt.timedelta(days=k * 89 / max(n, 1))
            likes = round(er * followers * 0.97)
            posts.append((post_id, i, f"p{post_id}", when, f"{bio} part {k}", likes, 0))
    with store.transaction() as cur:
        cur.executemany(
            "INSERT INTO influencers (influencer_id, name, niche, country, bio) VALUES (?, ?, ?, ?, ?)",
            influencers,
        )
        cur.executemany(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (?, ?, ?, ?)", accounts
        )
        cur.executemany(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES (?, ?, ?)", snapshots
        )
        cur.executemany(
            "INSERT INTO posts (post_id, account_id, platform_post_id, posted_at, caption, likes, comments) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            posts,
        )
    return store


@pytest.fixture
def store(empty_db: Path) -> Store:
    return _roster(empty_db)


def ids(store: Store) -> dict[str, int]:
    frame = store.query("SELECT name, influencer_id FROM influencers")
    return dict(frame.iter_rows())


def test_nearest_neighbours_come_first_in_the_known_order(store: Store) -> None:
    by_name = ids(store)
    found = lk.find_lookalikes(store, [by_name["Seed"]], as_of=AS_OF)
    assert found.results["name"].to_list() == ["Twin", "Cousin", "Gamer", "Chef"]
    scores = found.results["score"].to_list()
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] < scores[0] <= 1
    assert found.results["rank"].to_list() == [1, 2, 3, 4]
    assert found.seeds["name"].to_list() == ["Seed"]


def test_each_result_says_why(store: Store) -> None:
    by_name = ids(store)
    rows = {
        r["name"]: r for r in lk.find_lookalikes(store, [by_name["Seed"]], as_of=AS_OF).results.to_dicts()
    }
    twin = rows["Twin"]
    assert "same niche (beauty)" in twin["why"] and "same country (US)" in twin["why"]
    assert "similar size (55.0K vs 50.0K)" in twin["why"]
    assert "similar ER (3.1 % vs 3.0 %)" in twin["why"]
    words = twin["shared_words"].split(", ")
    assert len(words) == 3 and set(words) <= {"skincare", "serum", "honest", "reviews", "routines"}
    assert f"shared words: {twin['shared_words']}" in twin["why"]
    assert twin["sim_niche"] == 1.0 and twin["coverage"] == pytest.approx(1.0)
    gamer = rows["Gamer"]
    assert (
        gamer["sim_niche"] == 0.0 and "same niche" not in gamer["why"] and "same country (US)" in gamer["why"]
    )
    chef = rows["Chef"]
    assert chef["sim_size"] == pytest.approx(1 - (4.699 - 3.301) / 2, abs=0.01)  # log10 50k vs 2k
    assert not any(f in chef["why"] for f in ("same niche", "same country", "similar size", "similar ER"))


def test_several_seeds_average_their_similarities(store: Store) -> None:
    by_name = ids(store)
    found = lk.find_lookalikes(store, [by_name["Seed"], by_name["Gamer"]], as_of=AS_OF)
    rows = {r["name"]: r for r in found.results.to_dicts()}
    assert set(rows) == {"Twin", "Cousin", "Chef"}  # seeds are never their own lookalikes
    assert rows["Twin"]["sim_niche"] == pytest.approx(0.5)
    assert rows["Twin"]["sim_country"] == pytest.approx(1.0)


def test_limit_candidates_and_unknown_seed(store: Store) -> None:
    by_name = ids(store)
    found = lk.find_lookalikes(store, [by_name["Seed"]], as_of=AS_OF, limit=2)
    assert found.results.height == 2
    only = lk.find_lookalikes(store, [by_name["Seed"]], as_of=AS_OF, candidate_ids=[by_name["Chef"]])
    assert only.results["name"].to_list() == ["Chef"]
    nobody = lk.find_lookalikes(store, [999], as_of=AS_OF)
    assert nobody.results.is_empty() and nobody.seeds.is_empty()


def test_unknown_features_are_left_out_not_counted_as_far(empty_db: Path) -> None:
    roster = dict(ROSTER)
    store = _roster(empty_db, roster)
    with store.transaction() as cur:  # the twin's follower history is unknown (hidden counts)
        cur.execute("UPDATE account_snapshots SET followers = NULL WHERE account_id = 2")
    found = lk.find_lookalikes(store, [1], as_of=AS_OF)
    twin = found.results.filter(pl.col("name") == "Twin").to_dicts()[0]
    assert twin["sim_size"] is None and twin["sim_er"] is None and twin["sim_growth"] is None
    assert twin["coverage"] == pytest.approx(1 - 0.15 - 0.15 - 0.05)
    assert found.results["name"].to_list()[0] == "Twin"  # still the nearest on what is known


def test_tfidf_is_local_and_normalised() -> None:
    matrix, vocab = lk.tfidf(["skincare serum serum", "game streams", ""])
    norms = (matrix.multiply(matrix)).sum(axis=1)
    assert norms[0] == pytest.approx(1.0) and norms[2] == 0
    assert "serum" in vocab and "the" not in lk.tokens("the serum")
    assert lk.tokens("#SkinCare tips") == ["skincare", "tips"]


def test_the_demo_roster_gives_lookalikes_quickly(demo_db: Path) -> None:
    store = get_store(demo_db)
    found = lk.find_lookalikes(store, [1, 2], as_of=dt.date(2026, 10, 31), limit=5)
    assert found.results.height == 5 and found.results["why"].str.len_chars().min() > 0
