"""YouTube Data API v3 into the store, against a fake API that answers in the documented shapes."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connectors.http import RetryPolicy
from connectors.social import AccountRef, sync_accounts
from connectors.youtube import YouTubeSource
from connectors.youtube.helpers import duration_seconds, parse_account
from models.ids import stable_id
from models.store import get_store, integrity_problems
from tests.connectors.conftest import CREDENTIALS, json_response, load, runs, table_rows
from tests.connectors.fakes import YouTubeFake

KEY = CREDENTIALS["TRIAD_YOUTUBE_API_KEY"]
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


@pytest.fixture
def youtube(httpserver: HTTPServer) -> YouTubeFake:
    return YouTubeFake(httpserver)


def source(fake: YouTubeFake, retry: RetryPolicy) -> YouTubeSource:
    return YouTubeSource(KEY, base_url=fake.base_url, retry=retry)


def test_a_channel_fills_account_snapshot_and_posts(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    assert report.status == "succeeded", report.message
    store = get_store(db)
    account = store.query("SELECT * FROM accounts").to_dicts()
    assert len(account) == 1
    assert account[0] | {"created_at": None} == {
        "account_id": 1,
        "influencer_id": 1,
        "platform": "youtube",
        "handle": "googledevelopers",
        "external_id": CHANNEL,
        "url": "https://www.youtube.com/@googledevelopers",
        "created_at": None,
    }
    assert store.query("SELECT name FROM influencers")["name"].to_list() == ["Google for Developers"]
    audit = store.query("SELECT action, table_name, username FROM audit_log ORDER BY audit_id").rows()
    assert audit == [("insert", "influencers", "triad sync"), ("insert", "accounts", "triad sync")]
    # statistics arrive as strings; a daily snapshot keeps them as numbers
    snap = store.query("SELECT * FROM account_snapshots").to_dicts()
    assert snap == [
        {
            "account_id": 1,
            "snapshot_date": dt.datetime.now(dt.UTC).date(),
            "followers": 2_370_000,
            "following": None,
            "posts_count": 6318,
            "total_views": 263_365_412,
        }
    ]
    posts = store.query(
        "SELECT post_id, platform_post_id, posted_at, post_type, caption, url, likes, comments, shares, saves, "
        "views, is_sponsored, campaign_id FROM posts ORDER BY posted_at DESC"
    ).to_dicts()
    assert [p["platform_post_id"] for p in posts] == [
        "7lCDEYXw3mM",
        "GoCOg8ZzUfg",
        "6Y-DjurrO08",
    ]  # private one skipped
    first = posts[0]
    assert first["post_id"] == stable_id("post", "youtube", "7lCDEYXw3mM")
    assert first["posted_at"] == dt.datetime(2024, 6, 20, 22, 45, 24)
    assert (first["likes"], first["comments"], first["views"]) == (25, 12, 3057)
    assert first["url"] == "https://www.youtube.com/watch?v=7lCDEYXw3mM"
    assert first["caption"] == "Google I/O 101: Q&A On Using Google APIs"
    assert (first["shares"], first["saves"], first["is_sponsored"], first["campaign_id"]) == (
        None,
        None,
        False,
        None,
    )
    assert posts[1]["post_type"] == "short" and posts[1]["likes"] is None  # likeCount hidden → unknown
    assert posts[2]["post_type"] == "stream" and posts[2]["comments"] is None  # comments disabled
    assert posts[0]["post_type"] == "video"
    # paging, batching and the key
    assert [r.args.get("pageToken") for r in youtube.requests("/playlistItems")] == [None, "p2"]
    videos = youtube.requests("/videos")
    assert len(videos) == 1 and videos[0].args["id"] == "7lCDEYXw3mM,GoCOg8ZzUfg,6Y-DjurrO08"
    assert all(r.args["key"] == KEY for r, _ in youtube.server.log)
    run = runs(db)[-1]
    assert run["status"] == "succeeded" and run["rows_written"] == 6
    assert run["details"]["quota_units"] == 4 and run["details"]["accounts_ok"] == 1
    assert "4 quota units used" in run["message"]
    with store.connect() as cur:
        assert integrity_problems(cur) == {}


def test_hidden_subscriber_count_is_unknown_not_zero(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    hidden = load("youtube", "channels_hidden")["items"][0]
    youtube.channels[hidden["id"]] = hidden
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [hidden["id"]])
    assert report.status == "succeeded", report.message
    snap = get_store(db).query("SELECT followers, posts_count, total_views FROM account_snapshots").rows()
    assert snap == [(None, 0, 1200)]
    account = get_store(db).query("SELECT handle, url FROM accounts").rows()
    assert account == [(hidden["id"], f"https://www.youtube.com/channel/{hidden['id']}")]  # no customUrl
    assert report.accounts[0].message == "no uploads"


def test_a_second_run_changes_nothing_then_only_what_changed(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    yt = source(youtube, fast_retry)
    sync_accounts(get_store(db), yt, [CHANNEL])
    before = table_rows(db, ("influencers", "accounts", "account_snapshots", "posts"))
    youtube.server.clear_log()

    again = sync_accounts(get_store(db), yt, ["https://www.youtube.com/@googledevelopers"])
    assert again.status == "succeeded" and again.rows_written == 0
    assert table_rows(db, ("influencers", "accounts", "account_snapshots", "posts")) == before
    # incremental: the first playlist page reaches posts older than the refresh window, so paging stops
    assert [r.args.get("pageToken") for r in youtube.requests("/playlistItems")] == [None]
    assert again.usage["quota_units"] == 3

    youtube.add_video("NEWvideo001", "2024-06-25T10:00:00Z", views="77")
    youtube.videos["7lCDEYXw3mM"]["statistics"]["likeCount"] = "26"
    third = sync_accounts(get_store(db), yt, [CHANNEL])
    assert (third.accounts[0].posts_new, third.accounts[0].posts_updated) == (1, 1)
    posts = get_store(db).query(
        "SELECT platform_post_id, likes, fetched_at FROM posts ORDER BY platform_post_id"
    )
    assert posts.height == 4
    fetched = dict(zip(posts["platform_post_id"], posts["fetched_at"], strict=True))
    old_fetched = {row[2]: row[-1] for row in before["posts"]}
    assert fetched["GoCOg8ZzUfg"] == old_fetched["GoCOg8ZzUfg"]  # untouched
    assert fetched["7lCDEYXw3mM"] > old_fetched["7lCDEYXw3mM"]


def test_an_agency_tag_survives_a_refresh(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    yt = source(youtube, fast_retry)
    sync_accounts(get_store(db), yt, [CHANNEL])
    with get_store(db).transaction() as cur:
        cur.execute(
            "UPDATE posts SET is_sponsored = true, campaign_id = 7 WHERE platform_post_id = '7lCDEYXw3mM'"
        )
    youtube.videos["7lCDEYXw3mM"]["statistics"]["viewCount"] = "9999"
    sync_accounts(get_store(db), yt, [CHANNEL])
    row = get_store(db).query(
        "SELECT views, is_sponsored, campaign_id FROM posts WHERE platform_post_id = '7lCDEYXw3mM'"
    )
    assert row.rows() == [(9999, True, 7)]


def test_videos_are_read_in_batches_of_50(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    youtube.page_size = 50
    for n in range(117):
        day = dt.datetime(2024, 7, 1) + dt.timedelta(hours=n)
        youtube.add_video(f"bulk{n:07d}", day.strftime("%Y-%m-%dT%H:%M:%SZ"))
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    batches = [len(r.args["id"].split(",")) for r in youtube.requests("/videos")]
    assert batches == [50, 50, 20]
    assert report.accounts[0].posts_new == 120
    assert report.usage["quota_units"] == 1 + 3 + 3


def test_since_limits_the_history(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL], since=dt.date(2024, 6, 15))
    assert report.accounts[0].posts_new == 1
    assert [r.args.get("pageToken") for r in youtube.requests("/playlistItems")] == [None]


def test_quota_exceeded_stops_the_connector_without_retrying(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    before = table_rows(db)
    youtube.fail_next("/channels", json_response(load("youtube", "error_quota"), 403))
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL, "@otherchannel"])
    assert report.status == "failed"
    assert [a.status for a in report.accounts] == ["failed", "skipped"]
    assert youtube.calls["/channels"] == 1  # not retried, and the second account was not tried
    message = report.accounts[0].message or ""
    assert "daily quota" in message and "quotaExceeded" in message and "used 1 units" in message
    assert "midnight Pacific time" in message
    assert KEY not in message
    assert table_rows(db) == before
    run = runs(db)[-1]
    assert (
        run["status"] == "failed" and run["details"]["quota_units"] == 1 and "daily quota" in run["message"]
    )


def test_an_invalid_key_names_the_setting(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    before = table_rows(db)
    youtube.fail_next("/channels", json_response(load("youtube", "error_key_invalid"), 400))
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    message = report.accounts[0].message or ""
    assert "API key not valid" in message and "TRIAD_YOUTUBE_API_KEY" in message and KEY not in message
    assert report.accounts[0].error_kind == "AuthenticationError" and youtube.calls["/channels"] == 1
    assert table_rows(db) == before


def test_429_with_retry_after_then_success(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    youtube.fail_next(
        "/videos",
        json_response({"error": {"code": 429, "message": "Too many requests"}}, 429, {"Retry-After": "1"}),
    )
    t0 = time.monotonic()
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    assert time.monotonic() - t0 >= 0.9  # waited as the server asked
    assert report.status == "succeeded" and report.accounts[0].posts_new == 3
    assert report.usage["quota_units"] == 5  # the refused call costs quota too


def test_500_then_success(db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy) -> None:
    youtube.fail_next("/playlistItems", json_response(load("youtube", "error_backend"), 500))
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    assert report.status == "succeeded" and report.accounts[0].posts_new == 3


def test_persistent_server_errors_leave_the_account_untouched(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    yt = source(youtube, fast_retry)
    sync_accounts(get_store(db), yt, [CHANNEL])
    before = table_rows(db, ("influencers", "accounts", "account_snapshots", "posts", "sync_state"))
    error = json_response(load("youtube", "error_backend"), 503)
    youtube.fail_next("/videos", error, error, error)
    youtube.videos["7lCDEYXw3mM"]["statistics"]["likeCount"] = "99"
    report = sync_accounts(get_store(db), yt, [CHANNEL])
    assert report.status == "failed"
    assert "HTTP 503" in (report.accounts[0].message or "") and "Gave up after 3 tries" in (
        report.accounts[0].message or ""
    )
    assert table_rows(db, ("influencers", "accounts", "account_snapshots", "posts", "sync_state")) == before


def test_a_malformed_body_fails_the_account_and_writes_nothing(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    from werkzeug import Response

    before = table_rows(db)
    youtube.fail_next(
        "/videos", Response("<html><body>502 Bad Gateway</body></html>", status=200, content_type="text/html")
    )
    report = sync_accounts(get_store(db), source(youtube, fast_retry), [CHANNEL])
    message = report.accounts[0].message or ""
    assert "not JSON" in message and "text/html" in message
    assert table_rows(db) == before


def test_one_missing_channel_does_not_stop_the_others(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(get_store(db), source(youtube, fast_retry), ["@nosuchchannel", CHANNEL])
    assert report.status == "partial"
    assert [a.status for a in report.accounts] == ["failed", "ok"]
    assert "has no channel @nosuchchannel" in (report.accounts[0].message or "")
    assert get_store(db).query("SELECT count(*) AS n FROM posts")["n"][0] == 3


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("UC_x5XG1OV2P6uZZ5FSM9Ttw", AccountRef("id", "UC_x5XG1OV2P6uZZ5FSM9Ttw")),
        ("@googledevelopers", AccountRef("handle", "googledevelopers")),
        ("googledevelopers", AccountRef("handle", "googledevelopers")),
        ("https://www.youtube.com/@googledevelopers/videos", AccountRef("handle", "googledevelopers")),
        ("youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", AccountRef("id", "UC_x5XG1OV2P6uZZ5FSM9Ttw")),
        ("https://m.youtube.com/user/GoogleDevelopers", AccountRef("username", "GoogleDevelopers")),
    ],
)
def test_account_references(text: str, ref: AccountRef) -> None:
    parsed = parse_account(text)
    assert (parsed.kind, parsed.value) == (ref.kind, ref.value)


def test_bad_references_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="YouTube channel URL"):
        parse_account("https://vimeo.com/someone")
    with pytest.raises(ValueError, match="channel id"):
        parse_account("not a channel!")


def test_durations() -> None:
    assert duration_seconds("PT15M51S") == 951
    assert duration_seconds("P1DT2H") == 93600
    assert duration_seconds("PT0S") == 0
    assert duration_seconds(None) is None
