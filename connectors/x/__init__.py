"""X connector (X API v2, app-only bearer token): user → account + snapshot, the user's posts → posts.

Endpoints: ``GET /2/users/by/username/:username`` (or ``/2/users/:id``) with ``public_metrics``, and
``GET /2/users/:id/tweets`` (``exclude=retweets,replies``, ``start_time`` from the incremental window,
100 a page, paged by ``meta.next_token``). Metrics: likes = like_count, comments = reply_count, shares =
retweet_count + quote_count, saves = bookmark_count, views = impression_count.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.credentials import get_credential
from connectors.http import RetryPolicy
from connectors.social import AccountRef, FetchResult, FetchWindow, Target
from connectors.x import settings
from connectors.x.helpers import XClient, parse_account, user_profile


class XSource:
    name = "x"
    label = "X"

    def __init__(self, bearer_token: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        self.client = XClient(bearer_token, base_url=base_url, retry=retry)

    def parse_account(self, text: str) -> AccountRef:
        return parse_account(text)

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult:
        profile = user_profile(self.client.user(target.ref))
        posts = self.client.posts(profile.external_id, profile.handle, window, step)
        return FetchResult(profile=profile, posts=posts)

    def usage(self) -> dict[str, int]:
        return {"requests": self.client.requests_sent}

    def close(self) -> None:
        self.client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> XSource:
    token = get_credential(settings.TOKEN, required_for="The X sync")
    return XSource(token, base_url=base_url, retry=retry)


__all__ = ["XSource", "make_source", "parse_account"]
