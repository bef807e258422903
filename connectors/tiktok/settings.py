"""TikTok API v2 (Display API with a user access token): endpoints, fields and error codes."""

from __future__ import annotations

BASE_URL = "https://open.tiktokapis.com/v2"
TOKEN = "TRIAD_TIKTOK_ACCESS_TOKEN"
TOKENS_TABLE = "access_tokens"  # [tiktok.access_tokens] in secrets.toml: one token per creator handle

USER_FIELDS = (
    "open_id,union_id,avatar_url,display_name,bio_description,profile_deep_link,is_verified,username,"
    "follower_count,following_count,likes_count,video_count"
)
VIDEO_FIELDS = (
    "id,create_time,title,video_description,duration,share_url,embed_link,like_count,comment_count,"
    "share_count,view_count"
)
PAGE_SIZE = 20  # /v2/video/list/ max_count maximum

# https://developers.tiktok.com/doc/tiktok-api-v2-error-handling
AUTH_CODES = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
RATE_CODES = frozenset({"rate_limit_exceeded"})
RETRY_CODES = frozenset({"internal_error"})
SCOPES = "user.info.basic, user.info.profile, user.info.stats and video.list"
