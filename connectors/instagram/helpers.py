"""The Instagram Graph API client: the IG user node and its media edge, business discovery, media insights.

Shapes (Graph API): a node is a flat object; an edge is ``{"data": [...], "paging": {"cursors": {"before",
"after"}, "next"}}`` with ``next`` only when there is a next page; business discovery nests the target user
and its media edge under ``business_discovery`` and pages through ``media.after(CURSOR)`` in ``fields``.
Insights come as ``values: [{"value": n}]`` (lifetime/period series) or ``total_value: {"value": n}``.
Timestamps look like ``2021-08-13T08:25:28+0000``. Errors: ``{"error": {"message", "type", "code",
"error_subcode", "is_transient", "error_user_title", "error_user_msg", "fbtrace_id"}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import requests

from connectors.comments import Comment, CommentPlan
from connectors.http import (
    APIClient,
    APIError,
    AuthenticationError,
    BasePaginator,
    CursorPaginator,
    FatalAPIError,
    NotFoundError,
    PageRequest,
    RateLimitError,
    RetriableAPIError,
    RetryPolicy,
    dig,
)
from connectors.instagram import settings
from connectors.social import (
    AccountRef,
    MalformedResponseError,
    Post,
    Profile,
    clean_handle,
    parse_timestamp,
    to_int,
    url_parts,
)


def meta_error(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _code(value: Any) -> int | None:
    return to_int(value)


class InstagramClient(APIClient):
    def __init__(self, access_token: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        super().__init__(
            base_url or settings.BASE_URL,
            connector="instagram",
            label="Instagram",
            retry=retry,
            auth_settings=(settings.TOKEN,),
            default_params={"access_token": access_token},
            classify_error=self._classify_meta,
        )

    def _classify_meta(self, response: requests.Response, body: Any) -> APIError | None:
        error = meta_error(body)
        if not error:
            return None
        code, subcode = _code(error.get("code")), _code(error.get("error_subcode"))
        text = error.get("error_user_msg") or error.get("message") or response.reason
        ref = f"code {code}" + (f"/{subcode}" if subcode else "")
        if code in settings.AUTH_CODES or error.get("type") == "OAuthException" and code == 190:
            return AuthenticationError(
                f"Instagram rejected the access token ({text}; {ref}). Generate a new long-lived token and set "
                f"it in {settings.TOKEN} (environment variable, or the same key in .streamlit/secrets.toml).",
                code=code,
            )
        if code in settings.THROTTLE_CODES:
            return RateLimitError(f"Instagram is rate limiting this app ({text}; {ref}).", code=code)
        if code in settings.TRANSIENT_CODES or error.get("is_transient") is True:
            return RetriableAPIError(f"Instagram had a temporary problem ({text}; {ref}).", code=code)
        if subcode in settings.NOT_FOUND_SUBCODES or code == 110:
            return NotFoundError(f"Instagram could not find that account ({text}; {ref}).", code=code)
        if code in settings.PERMISSION_CODES:  # this account's permission, not the token: others may work
            error = AuthenticationError(
                f"Instagram refused the request for lack of permission ({text}; {ref}). The token in "
                f"{settings.TOKEN} needs instagram_basic, instagram_manage_insights and pages_read_engagement "
                "for this account.",
                code=code,
            )
            error.stops_connector = False
            return error
        return FatalAPIError(f"Instagram rejected the request ({text}; {ref}).", code=code)

    # -- own / connected accounts: the IG user node -------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any]:
        return self.get_json(user_id, params={"fields": settings.USER_FIELDS})

    def media(self, user_id: str) -> Iterator[list[dict[str, Any]]]:
        pages = self.paginate(
            f"{user_id}/media",
            paginator=CursorPaginator("paging.cursors.after", "after", has_more_path="paging.next"),
            params={"fields": settings.MEDIA_FIELDS, "limit": settings.PAGE_SIZE},
        )
        for page in pages:
            yield page.get("data") or []

    def media_insights(self, media_id: str) -> dict[str, int]:
        """Lifetime insights of one media object, by our column name; {} when Instagram has none for it."""
        try:
            body = self.get_json(f"{media_id}/insights", params={"metric": ",".join(settings.MEDIA_INSIGHTS)})
        except FatalAPIError as exc:
            if isinstance(exc, AuthenticationError) and exc.code in settings.AUTH_CODES:
                raise
            if exc.code in settings.INSIGHTS_UNAVAILABLE_CODES or isinstance(
                exc, (NotFoundError, AuthenticationError)
            ):
                return {}  # e.g. "(#10) Not enough viewers", media from before the business conversion
            raise
        values: dict[str, int] = {}
        for entry in body.get("data") or []:
            column = settings.MEDIA_INSIGHTS.get(entry.get("name"))
            value = insight_value(entry)
            if column and value is not None:
                values[column] = value
        return values

    def media_comments(self, media_id: str, plan: CommentPlan) -> list[Comment]:
        """Comments on one media object (newest first), up to ``plan.pages`` pages and back to ``plan.since``."""
        comments: list[Comment] = []
        pages = self.paginate(
            f"{media_id}/comments",
            paginator=CursorPaginator(
                "paging.cursors.after", "after", has_more_path="paging.next", max_pages=plan.pages
            ),
            params={"fields": settings.COMMENT_FIELDS, "limit": settings.COMMENT_PAGE_SIZE},
        )
        for page in pages:
            older_seen = False
            for item in page.get("data") or []:
                comment = media_comment(item, media_id)
                if comment is None:
                    continue
                if plan.wants(comment.published_at):
                    comments.append(comment)
                else:
                    older_seen = True
            if older_seen:
                break
        return comments

    # -- other creators: business discovery ---------------------------------------------------------
    def discovery(self, agency_user_id: str, username: str) -> Iterator[dict[str, Any]]:
        """The target's business_discovery object, once per media page (the first also has the profile)."""
        paginator = DiscoveryPaginator(username)
        request = PageRequest(self.url(agency_user_id), {"fields": paginator.fields(None)})
        while True:
            body = self.get_json(request.url, params=request.params)
            found = body.get("business_discovery") if isinstance(body, dict) else None
            if not isinstance(found, dict):
                raise MalformedResponseError(
                    "Instagram answered a business discovery request without 'business_discovery'; nothing "
                    "was written for this account."
                )
            paginator.after_page(None, body)  # type: ignore[arg-type]
            yield found
            if not paginator.has_next_page:
                return
            paginator.update_request(request)


