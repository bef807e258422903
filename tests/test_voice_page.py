"""The Voice tab, the brand-affinity section and the Lookalikes panels under AppTest on the demo store: they
show what the models compute, comment text stays text, and empty workspaces explain themselves."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from models import affinity, lookalikes, report
from models import comments as voice
from models.filters import Filters
from models.formatting import fmt_number, fmt_pct
from models.overview import data_date_bounds, default_date_range
from models.store import Store
from pages._campaigns_parts import PICK_KEY
from tests.test_app import assert_clean, metrics, run_app


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "voice.duckdb"
    shutil.copy(demo_db, path)
    return path


def window(db: Path) -> Filters:
    store = Store(db)
    start, end = default_date_range(data_date_bounds(store))
    store.close()
    return Filters(start=start, end=end)


def open_voice(db: Path, monkeypatch: pytest.MonkeyPatch, influencer_id: int) -> AppTest:
    at = run_app(db, monkeypatch)
    at.query_params["influencer"] = str(influencer_id)
    at.switch_page("pages/profiles.py").run()
    at.session_state["profiles_tab"] = "Voice"
    at.run()
    assert_clean(at)
    return at


def texts_shown(at: AppTest) -> list[str]:
    return [str(v) for d in at.dataframe if "Comment" in d.value.columns for v in d.value["Comment"].tolist()]


def markdown_shown(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info])


def pod_influencer(db: Path, filters: Filters) -> int:
    store = Store(db)
    ids = store.query("SELECT influencer_id FROM influencers ORDER BY 1")["influencer_id"].to_list()
    for influencer_id in ids:
        signals = voice.quality_signals(voice.influencer_comments(store, influencer_id, filters))
        if any(s.key == "pods" and s.flagged for s in signals):
            store.close()
            return influencer_id
    raise AssertionError("the demo has no pod")


def test_the_voice_tab_shows_the_models_numbers_and_evidence(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = window(db)
    influencer_id = pod_influencer(db, filters)
    store = Store(db)
    comments = voice.influencer_comments(store, influencer_id, filters)
    summary = voice.voice_summary(comments)
    store.close()
    at = open_voice(db, monkeypatch, influencer_id)
    shown = metrics(at)
    assert shown["Comments read"] == fmt_number(summary.comments)
    assert shown["Positive"] == fmt_pct(summary.share("positive"), digits=0)
    assert shown["Negative"] == fmt_pct(summary.share("negative"), digits=0)
    titles = [e.label for e in at.expander]
    pods = next(t for t in titles if t.startswith("Same commenters under most posts"))
    assert pods.endswith("flagged") and "not flagged" not in pods
    # the most negative comment is there to read, verbatim
    worst = voice.top_comments(comments, "negative", 1)["text"].item()
    assert worst in texts_shown(at)
    assert any("VADER" in e.value for e in at.caption)  # the definition is on screen
    charts = at.get("plotly_chart")
    assert len(charts) == 1


def test_comment_text_is_shown_as_text_never_markup(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filters = window(db)
    store = Store(db)
    post = store.query(
        "SELECT p.post_id, a.influencer_id FROM posts p JOIN accounts a USING (account_id) "
        "WHERE p.posted_at >= ? ORDER BY p.posted_at DESC LIMIT 1",
        [dt.datetime.combine(filters.start, dt.time())],
    ).row(0, named=True)
    evil = "<img src=x onerror=alert(1)> **terrible** [click](http://bad.example) awful scam"
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO comments (comment_id, post_id, platform_comment_id, author_key, text, published_at, "
            "language, sentiment) VALUES (999999, ?, 'evil', 'k', ?, ?, 'en', -0.95)",
            [post["post_id"], evil, dt.datetime.combine(filters.end, dt.time(1))],
        )
    store.close()
    at = open_voice(db, monkeypatch, post["influencer_id"])
    assert evil in texts_shown(at)
    assert "onerror" not in markdown_shown(at)


def test_no_comments_explains_where_they_come_from(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(db)
    with store.transaction() as cur:
        cur.execute("DELETE FROM comments")
    store.close()
    at = open_voice(db, monkeypatch, 1)
    assert any("No comments" in i.value and "TRIAD_SYNC_COMMENT_POSTS" in i.value for i in at.info)
    assert "Comments read" not in metrics(at)


def test_brand_affinity_on_the_relationships_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(db, monkeypatch)
    at.switch_page("pages/relationships.py").run()
    at.session_state["relationships_tab"] = "Influencer–brand"
    at.run()
    assert_clean(at)
    filters = window(db)
    store = Store(db)
    expected = affinity.brand_affinity(store, filters)
    store.close()
    table = next(d.value for d in at.dataframe if "Organic mentions" in d.value.columns)
    assert table["Organic mentions"].tolist() == expected["organic_mentions"].to_list()
    assert table["Influencer"].tolist() == expected["influencer"].to_list()
    assert any(d for d in at.dataframe if "Comment" in d.value.columns)  # the mentions of the first pair


def test_roster_lookalikes_rank_like_the_model(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(db, monkeypatch)
    at.switch_page("pages/roster.py").run()
    at.session_state["roster_lookalikes_open"] = True
    at.run()
    assert_clean(at)
    at.multiselect(key="roster_lookalikes_seeds").set_value([1, 2]).run()
    assert_clean(at)
    filters = window(db)
    store = Store(db)
    expected = lookalikes.find_lookalikes(store, [1, 2], as_of=filters.end, limit=10).results
    store.close()
    table = next(d.value for d in at.dataframe if "Why" in d.value.columns)
    assert table["Why"].tolist() == expected["why"].to_list()
    assert table["Similarity"].tolist() == [fmt_pct(v, digits=0) for v in expected["score"].to_list()]
    assert table["Profile"].tolist()[0] == f"profiles?influencer={expected['influencer_id'][0]}"


def test_campaign_lookalikes_start_from_the_best_performers(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app(db, monkeypatch)
    at.switch_page("pages/campaigns.py").run()
    assert_clean(at)
    assert [t for t in at.toggle if t.label.startswith("Lookalikes of this campaign")]
    assert not [m for m in at.multiselect if str(m.key).startswith("campaign_lookalikes_")]  # closed: not run
    campaign_id = int(at.session_state[PICK_KEY])
    at.session_state[f"campaign_lookalikes_open_{campaign_id}"] = True
    at.run()
    assert_clean(at)
    store = Store(db)
    with store.connect() as cur:
        detail = report.campaign_detail(cur, campaign_id, as_of=dt.datetime.now(dt.UTC).date())
    store.close()
    seeds = lookalikes.best_performers(detail.deals)
    picker = at.multiselect(key=f"campaign_lookalikes_{campaign_id}_seeds")
    assert seeds and picker.value == seeds  # the demo's default campaign has creators who sold
    table = next(d.value for d in at.dataframe if "Why" in d.value.columns)
    assert not set(table["Influencer"]) & set(
        detail.deals.filter(pl.col("influencer_id").is_in(seeds))["influencer"]
    )
