"""The Twitch Helix client: ``GET /users``, ``GET /channels/followers`` (``total``) and ``GET /videos``.

Lists are ``{"data": [...], "pagination": {"cursor": "…"}}``; the last page has ``pagination: {}``.
Errors: ``{"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}``. Rate limits come
in ``Ratelimit-Limit/-Remaining/-Reset`` (epoch seconds), handled by connectors.http.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    CursorPaginator,
    NotFoundError,
    RetryPolicy,
    platform_message,
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
from connectors.twitch import settings

LOGIN = re.compile(r"[a-z0-9_]{3,25}")


class TwitchClient(APIClient):
    def __init__(
        self,
        client_id: str,
        access_token: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ):
        super().__init__(
            base_url or settings.BASE_URL,
            connector="twitch",
            label="Twitch",
            retry=retry,
            auth_settings=(settings.CLIENT_ID, settings.TOKEN),
            classify_error=self._classify_twitch,
        )
        self.session.headers["Client-Id"] = client_id
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def _classify_twitch(self, response: requests.Response, body: Any) -> APIError | None:
        if response.status_code == 401:
            text = platform_message(body) or response.reason
            return AuthenticationError(
                f"Twitch rejected the credentials ({text}). Check {settings.TOKEN} (an app or user access token, "
                f"not expired) and {settings.CLIENT_ID} (the client id that token was issued to).",
                code=401,
            )
        return None

    def user(self, ref: AccountRef) -> dict[str, Any]:
        param = "id" if ref.kind == "id" else "login"
        body = self.get_json("users", params={param: ref.value})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise MalformedResponseError("Twitch sent a users response without 'data'; nothing was written.")
        if not data:
            raise NotFoundError(f"Twitch has no user {ref.describe()}.", connector="twitch")
        return data[0]

    def followers_total(self, broadcaster_id: str) -> int | None:
        body = self.get_json("channels/followers", params={"broadcaster_id": broadcaster_id, "first": 1})
        return to_int(body.get("total")) if isinstance(body, dict) else None

    def videos(self, user_id: str, window: FetchWindow, step: Callable[[str], None]) -> list[Post]:
        pages = self.paginate(
            "videos",
            paginator=CursorPaginator("pagination.cursor", "after"),
            params={"user_id": user_id, "first": settings.PAGE_SIZE, "type": "all", "sort": "time"},
        )
        return posts_in_window(
            pages,
            lambda page: page.get("data") or [],
            lambda video: video_post(video),
            window,
            step,
            "videos",
        )


def parse_account(text: str) -> AccountRef:
    """A user id (digits), a login (name) or a channel URL (twitch.tv/name)."""
    raw = text.strip()
    parsed = url_parts(raw)
    if parsed is not None:
        host, parts = parsed
        if host.endswith("twitch.tv") and parts:
            return AccountRef("handle", clean_handle(parts[0]).lower(), raw)
        raise ValueError(f"{text!r} is not a Twitch channel URL (twitch.tv/name).")
    if raw.isdigit():
        return AccountRef("id", raw, raw)
    login = clean_handle(raw).lower()
    if LOGIN.fullmatch(login):
        return AccountRef("handle", login, raw)
    raise ValueError(f"{text!r} is not a Twitch user id, login or channel URL.")


def user_profile(user: dict[str, Any], followers: int | None) -> Profile:
    if not user.get("id") or not user.get("login"):
        raise MalformedResponseError("Twitch sent a user without 'id' or 'login'; nothing was written.")
    login = user["login"]
    return Profile(
        external_id=str(user["id"]),
        handle=login,
        display_name=user.get("display_name") or login,
        url=f"https://www.twitch.tv/{login}",
        followers=followers,
        following=None,
        posts_count=None,
        total_views=None,  # view_count is deprecated by Twitch (always 0 for new channels)
        bio=user.get("description") or None,
    )


def video_post(video: dict[str, Any]) -> Post | None:
    posted_at = parse_timestamp(video.get("published_at") or video.get("created_at"))
    if posted_at is None or not video.get("id"):
        return None
    return Post(
        platform_post_id=str(video["id"]),
        posted_at=posted_at,
        post_type=settings.VIDEO_TYPES.get(video.get("type") or "", "video"),
        caption=video.get("title"),
        url=video.get("url"),
        views=to_int(video.get("view_count")),
    )
