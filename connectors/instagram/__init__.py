"""Instagram connector (Instagram Graph API with an access token and the agency's IG user id).

* An account given by its IG user id (digits) is read through the IG user node
  (``GET /{ig-user-id}?fields=…``) and its media edge (``GET /{ig-user-id}/media``, cursor paging), with
  lifetime insights per new or recent media (``GET /{ig-media-id}/insights?metric=saved,shares,views``).
  That is the agency's own account, or creators who connected theirs to the agency's app.
* Any other business or creator account is read by username through business discovery on the agency's
  IG user (``GET /{TRIAD_INSTAGRAM_USER_ID}?fields=business_discovery.username(name){…,media{…}}``); no
  insights there (saves, shares, views stay NULL).
The mode is remembered per account in the sync state. With ``TRIAD_SYNC_COMMENT_POSTS`` > 0, the comments of
that many newest media are read in the first mode (``GET /{ig-media-id}/comments``); discovery gives none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from connectors.comments import STATE_KEY, CommentPlan, comment_plan
from connectors.credentials import get_credential
from connectors.http import APIError, AuthenticationError, FatalAPIError, NotFoundError, RetryPolicy
from connectors.instagram import settings
from connectors.instagram.helpers import (
    InstagramClient,
    media_posts,
    parse_account,
    user_profile,
)
from connectors.social import AccountRef, FetchResult, FetchWindow, Target


class InstagramSource:
    name = "instagram"
    label = "Instagram"

    def __init__(
        self,
        access_token: str,
        *,
        agency_user_id: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        insights: bool = True,
        comment_posts: int | None = None,
        comment_pages: int | None = None,
    ):
        self.client = InstagramClient(access_token, base_url=base_url, retry=retry)
        # None: from TRIAD_SYNC_COMMENT_POSTS / _PAGES (off by default; see connectors/comments.py)
        self.comment_posts = comment_posts
        self.comment_pages = comment_pages
        self._agency_user_id = agency_user_id
        self.insights = insights

    @property
    def agency_user_id(self) -> str:
        if self._agency_user_id is None:
            self._agency_user_id = get_credential(
                settings.USER_ID, required_for="Instagram business discovery (syncing an account by username)"
            )
        return self._agency_user_id

    def parse_account(self, text: str) -> AccountRef:
        return parse_account(text)

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult:
        mode = target.state.get("access") or ("node" if target.ref.kind == "id" else "discovery")
        plan = comment_plan(target.state, posts=self.comment_posts, pages=self.comment_pages)
        handle = target.handle or (target.ref.value if target.ref.kind != "id" else None)
        if mode == "node" and target.ref.kind == "id":
            try:
                return self._fetch_node(target.ref.value, window, step, plan)
            except (NotFoundError, FatalAPIError) as exc:
                # an id the token cannot read as a node: a creator's account, reachable through discovery
                fallback = (
                    "access" not in target.state and handle and not isinstance(exc, AuthenticationError)
                )
                if not fallback:
                    raise
        if handle is None:
            raise NotFoundError(
                f"Instagram: the token cannot read the IG user {target.ref.value} directly. Give the account "
                "by username to read it through business discovery.",
                connector="instagram",
            )
        result = self._fetch_discovery(handle, window, step)
        if plan.enabled:
            result.notes.append(
                "comments not read: business discovery gives none (connect the account to the agency's app)"
            )
        return result

    def _fetch_node(
        self, user_id: str, window: FetchWindow, step: Callable[[str], None], plan: CommentPlan
    ) -> FetchResult:
        profile = user_profile(self.client.user(user_id))
        posts = media_posts(self.client.media(user_id), lambda p: window.wants(p.posted_at), step)
        if self.insights:
            for n, post in enumerate(posts, 1):
                for column, value in self.client.media_insights(post.platform_post_id).items():
                    setattr(post, column, value)
                if n % 10 == 0 or n == len(posts):
                    step(f"insights of {n}/{len(posts)} posts")
        result = FetchResult(profile=profile, posts=posts, state={"access": "node"})
        self._read_comments(plan, result, step)
        return result

    def _read_comments(self, plan: CommentPlan, result: FetchResult, step: Callable[[str], None]) -> None:
        """Comments of the newest posts when the plan asks for them; an error that stops the connector ends
        the comment reading but keeps the posts."""
        if not plan.enabled:
            return
        newest = sorted(result.posts, key=lambda p: p.posted_at, reverse=True)
        chosen = [p for p in newest if p.comments != 0][: plan.posts]
        for n, post in enumerate(chosen, 1):
            try:
                result.comments.extend(self.client.media_comments(post.platform_post_id, plan))
            except APIError as exc:
                result.notes.append(f"comments not read for every post: {exc}")
                if exc.stops_connector:
                    break
            step(f"comments of {n}/{len(chosen)} posts")
        result.state[STATE_KEY] = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")

    def _fetch_discovery(
        self, username: str, window: FetchWindow, step: Callable[[str], None]
    ) -> FetchResult:
        pages = iter(self.client.discovery(self.agency_user_id, username))
        first = next(pages)
        profile = user_profile(first)

        def media_pages():
            yield (first.get("media") or {}).get("data") or []
            for found in pages:
                yield (found.get("media") or {}).get("data") or []

        posts = media_posts(media_pages(), lambda p: window.wants(p.posted_at), step)
        notes = ["read through business discovery: no insights (saves, shares, views)"]
        return FetchResult(profile=profile, posts=posts, state={"access": "discovery"}, notes=notes)

    def usage(self) -> dict[str, int]:
        return {"requests": self.client.requests_sent}

    def close(self) -> None:
        self.client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> InstagramSource:
    """The connector, with TRIAD_INSTAGRAM_ACCESS_TOKEN (and TRIAD_INSTAGRAM_USER_ID when discovery needs it)."""
    token = get_credential(settings.TOKEN, required_for="The Instagram sync")
    return InstagramSource(token, base_url=base_url, retry=retry)


__all__ = ["InstagramSource", "make_source", "parse_account"]