class DiscoveryPaginator(BasePaginator):
    """Business discovery pages its media inside ``fields``: ``media.after(CURSOR).limit(N){...}``."""

    def __init__(self, username: str):
        super().__init__()
        self.username = username
        self.cursor: str | None = None

    def fields(self, cursor: str | None) -> str:
        edge = (
            f"media.after({cursor}).limit({settings.PAGE_SIZE})"
            if cursor
            else f"media.limit({settings.PAGE_SIZE})"
        )
        return f"business_discovery.username({self.username}){{{settings.USER_FIELDS},{edge}{{{settings.MEDIA_FIELDS}}}}}"

    def update_state(self, response: requests.Response, data: Any) -> None:
        media = dig(data, "business_discovery.media") or {}
        if not media.get("data"):
            self.has_next_page = False
            return
        cursor = dig(media, "paging.cursors.after")
        if not dig(media, "paging.next") and not cursor:
            self.has_next_page = False
            return
        self._follow(cursor)
        self.cursor = cursor if self.has_next_page else None

    def update_request(self, request: PageRequest) -> None:
        request.params["fields"] = self.fields(self.cursor)


def media_comment(item: dict[str, Any], media_id: str) -> Comment | None:
    """An IG Comment node; the author is ``from.id`` when the token may see it, else the username."""
    published = parse_timestamp(item.get("timestamp"))
    if not item.get("id") or not item.get("text") or published is None:
        return None
    author = dig(item, "from.id") or item.get("username") or dig(item, "from.username")
    return Comment(
        platform_comment_id=str(item["id"]),
        post_platform_id=media_id,
        text=item["text"],
        published_at=published,
        author_id=None if author is None else str(author),
        like_count=to_int(item.get("like_count")),
        parent_platform_id=item.get("parent_id"),
    )


def insight_value(entry: dict[str, Any]) -> int | None:
    """One insight's value in either shape: ``total_value.value`` or the latest ``values[].value``."""
    total = entry.get("total_value")
    if isinstance(total, dict) and "value" in total:
        return to_int(total.get("value"))
    values = entry.get("values")
    if isinstance(values, list) and values:
        latest = values[-1]
        if isinstance(latest, dict):
            return to_int(latest.get("value"))
    return None


def parse_account(text: str) -> AccountRef:
    """An IG user id (digits), a username (@name or name) or a profile URL (instagram.com/name/)."""
    raw = text.strip()
    parsed = url_parts(raw)
    if parsed is not None:
        host, parts = parsed
        if host.endswith("instagram.com") and parts and parts[0] not in ("p", "reel", "stories", "explore"):
            return AccountRef("handle", clean_handle(parts[0]).lower(), raw)
        raise ValueError(f"{text!r} is not an Instagram profile URL (instagram.com/name/).")
    if raw.isdigit():
        return AccountRef("id", raw, raw)
    handle = clean_handle(raw).lower()
    if handle and all(c.isalnum() or c in "._" for c in handle) and len(handle) <= 30:
        return AccountRef("handle", handle, raw)
    raise ValueError(f"{text!r} is not an Instagram user id, username or profile URL.")


def user_profile(user: dict[str, Any]) -> Profile:
    if not user.get("id") or not user.get("username"):
        raise MalformedResponseError(
            "Instagram sent a user without 'id' or 'username'; nothing was written for this account."
        )
    handle = user["username"]
    return Profile(
        external_id=str(user["id"]),
        handle=handle,
        display_name=user.get("name") or handle,
        url=f"https://www.instagram.com/{handle}/",
        followers=to_int(user.get("followers_count")),
        following=to_int(user.get("follows_count")),
        posts_count=to_int(user.get("media_count")),
        total_views=None,
        bio=user.get("biography") or None,
    )


POST_TYPES = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}


def media_post(media: dict[str, Any]) -> Post | None:
    posted_at = parse_timestamp(media.get("timestamp"))
    if posted_at is None or not media.get("id"):
        return None
    product = (media.get("media_product_type") or "").upper()
    kind = {"REELS": "reel", "STORY": "story"}.get(product) or POST_TYPES.get(
        (media.get("media_type") or "").upper(), "image"
    )
    return Post(
        platform_post_id=str(media["id"]),
        posted_at=posted_at,
        post_type=kind,
        caption=media.get("caption"),
        url=media.get("permalink"),
        likes=to_int(media.get("like_count")),  # absent when the owner hides like counts
        comments=to_int(media.get("comments_count")),
    )


def media_posts(
    pages: Iterator[list[dict[str, Any]]], keep: Callable[[Post], bool], step: Callable[[str], None]
) -> list[Post]:
    """Posts from newest-first media pages, stopping after the page that reaches older posts."""
    posts: list[Post] = []
    for items in pages:
        older_seen = False
        for media in items:
            post = media_post(media)
            if post is None:
                continue
            if keep(post):
                posts.append(post)
            else:
                older_seen = True
        step(f"{len(posts)} posts read")
        if older_seen:
            break
    return posts
