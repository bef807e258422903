"""TikTok API v2, X API v2 and Twitch Helix into the store, against fakes in the documented shapes."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from connectors.http import RetryPolicy
from connectors.social import sync_accounts
from connectors.tiktok import TikTokSource
from connectors.tiktok.helpers import parse_account as tiktok_account
from connectors.twitch import TwitchSource
from connectors.twitch.helpers import parse_account as twitch_account
from connectors.x import XSource
from connectors.x.helpers import parse_account as x_account
from models.store import get_store
from tests.connectors.conftest import CREDENTIALS, json_response, load, runs, table_rows
from tests.connectors.fakes import TikTokFake, TwitchFake, XFake


def post_rows(db: Path) -> list[dict]:
    return get_store(db).query("SELECT * FROM posts ORDER BY posted_at DESC").to_dicts()


# -- TikTok ------------------------------------------------------------------------------------------------
@pytest.fixture
def tiktok(httpserver: HTTPServer) -> TikTokFake:
    return TikTokFake(httpserver)


def tiktok_source(fake: TikTokFake, retry: RetryPolicy, **kwargs) -> TikTokSource:
    token = kwargs.pop("token", CREDENTIALS["TRIAD_TIKTOK_ACCESS_TOKEN"])
    return TikTokSource(token, base_url=fake.base_url, retry=retry, **kwargs)


def test_tiktok_user_and_videos(db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(
        get_store(db), tiktok_source(tiktok, fast_retry), ["https://www.tiktok.com/@mayabakes"]
    )
    assert report.status == "succeeded", report.message
    assert get_store(db).query("SELECT handle, external_id, url FROM accounts").rows() == [
        ("mayabakes", "723f24d7-e717-40f8-a2b6-cb8464cd23b4", "https://www.tiktok.com/@mayabakes")
    ]
    snap = get_store(db).query("SELECT followers, following, posts_count FROM account_snapshots").rows()
    assert snap == [(98123, 311, 3)]
    rows = post_rows(db)
    assert [r["platform_post_id"] for r in rows] == [
        "7382014558827481386",
        "7379012334498722090",
        "7368011223344556677",
    ]
    first = rows[0]
    assert first["posted_at"] == dt.datetime(2024, 6, 20, 8, 0)  # create_time 1718870400 (epoch seconds, UTC)
    assert (first["likes"], first["comments"], first["shares"], first["views"], first["saves"]) == (
        15023,
        341,
        212,
        301222,
        None,
    )
    assert rows[2]["caption"] == "First bake on camera"  # empty title: the description
    bodies = [r.get_json() for r in tiktok.requests("/video/list/")]
    assert bodies == [{"max_count": 20}, {"max_count": 20, "cursor": 1718100000000}]
    assert tiktok.requests("/video/list/")[0].args["fields"].startswith("id,create_time")


def test_tiktok_error_object_in_a_200_is_an_error(
    db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy
) -> None:
    before = table_rows(db)
    tiktok.fail_next("/user/info/", json_response(load("tiktok", "error_token"), 200))
    report = sync_accounts(get_store(db), tiktok_source(tiktok, fast_retry), ["mayabakes"])
    message = report.accounts[0].message or ""
    assert (
        "access_token_invalid" in message and "TRIAD_TIKTOK_ACCESS_TOKEN" in message and "log id" in message
    )
    assert report.accounts[0].error_kind == "AuthenticationError"
    assert table_rows(db) == before


def test_tiktok_missing_error_object_is_malformed(
    db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy
) -> None:
    body = load("tiktok", "user_info")
    del body["error"]
    tiktok.fail_next("/user/info/", json_response(body))
    report = sync_accounts(get_store(db), tiktok_source(tiktok, fast_retry), ["mayabakes"])
    assert "without the 'error' object" in (report.accounts[0].message or "")


def test_tiktok_rate_limit_then_success(db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy) -> None:
    tiktok.fail_next("/video/list/", json_response(load("tiktok", "error_rate"), 429))
    report = sync_accounts(get_store(db), tiktok_source(tiktok, fast_retry), ["mayabakes"])
    assert report.status == "succeeded" and report.accounts[0].posts_new == 3


def test_tiktok_token_of_another_creator_is_refused(
    db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(get_store(db), tiktok_source(tiktok, fast_retry), ["@someoneelse"])
    message = report.accounts[0].message or ""
    assert "belongs to @mayabakes, not @someoneelse" in message and "[tiktok.access_tokens]" in message
    assert get_store(db).query("SELECT count(*) FROM accounts").rows() == [(0,)]


def test_tiktok_per_creator_tokens(db: Path, tiktok: TikTokFake, fast_retry: RetryPolicy) -> None:
    src = tiktok_source(tiktok, fast_retry, token=None, tokens={"mayabakes": "act.maya-token-123456"})
    assert sync_accounts(get_store(db), src, ["mayabakes"]).status == "succeeded"
    assert tiktok.requests("/user/info/")[0].headers["Authorization"] == "Bearer act.maya-token-123456"
    other = sync_accounts(get_store(db), src, ["otherbaker"])
    assert "No TikTok token for @otherbaker" in (other.accounts[0].message or "")


# -- X -----------------------------------------------------------------------------------------------------
@pytest.fixture
def x(httpserver: HTTPServer) -> XFake:
    return XFake(httpserver)


def x_source(fake: XFake, retry: RetryPolicy) -> XSource:
    return XSource(CREDENTIALS["TRIAD_X_BEARER_TOKEN"], base_url=fake.base_url, retry=retry)


def test_x_user_and_posts(db: Path, x: XFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(get_store(db), x_source(x, fast_retry), ["https://x.com/XDevelopers"])
    assert report.status == "succeeded", report.message
    assert get_store(db).query("SELECT handle, external_id, url FROM accounts").rows() == [
        ("XDevelopers", "2244994945", "https://x.com/XDevelopers")
    ]
    snap = get_store(db).query("SELECT followers, following, posts_count FROM account_snapshots").rows()
    assert snap == [(583423, 2048, 14052)]
    rows = post_rows(db)
    assert len(rows) == 3 and rows[0]["posted_at"] == dt.datetime(2024, 6, 20, 16, 0)
    first = rows[0]
    assert (first["likes"], first["comments"], first["shares"], first["saves"], first["views"]) == (
        388,
        12,
        50,
        27,
        120433,
    )
    assert (
        first["url"] == "https://x.com/XDevelopers/status/1803851449224941568"
        and first["post_type"] == "tweet"
    )
    tweets = x.requests("/users/2244994945/tweets")
    assert [r.args.get("pagination_token") for r in tweets] == [
        None,
        "7140dibdnow9c7btw3z2vwioavpvutgzrzm9icis4ndix",
    ]
    assert tweets[0].args["exclude"] == "retweets,replies" and "start_time" not in tweets[0].args
    assert x.requests("/users/by/username/XDevelopers")[0].headers["Authorization"].startswith("Bearer ")

    again = sync_accounts(get_store(db), x_source(x, fast_retry), ["2244994945"])
    assert again.rows_written == 0
    assert x.requests("/users/2244994945/tweets")[-1].args["start_time"] == "2024-06-13T16:00:00Z"


def test_x_unknown_user_comes_as_a_200_with_errors(db: Path, x: XFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(get_store(db), x_source(x, fast_retry), ["nosuchuser1234"])
    assert "Could not find user with username: [nosuchuser1234]" in (report.accounts[0].message or "")
    assert report.accounts[0].error_kind == "NotFoundError"


def test_x_unauthorized(db: Path, x: XFake, fast_retry: RetryPolicy) -> None:
    before = table_rows(db)
    x.fail_next("/users/by/username/XDevelopers", json_response(load("x", "error_unauthorized"), 401))
    report = sync_accounts(get_store(db), x_source(x, fast_retry), ["XDevelopers"])
    message = report.accounts[0].message or ""
    assert "X rejected the bearer token" in message and "TRIAD_X_BEARER_TOKEN" in message
    assert CREDENTIALS["TRIAD_X_BEARER_TOKEN"] not in message
    assert table_rows(db) == before


def test_x_rate_limit_reset_header_then_success(db: Path, x: XFake, fast_retry: RetryPolicy) -> None:
    reset = str(int(time.time()) + 1)
    headers = {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    x.fail_next("/users/2244994945/tweets", json_response(load("x", "error_too_many_requests"), 429, headers))
    report = sync_accounts(get_store(db), x_source(x, fast_retry), ["XDevelopers"])
    assert report.status == "succeeded" and report.accounts[0].posts_new == 3


def test_x_rate_limit_beyond_the_budget_stops_the_connector(
    db: Path, x: XFake, fast_retry: RetryPolicy
) -> None:
    before = table_rows(db)
    reset = str(int(time.time()) + 900)
    headers = {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    x.fail_next(
        "/users/by/username/XDevelopers", json_response(load("x", "error_too_many_requests"), 429, headers)
    )
    report = sync_accounts(get_store(db), x_source(x, fast_retry), ["XDevelopers", "2244994945"])
    assert [a.status for a in report.accounts] == ["failed", "skipped"]
    assert "Run the sync again after" in (report.accounts[0].message or "")
    assert table_rows(db) == before


# -- Twitch ------------------------------------------------------------------------------------------------
@pytest.fixture
def twitch(httpserver: HTTPServer) -> TwitchFake:
    return TwitchFake(httpserver)


def twitch_source(fake: TwitchFake, retry: RetryPolicy) -> TwitchSource:
    return TwitchSource(
        CREDENTIALS["TRIAD_TWITCH_CLIENT_ID"],
        CREDENTIALS["TRIAD_TWITCH_ACCESS_TOKEN"],
        base_url=fake.base_url,
        retry=retry,
    )


def test_twitch_user_followers_and_videos(db: Path, twitch: TwitchFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(
        get_store(db), twitch_source(twitch, fast_retry), ["https://www.twitch.tv/twitchdev"]
    )
    assert report.status == "succeeded", report.message
    assert get_store(db).query("SELECT handle, external_id FROM accounts").rows() == [
        ("twitchdev", "141981764")
    ]
    snap = get_store(db).query("SELECT followers, total_views FROM account_snapshots").rows()
    assert snap == [(8, None)]  # the followers total; the deprecated view_count is not used
    rows = post_rows(db)
    assert [(r["post_type"], r["views"]) for r in rows] == [
        ("stream", 1830),
        ("video", 18630),
        ("highlight", 912),
    ]
    assert rows[0]["likes"] is None and rows[0]["url"] == "https://www.twitch.tv/videos/2179036294"
    followers = twitch.requests("/channels/followers")
    assert followers[0].args["broadcaster_id"] == "141981764" and followers[0].args["first"] == "1"
    assert [r.args.get("after") for r in twitch.requests("/videos")] == [
        None,
        "eyJiIjpudWxsLCJhIjoiMTUwMzQ0MTc3NjQyNDQyMjAwMCJ9",
    ]


def test_twitch_unauthorized_names_both_settings(
    db: Path, twitch: TwitchFake, fast_retry: RetryPolicy
) -> None:
    twitch.fail_next("/users", json_response(load("twitch", "error_unauthorized"), 401))
    report = sync_accounts(get_store(db), twitch_source(twitch, fast_retry), ["twitchdev"])
    message = report.accounts[0].message or ""
    assert "Invalid OAuth token" in message
    assert "TRIAD_TWITCH_ACCESS_TOKEN" in message and "TRIAD_TWITCH_CLIENT_ID" in message


def test_twitch_unknown_login_and_a_repeated_cursor(
    db: Path, twitch: TwitchFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(get_store(db), twitch_source(twitch, fast_retry), ["nosuchstreamer"])
    assert "Twitch has no user" in (report.accounts[0].message or "")
    twitch.pages[1] = {**twitch.pages[1], "pagination": dict(twitch.pages[0]["pagination"])}  # a server loop
    twitch.pages[1]["data"] = twitch.pages[0]["data"]
    before = table_rows(db)

    def loop(request) -> Response:
        return json_response(twitch.pages[1])

    twitch.fail_next("/videos", json_response(twitch.pages[0]), loop)
    looped = sync_accounts(get_store(db), twitch_source(twitch, fast_retry), ["twitchdev"])
    assert "same page token twice" in (looped.accounts[0].message or "")
    assert table_rows(db) == before
    assert runs(db)[-1]["status"] == "failed"


@pytest.mark.parametrize(
    ("parse", "text", "kind", "value"),
    [
        (tiktok_account, "@MayaBakes", "handle", "mayabakes"),
        (
            tiktok_account,
            "https://www.tiktok.com/@mayabakes/video/7382014558827481386",
            "handle",
            "mayabakes",
        ),
        (x_account, "2244994945", "id", "2244994945"),
        (x_account, "https://twitter.com/XDevelopers", "handle", "XDevelopers"),
        (twitch_account, "TwitchDev", "handle", "twitchdev"),
        (twitch_account, "141981764", "id", "141981764"),
    ],
)
def test_references(parse, text: str, kind: str, value: str) -> None:
    ref = parse(text)
    assert (ref.kind, ref.value) == (kind, value)
