"""YouTube connector (YouTube Data API v3, an API key): channel → account + daily snapshot, uploads → posts.

Endpoints: ``channels.list`` (snippet, statistics, contentDetails; by id, ``forHandle`` or ``forUsername``),
``playlistItems.list`` over the channel's uploads playlist (paged by ``nextPageToken``, newest first, stopping
at the incremental window), ``videos.list`` in batches of 50 for views, likes and comments. Every call costs
one quota unit; the run records the units used. ``quotaExceeded`` stops the connector without retrying.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.credentials import get_credential
from connectors.http import NotFoundError, RetryPolicy
from connectors.social import AccountRef, FetchResult, FetchWindow, Target
from connectors.youtube import settings
from connectors.youtube.helpers import YouTubeClient, channel_profile, parse_account, video_post


class YouTubeSource:
    name = "youtube"
    label = "YouTube"

    def __init__(self, api_key: str, *, base_url: str | None = None, retry: RetryPolicy | None = None):
        self.client = YouTubeClient(api_key, base_url=base_url, retry=retry)

    def parse_account(self, text: str) -> AccountRef:
        return parse_account(text)

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult:
        channel = self.client.channel(target.ref)
        profile = channel_profile(channel, target.ref)
        result = FetchResult(profile=profile)
        uploads = (channel.get("contentDetails") or {}).get("relatedPlaylists", {}).get("uploads")
        if not uploads:
            result.notes.append("the channel lists no uploads playlist")
            return result
        try:
            ids = self.client.upload_ids(uploads, window, step)
        except NotFoundError:  # a channel without uploads has no playlist to read
            result.notes.append("no uploads")
            return result
        for video in self.client.videos(ids, step):
            post = video_post(video)
            if post is not None and window.wants(post.posted_at):
                result.posts.append(post)
        return result

    def usage(self) -> dict[str, int]:
        return {"quota_units": self.client.quota_used, "requests": self.client.requests_sent}

    def close(self) -> None:
        self.client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> YouTubeSource:
    """The connector, with its API key from TRIAD_YOUTUBE_API_KEY or .streamlit/secrets.toml."""
    api_key = get_credential(settings.CREDENTIAL, required_for="The YouTube sync")
    return YouTubeSource(api_key, base_url=base_url, retry=retry)


__all__ = ["YouTubeSource", "make_source", "parse_account"]
