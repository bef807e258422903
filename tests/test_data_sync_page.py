"""The Data & sync page, run through app.py with AppTest: runs, freshness, and a sync started from the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from streamlit.testing.v1 import AppTest

from connectors.http import RetryPolicy
from connectors.social import sync_accounts
from connectors.youtube import YouTubeSource
from models import sync_status
from models.store import get_store
from tests.connectors.conftest import CREDENTIALS, json_response, load
from tests.connectors.fakes import YouTubeFake
from tests.signin import signed_in
from tests.test_app import navigation_pages

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/data_sync.py"
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    path = tmp_path / "page.duckdb"
    with get_store(path).connect():
        pass
    get_store(path).close()
    return path


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)).run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_the_page_is_in_the_navigation() -> None:
    assert PAGE in navigation_pages()


def test_an_empty_workspace_explains_how_to_sync(empty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(empty, monkeypatch)
    assert [t.value for t in at.title] == ["Data & sync"]
    info = " ".join(i.value for i in at.info)
    assert "No connector has run" in info and "triad sync youtube --account" in info
    assert not at.error
    assert at.sidebar.date_input  # rendered through app.py


def test_runs_and_freshness_after_a_sync(
    empty: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    youtube = YouTubeFake(httpserver)
    retry = RetryPolicy(backoff_base=0.01, backoff_max=0.02, max_tries=2)
    source = YouTubeSource(CREDENTIALS["TRIAD_YOUTUBE_API_KEY"], base_url=youtube.base_url, retry=retry)
    sync_accounts(get_store(empty), source, [CHANNEL])
    youtube.fail_next("/channels", json_response(load("youtube", "error_key_invalid"), 400))
    sync_accounts(get_store(empty), source, ["@googledevelopers"])
    get_store(empty).close()

    at = open_page(empty, monkeypatch)
    assert not at.info  # no empty state
    assert [s.value for s in at.subheader] == ["Connectors", "Runs", "Account freshness"]
    connectors, runs_table = at.dataframe[0].value, at.dataframe[1].value
    youtube_row = connectors[connectors["Connector"] == "YouTube"].iloc[0]
    assert youtube_row["Last run"] == "❌ failed" and youtube_row["Runs, 7 days"] == 2
    assert set(connectors["Connector"]) == {"YouTube", "Instagram", "TikTok", "X", "Twitch"}
    assert list(runs_table["Status"]) == ["❌ failed", "✅ succeeded"]
    assert "TRIAD_YOUTUBE_API_KEY" in runs_table["Message"].iloc[0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fresh accounts"] == "1" and metrics["Never accounts"] == "0"
    freshness = at.dataframe[-1].value
    assert list(freshness["Handle"]) == ["googledevelopers"] and list(freshness["Freshness"]) == ["fresh"]
    # the latest run's accounts, with its error
    accounts = at.dataframe[2].value
    assert accounts["status"].iloc[0] == "failed" and "API key not valid" in accounts["error"].iloc[0]

    at.multiselect(key="runs_statuses").set_value(["succeeded"]).run()
    assert_clean(at)
    assert list(at.dataframe[1].value["Status"]) == ["✅ succeeded"]


def test_start_a_sync_from_the_page(
    empty: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, tmp_path: Path
) -> None:
    youtube = YouTubeFake(httpserver)
    monkeypatch.setenv("TRIAD_YOUTUBE_API_KEY", CREDENTIALS["TRIAD_YOUTUBE_API_KEY"])
    monkeypatch.setenv("TRIAD_YOUTUBE_BASE_URL", youtube.base_url)
    at = open_page(empty, monkeypatch)
    at.selectbox(key="sync_platform").set_value("youtube")
    at.text_area(key="sync_accounts").input(f"{CHANNEL}\n")
    at.button[0].click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    statuses = [e for e in at.main.children.values() if type(e).__name__ == "Status"]
    assert len(statuses) == 1 and "YouTube: 1 account ok" in statuses[0].label
    assert get_store(empty).query("SELECT count(*) FROM posts").rows() == [(3,)]
    runs = at.dataframe[1].value
    assert list(runs["Status"]) == ["✅ succeeded"]


def test_a_missing_credential_is_shown_not_raised(
    empty: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if (PROJECT_ROOT / ".streamlit" / "secrets.toml").exists():
        pytest.skip("a developer secrets.toml would provide the token")
    monkeypatch.delenv("TRIAD_X_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("TRIAD_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HOME", str(tmp_path))
    at = open_page(empty, monkeypatch)
    at.selectbox(key="sync_platform").set_value("x")
    at.text_area(key="sync_accounts").input("XDevelopers")
    at.button[0].click().run()
    assert_clean(at)
    assert any("TRIAD_X_BEARER_TOKEN" in e.value for e in at.error)


def test_the_demo_workspace(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_db, monkeypatch)
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert sum(int(v.replace(",", "")) for v in metrics.values()) > 0


def test_freshness_labels(empty: Path) -> None:
    now = dt.datetime(2024, 7, 1, 12)
    with get_store(empty).transaction() as cur:
        cur.execute("INSERT INTO influencers (influencer_id, name) VALUES (1, 'A')")
        for account_id, platform, handle in [
            (1, "youtube", "a"),
            (2, "x", "b"),
            (3, "twitch", "c"),
            (4, "tiktok", "d"),
        ]:
            cur.execute(
                "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (?, 1, ?, ?)",
                [account_id, platform, handle],
            )
        cur.execute(
            "INSERT INTO sync_state (connector, target, state_key, state_value) VALUES "
            "('youtube', '1', 'last_synced_at', '2024-07-01T06:00:00'), ('x', '2', 'last_synced_at', '2024-06-27T12:00:00')"
        )
        cur.execute(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES (3, '2024-05-01', 10)"
        )
    frame = sync_status.account_freshness(get_store(empty), now=now)
    labels = dict(zip(frame["handle"], frame["freshness"], strict=True))
    assert labels == {"a": "fresh", "b": "stale", "c": "old", "d": "never"}
    assert frame["handle"].to_list()[0] == "d"  # the least fresh first
    summary = sync_status.freshness_summary(frame)
    assert summary.oldest_first == [("fresh", 1), ("stale", 1), ("old", 1), ("never", 1)]
    only_x = sync_status.account_freshness(get_store(empty), platforms=["x"], now=now)
    assert only_x["handle"].to_list() == ["b"]
    overview = sync_status.connector_overview(get_store(empty), now=now)
    assert overview.filter(pl.col("connector") == "youtube")["last_status"].to_list() == ["never run"]
