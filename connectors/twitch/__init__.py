"""Twitch connector (Helix API, client id + access token): user → account, followers total → snapshot,
videos (past broadcasts, highlights, uploads) → posts.

Endpoints: ``GET /helix/users`` (by ``login`` or ``id``), ``GET /helix/channels/followers`` (only
``total`` is read, ``first=1``: the follower list itself needs a moderator token), ``GET /helix/videos``
(100 a page, newest first, ``pagination.cursor`` → ``after``; ``pagination: {}`` ends the listing). Twitch
gives views for videos but no likes or comments.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.credentials import get_credential
from connectors.http import RetryPolicy
from connectors.social import AccountRef, FetchResult, FetchWindow, Target
from connectors.twitch import settings
from connectors.twitch.helpers import TwitchClient, parse_account, user_profile


class TwitchSource:
    name = "twitch"
    label = "Twitch"

    def __init__(
        self,
        client_id: str,
        access_token: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ):
        self.client = TwitchClient(client_id, access_token, base_url=base_url, retry=retry)

    def parse_account(self, text: str) -> AccountRef:
        return parse_account(text)

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult:
        user = self.client.user(target.ref)
        followers = self.client.followers_total(str(user.get("id")))
        profile = user_profile(user, followers)
        posts = self.client.videos(profile.external_id, window, step)
        return FetchResult(profile=profile, posts=posts)

    def usage(self) -> dict[str, int]:
        return {"requests": self.client.requests_sent}

    def close(self) -> None:
        self.client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> TwitchSource:
    client_id = get_credential(settings.CLIENT_ID, required_for="The Twitch sync")
    token = get_credential(settings.TOKEN, required_for="The Twitch sync")
    return TwitchSource(client_id, token, base_url=base_url, retry=retry)


__all__ = ["TwitchSource", "make_source", "parse_account"]
