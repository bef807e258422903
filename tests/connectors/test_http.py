"""The shared HTTP layer against a real HTTP server: retries, rate-limit headers, error classes, paginators,
masking, credentials."""

from __future__ import annotations

import email.utils
import logging
import time
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.credentials import MissingCredentialError, find_credential, get_credential, secrets_key
from connectors.http import (
    USER_AGENT,
    APIClient,
    AuthenticationError,
    CursorPaginator,
    FatalAPIError,
    LinkHeaderPaginator,
    MalformedResponseError,
    NextURLPaginator,
    NotFoundError,
    PageNumberPaginator,
    PageTokenPaginator,
    PaginationError,
    RateLimitError,
    RetriableAPIError,
    RetryPolicy,
    make_session,
    mask_text,
    mask_url,
    register_secret,
    request_json,
    wait_hint,
)
from tests.connectors.conftest import json_response, sequence

SECRET = "s3cr3t-token-value-123"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: HTTPServer, sleeps: Sleeps | None = None, **policy: float) -> APIClient:
    retry = RetryPolicy(
        max_tries=int(policy.pop("max_tries", 4)),
        backoff_base=policy.pop("backoff_base", 0.5),
        backoff_max=policy.pop("backoff_max", 4.0),
        max_wait_per_request=policy.pop("max_wait_per_request", 60.0),
        max_total_wait=policy.pop("max_total_wait", 120.0),
        jitter=policy.pop("jitter", 0.0),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )
    return APIClient(
        server.url_for("/api"),
        connector="demo",
        label="Demo",
        retry=retry,
        auth_settings=("TRIAD_DEMO_TOKEN",),
        default_params={"access_token": SECRET},
    )


def test_session_has_a_default_timeout_and_user_agent(httpserver: HTTPServer) -> None:
    seen: dict[str, str] = {}

    def handle(request: Request) -> Response:
        seen.update(request.headers)
        return json_response({"ok": True})

    httpserver.expect_request("/api/ping").respond_with_handler(handle)
    session = make_session("demo")
    assert session.timeout == (10.0, 60.0)  # type: ignore[attr-defined]
    assert client(httpserver).get_json("ping") == {"ok": True}
    assert seen["User-Agent"].startswith(USER_AGENT.split(" ")[0]) and "connector/demo" in seen["User-Agent"]
    assert seen["Accept"] == "application/json"


def test_429_with_retry_after_waits_that_long_then_succeeds(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(
            json_response({"error": "slow down"}, 429, {"Retry-After": "3"}), json_response({"data": [1]})
        )
    )
    assert client(httpserver, sleeps).get_json("items") == {"data": [1]}
    assert sleeps == [3.0]  # the server's wait, not our backoff


def test_retry_after_as_an_http_date(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(json_response({}, 503, {"Retry-After": when}), json_response({"data": []}))
    )
    client(httpserver, sleeps).get_json("items")
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 31


def test_500_then_success_backs_off_exponentially(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(json_response({}, 500), json_response({}, 502), json_response({"data": [1]}))
    )
    assert client(httpserver, sleeps).get_json("items") == {"data": [1]}
    assert sleeps == [0.5, 1.0]


def test_real_sleeps_are_short_with_a_small_base(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(json_response({}, 500), json_response({"data": [1]}))
    )
    retry = RetryPolicy(backoff_base=0.01, backoff_max=0.02)
    api = APIClient(httpserver.url_for("/api"), connector="demo", retry=retry)
    t0 = time.monotonic()
    assert api.get_json("items") == {"data": [1]}
    assert time.monotonic() - t0 < 2
    assert api.total_waited < 0.1


def test_gives_up_after_max_tries_with_a_sentence(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_json(
        {"error": {"message": "Backend Error"}}, status=503
    )
    with pytest.raises(RetriableAPIError) as info:
        client(httpserver, sleeps, max_tries=3).get_json("items")
    assert len(sleeps) == 2
    message = str(info.value)
    assert "HTTP 503" in message and "Backend Error" in message and "Gave up after 3 tries" in message


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (400, FatalAPIError, "HTTP 400"),
        (401, AuthenticationError, "TRIAD_DEMO_TOKEN"),
        (403, FatalAPIError, "HTTP 403"),
        (404, NotFoundError, "HTTP 404"),
        (422, FatalAPIError, "HTTP 422"),
    ],
)
def test_client_errors_are_not_retried(
    httpserver: HTTPServer, status: int, error: type[Exception], words: str
) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_json({"message": "nope"}, status=status)
    with pytest.raises(error) as info:
        client(httpserver, sleeps).get_json("items")
    assert sleeps == [] and len(httpserver.log) == 1
    assert words in str(info.value) and "nope" in str(info.value)


