"""The X API v2 client: ``GET /2/users/by/username/:username`` (or ``/2/users/:id``) with ``public_metrics``
and ``GET /2/users/:id/tweets`` paged by ``meta.next_token`` → ``pagination_token``.

Lookups of a missing or suspended user answer HTTP 200 with ``{"errors": [{"title", "detail", "type"}]}``
and no ``data``; failures use RFC 7807 problem bodies (``title``, ``detail``, ``type``, ``status``). Rate
limits come in ``x-rate-limit-limit/-remaining/-reset`` (epoch seconds), handled by connectors.http.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import requests

from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    NotFoundError,
    PageTokenPaginator,
    RetryPolicy,
)
from connectors.social import (
    AccountRef,
    FetchWindow,
    MalformedResponseError,
    Post,
    Profile,
    clean_handle,
    parse_timestamp,
    posts_in_window,
    to_int,
    url_parts,
)
from connectors.x import settings


def _problem(body: Any) -> tuple[str | None, str | None]:
    """(title, detail) of a problem body or of its first ``errors`` entry."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    title = body.get("title") or first.get("title")
    detail = body.get("detail") or first.get("detail") or first.get("message")
    return title, detail


class XClient(APIClient):
    def __init__(self, bearer_token: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        super().__init__(
            base_url or settings.BASE_URL,
            connector="x",
            label="X",
            retry=retry,
            auth_settings=(settings.TOKEN,),
            classify_error=self._classify_x,
        )
        self.session.headers["Authorization"] = f"Bearer {bearer_token}"

    def _classify_x(self, response: requests.Response, body: Any) -> APIError | None:
        title, detail = _problem(body)
        text = detail or title or response.reason
        if response.status_code == 401:
            return AuthenticationError(
                f"X rejected the bearer token ({text}). Check {settings.TOKEN} (environment variable, or the "
                "same key in .streamlit/secrets.toml): it is invalid or was regenerated.",
                code=title,
            )
        if (
            response.status_code == 403
            and isinstance(body, dict)
            and body.get("reason") == "client-not-enrolled"
        ):
            return AuthenticationError(
                f"X refused the request: {text} The app behind {settings.TOKEN} needs access to the v2 "
                "endpoints (a Project with the right access level).",
                code="client-not-enrolled",
            )
        return None

    def user(self, ref: AccountRef) -> dict[str, Any]:
        path = f"users/{ref.value}" if ref.kind == "id" else f"users/by/username/{ref.value}"
        body = self.get_json(path, params={"user.fields": settings.USER_FIELDS})
        user = body.get("data") if isinstance(body, dict) else None
        if not isinstance(user, dict):
            title, detail = _problem(body)
            if title or detail:
                raise NotFoundError(f"X: {detail or title}", connector="x", code=title)
            raise MalformedResponseError(
                "X sent a user lookup without 'data'; nothing was written for this account."
            )
        return user

    def posts(
        self, user_id: str, handle: str, window: FetchWindow, step: Callable[[str], None]
    ) -> list[Post]:
        params: dict[str, Any] = {
            "max_results": settings.PAGE_SIZE,
            "tweet.fields": settings.TWEET_FIELDS,
            "exclude": settings.EXCLUDE,
        }
        if window.stop_at is not None:
            params["start_time"] = window.stop_at.replace(tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pages = self.paginate(
            f"users/{user_id}/tweets",
            paginator=PageTokenPaginator("meta.next_token", "pagination_token"),
            params=params,
        )
        return posts_in_window(
            pages,
            lambda page: page.get("data") or [],
            lambda tweet: tweet_post(tweet, handle),
            window,
            step,
            "posts",
        )


def parse_account(text: str) -> AccountRef:
    """A user id (digits), a username (@name or name) or a profile URL (x.com/name, twitter.com/name)."""
    raw = text.strip()
    parsed = url_parts(raw)
    if parsed is not None:
        host, parts = parsed
        if host in ("x.com", "twitter.com", "mobile.twitter.com") and parts:
            return AccountRef("handle", clean_handle(parts[0]), raw)
        raise ValueError(f"{text!r} is not an X profile URL (x.com/name).")
    if raw.isdigit():
        return AccountRef("id", raw, raw)
    handle = clean_handle(raw)
    if handle and all(c.isalnum() or c == "_" for c in handle) and len(handle) <= 15:
        return AccountRef("handle", handle, raw)
    raise ValueError(f"{text!r} is not an X user id, username or profile URL.")


def user_profile(user: dict[str, Any]) -> Profile:
    if not user.get("id") or not user.get("username"):
        raise MalformedResponseError(
            "X sent a user without 'id' or 'username'; nothing was written for this account."
        )
    metrics = user.get("public_metrics") or {}
    handle = user["username"]
    return Profile(
        external_id=str(user["id"]),
        handle=handle,
        display_name=user.get("name") or handle,
        url=f"https://x.com/{handle}",
        followers=to_int(metrics.get("followers_count")),
        following=to_int(metrics.get("following_count")),
        posts_count=to_int(metrics.get("tweet_count")),
        total_views=None,
        bio=user.get("description") or None,
    )


def tweet_post(tweet: dict[str, Any], handle: str) -> Post | None:
    posted_at = parse_timestamp(tweet.get("created_at"))
    if posted_at is None or not tweet.get("id"):
        return None
    metrics = tweet.get("public_metrics") or {}
    retweets, quotes = to_int(metrics.get("retweet_count")), to_int(metrics.get("quote_count"))
    shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
    return Post(
        platform_post_id=str(tweet["id"]),
        posted_at=posted_at,
        post_type="tweet",
        caption=tweet.get("text"),
        url=f"https://x.com/{handle}/status/{tweet['id']}",
        likes=to_int(metrics.get("like_count")),
        comments=to_int(metrics.get("reply_count")),
        shares=shares,
        saves=to_int(metrics.get("bookmark_count")),
        views=to_int(metrics.get("impression_count")),
    )


__all__ = ["XClient", "parse_account", "tweet_post", "user_profile"]
