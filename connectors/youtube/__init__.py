"""YouTube connector (YouTube Data API v3, an API key): channel → account + daily snapshot, uploads → posts.

Endpoints: ``channels.list`` (snippet, statistics, contentDetails; by id, ``forHandle`` or ``forUsername``),
``playlistItems.list`` over the channel's uploads playlist (paged by ``nextPageToken``, newest first, stopping
at the incremental window), ``videos.list`` in batches of 50 for views, likes and comments. Every call costs
one quota unit; the run records the units used. ``quotaExceeded`` stops the connector without retrying.
With ``TRIAD_SYNC_COMMENT_POSTS`` > 0, ``commentThreads.list`` reads the top-level comments of that many newest
videos (one unit per page of 100); a video with comments turned off (403 ``commentsDisabled``) is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from connectors.comments import STATE_KEY, comment_plan
from connectors.credentials import get_credential
from connectors.http import APIError, NotFoundError, RetryPolicy
from connectors.social import AccountRef, FetchResult, FetchWindow, Target
from connectors.youtube import settings
from connectors.youtube.helpers import YouTubeClient, channel_profile, parse_account, video_post


class YouTubeSource:
    name = "youtube"
    label = "YouTube"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        comment_posts: int | None = None,
        comment_pages: int | None = None,
    ):
        self.client = YouTubeClient(api_key, base_url=base_url, retry=retry)
        # None: from TRIAD_SYNC_COMMENT_POSTS / _PAGES (off by default; see connectors/comments.py)
        self.comment_posts = comment_posts
        self.comment_pages = comment_pages

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
        self._read_comments(target, result, step)
        return result

    def _read_comments(self, target: Target, result: FetchResult, step: Callable[[str], None]) -> None:
        """Comments of the newest posts when the plan asks for them; a video with comments off is skipped, and
        an error that stops the connector (quota, key) ends the comment reading but keeps the posts."""
        plan = comment_plan(target.state, posts=self.comment_posts, pages=self.comment_pages)
        if not plan.enabled:
            return
        newest = sorted(result.posts, key=lambda p: p.posted_at, reverse=True)
        chosen = [p for p in newest if p.comments != 0][: plan.posts]  # a count of 0: nothing to read
        disabled = 0
        for n, post in enumerate(chosen, 1):
            try:
                result.comments.extend(self.client.comment_threads(post.platform_post_id, plan))
            except APIError as exc:
                if exc.code == "commentsDisabled":
                    disabled += 1
                    continue
                result.notes.append(f"comments not read for every video: {exc}")
                if exc.stops_connector:
                    break
            step(f"comments of {n}/{len(chosen)} videos")
        if disabled:
            result.notes.append(f"comments are turned off on {disabled} video(s)")
        result.state[STATE_KEY] = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")

    def usage(self) -> dict[str, int]:
        return {"quota_units": self.client.quota_used, "requests": self.client.requests_sent}

    def close(self) -> None:
        self.client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> YouTubeSource:
    """The connector, with its API key from TRIAD_YOUTUBE_API_KEY or .streamlit/secrets.toml."""
    api_key = get_credential(settings.CREDENTIAL, required_for="The YouTube sync")
    return YouTubeSource(api_key, base_url=base_url, retry=retry)


__all__ = ["YouTubeSource", "make_source", "parse_account"]