def test_connection_errors_are_retried_then_reported() -> None:
    sleeps = Sleeps()
    retry = RetryPolicy(max_tries=2, backoff_base=0.01, jitter=0, sleep=sleeps)
    api = APIClient("http://127.0.0.1:9/api", connector="demo", label="Demo", retry=retry)  # discard port
    with pytest.raises(RetriableAPIError) as info:
        api.get_json("items")
    assert sleeps == [0.01]
    assert "could not connect" in str(info.value) and "Gave up after 2 tries" in str(info.value)


def test_a_wait_longer_than_the_budget_is_refused_at_once(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_json({}, status=429, headers={"Retry-After": "900"})
    with pytest.raises(RateLimitError) as info:
        client(httpserver, sleeps, max_wait_per_request=60).get_json("items")
    assert sleeps == []
    assert info.value.stops_connector
    assert "wait 900 s" in str(info.value) and "Run the sync again after" in str(info.value)


def test_total_wait_is_capped_across_requests(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(
            json_response({}, 429, {"Retry-After": "4"}),
            json_response({"data": 1}),
            json_response({}, 429, {"Retry-After": "4"}),
        )
    )
    api = client(httpserver, sleeps, max_total_wait=6)
    api.get_json("items")
    with pytest.raises(RateLimitError):
        api.get_json("items")
    assert sleeps == [4.0]


def test_x_rate_limit_reset_is_honoured(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    reset = int(time.time()) + 20
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(
            json_response(
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                429,
                {
                    "x-rate-limit-limit": "900",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                },
            ),
            json_response({"data": 1}),
        )
    )
    client(httpserver, sleeps).get_json("items")
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 21


def test_a_spent_window_pauses_before_the_next_request(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    reset = int(time.time()) + 10
    httpserver.expect_request("/api/items").respond_with_handler(
        sequence(
            json_response(
                {"data": 1},
                200,
                {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0", "Ratelimit-Reset": str(reset)},
            ),
            json_response({"data": 2}),
        )
    )
    api = client(httpserver, sleeps)
    api.get_json("items")
    assert sleeps == []
    api.get_json("items")
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 11


def test_meta_usage_headers() -> None:
    response = requests.Response()
    response.status_code = 400
    response.headers["X-Business-Use-Case-Usage"] = (
        '{"17841405309211844": [{"type": "instagram", "call_count": 100, "total_cputime": 25, '
        '"total_time": 25, "estimated_time_to_regain_access": 2}]}'
    )
    assert wait_hint(response) == 120
    response.headers.pop("X-Business-Use-Case-Usage")
    response.headers["X-App-Usage"] = '{"call_count": 28, "total_time": 25, "total_cputime": 25}'
    assert wait_hint(response) is None


def test_a_body_that_is_not_json_is_malformed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/items").respond_with_data(
        "<html>Bad gateway page</html>", content_type="text/html"
    )
    with pytest.raises(MalformedResponseError) as info:
        client(httpserver).get_json("items")
    assert "not JSON" in str(info.value) and "text/html" in str(info.value)


def test_secrets_never_reach_messages_or_logs(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    register_secret(SECRET)
    httpserver.expect_request("/api/items").respond_with_json(
        {"error": {"message": f"Invalid OAuth access token - Cannot parse access token: {SECRET}"}},
        status=401,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as info:
        client(httpserver).get_json("items")
    assert SECRET not in str(info.value) and SECRET not in (info.value.url or "")
    assert "access_token=***" in (info.value.url or "")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")  # not the test server's
    assert SECRET not in ours
    assert "access_token=***" in ours


def test_masking_helpers() -> None:
    register_secret("AIzaSyVERYSECRETKEY")
    assert mask_url("https://user:pw@h.com/v3/videos?key=AIzaSyVERYSECRETKEY&part=id") == (
        "https://***@h.com/v3/videos?key=***&part=id"
    )
    assert "AIzaSyVERYSECRETKEY" not in mask_text("failed: AIzaSyVERYSECRETKEY")
    assert mask_text("Authorization: Bearer abcdef123456") == "Authorization: Bearer ***"


# -- paginators --------------------------------------------------------------------------------------------
def test_page_token_paginator_reads_every_page(httpserver: HTTPServer) -> None:
    def handle(request: Request) -> Response:
        token = request.args.get("pageToken")
        pages = {
            None: ({"items": [1, 2], "nextPageToken": "B"}),
            "B": {"items": [3], "nextPageToken": "C"},
            "C": {"items": [4]},
        }
        return json_response(pages[token])

    httpserver.expect_request("/api/list").respond_with_handler(handle)
    pages = list(client(httpserver).paginate("list", paginator=PageTokenPaginator()))
    assert [p["items"] for p in pages] == [[1, 2], [3], [4]]


def test_a_repeated_page_token_stops_with_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/list").respond_with_json({"data": [1], "meta": {"next_token": "same"}})
    pages = client(httpserver).paginate(
        "list", paginator=PageTokenPaginator("meta.next_token", "pagination_token")
    )
    with pytest.raises(PaginationError) as info:
        list(pages)
    assert "same page token twice" in str(info.value)
    assert len(httpserver.log) == 2


def test_cursor_paginator_in_the_body_with_has_more(httpserver: HTTPServer) -> None:
    bodies: list[dict] = []

    def handle(request: Request) -> Response:
        body = request.get_json()
        bodies.append(body)
        if "cursor" not in body:
            return json_response({"data": {"videos": [1], "cursor": 1700000000000, "has_more": True}})
        return json_response({"data": {"videos": [2], "cursor": 1690000000000, "has_more": False}})

    httpserver.expect_request("/api/list", method="POST").respond_with_handler(handle)
    paginator = CursorPaginator("data.cursor", "cursor", has_more_path="data.has_more", in_body=True)
    pages = list(
        client(httpserver).paginate("list", method="POST", paginator=paginator, json_body={"max_count": 20})
    )
    assert [p["data"]["videos"] for p in pages] == [[1], [2]]
    assert bodies == [{"max_count": 20}, {"max_count": 20, "cursor": 1700000000000}]


def test_cursor_paginator_stops_on_an_empty_pagination_object(httpserver: HTTPServer) -> None:
    def handle(request: Request) -> Response:
        if request.args.get("after") is None:
            return json_response({"data": [1], "pagination": {"cursor": "eyJiIjpudWxsfQ"}})
        return json_response({"data": [2], "pagination": {}})

    httpserver.expect_request("/api/list").respond_with_handler(handle)
    pages = list(client(httpserver).paginate("list", paginator=CursorPaginator("pagination.cursor", "after")))
    assert [p["data"] for p in pages] == [[1], [2]]


def test_link_header_and_next_url_paginators(httpserver: HTTPServer) -> None:
    def linked(request: Request) -> Response:
        if request.args.get("page_info") is None:
            link = f'<{httpserver.url_for("/api/orders")}?page_info=p2&limit=2>; rel="next"'
            return json_response({"orders": [1, 2]}, headers={"Link": link})
        return json_response({"orders": [3]}, headers={"Link": '<https://x/prev>; rel="previous"'})

    httpserver.expect_request("/api/orders").respond_with_handler(linked)
    pages = list(client(httpserver).paginate("orders", paginator=LinkHeaderPaginator(), params={"limit": 2}))
    assert [p["orders"] for p in pages] == [[1, 2], [3]]

    def next_url(request: Request) -> Response:
        if request.args.get("after") is None:
            return json_response(
                {"data": [1], "paging": {"next": httpserver.url_for("/api/media") + "?after=QVFI"}}
            )
        return json_response({"data": [2], "paging": {"cursors": {"before": "QVFH"}}})

    httpserver.expect_request("/api/media").respond_with_handler(next_url)
    pages = list(client(httpserver).paginate("media", paginator=NextURLPaginator("paging.next")))
    assert [p["data"] for p in pages] == [[1], [2]]


def test_page_number_paginator_stops_at_total_pages(httpserver: HTTPServer) -> None:
    def handle(request: Request) -> Response:
        page = int(request.args["page"])
        return json_response([page], headers={"X-WP-TotalPages": "3"})

    httpserver.expect_request("/api/orders").respond_with_handler(handle)
    pages = list(
        client(httpserver).paginate(
            "orders", paginator=PageNumberPaginator(total_pages_header="X-WP-TotalPages")
        )
    )
    assert pages == [[1], [2], [3]]


def test_request_json_without_a_client(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/thing").respond_with_json({"id": 7})
    assert request_json("GET", httpserver.url_for("/v1/thing"), connector="demo") == {"id": 7}


# -- credentials -------------------------------------------------------------------------------------------
def test_credentials_from_env_then_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'TRIAD_X_BEARER_TOKEN = "from-top-level-123"\n[youtube]\napi_key = "from-section-456"\n'
    )
    monkeypatch.setenv("TRIAD_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("TRIAD_X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TRIAD_YOUTUBE_API_KEY", raising=False)
    assert get_credential("TRIAD_X_BEARER_TOKEN", required_for="X") == "from-top-level-123"
    assert get_credential("TRIAD_YOUTUBE_API_KEY", required_for="YouTube") == "from-section-456"
    monkeypatch.setenv("TRIAD_YOUTUBE_API_KEY", "from-env-789")
    assert find_credential("TRIAD_YOUTUBE_API_KEY") == "from-env-789"
    assert "from-section-456" not in mask_text("key from-section-456")  # registered for masking
    assert secrets_key("TRIAD_TWITCH_CLIENT_ID") == ("twitch", "client_id")


def test_a_missing_credential_names_the_variable_and_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAD_SECRETS_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("TRIAD_TWITCH_ACCESS_TOKEN", raising=False)
    with pytest.raises(MissingCredentialError) as info:
        get_credential("TRIAD_TWITCH_ACCESS_TOKEN", required_for="The Twitch sync")
    message = str(info.value)
    assert "\n" not in message
    assert "environment variable TRIAD_TWITCH_ACCESS_TOKEN" in message
    assert ".streamlit/secrets.toml" in message and "[twitch]" in message and "access_token" in message
