"""Instagram Graph API (Instagram API with Facebook Login): version, fields and Meta's error codes."""

from __future__ import annotations

API_VERSION = "v21.0"
BASE_URL = f"https://graph.facebook.com/{API_VERSION}"
TOKEN = "TRIAD_INSTAGRAM_ACCESS_TOKEN"
USER_ID = "TRIAD_INSTAGRAM_USER_ID"

USER_FIELDS = "id,username,name,biography,followers_count,follows_count,media_count"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count,"
    "children{id,media_type}"
)
PAGE_SIZE = 50
# Comments on the agency's own / connected media (GET /{ig-media-id}/comments); `from` names the author's IG id.
COMMENT_FIELDS = "id,text,timestamp,like_count,from{id},parent_id"
COMMENT_PAGE_SIZE = 50
# Lifetime media insights read for the agency's own/connected accounts (not available through discovery).
MEDIA_INSIGHTS = {"saved": "saves", "shares": "shares", "views": "views"}

# https://developers.facebook.com/docs/graph-api/guides/error-handling
AUTH_CODES = frozenset({102, 190, 463, 467})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
NOT_FOUND_SUBCODES = frozenset({33, 2207013})
INSIGHTS_UNAVAILABLE_CODES = frozenset({10, 100})
