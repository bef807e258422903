"""Audience voice on crafted comment threads: sentiment aggregates, quality signals with their evidence,
brand affinity from organic mentions, and the demo workspace's comments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from models import affinity
from models import comments as voice
from models.filters import Filters
from models.sentiment import score_texts
from models.store import Store, get_store

DAY = dt.datetime(2026, 9, 1, 12)
WINDOW = Filters(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31))


def _store(path: Path) -> Store:
    store = get_store(path)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO brands (brand_id, name, domain) VALUES (1, 'Lumen Labs', 'lumenlabs.example'), "
            "(2, 'Orbit Audio', 'orbit-audio.example')"
        )
        cur.execute(
            "INSERT INTO influencers (influencer_id, name, niche, country) VALUES (1, 'Ana', 'beauty', 'US'), "
            "(2, 'Ben', 'tech', 'GB')"
        )
        cur.execute(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES "
            "(1, 1, 'instagram', 'ana'), (2, 2, 'youtube', 'ben')"
        )
        cur.execute(
            "INSERT INTO campaigns (campaign_id, brand_id, name, status) VALUES (1, 1, 'Lumen launch', 'active')"
        )
    return store


def _posts(store: Store, rows: list[tuple[int, int, int, str, bool, int | None]]) -> None:
    """(post_id, account_id, day offset, caption, sponsored, campaign_id)."""
    frame = pl.DataFrame(
        {
            "post_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "platform_post_id": [f"p{r[0]}" for r in rows],
            "posted_at": [DAY + dt.timedelta(days=r[2]) for r in rows],
            "caption": [r[3] for r in rows],
            "is_sponsored": [r[4] for r in rows],
            "campaign_id": [r[5] for r in rows],
        },
        schema_overrides={"campaign_id": pl.Int32, "account_id": pl.Int32},
    )
    with store.transaction() as cur:
        cur.register("_p", frame.to_arrow())
        cur.execute("INSERT INTO posts BY NAME SELECT * FROM _p")
        cur.unregister("_p")


def _comments(store: Store, rows: list[tuple[int, str, str]], start: int = 1) -> None:
    """(post_id, author, text), written as a sync would: language and score at write."""
    scored = score_texts([r[2] for r in rows])
    frame = pl.DataFrame(
        {
            "comment_id": list(range(start, start + len(rows))),
            "post_id": [r[0] for r in rows],
            "platform_comment_id": [f"c{i}" for i in range(start, start + len(rows))],
            "author_key": [r[1] for r in rows],
            "text": [r[2] for r in rows],
            "published_at": [DAY + dt.timedelta(hours=i) for i in range(len(rows))],
            "language": scored["language"],
            "sentiment": scored["sentiment"],
        },
        schema_overrides={"post_id": pl.Int64},
    )
    with store.transaction() as cur:
        cur.register("_c", frame.to_arrow())
        cur.execute("INSERT INTO comments BY NAME SELECT * FROM _c")
        cur.unregister("_c")


@pytest.fixture
def healthy(empty_db: Path) -> Store:
    """Ana: six posts, varied comments from many people, a few in Spanish, one negative."""
    store = _store(empty_db)
    _posts(store, [(i, 1, i, f"Day {i} of my routine", False, None) for i in range(1, 7)])
    texts = [
        "I love this so much!",
        "Where did you get that jacket?",
        "The audio is terrible in this one",
        "Honestly the most useful tutorial on here",
        "Me encanta, gracias por compartir",
        "What camera do you use for this?",
        "This made my morning, thank you",
        "Great tips, tried it and it works!",
        "Is there a part two coming soon?",
        "Absolutely stunning colours in this",
    ]
    endings = ["", " from Lisbon", " (watching at work)"]
    rows = [(1 + k % 6, f"person{k}", texts[k % 10] + endings[k // 10]) for k in range(30)]
    _comments(store, rows)
    return store


def test_summary_counts_scored_comments_only(healthy: Store) -> None:
    comments = voice.influencer_comments(healthy, 1, WINDOW)
    summary = voice.voice_summary(comments)
    assert summary.comments == 30 and summary.not_scored == 3  # the Spanish ones
    assert summary.scored == 27
    assert summary.positive + summary.neutral + summary.negative == summary.scored
    assert summary.share("negative") == pytest.approx(3 / 27)
    assert summary.posts == 6 and summary.commenters == 30
    assert summary.languages.filter(pl.col("language") == "es")["comments"].item() == 3


def test_top_comments_are_verbatim_and_ordered(healthy: Store) -> None:
    comments = voice.influencer_comments(healthy, 1, WINDOW)
    negative = voice.top_comments(comments, "negative", 2)
    assert negative["text"].to_list()[0].startswith("The audio is terrible in this one")
    positive = voice.top_comments(comments, "positive", 3)
    scores = positive["sentiment"].to_list()
    assert scores == sorted(scores, reverse=True)


def test_sentiment_over_time_and_per_post(healthy: Store) -> None:
    comments = voice.influencer_comments(healthy, 1, WINDOW)
    weekly = voice.sentiment_over_time(comments)
    assert weekly["comments"].sum() == 30 and weekly["scored"].sum() == 27
    posts = voice.per_post(comments)
    assert posts.height == 6 and posts["comments"].sum() == 30


def test_a_healthy_thread_raises_no_quality_flag(healthy: Store) -> None:
    signals = voice.quality_signals(voice.influencer_comments(healthy, 1, WINDOW))
    assert [s.key for s in signals] == ["duplicates", "low_effort", "pods"]
    assert not any(s.flagged for s in signals), [(s.key, s.value) for s in signals]


@pytest.fixture
def botted(empty_db: Path) -> Store:
    """Ben: six posts; the same five accounts paste near-identical praise under every one; emoji spam."""
    store = _store(empty_db)
    _posts(store, [(10 + i, 2, i, f"Video {i}", False, None) for i in range(6)])
    rows: list[tuple[int, str, str]] = []
    variants = ["Great post, love it!! 🔥🔥", "great post love it 🔥", "GREAT POST!!! Love it 🔥🔥🔥"]
    for i in range(6):
        for member in range(5):
            rows.append((10 + i, f"pod{member}", variants[(i + member) % 3]))
        rows.append((10 + i, f"fan{i}", "😍😍"))
        question = ["Which lens is that?", "Where was this filmed?", "How long did the edit take?"]
        rows.append((10 + i, f"other{i}", question[i % 3] + ["", " Asking for a friend"][i // 3]))
    _comments(store, rows)
    return store


def test_pods_and_duplicates_are_flagged_with_their_evidence(botted: Store) -> None:
    comments = voice.influencer_comments(botted, 2, WINDOW)
    signals = {s.key: s for s in voice.quality_signals(comments)}
    dup = signals["duplicates"]
    assert dup.flagged and dup.value == pytest.approx(30 / 42)
    assert set(dup.evidence["copies"].to_list()) == {30}  # the three variants are one normalised text
    assert voice.normalise_comment("GREAT POST!!! Love it 🔥🔥🔥") == voice.normalise_comment(
        "great post love it 🔥"
    )
    pods = signals["pods"]
    assert pods.flagged and pods.value == pytest.approx(30 / 42)
    assert pods.evidence["commenter"].n_unique() == 5
    assert "5 commenter(s)" in pods.summary
    low = signals["low_effort"]
    assert set(low.evidence.filter(pl.col("kind") == "emoji only")["text"].to_list()) == {"😍😍"}


def test_few_comments_are_never_flagged(empty_db: Path) -> None:
    store = _store(empty_db)
    _posts(store, [(1, 1, 0, "one", False, None)])
    _comments(store, [(1, "a", "🔥"), (1, "b", "🔥"), (1, "c", "🔥")])
    signals = voice.quality_signals(voice.influencer_comments(store, 1, WINDOW))
    assert signals[1].value == 1.0 and not signals[1].flagged
    assert "at least 5 are needed" in signals[2].summary


def test_no_comments_gives_empty_frames_not_errors(empty_db: Path) -> None:
    store = _store(empty_db)
    comments = voice.influencer_comments(store, 1, WINDOW)
    assert comments.is_empty() and "label" in comments.columns
    summary = voice.voice_summary(comments)
    assert summary.comments == 0 and summary.share("positive") is None
    assert voice.sentiment_over_time(comments).is_empty()
    assert all(not s.flagged and s.value is None for s in voice.quality_signals(comments))


# -- brand affinity ------------------------------------------------------------------------------------------------
def test_organic_mentions_per_influencer_and_brand(empty_db: Path) -> None:
    store = _store(empty_db)
    _posts(
        store,
        [
            (1, 1, 0, "Just love my Lumen Labs serum, not sponsored", False, None),
            (2, 1, 1, "#ad Partnered with Lumen Labs, code ANA10", True, 1),
            (3, 1, 2, "Morning routine with #lumenlabs", False, None),
            (4, 1, 3, "Illuminate your day (no brand here)", False, None),
            (5, 2, 0, "New Orbit-Audio headphones? no: orbit audio review soon", False, None),
        ],
    )
    _comments(
        store,
        [
            (2, "x", "Lumen Labs broke me out, would not recommend"),  # under Lumen's own ad: prompted
            (4, "y", "Is that Lumen Labs? I love it!"),  # organic
            (4, "z", "lumenlabsfan account here"),  # not a whole word: no mention
        ],
    )
    mentions = affinity.brand_mentions(store, WINDOW)
    lumen = mentions.filter(pl.col("brand_id") == 1)
    assert sorted(lumen["post_id"].to_list()) == [1, 2, 2, 3, 4]
    assert lumen.filter(~pl.col("organic"))["post_id"].to_list() == [2, 2]  # the ad and its comment
    table = affinity.brand_affinity(store, WINDOW)
    ana = table.filter((pl.col("influencer_id") == 1) & (pl.col("brand_id") == 1)).to_dicts()[0]
    assert (ana["organic_mentions"], ana["caption_mentions"], ana["comment_mentions"]) == (3, 2, 1)
    assert (ana["prompted_comments"], ana["sponsored_captions"]) == (1, 1)
    assert ana["posts"] == 4 and ana["per_100_posts"] == pytest.approx(50.0)
    assert ana["first_mention"] == DAY and ana["last_mention"] == DAY + dt.timedelta(days=2)
    assert ana["days_since_last"] == (WINDOW.end - dt.date(2026, 9, 3)).days
    assert ana["scored"] == 3 and ana["share_positive"] == pytest.approx(2 / 3)  # post 3 is neutral
    ben = table.filter(pl.col("influencer_id") == 2).to_dicts()[0]
    assert ben["brand"] == "Orbit Audio" and ben["caption_mentions"] == 1
    only_orbit = affinity.brand_affinity(store, Filters(brand_ids=(2,), start=WINDOW.start, end=WINDOW.end))
    assert only_orbit["brand_id"].to_list() == [2]


def test_aliases_and_pattern() -> None:
    assert affinity.brand_aliases("Lumen Labs", "https://www.lumenlabs.example/shop") == [
        "lumen labs",
        "lumenlabs",
    ]
    pattern = affinity.mention_pattern(["a.b co"])
    frame = pl.DataFrame({"t": ["love a.b  co!", "axb co", "#a.b co"]})
    assert frame["t"].str.contains(pattern).to_list() == [True, False, True]


def test_the_database_prefilter_drops_no_mention(demo_db: Path) -> None:
    """brand_mentions lets DuckDB drop texts without any alias's first word before the exact match; matching
    every caption and comment of the demo without that prefilter finds the very same mentions."""
    store = get_store(demo_db)
    window = Filters(start=dt.date(2026, 5, 1), end=dt.date(2026, 10, 31))
    found = affinity.brand_mentions(store, window)
    texts = store.query(
        "SELECT p.post_id, p.caption AS text, 'caption' AS source FROM posts p "
        "WHERE p.posted_at >= ? AND p.posted_at < ? AND p.caption IS NOT NULL "
        "UNION ALL SELECT c.post_id, c.text, 'comment' FROM comments c WHERE c.published_at >= ? AND c.published_at < ?",
        [window.start, window.end + dt.timedelta(days=1)] * 2,
    ).with_columns(lowered=pl.col("text").str.to_lowercase())
    expected = 0
    for pattern in affinity._brand_patterns(store, None)["pattern"]:
        expected += texts.filter(pl.col("lowered").str.contains(pattern)).height
    assert found.height == expected > 20
    unscored = affinity.brand_mentions(store, window, score_prompted=False)
    sponsored = unscored.filter((pl.col("source") == "caption") & ~pl.col("organic"))
    assert sponsored.height > 0 and sponsored["sentiment"].null_count() == sponsored.height
    organic = pl.col("organic") | (pl.col("source") == "comment")
    assert_series_equal(unscored.filter(organic)["sentiment"], found.filter(organic)["sentiment"])


def test_a_mention_split_over_lines_is_found(empty_db: Path) -> None:
    store = _store(empty_db)
    _posts(store, [(1, 1, 0, "all day with my LUMEN\nlabs serum", False, None)])
    assert affinity.brand_mentions(store, WINDOW)["post_id"].to_list() == [1]


def test_no_mentions_gives_an_empty_table(empty_db: Path) -> None:
    store = _store(empty_db)
    assert affinity.brand_affinity(store, WINDOW).is_empty()


# -- the demo workspace ---------------------------------------------------------------------------------------------
def test_the_demo_has_every_kind_of_comment(demo_db: Path) -> None:
    store = get_store(demo_db)
    frame = store.query("SELECT text, language, sentiment, author_key, post_id FROM comments")
    assert frame.height > 500
    languages = set(frame["language"].to_list())
    assert {"en", "emoji", "es"} <= languages and len(languages) >= 5
    labels = score_texts(frame["text"].to_list())
    assert labels["sentiment"].null_count() > 0  # some not scored
    scored = frame["sentiment"].drop_nulls()
    assert (scored >= 0.05).any() and (scored <= -0.05).any()
    assert frame["text"].str.contains("free followers").any()  # spam
    assert frame["author_key"].str.contains(r"^[0-9a-f]{32}$").all()
    orphans = store.query("SELECT count(*) AS n FROM comments c ANTI JOIN posts p USING (post_id)")["n"][0]
    assert orphans == 0
    flagged = 0
    ids = store.query("SELECT influencer_id FROM influencers")["influencer_id"].to_list()
    for influencer_id in ids:
        signals = voice.quality_signals(voice.influencer_comments(store, influencer_id, Filters()))
        flagged += any(s.key == "pods" and s.flagged for s in signals)
    assert flagged >= 1  # the demo's engagement pod shows up
    assert not affinity.brand_affinity(store, Filters()).is_empty()


# -- invariants ------------------------------------------------------------------------------------------------------
_TEXTS = st.sampled_from(
    [
        "Great post, love it!! 🔥",
        "great post love it 🔥",
        "😍",
        "nice",
        "Where is this?",
        "I love the colours here",
        "",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_TEXTS, st.integers(0, 4), st.integers(0, 6)), max_size=60))
def test_signal_shares_match_their_evidence(rows: list[tuple[str, int, int]]) -> None:
    frame = pl.DataFrame(
        {
            "published_at": [DAY + dt.timedelta(minutes=i) for i in range(len(rows))],
            "text": [r[0] for r in rows],
            "author_key": [f"a{r[1]}" for r in rows],
            "post_id": [r[2] for r in rows],
            "caption": ["c"] * len(rows),
            "url": [None] * len(rows),
        },
        schema_overrides={"url": pl.String, "published_at": pl.Datetime("us"), "post_id": pl.Int64},
    )
    for signal in voice.quality_signals(frame):
        if not rows:
            assert signal.value is None and not signal.flagged
            continue
        assert 0.0 <= signal.value <= 1.0
        assert signal.evidence.height == round(signal.value * len(rows))
        assert not signal.flagged or (len(rows) >= voice.MIN_COMMENTS and signal.value > signal.threshold)
