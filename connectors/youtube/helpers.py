"""The YouTube Data API v3 client: channels.list, the uploads playlist (playlistItems.list) and videos.list.

Statistics arrive as strings ("3057"); ``hiddenSubscriberCount: true`` means the subscriber count is
unknown (stored as NULL, never 0); ``likeCount``/``commentCount`` are absent when the creator hides them.
Errors come as ``{"error": {"code", "message", "errors": [{"reason", "domain"}], "details": [...]}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import requests

from connectors.comments import Comment, CommentPlan
from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    FatalAPIError,
    NotFoundError,
    PageTokenPaginator,
    QuotaExhaustedError,
    RateLimitError,
    RetryPolicy,
    dig,
    platform_message,
)
from connectors.social import (
    AccountRef,
    FetchWindow,
    Post,
    Profile,
    clean_handle,
    parse_timestamp,
    to_int,
    url_parts,
)
from connectors.youtube import settings

CHANNEL_ID = re.compile(r"UC[\w-]{22}")
HANDLE = re.compile(r"[\w.\-·]{3,100}")
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def error_reasons(body: Any) -> set[str]:
    reasons = {e.get("reason") for e in dig(body, "error.errors") or [] if isinstance(e, dict)}
    reasons |= {d.get("reason") for d in dig(body, "error.details") or [] if isinstance(d, dict)}
    return {r for r in reasons if r}


class YouTubeClient(APIClient):
    """APIClient with YouTube's key, its error reasons and its quota accounting."""

    def __init__(self, api_key: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        super().__init__(
            base_url or settings.BASE_URL,
            connector="youtube",
            label="YouTube",
            retry=retry,
            auth_settings=(settings.CREDENTIAL,),
            default_params={"key": api_key},
            classify_error=self._classify_youtube,
        )

    def _classify_youtube(self, response: requests.Response, body: Any) -> APIError | None:
        reasons = error_reasons(body)
        detail = platform_message(body) or response.reason
        status = response.status_code
        if reasons & settings.COMMENTS_DISABLED_REASONS:
            return FatalAPIError(
                f"The creator turned comments off for this video ({detail}).", code="commentsDisabled"
            )
        if reasons & settings.QUOTA_REASONS:
            return QuotaExhaustedError(
                f"YouTube's daily quota for this API key is spent ({', '.join(sorted(reasons & settings.QUOTA_REASONS))}); "
                f"this run used {self.quota_used:,} units (a project gets {settings.DAILY_QUOTA:,} a day by "
                "default). The quota resets at midnight Pacific time: run the sync again then, or ask Google "
                "for more quota.",
                code="quotaExceeded",
            )
        if reasons & settings.RATE_REASONS:
            return RateLimitError(f"YouTube is rate limiting this key ({detail}).", code="rateLimitExceeded")
        if reasons & settings.KEY_REASONS or status == 401 or "api key not valid" in (detail or "").lower():
            return AuthenticationError(
                f"YouTube rejected the API key ({detail}). Check {settings.CREDENTIAL} (environment variable, "
                "or the same key in .streamlit/secrets.toml): it is invalid, expired or restricted.",
                code="keyInvalid",
            )
        if status == 403 and reasons & settings.ACCESS_REASONS:
            return AuthenticationError(
                f"YouTube refused the API key ({detail}). Enable the YouTube Data API v3 for the key's Google "
                f"Cloud project and check the key's restrictions, or set another key in {settings.CREDENTIAL}.",
                code=next(iter(reasons & settings.ACCESS_REASONS)),
            )
        if status == 404 or reasons & settings.NOT_FOUND_REASONS:
            return NotFoundError(f"YouTube found nothing there ({detail}).", code=next(iter(reasons), None))
        return None

    def channel(self, ref: AccountRef) -> dict[str, Any]:
        param = {"id": "id", "handle": "forHandle", "username": "forUsername"}[ref.kind]
        value = f"@{ref.value}" if ref.kind == "handle" else ref.value
        body = self.get_json(
            "channels",
            params={"part": settings.CHANNEL_PARTS, param: value},
            cost=settings.QUOTA_COST["channels.list"],
        )
        items = body.get("items") or [] if isinstance(body, dict) else []
        if not items:
            raise NotFoundError(
                f"YouTube has no channel {ref.describe()}. Check the channel id (UC…), handle (@name) or URL.",
                connector="youtube",
            )
        return items[0]

    def upload_ids(self, playlist_id: str, window: FetchWindow, step: Callable[[str], None]) -> list[str]:
        """Video ids of the uploads playlist (newest first) published inside the window."""
        ids: list[str] = []
        pages = self.paginate(
            "playlistItems",
            paginator=PageTokenPaginator("nextPageToken", "pageToken"),
            params={
                "part": settings.PLAYLIST_ITEM_PARTS,
                "playlistId": playlist_id,
                "maxResults": settings.PAGE_SIZE,
            },
            cost=settings.QUOTA_COST["playlistItems.list"],
        )
        for page in pages:
            older_seen = False
            for item in page.get("items") or []:
                video_id = dig(item, "contentDetails.videoId")
                published = parse_timestamp(dig(item, "contentDetails.videoPublishedAt"))
                if not video_id or published is None:  # private or deleted videos have no publish time
                    continue
                if window.wants(published):
                    ids.append(video_id)
                else:
                    older_seen = True
            step(f"{len(ids)} videos listed")
            if older_seen:  # newest first: the rest is older than the window
                break
        return ids

    def videos(self, video_ids: list[str], step: Callable[[str], None]) -> Iterator[dict[str, Any]]:
        for first in range(0, len(video_ids), settings.VIDEO_BATCH):
            batch = video_ids[first : first + settings.VIDEO_BATCH]
            body = self.get_json(
                "videos",
                params={
                    "part": settings.VIDEO_PARTS,
                    "id": ",".join(batch),
                    "maxResults": settings.VIDEO_BATCH,
                },
                cost=settings.QUOTA_COST["videos.list"],
            )
            yield from body.get("items") or []
            step(f"statistics of {min(first + len(batch), len(video_ids))}/{len(video_ids)} videos")

    def comment_threads(self, video_id: str, plan: CommentPlan) -> list[Comment]:
        """Top-level comments of one video, newest first, up to ``plan.pages`` pages and back to ``plan.since``.

        Raises FatalAPIError with ``code="commentsDisabled"`` when the creator turned comments off.
        """
        comments: list[Comment] = []
        pages = self.paginate(
            "commentThreads",
            paginator=PageTokenPaginator("nextPageToken", "pageToken", max_pages=plan.pages),
            params={
                "part": settings.COMMENT_THREAD_PARTS,
                "videoId": video_id,
                "maxResults": settings.COMMENT_PAGE_SIZE,
                "order": "time",
                "textFormat": "plainText",
            },
            cost=settings.QUOTA_COST["commentThreads.list"],
        )
        for page in pages:
            older_seen = False
            for thread in page.get("items") or []:
                comment = thread_comment(thread, video_id)
                if comment is None:
                    continue
                if plan.wants(comment.published_at):
                    comments.append(comment)
                else:
                    older_seen = True
            if older_seen:  # newest first: the rest was read by an earlier run
                break
        return comments


def thread_comment(thread: dict[str, Any], video_id: str) -> Comment | None:
    """The top-level comment of a commentThread resource (None when it lacks an id, text or date)."""
    top = dig(thread, "snippet.topLevelComment") or {}
    snippet = top.get("snippet") or {}
    text = snippet.get("textOriginal") or snippet.get("textDisplay")
    published = parse_timestamp(snippet.get("publishedAt"))
    comment_id = top.get("id") or thread.get("id")
    if not comment_id or not text or published is None:
        return None
    return Comment(
        platform_comment_id=str(comment_id),
        post_platform_id=dig(thread, "snippet.videoId") or video_id,
        text=text,
        published_at=published,
        author_id=dig(snippet, "authorChannelId.value"),
        like_count=to_int(snippet.get("likeCount")),
        reply_count=to_int(dig(thread, "snippet.totalReplyCount")),
        updated_at=parse_timestamp(snippet.get("updatedAt")),
    )


def parse_account(text: str) -> AccountRef:
    """A channel id (UC…), a handle (@name or name), or a channel URL (/channel/UC…, /@name, /user/name, /c/name)."""
    raw = text.strip()
    parsed = url_parts(raw)
    if parsed is not None:
        host, parts = parsed
        if "youtube." in host and parts:
            head = parts[0]
            if head == "channel" and len(parts) > 1 and CHANNEL_ID.fullmatch(parts[1]):
                return AccountRef("id", parts[1], raw)
            if head.startswith("@") and len(head) > 1:
                return AccountRef("handle", clean_handle(head), raw)
            if head == "user" and len(parts) > 1:
                return AccountRef("username", parts[1], raw)
            if head == "c" and len(parts) > 1:
                return AccountRef("handle", clean_handle(parts[1]), raw)
        raise ValueError(
            f"{text!r} is not a YouTube channel URL (youtube.com/@name or youtube.com/channel/UC…)."
        )
    if CHANNEL_ID.fullmatch(raw):
        return AccountRef("id", raw, raw)
    handle = clean_handle(raw)
    if HANDLE.fullmatch(handle):
        return AccountRef("handle", handle, raw)
    raise ValueError(f"{text!r} is not a YouTube channel id (UC…), handle (@name) or channel URL.")


def channel_profile(channel: dict[str, Any], ref: AccountRef) -> Profile:
    snippet = channel.get("snippet") or {}
    stats = channel.get("statistics") or {}
    custom = snippet.get("customUrl")
    handle = clean_handle(custom) if custom else (ref.value if ref.kind == "handle" else channel["id"])
    hidden = stats.get("hiddenSubscriberCount") is True
    return Profile(
        external_id=channel["id"],
        handle=handle,
        display_name=snippet.get("title"),
        url=f"https://www.youtube.com/@{handle}"
        if custom
        else f"https://www.youtube.com/channel/{channel['id']}",
        followers=None if hidden else to_int(stats.get("subscriberCount")),
        following=None,
        posts_count=to_int(stats.get("videoCount")),
        total_views=to_int(stats.get("viewCount")),
        bio=snippet.get("description") or None,
    )


def duration_seconds(text: str | None) -> int | None:
    """ISO 8601 durations as videos.list sends them: PT15M51S, P1DT2H, PT0S."""
    if not text:
        return None
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def video_post(video: dict[str, Any]) -> Post | None:
    snippet = video.get("snippet") or {}
    if snippet.get("liveBroadcastContent") == "upcoming":
        return None  # scheduled, not published yet
    posted_at = parse_timestamp(snippet.get("publishedAt"))
    if posted_at is None or not video.get("id"):
        return None
    stats = video.get("statistics") or {}
    seconds = duration_seconds(dig(video, "contentDetails.duration"))
    if snippet.get("liveBroadcastContent") == "live" or "liveStreamingDetails" in video:
        kind = "stream"
    elif seconds is not None and 0 < seconds <= settings.SHORT_MAX_SECONDS:
        kind = "short"
    else:
        kind = "video"
    return Post(
        platform_post_id=video["id"],
        posted_at=posted_at,
        post_type=kind,
        caption=snippet.get("title"),
        url=f"https://www.youtube.com/watch?v={video['id']}",
        likes=to_int(stats.get("likeCount")),
        comments=to_int(stats.get("commentCount")),
        shares=None,
        saves=None,
        views=to_int(stats.get("viewCount")),
    )
