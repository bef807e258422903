"""Comments through the YouTube and Instagram connectors, against fake APIs in the documented shapes.

YouTube: ``commentThreads.list`` (``nextPageToken`` paging, the 403 ``commentsDisabled`` error). Instagram:
``GET /{ig-media-id}/comments`` (``paging.cursors.after`` / ``paging.next``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.comments import POSTS_ENV, author_key
from connectors.http import RetryPolicy
from connectors.instagram import InstagramSource
from connectors.social import sync_accounts
from connectors.youtube import YouTubeSource
from models.ids import stable_id
from models.privacy import workspace_secret
from models.store import get_store
from tests.connectors.conftest import CREDENTIALS, json_response, load, runs
from tests.connectors.fakes import InstagramFake, YouTubeFake

KEY = CREDENTIALS["TRIAD_YOUTUBE_API_KEY"]
TOKEN = CREDENTIALS["TRIAD_INSTAGRAM_ACCESS_TOKEN"]
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
PAGE2 = load("youtube", "comment_threads_page1")["nextPageToken"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_WORKSPACE_SECRET", "comment-test-secret-0123456789")
    monkeypatch.delenv(POSTS_ENV, raising=False)


@pytest.fixture
def youtube(httpserver: HTTPServer) -> YouTubeFake:
    fake = YouTubeFake(httpserver)

    def threads(request: Request) -> Response:
        video = request.args["videoId"]
        assert request.args["part"] == "snippet" and request.args["order"] == "time"
        assert request.args["textFormat"] == "plainText" and request.args["maxResults"] == "100"
        if video == "7lCDEYXw3mM":
            page = (
                "comment_threads_page2" if request.args.get("pageToken") == PAGE2 else "comment_threads_page1"
            )
            return json_response(load("youtube", page))
        if video == "GoCOg8ZzUfg":
            return json_response(load("youtube", "comment_threads_short"))
        return json_response(load("youtube", "error_comments_disabled"), 403)

    fake.route("/commentThreads", threads)
    return fake


def comments(db: Path) -> list[dict]:
    return get_store(db).query("SELECT * FROM comments ORDER BY published_at DESC").to_dicts()


def test_youtube_comments_are_paged_scored_and_pseudonymous(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    source = YouTubeSource(KEY, base_url=youtube.base_url, retry=fast_retry, comment_posts=3, comment_pages=2)
    report = sync_accounts(get_store(db), source, [CHANNEL])
    assert report.status == "succeeded", report.message
    rows = comments(db)
    assert [r["platform_comment_id"] for r in rows] == [
        "UgzDE2tasfmrYLyNkGt4AaABAg",
        "UgxKREWq8l0nN6d8m9p4AaABAg",
        "UgwPq7Rs6Tu5Vw4Xy3Zz2AaABAg",
        "UgyShortEs0001AaABAg",
    ]
    first = rows[0]
    assert first["comment_id"] == stable_id("comment", "youtube", "UgzDE2tasfmrYLyNkGt4AaABAg")
    assert first["post_id"] == stable_id("post", "youtube", "7lCDEYXw3mM")
    # the plain text (textOriginal), never the HTML of textDisplay
    assert first["text"] == "This is *amazing*, thank you for the clear walkthrough!"
    assert (first["like_count"], first["reply_count"]) == (14, 2)
    assert (
        first["language"] == "en" and first["sentiment"] > 0.05 and first["sentiment_method"] == "vader-3.3.2"
    )
    assert rows[1]["sentiment"] <= -0.05  # "terrible"
    assert rows[2]["language"] == "emoji" and rows[2]["sentiment"] > 0.05
    assert rows[3]["language"] == "es" and rows[3]["sentiment"] is None  # not scored, not "neutral"
    # commenters are a keyed hash: same author, same key; no handle or channel id in the store
    secret = workspace_secret(db)
    assert (
        rows[0]["author_key"]
        == rows[2]["author_key"]
        == author_key(secret, "youtube", "UCq1w2e3r4t5y6u7i8o9p0aB")
    )
    assert re.fullmatch(r"[0-9a-f]{32}", rows[1]["author_key"])
    with get_store(db).connect() as cur:
        dump = repr(cur.execute("SELECT * FROM comments").fetchall())
    assert "devfan42" not in dump and "UCq1w2e3r4t5y6u7i8o9p0aB" not in dump
    # paging: two pages of the first video, one of the short; the video with comments off is skipped
    tokens = [(r.args["videoId"], r.args.get("pageToken")) for r in youtube.requests("/commentThreads")]
    assert tokens == [
        ("7lCDEYXw3mM", None),
        ("7lCDEYXw3mM", PAGE2),
        ("GoCOg8ZzUfg", None),
        ("6Y-DjurrO08", None),
    ]
    assert "comments are turned off on 1 video(s)" in (report.accounts[0].message or "")
    run = runs(db)[-1]
    assert run["details"]["quota_units"] == 4 + 4  # channel, 2 playlist pages, videos + 4 comment pages
    assert run["rows_written"] == 6 + 4


def test_a_second_youtube_run_reads_only_new_comments_and_writes_nothing(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    source = YouTubeSource(KEY, base_url=youtube.base_url, retry=fast_retry, comment_posts=3, comment_pages=2)
    sync_accounts(get_store(db), source, [CHANNEL])
    before = comments(db)
    seen = len(youtube.requests("/commentThreads"))
    again = sync_accounts(get_store(db), source, [CHANNEL], since=None)
    assert again.status == "succeeded" and again.rows_written == 0
    assert comments(db) == before
    # the first page already reaches comments older than the last sync: no second page asked for
    tokens = [r.args.get("pageToken") for r in youtube.requests("/commentThreads")[seen:]]
    assert PAGE2 not in tokens


def test_comments_are_off_unless_asked(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = YouTubeSource(KEY, base_url=youtube.base_url, retry=fast_retry)
    assert sync_accounts(get_store(db), source, [CHANNEL]).status == "succeeded"
    assert youtube.requests("/commentThreads") == [] and comments(db) == []
    monkeypatch.setenv(POSTS_ENV, "1")  # the environment turns them on for the CLI and the page
    source = YouTubeSource(KEY, base_url=youtube.base_url, retry=fast_retry)
    assert sync_accounts(get_store(db), source, [CHANNEL]).status == "succeeded"
    assert {r.args["videoId"] for r in youtube.requests("/commentThreads")} == {"7lCDEYXw3mM"}


def test_a_spent_quota_while_reading_comments_keeps_the_posts(
    db: Path, youtube: YouTubeFake, fast_retry: RetryPolicy
) -> None:
    youtube.fail_next("/commentThreads", json_response(load("youtube", "error_quota"), 403))
    source = YouTubeSource(KEY, base_url=youtube.base_url, retry=fast_retry, comment_posts=3, comment_pages=2)
    report = sync_accounts(get_store(db), source, [CHANNEL])
    assert report.status == "succeeded", report.message
    assert get_store(db).query("SELECT count(*) AS n FROM posts")["n"][0] == 3
    assert comments(db) == []
    assert "daily quota" in (report.accounts[0].message or "")
    assert len(youtube.requests("/commentThreads")) == 1  # stopped at once


@pytest.fixture
def instagram(httpserver: HTTPServer) -> InstagramFake:
    fake = InstagramFake(httpserver)
    after = load("instagram", "comments_page1")["paging"]["cursors"]["after"]

    def carousel(request: Request) -> Response:
        assert request.args["fields"] == "id,text,timestamp,like_count,from{id},parent_id"
        page = "comments_page2" if request.args.get("after") == after else "comments_page1"
        return json_response(load("instagram", page))

    fake.route("/17918195224117851/comments", carousel)
    fake.route("/17895695668004550/comments", lambda r: json_response({"data": []}))
    return fake


def test_instagram_media_comments_follow_the_cursor(
    db: Path, instagram: InstagramFake, fast_retry: RetryPolicy
) -> None:
    source = InstagramSource(
        TOKEN,
        agency_user_id=instagram.AGENCY,
        base_url=instagram.base_url,
        retry=fast_retry,
        comment_posts=2,
        comment_pages=3,
    )
    report = sync_accounts(get_store(db), source, [instagram.OWN])
    assert report.status == "succeeded", report.message
    rows = comments(db)
    assert [r["text"] for r in rows] == [
        "Those peaches look incredible, love this recipe!",
        "Check my profile for free followers 💰💰",
        "Not good at all, really disappointed",
    ]
    assert {r["post_id"] for r in rows} == {stable_id("post", "instagram", "17918195224117851")}
    secret = workspace_secret(db)
    assert rows[0]["author_key"] == author_key(secret, "instagram", "17841400000000011")
    assert rows[2]["author_key"] == author_key(secret, "instagram", "honestcritic")  # no `from`: the username
    assert rows[2]["sentiment"] <= -0.05  # negation: "not good"
    afters = [r.args.get("after") for r in instagram.requests("/17918195224117851/comments")]
    assert afters == [None, load("instagram", "comments_page1")["paging"]["cursors"]["after"]]
    assert len(instagram.requests("/17895695668004550/comments")) == 1


def test_business_discovery_reads_no_comments_and_says_so(
    db: Path, instagram: InstagramFake, fast_retry: RetryPolicy
) -> None:
    source = InstagramSource(
        TOKEN, agency_user_id=instagram.AGENCY, base_url=instagram.base_url, retry=fast_retry, comment_posts=2
    )
    report = sync_accounts(get_store(db), source, ["bluebottle"])
    assert report.status == "succeeded", report.message
    assert comments(db) == []
    assert "business discovery gives none" in (report.accounts[0].message or "")
