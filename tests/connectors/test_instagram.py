"""Instagram Graph API into the store: the IG user node + media edge + insights, and business discovery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connectors.http import RetryPolicy
from connectors.instagram import InstagramSource
from connectors.instagram.helpers import insight_value, parse_account
from connectors.social import parse_timestamp, sync_accounts
from models.store import get_store
from tests.connectors.conftest import CREDENTIALS, json_response, load, runs, table_rows
from tests.connectors.fakes import InstagramFake

TOKEN = CREDENTIALS["TRIAD_INSTAGRAM_ACCESS_TOKEN"]


@pytest.fixture
def instagram(httpserver: HTTPServer) -> InstagramFake:
    return InstagramFake(httpserver)


def source(fake: InstagramFake, retry: RetryPolicy) -> InstagramSource:
    return InstagramSource(TOKEN, agency_user_id=fake.AGENCY, base_url=fake.base_url, retry=retry)


def posts(db: Path) -> dict[str, dict]:
    frame = get_store(db).query("SELECT * FROM posts ORDER BY posted_at DESC")
    return {row["platform_post_id"]: row for row in frame.to_dicts()}


def test_own_account_through_the_user_node_with_insights(
    db: Path, instagram: InstagramFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(get_store(db), source(instagram, fast_retry), [instagram.OWN])
    assert report.status == "succeeded", report.message
    account = get_store(db).query("SELECT handle, external_id, url FROM accounts").rows()
    assert account == [("jaspersmarket", instagram.OWN, "https://www.instagram.com/jaspersmarket/")]
    snap = (
        get_store(db)
        .query("SELECT followers, following, posts_count, total_views FROM account_snapshots")
        .rows()
    )
    assert snap == [(267788, 15, 3, None)]
    rows = posts(db)
    assert list(rows) == [
        "17918195224117851",
        "17895695668004550",
        "17887498072083520",
    ]  # children are not posts
    carousel, reel, image = rows.values()
    assert carousel["post_type"] == "carousel" and carousel["posted_at"] == dt.datetime(
        2024, 6, 20, 8, 25, 28
    )
    assert (
        carousel["likes"],
        carousel["comments"],
        carousel["saves"],
        carousel["shares"],
        carousel["views"],
    ) == (
        1543,
        87,
        41,
        9,
        18234,
    )  # insights in the values[] shape
    assert (reel["post_type"], reel["saves"], reel["shares"], reel["views"]) == (
        "reel",
        230,
        57,
        98123,
    )  # total_value
    assert image["likes"] is None  # like count hidden by the owner
    assert (image["saves"], image["views"]) == (
        None,
        None,
    )  # "(#10) Not enough viewers": no insights, no failure
    assert image["url"] == "https://www.instagram.com/p/C7QrStUvWxY/"
    media = instagram.requests(f"/{instagram.OWN}/media")
    assert [r.args.get("after") for r in media] == [None, "QVFIUmlKdXBzYWtyUml3"]
    assert all(r.args["access_token"] == TOKEN for r, _ in instagram.server.log)
    state = dict(get_store(db).query("SELECT state_key, state_value FROM sync_state").rows())
    assert state["access"] == "node" and state["newest_post_at"] == "2024-06-20T08:25:28"


def test_other_creators_through_business_discovery(
    db: Path, instagram: InstagramFake, fast_retry: RetryPolicy
) -> None:
    report = sync_accounts(
        get_store(db), source(instagram, fast_retry), ["https://www.instagram.com/bluebottle/"]
    )
    assert report.status == "succeeded", report.message
    assert get_store(db).query("SELECT name FROM influencers").rows() == [("Blue Bottle Coffee",)]
    account = get_store(db).query("SELECT handle, external_id FROM accounts").rows()
    assert account == [("bluebottle", "17841401441775531")]
    snap = get_store(db).query("SELECT followers, following, posts_count FROM account_snapshots").rows()
    assert snap == [(267793, 14, 1205)]
    rows = posts(db)
    assert list(rows) == ["17858843269216389", "17894036119131554", "17841562447105233"]
    assert rows["17841562447105233"]["posted_at"] == dt.datetime(2021, 8, 13, 8, 25, 28)  # +0000 parsed
    assert rows["17894036119131554"]["likes"] is None and rows["17894036119131554"]["post_type"] == "carousel"
    assert all(r["saves"] is None for r in rows.values())
    fields = [r.args["fields"] for r in instagram.requests(f"/{instagram.AGENCY}")]
    assert fields[0].startswith("business_discovery.username(bluebottle){") and "media.limit(50)" in fields[0]
    assert "media.after(QVFIUkx1X1hWMXpHUmZA).limit(50)" in fields[1]
    assert "no insights" in (report.accounts[0].message or "")

    again = sync_accounts(get_store(db), source(instagram, fast_retry), ["bluebottle"])
    assert (
        again.rows_written == 0 and len(instagram.requests(f"/{instagram.AGENCY}")) == 3
    )  # one page this time


def test_expired_token_names_the_setting_and_stops(
    db: Path, instagram: InstagramFake, fast_retry: RetryPolicy
) -> None:
    before = table_rows(db)
    instagram.fail_next(f"/{instagram.AGENCY}", json_response(load("instagram", "error_token_expired"), 400))
    report = sync_accounts(get_store(db), source(instagram, fast_retry), ["bluebottle", instagram.OWN])
    assert [a.status for a in report.accounts] == ["failed", "skipped"]
    message = report.accounts[0].message or ""
    assert (
        "Session has expired" in message
        and "TRIAD_INSTAGRAM_ACCESS_TOKEN" in message
        and TOKEN not in message
    )
    assert table_rows(db) == before
    assert runs(db)[-1]["status"] == "failed"


def test_throttling_code_4_is_retried(db: Path, instagram: InstagramFake, fast_retry: RetryPolicy) -> None:
    throttled = json_response(
        load("instagram", "error_rate_limit"),
        403,
        {"X-App-Usage": '{"call_count": 100, "total_time": 20, "total_cputime": 12}'},
    )
    instagram.fail_next(f"/{instagram.OWN}/media", throttled)
    retry = RetryPolicy(max_tries=3, backoff_base=0.01, backoff_max=0.05)
    report = sync_accounts(get_store(db), source(instagram, retry), [instagram.OWN])
    assert report.status == "succeeded" and report.accounts[0].posts_new == 3


def test_unknown_username(db: Path, instagram: InstagramFake, fast_retry: RetryPolicy) -> None:
    report = sync_accounts(get_store(db), source(instagram, fast_retry), ["nosuchcafe", "bluebottle"])
    assert [a.status for a in report.accounts] == ["failed", "ok"]
    assert "nosuchcafe cannot be found" in (report.accounts[0].message or "")


def test_discovery_needs_the_agency_user_id(
    db: Path,
    instagram: InstagramFake,
    fast_retry: RetryPolicy,
    credentials: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRIAD_INSTAGRAM_USER_ID")
    src = InstagramSource(TOKEN, base_url=instagram.base_url, retry=fast_retry)
    report = sync_accounts(get_store(db), src, ["bluebottle", instagram.OWN])
    assert [a.status for a in report.accounts] == ["failed", "ok"]  # the own account needs no discovery
    assert "TRIAD_INSTAGRAM_USER_ID" in (report.accounts[0].message or "")
    assert runs(db)[-1]["status"] == "partial"


@pytest.mark.parametrize(
    ("entry", "value"),
    [
        ({"name": "reach", "period": "lifetime", "values": [{"value": 12}]}, 12),
        (
            {
                "name": "reach",
                "period": "day",
                "values": [{"value": 3, "end_time": "2024-01-11T08:00:00+0000"}, {"value": 5}],
            },
            5,
        ),
        ({"name": "views", "period": "day", "total_value": {"value": 1234}}, 1234),
        ({"name": "views", "period": "day", "total_value": {"value": "77"}}, 77),
        ({"name": "views", "period": "day"}, None),
    ],
)
def test_insights_in_both_shapes(entry: dict, value: int | None) -> None:
    assert insight_value(entry) == value


def test_meta_timestamps() -> None:
    assert parse_timestamp("2021-08-13T08:25:28+0000") == dt.datetime(2021, 8, 13, 8, 25, 28)
    assert parse_timestamp("2021-08-13T10:25:28+0200") == dt.datetime(2021, 8, 13, 8, 25, 28)


def test_instagram_references() -> None:
    assert (parse_account("17841405822304914").kind, parse_account("@Blue.Bottle").value) == (
        "id",
        "blue.bottle",
    )
    assert parse_account("instagram.com/bluebottle/").value == "bluebottle"
    with pytest.raises(ValueError):
        parse_account("https://www.instagram.com/p/C8xYzAbCdEf/")
