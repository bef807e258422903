"""YouTube Data API v3: where it lives, what we ask for, and what each call costs in quota units."""

from __future__ import annotations

BASE_URL = "https://www.googleapis.com/youtube/v3"
CREDENTIAL = "TRIAD_YOUTUBE_API_KEY"

CHANNEL_PARTS = "snippet,statistics,contentDetails"
PLAYLIST_ITEM_PARTS = "contentDetails"
VIDEO_PARTS = "snippet,statistics,contentDetails"
PAGE_SIZE = 50  # playlistItems.list maxResults (the API's maximum)
VIDEO_BATCH = 50  # videos.list takes at most 50 ids per call
COMMENT_THREAD_PARTS = "snippet"  # the top-level comment and totalReplyCount; replies are not read
COMMENT_PAGE_SIZE = 100  # commentThreads.list maxResults (the API's maximum)
COMMENTS_DISABLED_REASONS = frozenset({"commentsDisabled"})

# Quota cost per call (https://developers.google.com/youtube/v3/determine_quota_cost); a failed call costs too.
QUOTA_COST = {"channels.list": 1, "playlistItems.list": 1, "videos.list": 1, "commentThreads.list": 1}
DAILY_QUOTA = 10_000  # the default allocation of a Google Cloud project

# A video this short is counted as a Short (the API has no field that says so).
SHORT_MAX_SECONDS = 60

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED", "badRequest:key"})
ACCESS_REASONS = frozenset(
    {
        "accessNotConfigured",
        "SERVICE_DISABLED",
        "ipRefererBlocked",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED",
        "forbidden",
    }
)
NOT_FOUND_REASONS = frozenset({"channelNotFound", "playlistNotFound", "videoNotFound"})
