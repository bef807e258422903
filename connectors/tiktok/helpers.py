"""The TikTok API v2 client: ``GET /v2/user/info/`` and ``POST /v2/video/list/`` (cursor + ``has_more``).

Every response carries ``{"error": {"code", "message", "log_id"}}``; ``code`` is ``"ok"`` on success, so a
body is checked even when the HTTP status is 200. ``create_time`` is epoch seconds; the list's ``cursor``
is a UTC epoch in milliseconds. The Display API returns the data of the user who granted the token only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    CursorPaginator,
    FatalAPIError,
    MalformedResponseError,
    RateLimitError,
    RetriableAPIError,
    RetryPolicy,
)
from connectors.social import (
    AccountRef,
    FetchWindow,
    Post,
    Profile,
    clean_handle,
    parse_timestamp,
    posts_in_window,
    to_int,
    url_parts,
)
from connectors.tiktok import settings


def tiktok_error(response: requests.Response, body: Any) -> APIError | None:
    """The error a TikTok body reports (None when ``error.code`` is ``ok``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        if response.ok:
            return MalformedResponseError(
                "TikTok answered without the 'error' object every API v2 response carries; nothing was "
                "written for this account. Try again later; if it persists, check --base-url."
            )
        return None
    code = str(error.get("code"))
    if code == "ok":
        return None
    text = error.get("message") or code
    log_id = error.get("log_id")
    suffix = f" (log id {log_id})" if log_id else ""
    if code in settings.AUTH_CODES:
        return AuthenticationError(
            f"TikTok refused the access token: {code} — {text}{suffix}. Have the creator authorize the app "
            f"again ({settings.SCOPES}) and put the new token in {settings.TOKEN} (environment variable, or "
            "the same key in .streamlit/secrets.toml).",
            code=code,
        )
    if code in settings.RATE_CODES:
        return RateLimitError(f"TikTok rate limit reached: {text}{suffix}.", code=code)
    if code in settings.RETRY_CODES or response.status_code >= 500:
        return RetriableAPIError(f"TikTok had an internal error: {text}{suffix}.", code=code)
    return FatalAPIError(f"TikTok rejected the request: {code} — {text}{suffix}.", code=code)


class TikTokClient(APIClient):
    def __init__(self, access_token: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        super().__init__(
            base_url or settings.BASE_URL,
            connector="tiktok",
            label="TikTok",
            retry=retry,
            auth_settings=(settings.TOKEN,),
            classify_error=tiktok_error,
            check_body=tiktok_error,
        )
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def user(self) -> dict[str, Any]:
        body = self.get_json("user/info/", params={"fields": settings.USER_FIELDS})
        user = (body.get("data") or {}).get("user")
        if not isinstance(user, dict) or not user.get("open_id"):
            raise MalformedResponseError(
                "TikTok sent user info without data.user.open_id; nothing was written for this account."
            )
        return user

    def videos(self, window: FetchWindow, step: Callable[[str], None]) -> list[Post]:
        pages = self.paginate(
            "video/list/",
            method="POST",
            paginator=CursorPaginator("data.cursor", "cursor", has_more_path="data.has_more", in_body=True),
            params={"fields": settings.VIDEO_FIELDS},
            json_body={"max_count": settings.PAGE_SIZE},
        )
        return posts_in_window(
            pages,
            lambda page: (page.get("data") or {}).get("videos") or [],
            lambda video: video_post(video),
            window,
            step,
            "videos",
        )


def parse_account(text: str) -> AccountRef:
    """A username (@name or name) or a profile URL (tiktok.com/@name)."""
    raw = text.strip()
    parsed = url_parts(raw)
    if parsed is not None:
        host, parts = parsed
        if host.endswith("tiktok.com") and parts and parts[0].startswith("@"):
            return AccountRef("handle", clean_handle(parts[0]).lower(), raw)
        raise ValueError(f"{text!r} is not a TikTok profile URL (tiktok.com/@name).")
    handle = clean_handle(raw).lower()
    if handle and all(c.isalnum() or c in "._" for c in handle) and len(handle) <= 24:
        return AccountRef("handle", handle, raw)
    raise ValueError(f"{text!r} is not a TikTok username or profile URL.")


def user_profile(user: dict[str, Any], fallback_handle: str | None) -> Profile:
    handle = user.get("username") or fallback_handle or user["open_id"]
    return Profile(
        external_id=str(user["open_id"]),
        handle=handle,
        display_name=user.get("display_name") or handle,
        url=f"https://www.tiktok.com/@{handle}",
        followers=to_int(user.get("follower_count")),
        following=to_int(user.get("following_count")),
        posts_count=to_int(user.get("video_count")),
        total_views=None,
        bio=user.get("bio_description") or None,
    )


def video_post(video: dict[str, Any]) -> Post | None:
    posted_at = parse_timestamp(to_int(video.get("create_time")))
    if posted_at is None or not video.get("id"):
        return None
    return Post(
        platform_post_id=str(video["id"]),
        posted_at=posted_at,
        post_type="video",
        caption=video.get("title") or video.get("video_description"),
        url=video.get("share_url"),
        likes=to_int(video.get("like_count")),
        comments=to_int(video.get("comment_count")),
        shares=to_int(video.get("share_count")),
        saves=None,
        views=to_int(video.get("view_count")),
    )
